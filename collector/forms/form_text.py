"""Write a stored value back as the text its form control holds, and read the audit trail's
JSON values as typed ones: what editing a row and showing its history need.

form_text() is the inverse of validation.check_field: the text it gives, posted
back unchanged, validates to the same value (date-times in the form's zone).
"""

from datetime import date, datetime
from decimal import Decimal

from collector.forms.conflicts import exact_timespec


def form_text(field, value, timezone):
    """Return what the control of `field` holds for `value`: a list for multi_choice, else text."""
    if field.type == "multi_choice":
        return list(value or [])
    if value is None:
        return ""
    if field.type == "boolean" and isinstance(value, bool):
        return "true" if value else "false"
    if field.type == "datetime" and isinstance(value, datetime):
        return _local_input(value, timezone)
    if isinstance(value, Decimal):
        return format(value, "f")  # never 1E+2: the decimal parser takes plain digits only
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _local_input(value, timezone):
    """The datetime-local text in the form's zone; seconds only when there are any, so
    saving the form unchanged never rounds a stored value."""
    try:
        local = value.astimezone(timezone)
    except (OverflowError, ValueError):
        local = value
    return local.replace(tzinfo=None).isoformat(timespec=exact_timespec(local))


def from_json(field, value):
    """Return a value as the trail keeps it (JSON) as the field's Python type; unreadable stays as is.

    `field` may be None (a column that is no field of the form any more).
    """
    if value is None or field is None:
        return value
    try:
        if field.type == "datetime":
            return datetime.fromisoformat(value)
        if field.type == "date":
            return date.fromisoformat(value)
        if field.type == "decimal":
            return Decimal(str(value))
        if field.type == "integer":
            return int(value)
    except (TypeError, ValueError, ArithmeticError):
        return value  # a BC date, or a column of another type before the form changed
    return value
