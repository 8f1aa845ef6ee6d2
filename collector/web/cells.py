"""A stored value as a cell of the PI's rows page: labels for codes, local minutes, short text.

The row's own page shows every value in full; here each value must fit a
column a data manager can scan, so codes become their labels, date-times the
form's local time to the minute, and text longer than rows.TEXT_PREVIEW is cut
with "…". Whatever PostgreSQL holds (a code no longer in the form, a BC date
as readback.PgText, NaN) is shown as it is, never an error.
"""

from dataclasses import dataclass

from collector.db import review
from collector.db.readback import PgText, local_time
from collector.db.rows import TEXT_PREVIEW

NUMERIC_TYPES = ("integer", "decimal")
# Text that may run past this many characters wraps in a column of its own width;
# everything else (codes, names, dates, emails) stays on one line.
ONE_LINE_UP_TO = 40
SHORTENED = "Shortened: the row's page shows all of it"


@dataclass(frozen=True)
class Cell:
    text: str
    numeric: bool = False
    title: str = ""     # a tooltip: the stored code, or why the text is cut


def field_cell(field, value, zone):
    """Return the Cell for `value` of `field`."""
    if value is None:
        return Cell("")
    if isinstance(value, PgText):
        return Cell(str(value))
    if field.type in NUMERIC_TYPES:
        return Cell(str(value), numeric=True)
    if field.type == "boolean":
        return Cell("Yes" if value else "No")
    if field.type == "datetime":
        return Cell(local_time(value, zone))
    if field.type == "choice":
        return Cell(_label(field, value), title=value)
    if field.type == "multi_choice" and isinstance(value, list):
        return Cell("; ".join(_label(field, code) for code in value), title=", ".join(value))
    if field.type == "date":
        return Cell(value.isoformat())
    return shortened(str(value))


def wraps(field):
    """Return whether the field's column should wrap its text (long text) or keep one line."""
    return field.type == "long_text" or (
        field.type == "text" and (field.max_length is None or field.max_length > ONE_LINE_UP_TO))


def shortened(text):
    """Return a Cell of `text`, cut to TEXT_PREVIEW characters with "…" when longer."""
    if len(text) <= TEXT_PREVIEW:
        return Cell(text)
    return Cell(text[:TEXT_PREVIEW].rstrip() + "…", title=SHORTENED)


def _label(field, code):
    return next((choice.label for choice in field.choices if choice.value == code), code)


def submitted_cell(value, zone):
    """Return the Cell of a row's submitted_at: local time to the minute."""
    return Cell(local_time(value, zone))


def status_words(code):
    """Return a review status in words (an unknown code as stored)."""
    return review.STATUSES.get(code, code)
