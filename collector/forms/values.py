"""Turn text (from a web form, a form file or a replayed record) into typed values.

Each parser takes a string and returns a Python value ready for the database,
or raises ValueError with a message written for the person who typed it.
Form-file bounds and submitted values go through the same parsers, so what a
min or max means cannot differ between the spec and the check.
"""

import re
from datetime import date, datetime, timezone as tz
from decimal import Decimal, InvalidOperation

from collector.forms import messages

# PostgreSQL `integer` limits: a value outside them would fail the INSERT.
INT_MIN, INT_MAX = -2**31, 2**31 - 1
# Generous for any measurement, small enough to refuse a megabyte of digits.
MAX_NUMBER_CHARS = 40
# A moment outside this UTC window would be stored as a BC or year-10000 timestamp,
# or fail to convert to some time zone: a day's margin keeps it in Python's range anywhere.
EARLIEST_INSTANT = datetime(1, 1, 2, tzinfo=tz.utc)
LATEST_INSTANT = datetime(9999, 12, 30, tzinfo=tz.utc)

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                       r"(Z|[+-][0-9]{2}:[0-9]{2})?")


def parse_integer(text):
    """Return `text` as an int that fits a PostgreSQL integer column."""
    text = text.strip()
    if len(text) > MAX_NUMBER_CHARS or not _INTEGER.fullmatch(text):
        raise ValueError(messages.WHOLE_NUMBER)
    value = int(text)
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError(messages.out_of_int_range(INT_MIN, INT_MAX))
    return value


def parse_decimal(text):
    """Return `text` as a finite Decimal (no NaN, no Infinity, no exponent)."""
    text = text.strip()
    if len(text) > MAX_NUMBER_CHARS or not _DECIMAL.fullmatch(text):
        raise ValueError(messages.NUMBER)
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid numbers
        raise ValueError(messages.NUMBER) from None


def parse_date(text):
    """Return `text` (YYYY-MM-DD) as a date."""
    text = text.strip()
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(messages.DATE) from None


def parse_datetime(text, timezone):
    """Return `text` as an aware datetime; a time without offset is in `timezone`."""
    text = text.strip()
    try:
        if not _DATETIME.fullmatch(text):
            raise ValueError
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(messages.DATETIME) from None
    value = value if value.tzinfo else value.replace(tzinfo=timezone)
    check_datetime_window(value)
    return value


def check_datetime_window(value):
    """Refuse an aware datetime whose instant PostgreSQL would store outside years 1-9999."""
    try:
        instant = value.astimezone(tz.utc)
    except OverflowError:  # the offset pushes it past year 1 or 9999
        raise ValueError(messages.DATETIME_RANGE) from None
    if not EARLIEST_INSTANT <= instant <= LATEST_INSTANT:
        raise ValueError(messages.DATETIME_RANGE)
