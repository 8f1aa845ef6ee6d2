"""What every change in the PI area needs: a reason checked on the server, the day the row
was entered (what today() meant for it), and a database refusal in words."""

from datetime import datetime

from collector.db.checks import checks_of
from collector.web.row_display import column_label

# A reason is a sentence or a paragraph; anything longer is refused, not cut, so the
# trail never keeps a reason other than the one given.
MAX_REASON_LENGTH = 2000


def clean_reason(raw, what="the reason for the change"):
    """Return (reason, problem): the trimmed text, or why it cannot be kept."""
    reason = (raw or "").replace("\r\n", "\n").strip()
    if not reason:
        return None, f"Give {what}: it is kept in the row's history with your name."
    if len(reason) > MAX_REASON_LENGTH:
        return None, (f"Shorten {what} to at most {MAX_REASON_LENGTH:,} characters "
                      f"(this is {len(reason):,}); nothing was saved.")
    if "\x00" in reason:
        return None, f"Remove the NUL character from {what}; nothing was saved."
    return reason, None


def submitted_day(spec, row):
    """Return the day the row was submitted in the form's zone: today() for its rules.

    The row's today() CHECKs read submitted_at, which never changes, so
    `. <= today()` still means "not after the day it was entered".
    """
    at = row["submitted_at"]
    if not isinstance(at, datetime):  # a moment psycopg2 cannot hold: today's rules apply
        return datetime.now(spec.timezone).date()
    return at.astimezone(spec.timezone).date()


def refusal_text(spec, error):
    """Say which rule the database refused an update under (an IntegrityError)."""
    diag = getattr(getattr(error, "orig", None), "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    column = getattr(diag, "column_name", None)
    for field in spec.fields:
        for check in checks_of(spec, field):
            if check.name == constraint:
                return (f"The database refused the change: {field.label} breaks its rule "
                        f"\"{check.rule}\" ({constraint}). Nothing was saved.")
    if column:
        return (f"The database refused the change: {column_label(spec, column)} needs a value. "
                "Nothing was saved.")
    named = f" ({constraint})" if constraint else ""
    return f"The database refused the change under one of its rules{named}. Nothing was saved."
