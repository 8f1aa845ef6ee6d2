"""Build real .xlsx workbooks from XLSForm sheets kept as text (tests/data/xlsform/<name>/).

Each sheet is one tab-separated file named after it (survey.tsv, choices.tsv,
settings.tsv), header first, so the instruments are reviewable in a diff.
Inside a cell, `\\n` is a line break and `\\t` a tab; a cell that starts with
`=` is written as a spreadsheet formula (as Excel would store one).
"""

from pathlib import Path

import openpyxl

DATA = Path(__file__).parent / "data" / "xlsform"
SHEET_ORDER = ("survey", "choices", "settings")


def read_tsv(path):
    """Return the rows of one sheet file as lists of cell strings."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        rows.append([_unescape(cell) for cell in line.split("\t")])
    return rows


def _unescape(cell):
    return cell.replace("\\n", "\n").replace("\\t", "\t")


def build_workbook(folder, out_path):
    """Write the sheets in `folder` as the workbook `out_path`; return out_path."""
    folder = Path(folder)
    files = sorted(folder.glob("*.tsv"), key=lambda p: (
        SHEET_ORDER.index(p.stem) if p.stem in SHEET_ORDER else len(SHEET_ORDER), p.stem))
    if not files:
        raise FileNotFoundError(f"{folder}: no *.tsv sheet files")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for path in files:
        write_sheet(book, path.stem, read_tsv(path))
    book.save(out_path)
    return Path(out_path)


def write_sheet(book, title, rows):
    """Add a sheet of `rows` (lists of cell values; "" is an empty cell) to `book`."""
    sheet = book.create_sheet(title)
    for row in rows:
        sheet.append([None if cell == "" else cell for cell in row])
    return sheet


def workbook_from_rows(out_path, **sheets):
    """Write a workbook with one sheet per keyword (survey=[[...], ...]); return out_path."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        write_sheet(book, title, rows)
    book.save(out_path)
    return Path(out_path)
