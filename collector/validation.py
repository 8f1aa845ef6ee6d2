"""Check a submission against its form spec on the server; never trust the browser.

validate_submission() turns raw form text into typed values, or into one
message per field written for the RA who typed it. The same rules also
become HTML attributes (widgets.py) and CHECK constraints (checks.py).
"""

import re

from collector import values as parse

# Same shape as the database's CHECK in checks.py.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
BOOLEAN_VALUES = {"true": True, "false": False}


def validate_submission(spec, formdata):
    """Return (values, errors): typed values for every field, and messages by field name."""
    values, errors = {}, {}
    for field in spec.fields:
        try:
            values[field.name] = check_field(field, raw_value(field, formdata), spec.timezone)
        except ValueError as error:
            errors[field.name] = str(error)
    return values, errors


def raw_value(field, formdata):
    """Return what the browser sent for `field`: a list for multi_choice, else a string."""
    if field.type == "multi_choice":
        return formdata.getlist(field.name)
    return formdata.get(field.name, "")


def check_field(field, raw, timezone):
    """Return the typed value of one field, or raise ValueError with the reason."""
    if field.type == "multi_choice":
        return _multi_choice(field, raw)
    text = raw.replace("\r\n", "\n").strip()
    if not text:
        if field.required:
            raise ValueError(_REQUIRED.get(field.type, "Enter a value."))
        return None
    if "\x00" in text:
        raise ValueError("Remove the invisible NUL character; it cannot be stored.")
    value = _PARSERS[field.type](field, text, timezone)
    _check_range(field, value, timezone)
    return value


def _text(field, text, _timezone):
    if field.max_length and len(text) > field.max_length:
        raise ValueError(f"Use at most {field.max_length} characters (you used {len(text)}).")
    if field.min_length and len(text) < field.min_length:
        raise ValueError(f"Use at least {field.min_length} characters (you used {len(text)}).")
    if field.pattern and not re.fullmatch(field.pattern, text):
        raise ValueError(f"Use the expected format: {field.hint or field.pattern}.")
    if field.type == "email" and not EMAIL.fullmatch(text):
        raise ValueError("Enter an email address, like name@example.org.")
    return text


def _decimal(field, text, _timezone):
    value = parse.parse_decimal(text)
    if field.places is not None and -value.as_tuple().exponent > field.places:
        raise ValueError(f"Use at most {field.places} decimal place{'s' * (field.places != 1)}.")
    return value


def _boolean(_field, text, _timezone):
    if text not in BOOLEAN_VALUES:
        raise ValueError("Choose yes or no.")
    return BOOLEAN_VALUES[text]


def _choice(field, text, _timezone):
    if text not in field.choice_values:
        raise ValueError("Choose one of the listed options.")
    return text


def _multi_choice(field, raw):
    chosen = {item.strip() for item in raw if item.strip()}
    if chosen - set(field.choice_values):
        raise ValueError("Choose only from the listed options.")
    if field.required and not chosen:
        raise ValueError("Tick at least one option.")
    # Store in the form's order, whatever order the browser sent.
    return [value for value in field.choice_values if value in chosen]


def _check_range(field, value, timezone):
    show = lambda bound: (bound.astimezone(timezone).strftime("%Y-%m-%d %H:%M")  # noqa: E731
                          if field.type == "datetime" else bound)
    if field.min is not None and value < field.min:
        raise ValueError(f"Enter {show(field.min)} or later." if field.type in ("date", "datetime")
                         else f"Enter at least {show(field.min)}.")
    if field.max is not None and value > field.max:
        raise ValueError(f"Enter {show(field.max)} or earlier." if field.type in ("date", "datetime")
                         else f"Enter at most {show(field.max)}.")


_PARSERS = {
    "text": _text, "long_text": _text, "email": _text,
    "integer": lambda _field, text, _tz: parse.parse_integer(text),
    "decimal": _decimal,
    "date": lambda _field, text, _tz: parse.parse_date(text),
    "datetime": lambda _field, text, tz: parse.parse_datetime(text, tz),
    "boolean": _boolean,
    "choice": _choice,
}
_REQUIRED = {"choice": "Choose an option.", "boolean": "Choose yes or no."}
