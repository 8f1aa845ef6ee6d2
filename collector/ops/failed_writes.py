"""Print a submission the database did not take, in the replayable JSON-line form.

This line is a contract (DESIGN.md): `manage.py replay` and other tools parse
it. Keep the keys, their order and their meaning. A record too long for one
log line travels as numbered parts instead (collector/ops/record_parts.py).
"""

from datetime import date, datetime
from decimal import Decimal

from collector.ops.logs import current_request_id, utc_now, write_lines
from collector.ops.record_parts import RECORD_EVENT, record_lines

MAX_ERROR_LENGTH = 500


def json_value(value):
    """Return `value` in a JSON form that parses back to the same typed value."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # a string keeps every digit; a float would not
    return value


def describe_error(error):
    """Return 'ExceptionName: first line of the message', from the driver when possible."""
    cause = getattr(error, "orig", None) or error
    message = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {message}"[:MAX_ERROR_LENGTH]


def record_failed_write(form, submission_id, entered_by, values, error, at=None):
    """Print the failed-write record for this submission to stdout: one line, or its parts.

    `at` (an aware datetime) is when the RA submitted, the moment the values
    were checked at; replay stores it as submitted_at and judges today() by it.
    """
    write_lines(record_lines({
        "event": RECORD_EVENT,
        "form": form,
        "submission_id": str(submission_id),
        "entered_by": entered_by,
        "values": {name: json_value(value) for name, value in values.items()},
        "error": describe_error(error),
        "request_id": current_request_id(),
        "at": utc_now(at),
    }))
