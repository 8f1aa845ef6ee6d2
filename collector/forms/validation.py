"""Check a submission against its form spec on the server; never trust the browser.

validate_submission() turns raw form text into typed values, or into one
message per field written for the RA who typed it. The same rules also
become HTML attributes (widgets.py) and CHECK constraints (checks.py).
"""

import re

from collector.forms import messages
from collector.forms import values as parse
from collector.forms.logic import apply_logic

# Same shape as the database's CHECK in checks.py.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
BOOLEAN_VALUES = {"true": True, "false": False}


def validate_submission(spec, formdata, today=None):
    """Return (values, errors): typed values for every field, and messages by field name.

    With form logic, hidden fields come back None, calculated fields hold
    their computed value (anything sent for them is ignored), and `today` is
    the date today() means (replay passes the day the entry was made).
    """
    values, errors = {}, {}
    for field in spec.fields:
        if field.calculation is not None:
            continue  # computed in apply_logic; what the browser sent does not count
        try:
            # A field that can be hidden is required only when shown: apply_logic decides.
            values[field.name] = check_field(field, raw_value(field, formdata), spec.timezone,
                                             required=field.required and field.shown is None)
        except ValueError as error:
            errors[field.name] = str(error)
            values[field.name] = None
    if spec.has_logic:
        values = apply_logic(spec, values, errors,
                             lambda field, value: check_typed(field, value, spec.timezone), today)
    return values, errors


def raw_value(field, formdata):
    """Return what the browser sent for `field`: a list for multi_choice, else a string."""
    if field.type == "multi_choice":
        return formdata.getlist(field.name)
    return formdata.get(field.name, "")


def check_field(field, raw, timezone, required=None):
    """Return the typed value of one field, or raise ValueError with the reason.

    `required` overrides the field's own flag (form logic decides it later).
    """
    required = field.required if required is None else required
    if field.type == "multi_choice":
        return _multi_choice(field, raw, required)
    text = raw.replace("\r\n", "\n").strip()
    if not text:
        if required:
            raise ValueError(messages.required(field))
        return None
    if "\x00" in text:
        raise ValueError(messages.NUL)
    value = _PARSERS[field.type](field, text, timezone)
    _check_range(field, value, timezone)
    return value


def _text(field, text, _timezone):
    if field.max_length and len(text) > field.max_length:
        raise ValueError(messages.too_long(field.max_length, len(text)))
    if field.min_length and len(text) < field.min_length:
        raise ValueError(messages.too_short(field.min_length, len(text)))
    if field.pattern and not re.fullmatch(field.pattern, text):
        raise ValueError(messages.pattern(field))
    if field.type == "email" and not EMAIL.fullmatch(text):
        raise ValueError(messages.EMAIL)
    return text


def _decimal(field, text, _timezone):
    value = parse.parse_decimal(text)
    if field.places is not None and -value.as_tuple().exponent > field.places:
        raise ValueError(messages.places(field.places))
    return value


def _boolean(field, text, _timezone):
    if text not in BOOLEAN_VALUES:
        raise ValueError(messages.required(field))
    return BOOLEAN_VALUES[text]


def _choice(field, text, _timezone):
    if text not in field.choice_values:
        raise ValueError(messages.UNLISTED_CHOICE)
    return text


def _multi_choice(field, raw, required):
    chosen = {item.strip() for item in raw if item.strip()}
    if chosen - set(field.choice_values):
        raise ValueError(messages.UNLISTED_CHOICES)
    if required and not chosen:
        raise ValueError(messages.required(field))
    # Store in the form's order, whatever order the browser sent.
    return [value for value in field.choice_values if value in chosen]


def check_typed(field, value, timezone):
    """Apply a field's own rules to a value nobody typed (a calculation's result)."""
    if field.type == "integer" and not parse.INT_MIN <= value <= parse.INT_MAX:
        raise ValueError(messages.out_of_int_range(parse.INT_MIN, parse.INT_MAX))
    if field.type in ("text", "long_text"):
        _text(field, value, timezone)
    if field.type == "datetime":
        parse.check_datetime_window(value)
    _check_range(field, value, timezone)


def show_bound(field, bound, timezone):
    """Write a min or max the way the RA reads it (date-times in the form's zone)."""
    return bound.astimezone(timezone).strftime("%Y-%m-%d %H:%M") if field.type == "datetime" else bound


def _check_range(field, value, timezone):
    show = lambda bound: show_bound(field, bound, timezone)  # noqa: E731
    if field.min is not None and value < field.min:
        raise ValueError(messages.below(field, show(field.min)))
    if field.max is not None and value > field.max:
        raise ValueError(messages.above(field, show(field.max)))


_PARSERS = {
    "text": _text, "long_text": _text, "email": _text,
    "integer": lambda _field, text, _tz: parse.parse_integer(text),
    "decimal": _decimal,
    "date": lambda _field, text, _tz: parse.parse_date(text),
    "datetime": lambda _field, text, tz: parse.parse_datetime(text, tz),
    "boolean": _boolean,
    "choice": _choice,
}
