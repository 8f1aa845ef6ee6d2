"""Write one submission as one row, at most once, or hold it for recovery."""

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from collector.failed_writes import record_failed_write
from collector.logs import log_event


class HeldForRecovery(Exception):
    """The database did not take the row; it was printed to the log for replay."""

    def __init__(self, submission_id):
        super().__init__(f"submission {submission_id} held for recovery")
        self.submission_id = submission_id


def insert_once(engine, spec, table, submission_id, values, entered_by=None, submitted_at=None):
    """Insert the row unless its submission_id is already there; return True if inserted.

    The unique submission_id plus ON CONFLICT DO NOTHING makes a resubmission
    (double click, retry after a timeout, replay, a second dyno) harmless.
    """
    row = {**values, "submission_id": submission_id, "entered_by": entered_by,
           "form_version": spec.version}
    if submitted_at is not None:
        row["submitted_at"] = submitted_at
    statement = (insert(table).values(row)
                 .on_conflict_do_nothing(index_elements=["submission_id"])
                 .returning(table.c.id))
    with engine.begin() as conn:
        return conn.execute(statement).first() is not None


def save_submission(engine, spec, table, submission_id, values, entered_by=None):
    """Insert the row once (see insert_once), or print it for replay and raise HeldForRecovery."""
    try:
        inserted = insert_once(engine, spec, table, submission_id, values, entered_by)
    except Exception as error:  # any failure at all: the entry must not be lost
        record_failed_write(spec.name, submission_id, entered_by, values, error)
        raise HeldForRecovery(submission_id) from error
    log_event("submission_saved" if inserted else "submission_duplicate",
              form=spec.name, submission_id=str(submission_id))
    return inserted


def find_saved(engine, table, submission_id):
    """Return when the submission was saved, or None if no such row exists."""
    query = select(table.c.submitted_at).where(table.c.submission_id == submission_id)
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def is_saved(engine, table, submission_id):
    """Return whether a row with this submission_id exists."""
    return find_saved(engine, table, submission_id) is not None
