"""Turn one REDCap dictionary row into a field's type, label, hint, choices and rules.

Branching logic, calculations, sections and descriptive text need the whole
instrument and are done in redcap_import.py; this module reads one row and
reports, on that row's entry, everything it does not translate.
"""

import html
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from collector.interchange.redcap_csv import TITLES

# REDCap field types and the type each becomes (None: not imported).
FIELD_TYPES = {"text": "text", "notes": "long_text", "radio": "choice", "dropdown": "choice",
               "checkbox": "multi_choice", "yesno": "boolean", "truefalse": "boolean",
               "calc": "decimal", "descriptive": None, "slider": None, "file": None, "sql": None}
UNSUPPORTED_TYPES = {
    "slider": "sliders are not supported: add an integer field (0-100) by hand if needed",
    "file": "file uploads are not supported (the collector stores typed answers only)",
    "sql": "sql fields (choices from a database query) are not supported",
}
# Text validations that become a type of their own.
VALIDATION_TYPES = {"integer": "integer", "number": "decimal", "email": "email",
                    "date_ymd": "date", "date_dmy": "date", "date_mdy": "date"}
NUMBER_PLACES = re.compile(r"number_(\d+)dp(_comma_decimal)?$")
DATETIME = re.compile(r"datetime_(seconds_)?(ymd|dmy|mdy)$")
# Text validations kept as a `pattern`: the exporter maps these patterns back.
PATTERNS = {
    "time": "([01][0-9]|2[0-3]):[0-5][0-9]",
    "time_hh_mm_ss": "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]",
    "time_mm_ss": "[0-5][0-9]:[0-5][0-9]",
    "zipcode": "[0-9]{5}(-[0-9]{4})?",
    "phone": "\\(?[0-9]{3}\\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}",
    "alpha_only": "[A-Za-z]+",
    "ssn": "[0-9]{3}-[0-9]{2}-[0-9]{4}",
    "mrn_10d": "[0-9]{10}",
    "postalcode_canada": "[A-Za-z][0-9][A-Za-z] ?[0-9][A-Za-z][0-9]",
}
MAX_INTEGER = 2_147_483_647  # our integer columns
# What a browser takes for markup: `<` or `</` then a letter (so "<120 or >140" is text), or a
# comment. REDCap shows labels as HTML, so these never reach the screen as typed.
TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*\b[^<>]*>|<!--.*?-->", re.DOTALL)
LINE_BREAK = re.compile(r"<br\b[^<>]*>|</(p|div|li)\s*>", re.IGNORECASE)
MAX_TAGS_NAMED = 10
PIPING = re.compile(r"\[[A-Za-z][A-Za-z0-9_-]*(\([^()\[\]]*\))?(:[A-Za-z-]+)?\]")
ACTION_TAG = re.compile(r"@[A-Z][A-Z0-9_-]*")


def clean_text(text, entry, column):
    """Return a label or note as REDCap shows it: tags removed (and named), entities decoded."""
    tags = list(dict.fromkeys(match.group(0) for match in TAG.finditer(text)))
    if tags:
        text = TAG.sub("", LINE_BREAK.sub("\n", text))
        named = ", ".join(tag[:60] for tag in tags[:MAX_TAGS_NAMED])
        more = f" and {len(tags) - MAX_TAGS_NAMED} more" if len(tags) > MAX_TAGS_NAMED else ""
        entry.problem(column, f"HTML tags were removed (REDCap shows them as formatting): "
                              f"{named}{more}")
    # Decoded after the tags are gone: "&lt;b&gt;" is text REDCap shows as "<b>".
    text = html.unescape(text).strip()
    piped = sorted(set(match.group(0) for match in PIPING.finditer(text)))
    if piped:
        entry.problem(column, f"piping {', '.join(piped)} is not supported: the text shows it as "
                              "typed")
    return text


def parse_choices(text, entry, column=TITLES["choices"]):
    """Return [{value, label}] from `1, Yes | 0, No`; report what cannot be read."""
    choices, seen = [], set()
    for part in text.split("|"):
        part = part.strip()
        if not part:
            continue
        code, comma, label = part.partition(",")
        code, label = code.strip(), label.strip()
        if not comma:
            entry.problem(column, f"choice {part!r} has no 'code, label': {code!r} is used as both")
            label = code
        if not code:
            entry.problem(column, f"choice {part!r} has no code and was left out")
            continue
        if code in seen:
            entry.problem(column, f"code {code!r} appears more than once; the second was left out")
            continue
        seen.add(code)
        label = clean_text(label, entry, column) if label else code
        choices.append({"value": code, "label": label or code})
    return choices


def field_from_row(row, entry, used):
    """Return the field dict (without name, section or logic) for a row, or None.

    `used` collects the keys of the cells this translated, so the caller can
    report every other non-empty cell.
    """
    kind = row["type"].lower()
    used.update({"type", "variable", "form"})
    if kind not in FIELD_TYPES:
        entry.problem(TITLES["type"], f"{row['type']!r} is not a REDCap field type; the row was "
                                      "not imported")
        return None
    if kind in UNSUPPORTED_TYPES:
        message = UNSUPPORTED_TYPES[kind]
        if kind == "file" and row["validation"].lower() == "signature":
            message = "signatures are not supported (a file upload in REDCap)"
            used.add("validation")
        entry.problem(TITLES["type"], f"{kind}: {message}; the row was not imported")
        used.update(("choices", "validation", "label", "note"))
        return None
    if kind == "descriptive":
        return None
    field = {"type": FIELD_TYPES[kind]}
    used.update(("label", "note", "required"))
    if row["label"]:
        field["label"] = clean_text(row["label"], entry, TITLES["label"])
    if row["note"]:
        field["hint"] = clean_text(row["note"], entry, TITLES["note"])
    required = row["required"].lower()
    if required in ("y", "yes", "1"):
        field["required"] = True
    elif required not in ("", "n", "no", "0"):
        entry.problem(TITLES["required"], f"{row['required']!r} is not y or n; taken as not required")
    if kind in ("radio", "dropdown", "checkbox"):
        used.add("choices")
        field["choices"] = parse_choices(row["choices"], entry)
        if not field["choices"]:
            entry.problem(TITLES["choices"], "no choices could be read; the row was not imported")
            return None
        _report_display(kind, field, entry)
    if kind == "truefalse":
        entry.problem(TITLES["type"], "truefalse is shown as Yes / No here (stored as true/false)")
    if kind == "text":
        _text_validation(row, field, entry, used)
    return field


def _report_display(kind, field, entry):
    """Our choice fields show radio buttons up to 7 options and a drop-down beyond."""
    if kind == "checkbox":
        return
    shown = "radio" if len(field["choices"]) <= 7 else "dropdown"
    if shown != kind:
        words = {"radio": "radio buttons", "dropdown": "a drop-down list"}
        entry.problem(TITLES["type"], f"{kind}: shown as {words[shown]} here (the collector "
                                      f"chooses by the number of options: {len(field['choices'])})")


def _text_validation(row, field, entry, used):
    validation = row["validation"]
    name = validation.lower()
    used.update(("validation", "min", "max"))
    places = NUMBER_PLACES.match(name)
    datetime_match = DATETIME.match(name)
    column = TITLES["validation"]
    if not name:
        pass
    elif name in VALIDATION_TYPES:
        field["type"] = VALIDATION_TYPES[name]
        if name in ("date_dmy", "date_mdy"):
            entry.problem(column, f"{validation}: dates are entered with the browser's date picker "
                                  "here; the D-M-Y / M-D-Y display order is not kept")
    elif name == "number_comma_decimal" or places:
        field["type"] = "decimal"
        if places:
            field["places"] = int(places.group(1))
        if name.endswith("comma_decimal"):
            entry.problem(column, f"{validation}: numbers are typed with a decimal point here, "
                                  "not a comma")
    elif datetime_match:
        field["type"] = "datetime"
        if datetime_match.group(1) or datetime_match.group(2) != "ymd":
            entry.problem(column, f"{validation}: entered with the browser's date-time picker here "
                                  "(to the minute); the display order and seconds are not kept")
    elif name in PATTERNS:
        field["pattern"] = PATTERNS[name]
        entry.problem(column, f"{validation}: kept as the pattern {PATTERNS[name]!r} on a text "
                              "field; check it fits your data")
    else:
        entry.problem(column, f"{validation!r} validation has no equivalent: a plain text field")
    _bounds(row, field, entry, validation)


def _bounds(row, field, entry, validation):
    """Set min/max from Text Validation Min/Max; keep today/now/[field] for the constraint."""
    field.setdefault("_bound_rules", [])
    for key in ("min", "max"):
        raw = row[key]
        if not raw:
            continue
        column = TITLES[key]
        if raw.lower() in ("today", "now") or (raw.startswith("[") and raw.endswith("]")):
            field["_bound_rules"].append((key, raw))  # made a constraint once fields are known
            continue
        if field["type"] not in ("integer", "decimal", "date", "datetime"):
            entry.problem(column, f"{raw!r} was not used: a {validation or 'plain'} text field "
                                  "has no range here")
            continue
        value = _bound_value(field["type"], raw)
        if value is None:
            entry.problem(column, f"{raw!r} is not a valid {field['type']} bound and was not used")
        else:
            field[key] = value
    if not field["_bound_rules"]:
        del field["_bound_rules"]
    if field.get("min") is not None and field.get("max") is not None \
            and type(field["min"]) is type(field["max"]) and field["min"] > field["max"]:
        entry.problem(TITLES["min"], f"min {row['min']!r} is above max {row['max']!r}; both "
                                     "were left out")
        del field["min"], field["max"]


def _bound_value(kind, raw):
    try:
        if kind == "integer":
            number = Decimal(raw)
            whole = number == number.to_integral_value() and abs(number) <= MAX_INTEGER
            return int(number) if whole else None
        if kind == "decimal":
            number = Decimal(raw)
            return number if number.is_finite() else None
        if kind == "date":
            return date.fromisoformat(raw) if len(raw) == 10 else None
        moment = datetime.fromisoformat(raw.replace(" ", "T"))
        return None if moment.tzinfo else moment
    except (ValueError, InvalidOperation):
        return None


def action_tags(annotation):
    """Return the action tags (@HIDDEN, @DEFAULT, ...) in a Field Annotation, in order."""
    return list(dict.fromkeys(ACTION_TAG.findall(annotation)))
