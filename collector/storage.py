"""Write one submission as one row, at most once, or hold it for recovery."""

from functools import lru_cache

from sqlalchemy import bindparam, exists, select
from sqlalchemy.dialects.postgresql import insert

from collector.failed_writes import record_failed_write
from collector.logs import log_event
from collector.system_tables import invites


class InviteRevoked(Exception):
    """The browser's invite was revoked before this submit; nothing was written."""


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


def save_submission(engine, spec, table, submission_id, values, submitter):
    """Insert the row once, or print it for replay and raise HeldForRecovery.

    With an invite, the INSERT takes entered_by from the invites table and
    writes nothing if the invite was revoked (InviteRevoked): the check and
    the write are one statement, one round trip, in autocommit.
    """
    row = {**values, "submission_id": submission_id, "form_version": spec.version}
    gated = submitter.invite_id is not None
    parameters = {**row, "invite_id": submitter.invite_id} if gated else {
        **row, "entered_by": submitter.name}
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            inserted = conn.execute(_insert(table, gated), parameters).scalar() is not None
            if not inserted and gated and not _exists(conn, table, submission_id):
                raise InviteRevoked()
    except InviteRevoked:
        raise
    except Exception as error:  # any other failure at all: the entry must not be lost
        record_failed_write(spec.name, submission_id, submitter.name, values, error)
        raise HeldForRecovery(submission_id) from error
    log_event("submission_saved" if inserted else "submission_duplicate",
              form=spec.name, submission_id=str(submission_id))
    return inserted


@lru_cache(maxsize=None)
def _insert(table, gated):
    """INSERT … ON CONFLICT (submission_id) DO NOTHING RETURNING id, built once per table.

    Gated: entered_by comes from the invite, and no row is written unless the
    invite (:invite_id) is still active. Values are bound parameters named
    after their columns, so the statement is built and compiled only once.
    """
    columns = [c.name for c in table.columns if c.name not in ("id", "submitted_at", "entered_by")]
    if not gated:
        values = {name: bindparam(name, type_=table.c[name].type) for name in [*columns, "entered_by"]}
        statement = insert(table).values(values)
    else:
        source = (select(*[bindparam(name, type_=table.c[name].type) for name in columns],
                         invites.c.name)
                  .where(invites.c.id == bindparam("invite_id"), invites.c.revoked_at.is_(None)))
        statement = insert(table).from_select([*columns, "entered_by"], source)
    return statement.on_conflict_do_nothing(index_elements=["submission_id"]).returning(table.c.id)


def _exists(conn, table, submission_id):
    return conn.execute(select(exists().where(table.c.submission_id == submission_id))).scalar()


def find_saved(engine, table, submission_id):
    """Return when the submission was saved, or None if no such row exists."""
    query = select(table.c.submitted_at).where(table.c.submission_id == submission_id)
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def is_saved(engine, table, submission_id):
    """Return whether a row with this submission_id exists."""
    return find_saved(engine, table, submission_id) is not None
