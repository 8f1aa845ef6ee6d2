"""Check a field's min and max in a form file and turn them into typed values."""

from datetime import date, datetime

from collector.forms import values


def check_range(kind, low, high, fail, timezone):
    """Return {"min": ..., "max": ...} typed for `kind`; raise fail(...) if wrong."""
    low = _bound(kind, "min", low, fail, timezone)
    high = _bound(kind, "max", high, fail, timezone)
    if low is not None and high is not None and low > high:
        raise fail(f"min ({low}) is greater than max ({high})")
    return {"min": low, "max": high}


def _bound(kind, key, raw, fail, timezone):
    if raw is None:
        return None
    try:
        return _CONVERTERS[kind](raw, timezone)
    except (TypeError, ValueError):
        raise fail(f"{key} {raw!r} is not a valid {kind} bound ({_EXAMPLES[kind]})") from None


def _integer(raw, _timezone):
    if type(raw) is not int:
        raise TypeError
    return values.parse_integer(str(raw))


def _decimal(raw, _timezone):
    if type(raw) not in (int, float, str):
        raise TypeError
    return values.parse_decimal(str(raw))


def _date(raw, _timezone):
    if isinstance(raw, datetime) or not isinstance(raw, (date, str)):
        raise TypeError
    return raw if isinstance(raw, date) else values.parse_date(raw)


def _datetime(raw, timezone):
    if isinstance(raw, datetime):
        bound = raw if raw.tzinfo else raw.replace(tzinfo=timezone)
        values.check_datetime_window(bound)  # a bound the form page could not show
        return bound
    if not isinstance(raw, str):
        raise TypeError
    return values.parse_datetime(raw, timezone)


_CONVERTERS = {"integer": _integer, "decimal": _decimal, "date": _date, "datetime": _datetime}
_EXAMPLES = {
    "integer": "a whole number such as 120",
    "decimal": "a number such as 12.5",
    "date": "a date such as 2026-01-31",
    "datetime": "a date and time such as 2026-01-31T09:00:00",
}
