"""Read an XLSForm workbook's survey, choices and settings rows, each with its row number.

pyxform's own reader does the reading (the same cell cleaning ODK applies:
numbers stored as 1.0 read as "1", text trimmed, non-breaking spaces made
plain). It keeps blank rows, so a row's place in its list gives the row
number the spreadsheet shows. Formula cells are found separately, because
the reader sees only a formula's stored result, and so are merged cells (the
reader gives a merged cell's text to its first cell only).
"""

import zipfile
from dataclasses import dataclass, field

import openpyxl
from pyxform.errors import PyXFormError
from pyxform.xls2json_backends import xlsx_to_dict

from collector.interchange.draft import InterchangeError

SHEETS = ("survey", "choices", "settings")


@dataclass
class SheetRow:
    """One non-blank row: the number the spreadsheet shows and its cells by column header."""
    sheet: str
    number: int
    cells: dict

    @property
    def where(self):
        return f"{self.sheet} row {self.number}"

    def get(self, column, default=""):
        return self.cells.get(column, default)


@dataclass
class Workbook:
    """The sheets an import reads; other sheets are listed so they can be reported."""
    survey: list
    choices: list
    settings: list
    columns: dict                      # sheet -> column headers in order
    other_sheets: list = field(default_factory=list)
    # (sheet, row, column) -> the formula text, for cells that hold a formula.
    formulas: dict = field(default_factory=dict)
    # sheet -> the last row that holds anything, to find rows the reader stopped before.
    last_rows: dict = field(default_factory=dict)
    merged: list = field(default_factory=list)     # MergedRange, sheet by sheet


@dataclass
class MergedRange:
    """A range of merged cells: only its first cell holds the text the spreadsheet shows."""
    sheet: str
    row: int              # its first row
    column: str           # the header of its first column (its letter when it has none)
    cells: str            # "C2:C3"
    rows: int             # how many rows it spans


def read_workbook(path):
    """Return the workbook's rows; raise InterchangeError when it is not an XLSForm."""
    try:
        book = xlsx_to_dict(str(path))
    except PyXFormError as error:
        raise InterchangeError(f"{path}: not a readable .xlsx workbook: {_first_line(error)}") from None
    except Exception as error:  # noqa: BLE001 -- openpyxl raises many kinds on a damaged file
        raise InterchangeError(f"{path}: not a readable .xlsx workbook "
                               f"({type(error).__name__}: {_first_line(error)})") from None
    if "survey" not in book:
        names = ", ".join(book.get("sheet_names") or []) or "none"
        raise InterchangeError(f"{path}: not an XLSForm workbook: it has no 'survey' sheet "
                               f"(sheets: {names})")
    columns = {sheet: _headers(book.get(f"{sheet}_header")) for sheet in SHEETS}
    _refuse_missing_columns(path, columns["survey"])
    rows = {sheet: _rows(sheet, book.get(sheet) or []) for sheet in SHEETS}
    if not rows["survey"]:
        raise InterchangeError(f"{path}: the survey sheet has no questions (only its header row)")
    known = {name.lower() for name in SHEETS}
    other = [name for name in book.get("sheet_names") or [] if name.lower() not in known]
    if len(book.get("sheet_names") or []) == 1:
        other = []   # pyxform reads a lone sheet of any name as the survey
    formulas, last_rows = _scan(path)
    return Workbook(rows["survey"], rows["choices"], rows["settings"], columns, other,
                    formulas, last_rows, _merged_ranges(path))


def _headers(header_rows):
    return list(header_rows[0]) if header_rows else []


def _rows(sheet, raw_rows):
    """Return SheetRows for the non-blank rows; the header is row 1, so the first is row 2."""
    return [SheetRow(sheet, index + 2, {key: str(value) for key, value in cells.items()})
            for index, cells in enumerate(raw_rows) if cells]


def _refuse_missing_columns(path, headers):
    for column in ("type", "name"):
        if column not in headers:
            shown = ", ".join(repr(h) for h in headers[:8]) or "no headers at all"
            raise InterchangeError(f"{path}: survey sheet, row 1: no {column!r} column, so this is "
                                   f"not an XLSForm survey (row 1 has {shown})")


def _scan(path):
    """Return the formula cells of the three sheets and the last non-empty row of each.

    {(sheet, row, column header): formula}, {sheet: row number}.
    """
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception:  # noqa: BLE001 -- already read once; a second reader's quirk is no reason to stop
        return {}, {}
    found, last_rows = {}, {}
    try:
        for sheet in book.worksheets:
            name = sheet.title.lower()
            if name not in SHEETS and len(book.worksheets) > 1:
                continue
            name = name if name in SHEETS else "survey"
            rows = sheet.iter_rows()
            headers = [str(c.value).strip() if c.value is not None else "" for c in next(rows, ())]
            for number, row in enumerate(rows, 2):
                for column, cell in enumerate(row):
                    if cell.value is not None and str(cell.value).strip():
                        last_rows[name] = number
                    if getattr(cell, "data_type", None) == "f" and column < len(headers):
                        found[(name, number, headers[column])] = str(cell.value)
    finally:
        book.close()
    return found, last_rows


def _merged_ranges(path):
    """Return the merged ranges of the three sheets, as MergedRanges.

    Only a full (not read-only) load shows merged cells, so it is done only when
    a sheet's XML mentions one.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            if not any(b"mergeCell" in archive.read(name) for name in archive.namelist()
                       if name.startswith("xl/worksheets/") and name.endswith(".xml")):
                return []
        book = openpyxl.load_workbook(path, data_only=True)
    except Exception:  # noqa: BLE001 -- already read once; a second reader's quirk is no reason to stop
        return []
    found = []
    for sheet in book.worksheets:
        name = sheet.title.lower()
        if name not in SHEETS and len(book.worksheets) > 1:
            continue
        name = name if name in SHEETS else "survey"
        headers = {cell.column: str(cell.value).strip() for cell in sheet[1]
                   if cell.value is not None and str(cell.value).strip()}
        for cells in sorted(sheet.merged_cells.ranges, key=lambda r: (r.min_row, r.min_col)):
            column = headers.get(cells.min_col) or openpyxl.utils.get_column_letter(cells.min_col)
            found.append(MergedRange(name, cells.min_row, column, cells.coord,
                                     cells.max_row - cells.min_row + 1))
    book.close()
    return found


def _first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
