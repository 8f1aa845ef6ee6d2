"""Compare a submission with the row already stored under the same reference.

A resubmission (double click, "Try saving again", a replayed log line) with
the same submission_id and the same values is the same entry: idempotent
success. The same submission_id with different values is a conflict: the
change was NOT stored, and the RA (or replay) must be told field by field.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class Difference:
    """One field whose stored value differs from the value just sent."""
    field: object
    stored: object
    sent: object


class SubmissionConflict(Exception):
    """This submission_id is stored with other values; nothing was written."""

    def __init__(self, submission_id, differences, stored_at=None, stored_by=None):
        names = ", ".join(d.field.name for d in differences)
        super().__init__(f"submission {submission_id} is already stored with other values ({names})")
        self.submission_id, self.differences, self.stored_at = submission_id, differences, stored_at
        self.stored_by = stored_by  # the name on the stored row: whose entry it is
        self.invite_revoked = False  # set by storage: the submitting browser's invite is revoked


def differences(spec, stored, sent):
    """Return [Difference] for every field of `spec` whose stored and sent values differ."""
    return [Difference(field, stored.get(field.name), sent.get(field.name))
            for field in spec.fields
            if not same_value(stored.get(field.name), sent.get(field.name))]


def same_value(stored, sent):
    """Compare as the database does: date-times by instant, numbers by value.

    A multi_choice is a set: tick order does not matter, and an empty list
    equals NULL (a column added after the row was saved). A column still of
    an older type (DRIFT) is compared by value (int 7 equals Decimal 7, text
    '7' equals 7). A stored value psycopg2 could not read (PgText such as
    'infinity') never equals a typed one.
    """
    if isinstance(stored, list) or isinstance(sent, list):
        return _listish(stored, sent) and sorted(stored or []) == sorted(sent or [])
    if stored is None or sent is None:
        return stored is sent
    if type(stored) is type(sent):
        return stored == sent
    if _number(stored) and _number(sent):
        return Decimal(str(stored)) == Decimal(str(sent))
    if type(stored) is str or type(sent) is str:  # one side of a field retyped to or from text
        return _as_text(stored) == _as_text(sent)
    return False


def _as_text(value):
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def _listish(stored, sent):
    return all(value is None or isinstance(value, list) for value in (stored, sent))


def _number(value):
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def shown(field, value, timezone):
    """Write a stored or sent value the way the RA reads it on the form."""
    if value is None or value == []:
        return "(empty)"
    if field.type == "boolean":
        return "Yes" if value is True else "No" if value is False else str(value)
    labels = {choice.value: choice.label for choice in field.choices}
    if field.type == "choice":
        return labels.get(value, value)
    if field.type == "multi_choice":
        return "; ".join(labels.get(code, code) for code in value)
    if isinstance(value, datetime):
        return _exact_local(value, timezone)
    return str(value)


def _exact_local(value, timezone):
    """Local time with its UTC offset, and seconds when there are any: two values
    shown as different must read differently (a DST fold, 10:30 vs 10:30:59)."""
    try:
        local = value.astimezone(timezone)
    except (OverflowError, ValueError):
        local = value
    return local.isoformat(sep=" ", timespec=exact_timespec(local))


def exact_timespec(moment):
    """Return the isoformat timespec that keeps every digit `moment` has: minutes, unless it
    has seconds or microseconds (so a value shown or posted back is never rounded)."""
    return "microseconds" if moment.microsecond else "seconds" if moment.second else "minutes"
