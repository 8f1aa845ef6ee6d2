"""Read and write the CSV file of a REDCap data dictionary: its 18 columns, its encodings.

REDCap exports the dictionary as UTF-8 with a byte-order mark and CRLF line
ends; spreadsheet programs on Windows often save it back as Windows-1252, or
as UTF-16 ("Unicode Text").
Rows keep the line number a spreadsheet or text editor shows (header = 1),
even when a quoted cell spans several lines.
"""

import csv
import io
import re
from dataclasses import dataclass

from collector.interchange.draft import InterchangeError

# (key used in the code, the column title REDCap writes), in REDCap's order.
COLUMNS = (
    ("variable", "Variable / Field Name"),
    ("form", "Form Name"),
    ("section", "Section Header"),
    ("type", "Field Type"),
    ("label", "Field Label"),
    ("choices", "Choices, Calculations, OR Slider Labels"),
    ("note", "Field Note"),
    ("validation", "Text Validation Type OR Show Slider Number"),
    ("min", "Text Validation Min"),
    ("max", "Text Validation Max"),
    ("identifier", "Identifier?"),
    ("branching", "Branching Logic (Show field only if...)"),
    ("required", "Required Field?"),
    ("alignment", "Custom Alignment"),
    ("question_number", "Question Number (surveys only)"),
    ("matrix_group", "Matrix Group Name"),
    ("matrix_ranking", "Matrix Ranking?"),
    ("annotation", "Field Annotation"),
)
KEYS = tuple(key for key, _title in COLUMNS)
TITLES = dict(COLUMNS)
# Dictionaries from REDCap before 6.x stop after Matrix Group Name.
OLDEST_WIDTH = 16
# Far beyond any real dictionary; keeps a wrong file from filling memory row by row.
MAX_CELL = 1_000_000
# What may separate the columns, comma first: European Excel saves ";", "Unicode Text" tabs.
DELIMITERS = {",": "commas", ";": "';' (Excel in a European locale)",
              "\t": "tabs (Excel's \"Unicode Text\")"}
# UTF-16 without a byte-order mark: this many first bytes, this share of pairs with one NUL.
UTF16_SAMPLE = 512
UTF16_SHARE = 0.9


@dataclass
class Row:
    """One dictionary row: its line number and its cells by key (missing cells are "")."""
    line: int
    cells: dict

    def __getitem__(self, key):
        return self.cells.get(key, "")


@dataclass
class Dictionary:
    """A read dictionary: its rows, and what was noticed about the file as a whole."""
    rows: list
    notes: list          # (column, message) pairs for the report


def read_dictionary(path):
    """Return the Dictionary in `path`; raise InterchangeError when it is not one."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InterchangeError(f"{path}: cannot be read: {error.strerror or error}") from None
    if raw.startswith(b"PK\x03\x04"):
        raise InterchangeError(f"{path}: a workbook (.xlsx), not a CSV file: export the data "
                               "dictionary from REDCap as CSV, or save the sheet as CSV (UTF-8)")
    notes = []
    text = _decode(raw, path, notes)
    if "\x00" in text:
        notes.append(("file", "NUL characters (\\u0000) were removed: a form file cannot hold them"))
        text = text.replace("\x00", "")
    if not text.strip():
        raise InterchangeError(f"{path}: the file is empty, not a REDCap data dictionary")
    csv.field_size_limit(MAX_CELL)
    delimiter = _delimiter(text, notes)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows, width, line = [], 0, 1
    try:
        header = next(reader)
        width = _check_header(header, path, notes)
        line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append(Row(line, _cells(cells, width, line, notes)))
            line = reader.line_num + 1
    except csv.Error as error:
        raise InterchangeError(f"{path}: row {line}: the CSV quoting is broken ({error}); "
                               "check for a quote (\") that is not closed") from None
    return Dictionary(rows, notes)


def _decode(raw, path, notes):
    utf16 = _utf16(raw)
    if utf16:
        return _decode_utf16(raw, utf16, path, notes)
    if b"\x00" in raw:
        line = raw[:raw.index(b"\x00")].count(b"\n") + 1
        raise InterchangeError(f"{path}: row {line}: a NUL byte (0x00), and the file is not UTF-16 "
                               "text: not a CSV file a spreadsheet saved; save the dictionary "
                               "again as CSV (UTF-8)")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    notes.append(("file", "not UTF-8: read as Windows-1252 (what Excel saves on Windows); "
                          "check accented letters in the labels"))
    return raw.decode("cp1252", errors="replace")


def _utf16(raw):
    """Return "utf-16-le" / "utf-16-be" when `raw` is UTF-16 (a BOM, or NUL every other byte)."""
    if raw.startswith(b"\xff\xfe"):
        return "utf-16-le"
    if raw.startswith(b"\xfe\xff"):
        return "utf-16-be"
    # The header is ASCII, so UTF-16 without a BOM has a NUL in every pair, on one side.
    pairs = [raw[index:index + 2] for index in range(0, min(len(raw), UTF16_SAMPLE) - 1, 2)]
    if len(pairs) < 4:
        return None
    for encoding, nul_side in (("utf-16-le", 1), ("utf-16-be", 0)):
        if sum(1 for pair in pairs if pair[nul_side] == 0 and pair[1 - nul_side] != 0) \
                >= UTF16_SHARE * len(pairs):
            return encoding
    return None


def _decode_utf16(raw, encoding, path, notes):
    endian = encoding.split("-")[-1]
    words = "little-endian" if endian == "le" else "big-endian"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        raise InterchangeError(f"{path}: starts as UTF-16 {words} but does not decode at byte "
                               f"{error.start} ({error.reason}): save the dictionary again as "
                               "CSV (UTF-8)") from None
    notes.append(("file", f"UTF-16 {words} (Excel's \"Unicode Text\"): decoded as such"))
    return text.removeprefix("\ufeff")


def _delimiter(text, notes):
    """Return the character between columns: the one whose header starts as REDCap's does."""
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    for delimiter, words in DELIMITERS.items():
        try:
            header = next(csv.reader([first_line], delimiter=delimiter, strict=True))
        except (csv.Error, StopIteration):
            continue
        if len(header) >= OLDEST_WIDTH and _plain(header[0]) == _plain(COLUMNS[0][1]):
            if delimiter != ",":
                notes.append(("file", f"columns are separated by {words}: read as such"))
            return delimiter
    return ","  # the header check then says what is wrong


def _check_header(header, path, notes):
    """Check the header by position; return how many of REDCap's columns the file has."""
    found = [_plain(title) for title in header]
    if not found or found[0] != _plain(COLUMNS[0][1]):
        first = header[0][:60] if header else ""
        raise InterchangeError(f"{path}: row 1: not a REDCap data dictionary: the first column is "
                               f"{first!r}, not 'Variable / Field Name' (export it from REDCap: "
                               "Project Setup > Data Dictionary)")
    width = min(len(found), len(COLUMNS))
    if width < OLDEST_WIDTH:
        raise InterchangeError(f"{path}: row 1: not a REDCap data dictionary: it has {len(found)} "
                               f"columns; REDCap writes {len(COLUMNS)}, starting 'Variable / Field Name'")
    for index in range(width):
        if found[index] != _plain(COLUMNS[index][1]):
            raise InterchangeError(f"{path}: row 1, column {index + 1}: expected "
                                   f"{COLUMNS[index][1]!r}, found {header[index][:60]!r}: not a "
                                   "REDCap data dictionary, or its columns were moved")
    if width < len(COLUMNS):
        notes.append(("file", f"an older dictionary with {width} columns: "
                              + ", ".join(TITLES[k] for k in KEYS[width:]) + " taken as empty"))
    if len(found) > len(COLUMNS):
        extra = ", ".join(repr(h[:40]) for h in header[len(COLUMNS):] if h.strip())
        if extra:
            notes.append(("file", f"columns after {TITLES['annotation']!r} are not REDCap's and were "
                                  f"ignored: {extra}"))
    return width


def _plain(title):
    """Compare titles the way a person would: no case, spaces or punctuation differences."""
    return re.sub(r"[^a-z0-9]+", "", title.lower())


def _cells(cells, width, line, notes):
    beyond = [cell for cell in cells[width:] if cell.strip()]
    if beyond and len(cells) > len(COLUMNS):
        notes.append((f"row {line}", f"{len(beyond)} cell(s) beyond the dictionary's columns were "
                                     "ignored"))
    return {key: (cells[index].strip() if index < len(cells) else "")
            for index, key in enumerate(KEYS[:width])}


def write_dictionary(path, rows):
    """Write `rows` (dicts by key) as REDCap writes a dictionary: UTF-8 with BOM, CRLF."""
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow([title for _key, title in COLUMNS])
        for row in rows:
            writer.writerow([row.get(key, "") for key in KEYS])
