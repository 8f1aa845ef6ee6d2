"""Write one submission as one row, at most once, or hold it for recovery."""

from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy import bindparam, select, true
from sqlalchemy.dialects.postgresql import insert

from collector.db import audit
from collector.db.system_tables import invites
from collector.forms.conflicts import SubmissionConflict, differences
from collector.ops.failed_writes import record_failed_write
from collector.ops.logs import log_event

# Bind parameters of our own start with "_": a field name must start with a
# letter (names.py), so no field can ever share a parameter with the machinery.
INVITE_PARAMETER = "_invite_id"


class InviteRevoked(Exception):
    """The browser's invite was revoked before this submit; nothing was written."""


class Withdrawn(Exception):
    """The participant of this submission was withdrawn: it must not come back."""


class HeldForRecovery(Exception):
    """The database did not take the row; it was printed to the log for replay."""

    def __init__(self, submission_id):
        super().__init__(f"submission {submission_id} held for recovery")
        self.submission_id = submission_id


@dataclass(frozen=True)
class Saved:
    """What save_submission did: inserted, or found the same values stored (then
    `stored_by` is the name on that row, for the caller to judge whose entry it
    is), and whether the browser's invite turned out to be revoked (public forms)."""
    inserted: bool
    invite_revoked: bool = False
    stored_by: str | None = None


def insert_once(engine, spec, table, submission_id, values, entered_by=None, submitted_at=None):
    """Insert the row (replay) unless its submission_id is already there; return True if inserted.

    The same submission_id already stored with the same values is the same
    entry (False); with other values it raises SubmissionConflict. A
    reference withdrawn from the PI area raises Withdrawn: a log line held
    from before the withdrawal must not bring the participant's values back.
    """
    row = {**values, "submission_id": submission_id, "entered_by": entered_by,
           "form_version": spec.version}
    if submitted_at is not None:
        row["submitted_at"] = submitted_at
    statement = (insert(table).values(row)
                 .on_conflict_do_nothing(index_elements=["submission_id"])
                 .returning(table.c.id))
    with engine.begin() as conn:
        if audit.was_withdrawn(conn, spec.name, submission_id):
            raise Withdrawn(submission_id)
        audit.pass_who(conn, entered_by, None, audit.REPLAY, audit.REPLAYED)
        if conn.execute(statement).first() is not None:
            return True
        _refuse_other_values(conn, spec, table, submission_id, values)
        return False


def save_submission(engine, spec, table, submission_id, values, submitter, submitted_at=None):
    """Insert the row once, or print it for replay and raise HeldForRecovery.

    `submitted_at` is the moment the values were validated at (default: now):
    the row's today() CHECKs read it, so it must be the day the server's
    today() meant, not the database's clock a moment later.

    The invite is re-read by the INSERT itself, in one statement, one round
    trip, in autocommit: on invite-only forms nothing is written if it was
    revoked (InviteRevoked); on public forms the row is written without a
    name. A stored row with the same reference but other values raises
    SubmissionConflict; with the same values it is a harmless duplicate. A
    reference withdrawn in the PI area is not written again (Withdrawn).
    """
    submitted_at = submitted_at or datetime.now(timezone.utc)
    parameters = {**values, "submission_id": submission_id, "form_version": spec.version,
                  "submitted_at": submitted_at,
                  INVITE_PARAMETER: submitter.invite_id}
    gated = spec.access == "invite"
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            written = conn.execute(_insert(table, gated), parameters).first()
            stored = None if written else _refuse_other_values(
                conn, spec, table, submission_id, values, submitter)
    except InviteRevoked:
        log_event("submission_refused", form=spec.name, submission_id=str(submission_id),
                  reason="invite revoked")
        raise
    except Withdrawn:  # no values logged: keeping them is what withdrawal forbids
        log_event("submission_refused", form=spec.name, submission_id=str(submission_id),
                  reason="withdrawn")
        raise
    except SubmissionConflict as conflict:
        log_event("submission_conflict", form=spec.name, submission_id=str(submission_id),
                  fields=[d.field.name for d in conflict.differences])
        raise
    except Exception as error:  # any other failure at all: the entry must not be lost
        record_failed_write(spec.name, submission_id, submitter.name, values, error, submitted_at)
        raise HeldForRecovery(submission_id) from error
    log_event("submission_saved" if written else "submission_duplicate",
              form=spec.name, submission_id=str(submission_id))
    if written:
        revoked = submitter.invite_id is not None and written.entered_by is None
        return Saved(inserted=True, invite_revoked=revoked)
    return Saved(inserted=False, invite_revoked=_invite_revoked(submitter.invite_id, stored),
                 stored_by=stored["entered_by"])


def _refuse_other_values(conn, spec, table, submission_id, values, submitter=None):
    """After ON CONFLICT DO NOTHING: raise unless the stored row holds these values;
    return the stored row.

    On invite-only forms a revoked invite is refused before anything stored is
    compared (InviteRevoked); public forms take the entry whoever sends it.
    """
    invite_id = submitter.invite_id if submitter else None
    stored = stored_row(conn, spec, table, submission_id, invite_id)
    revoked = _invite_revoked(invite_id, stored)
    if revoked and spec.access == "invite":
        raise InviteRevoked()
    if stored["submitted_at"] is None:
        if audit.was_withdrawn(conn, spec.name, submission_id):
            raise Withdrawn(submission_id)  # the INSERT refused it (see _insert)
        raise RuntimeError(f"submission {submission_id} was neither written nor found")
    found = differences(spec, stored, values)
    if found:
        conflict = SubmissionConflict(submission_id, found, stored["submitted_at"], stored["entered_by"])
        conflict.invite_revoked = revoked
        raise conflict
    return stored


def _invite_revoked(invite_id, stored):
    """Whether the submitting browser had an invite that stored_row found revoked."""
    return invite_id is not None and not stored["_invite_active"]


def stored_row(conn, spec, table, submission_id, invite_id=None):
    """Return the stored row's values, submitted_at and entered_by (None when there is
    no row), and whether invite `invite_id` is still active, in one round trip."""
    columns = [table.c[f.name] for f in spec.fields] + [table.c.submitted_at, table.c.entered_by]
    row = select(*columns).where(table.c.submission_id == submission_id).subquery()
    active = select(invites.c.id).where(invites.c.id == invite_id, invites.c.revoked_at.is_(None))
    query = select(*row.c, active.exists().label("_invite_active")).select_from(
        select(1).subquery().outerjoin(row, true()))
    found = conn.execute(query).mappings().one()
    return dict(found)


@lru_cache(maxsize=None)
def _insert(table, gated):
    """INSERT … ON CONFLICT (submission_id) DO NOTHING RETURNING id, entered_by; built once.

    entered_by is the name of the invite in :_invite_id if it is still active.
    Gated (invite-only forms): no row at all unless it is. Public forms: the
    row is written either way, named only while the invite is active. Values
    are bound parameters named after their columns, so the statement is built
    and compiled only once per table.
    """
    # The database fills in id, and review_status with its default (unreviewed).
    columns = [c.name for c in table.columns if c.name not in ("id", "entered_by", "review_status")]
    binds = [bindparam(name, type_=table.c[name].type) for name in columns]
    active = (invites.c.id == bindparam(INVITE_PARAMETER), invites.c.revoked_at.is_(None))
    # A reference withdrawn in the PI area is never written again (an RA's device
    # resending an entry it kept): one probe of a small partial index, same round trip.
    withdrawn = audit.withdrawal(table.name, binds[columns.index("submission_id")])
    if gated:
        source = select(*binds, invites.c.name).where(*active, ~withdrawn)
    else:
        source = select(*binds, select(invites.c.name).where(*active).scalar_subquery()).where(~withdrawn)
    statement = insert(table).from_select([*columns, "entered_by"], source)
    return (statement.on_conflict_do_nothing(index_elements=["submission_id"])
            .returning(table.c.id, table.c.entered_by))


def find_saved(engine, table, submission_id):
    """Return when the submission was saved, or None if no such row exists."""
    query = select(table.c.submitted_at).where(table.c.submission_id == submission_id)
    with engine.connect() as conn:
        return conn.execute(query).scalar()


def stored_differences(engine, spec, table, submission_id, values):
    """Return None if nothing is stored under submission_id, else the [Difference]s.

    Raises Withdrawn for a reference withdrawn from the PI area (as insert_once does).
    """
    with engine.connect() as conn:
        stored = stored_row(conn, spec, table, submission_id)
        if stored["submitted_at"] is None and audit.was_withdrawn(conn, spec.name, submission_id):
            raise Withdrawn(submission_id)
    return None if stored["submitted_at"] is None else differences(spec, stored, values)

