"""Check a held failed-write record against its form file before replay inserts it.

Every check raises ValueError naming the key or field, so the PI can fix the
line and replay it: replay never stores a value or a time other than the one held.
"""

import uuid
from datetime import datetime

from werkzeug.datastructures import MultiDict

from collector.forms.validation import validate_submission
from collector.forms.values import check_datetime_window

SCALARS = (str, int, float, bool, type(None))


def checked(registry, record):
    """Return (spec, table, submission_id, typed values, submitted_at) for a held record."""
    if not isinstance(record.get("form"), str):
        raise ValueError(f"form {record.get('form')!r} is not a form name")
    spec, table = registry.get(record["form"])
    if spec is None:
        raise ValueError(f"no form called {record.get('form')!r} in the form files")
    try:
        submission_id = uuid.UUID(str(record.get("submission_id")))
    except ValueError:
        raise ValueError(f"submission_id {record.get('submission_id')!r} is not a UUID") from None
    values = record.get("values")
    if not isinstance(values, dict):
        raise ValueError("values is missing or not an object")
    if not isinstance(record.get("entered_by"), (str, type(None))):
        raise ValueError("entered_by is not text")
    _check_shapes(spec, values)
    at = submitted_at(record.get("at"))
    # today() means the day the RA submitted, as it does for the row's CHECKs (submitted_at).
    typed, errors = validate_submission(spec, _as_form_data(values),
                                        today=at.astimezone(spec.timezone).date())
    if errors:
        name, message = next(iter(errors.items()))
        raise ValueError(f"field {name!r}: {message}")
    return spec, table, submission_id, typed, at


def _check_shapes(spec, values):
    """Refuse values no form could have sent: objects, nested lists, a list for one value."""
    for name, value in values.items():
        if not all(isinstance(item, SCALARS) for item in
                   (value if isinstance(value, list) else [value])):
            raise ValueError(f"field {name!r}: an object or nested list is not a form value")
    unknown = sorted(set(values) - {f.name for f in spec.fields})
    if unknown:
        raise ValueError(f"field {unknown[0]!r} is not in forms/{spec.path.name} any more")
    for field in spec.fields:  # a browser sends one value here: never keep just the first
        if field.type != "multi_choice" and isinstance(values.get(field.name), list):
            raise ValueError(f"field {field.name!r}: a list is not a value for a single-value field")


def _as_form_data(values):
    """Turn JSON values back into what a browser would have sent."""
    data = MultiDict()
    for name, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            data.add(name, str(item).lower() if isinstance(item, bool) else str(item))
    return data


def submitted_at(at):
    """Return the record's `at` as an aware datetime: replay keeps when the RA submitted.

    A time in the future is kept as held (a dyno's clock is Heroku's, not ours to judge).
    """
    shown = repr(at) if len(repr(at)) <= 80 else repr(at)[:80] + "…"
    try:
        value = datetime.fromisoformat(at.replace("Z", "+00:00")) if isinstance(at, str) else None
    except ValueError:
        value = None
    if value is None:
        raise ValueError(f"at {shown} is not a date-time: replay keeps the time it was submitted")
    if value.tzinfo is None:
        raise ValueError(f"at {shown} has no UTC offset: the instant it was submitted is unknown")
    try:
        check_datetime_window(value)
    except ValueError:
        raise ValueError(f"at {shown} is outside years 1-9999 in UTC") from None
    return value
