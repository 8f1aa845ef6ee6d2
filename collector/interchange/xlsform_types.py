"""Read an XLSForm `type` cell: what kind of row it is and what it becomes here."""

from dataclasses import dataclass

# XLSForm question types with a field type of their own here.
FIELD_TYPES = {"text": "text", "string": "text", "integer": "integer", "int": "integer",
               "decimal": "decimal", "date": "date", "datetime": "datetime", "time": "text",
               "calculate": None}
SELECT_TYPES = {"select_one": "choice", "select_multiple": "multi_choice",
                "select one": "choice", "select multiple": "multi_choice",
                "select all that apply": "multi_choice", "select1": "choice"}

METADATA_REASON = ("metadata is not a question: the collector records submitted_at and "
                   "entered_by itself")
UNSUPPORTED_TYPES = {
    "geopoint": "locations (geopoint) are not supported",
    "geotrace": "lines on a map (geotrace) are not supported",
    "geoshape": "shapes on a map (geoshape) are not supported",
    "start-geopoint": METADATA_REASON,
    "background-geopoint": "background locations are not supported",
    "image": "files (images) are not supported",
    "photo": "files (images) are not supported",
    "audio": "files (audio) are not supported",
    "background-audio": "audio recording is not supported",
    "video": "files (video) are not supported",
    "file": "files are not supported",
    "barcode": "barcodes are not supported",
    "range": "sliders (range) are not supported",
    "rank": "ranking is not supported",
    "acknowledge": "acknowledge questions are not supported (use a select_one with one choice)",
    "trigger": "acknowledge questions (trigger) are not supported",
    "hidden": "hidden questions are not supported",
    "xml-external": "external data (xml-external) is not supported",
    "csv-external": "external data (csv-external) is not supported",
    "osm": "OpenStreetMap questions are not supported",
    "select_one_from_file": "selects from a file are not supported",
    "select_multiple_from_file": "selects from a file are not supported",
    "select one from file": "selects from a file are not supported",
    "select multiple from file": "selects from a file are not supported",
    "select_one_external": "external selects are not supported",
    "entity": "entities are not supported",
    "audit": METADATA_REASON,
}
for _metadata in ("start", "end", "today", "deviceid", "imei", "subscriberid", "simserial",
                  "phonenumber", "username", "email", "uri:email", "uri:username", "uri:phonenumber",
                  "uri:deviceid", "uri:subscriberid", "uri:simserial"):
    UNSUPPORTED_TYPES[_metadata] = METADATA_REASON


@dataclass(frozen=True)
class RowType:
    """What one survey row is."""
    kind: str          # question, note, begin_group, end_group, begin_repeat, end_repeat,
                       # unsupported, unknown, empty
    field_type: str = ""     # for questions: our field type ("" for calculate: inferred)
    xlsform: str = ""        # the type as written, normalised
    list_name: str = ""      # for selects
    or_other: bool = False
    reason: str = ""         # for unsupported and unknown rows


def read_type(cell):
    """Return the RowType of a `type` cell."""
    text = " ".join(cell.split())
    lowered = text.lower()
    if not text:
        return RowType("empty")
    for prefix, kind in (("begin group", "begin_group"), ("begin_group", "begin_group"),
                         ("end group", "end_group"), ("end_group", "end_group"),
                         ("begin repeat", "begin_repeat"), ("begin_repeat", "begin_repeat"),
                         ("end repeat", "end_repeat"), ("end_repeat", "end_repeat"),
                         ("begin loop", "begin_repeat"), ("end loop", "end_repeat")):
        if lowered == prefix:
            return RowType(kind, xlsform=lowered)
    if lowered == "note":
        return RowType("note", xlsform="note")
    for words in sorted(UNSUPPORTED_TYPES, key=len, reverse=True):
        if lowered == words or lowered.startswith(words + " "):
            return RowType("unsupported", xlsform=text, reason=UNSUPPORTED_TYPES[words])
    for words in sorted(SELECT_TYPES, key=len, reverse=True):
        if lowered.startswith(words + " "):
            rest = text[len(words):].split()
            or_other = len(rest) > 1 and rest[-1].lower() == "or_other"
            if or_other:
                rest = rest[:-1]
            if len(rest) != 1:
                return RowType("unknown", xlsform=text,
                               reason=f"{text!r} is not a select type: write {words} LIST_NAME")
            return RowType("question", SELECT_TYPES[words], text, rest[0], or_other)
    if lowered in FIELD_TYPES:
        return RowType("question", FIELD_TYPES[lowered] or "", lowered)
    return RowType("unknown", xlsform=text, reason=f"{text!r} is not an XLSForm question type "
                                                    "the collector knows")
