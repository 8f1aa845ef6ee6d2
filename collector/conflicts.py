"""Compare a submission with the row already stored under the same reference.

A resubmission (double click, "Try saving again", a replayed log line) with
the same submission_id and the same values is the same entry: idempotent
success. The same submission_id with different values is a conflict: the
change was NOT stored, and the RA (or replay) must be told field by field.
"""

from dataclasses import dataclass
from datetime import datetime

from collector.readback import local_time


@dataclass(frozen=True)
class Difference:
    """One field whose stored value differs from the value just sent."""
    field: object
    stored: object
    sent: object


class SubmissionConflict(Exception):
    """This submission_id is stored with other values; nothing was written."""

    def __init__(self, submission_id, differences, stored_at=None, stored_visible=True):
        names = ", ".join(d.field.name for d in differences)
        super().__init__(f"submission {submission_id} is already stored with other values ({names})")
        self.submission_id, self.differences, self.stored_at = submission_id, differences, stored_at
        # Stored values are shown only to whoever entered them (storage decides).
        self.stored_visible = stored_visible


def differences(spec, stored, sent):
    """Return [Difference] for every field of `spec` whose stored and sent values differ."""
    return [Difference(field, stored.get(field.name), sent.get(field.name))
            for field in spec.fields
            if not same_value(stored.get(field.name), sent.get(field.name))]


def same_value(stored, sent):
    """Compare as the database does: date-times by instant, decimals by value.

    Both sides come typed for the same column (Decimal and Decimal, aware
    datetime and aware datetime), so equal types and == decide; a stored value
    psycopg2 could not read (a str stand-in such as 'infinity') never equals.
    """
    return type(stored) is type(sent) and stored == sent


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
        return local_time(value, timezone)
    return str(value)
