"""Change a stored row from the PI area: correct it, review it, withdraw it; read its history.

Every change is one guarded statement in a transaction that first tells the
audit trigger who makes it and why (audit.pass_who). The guard is the row's
version as the editor saw it: PostgreSQL's xmin, which every UPDATE of the
row changes. A concurrent change makes the guarded statement match no row
(READ COMMITTED re-checks the WHERE against the newest row version after
waiting for the other transaction), so nothing is overwritten: RowChanged
says what the others did meanwhile, read from the audit trail.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, text, update

from collector.db import audit, review
from collector.db.system_tables import audit_trail
from collector.forms.conflicts import same_value

VERSION = re.compile(r"(\d+)\.(\d+)")


@dataclass(frozen=True)
class FieldChange:
    """One column's value before and after one change (JSON values; None is empty)."""
    field: str
    old: object
    new: object


@dataclass(frozen=True)
class HistoryEntry:
    """One row of audit_trail, as the row page shows it."""
    id: int
    at: datetime
    operation: str
    action: str
    actor: str | None
    source: str
    reason: str | None
    changes: list
    erased: bool
    fields: list


class RowChanged(Exception):
    """The row changed, or went, since the editor read it; nothing was written."""

    def __init__(self, current, since):
        super().__init__("the row was changed by someone else meanwhile" if current is not None
                         else "the row no longer exists")
        self.current, self.since = current, since


def read_row(conn, spec, table, row_id):
    """Return the row's columns and "_version" (pass it back to change the row), or None."""
    seen = (select(text("coalesce(max(id), 0)")).select_from(audit_trail)
            .where(audit_trail.c.form == spec.name, audit_trail.c.row_id == table.c.id)
            .scalar_subquery())
    query = select(table, text(f"{table.name}.xmin::text AS _xmin"), seen.label("_seen")).where(
        table.c.id == row_id)
    found = conn.execute(query).mappings().first()
    if found is None:
        return None
    row = {key: value for key, value in found.items() if not key.startswith("_")}
    row["_version"] = f"{found['_xmin']}.{found['_seen']}"
    return row


def changed_fields(spec, stored, values):
    """Return the names of the fields whose value in `values` differs from `stored`."""
    return [field.name for field in spec.fields
            if not same_value(stored.get(field.name), values.get(field.name))]


def correct_row(engine, spec, table, row_id, version, values, actor, reason):
    """Write the fields of `values` that differ from the stored row; return their names.

    Nothing is written (and [] returned) when no value differs. Raises
    RowChanged when the row changed since `version`; a CHECK refusing the
    new values raises sqlalchemy.exc.IntegrityError, with nothing written.
    """
    xmin, seen = _parse(version)
    with engine.begin() as conn:
        stored = read_row(conn, spec, table, row_id)
        if stored is None or stored["_version"] != version:
            raise RowChanged(stored, _since(conn, spec, row_id, seen))
        names = changed_fields(spec, stored, values)
        if names:
            audit.pass_who(conn, actor, reason, audit.PI_AREA, audit.CORRECTED)
            _guarded(conn, spec, table, row_id, xmin, seen,
                     update(table).values({name: values.get(name) for name in names}))
        return names


def set_review_status(engine, spec, table, row_id, version, status, actor, note):
    """Set the row's review status; the note (a query's text) is the change's reason."""
    if status not in review.STATUSES:
        raise ValueError(f"unknown review status {status!r}")
    xmin, seen = _parse(version)
    with engine.begin() as conn:
        audit.pass_who(conn, actor, note, audit.PI_AREA, audit.REVIEWED)
        _guarded(conn, spec, table, row_id, xmin, seen, update(table).values(review_status=status))


def withdraw_row(engine, spec, table, row_id, version, actor, reason):
    """Delete the row; the trail keeps who, when and why, and erases the values it held."""
    xmin, seen = _parse(version)
    with engine.begin() as conn:
        audit.pass_who(conn, actor, reason, audit.PI_AREA, audit.WITHDRAWN)
        _guarded(conn, spec, table, row_id, xmin, seen, delete(table))


def _guarded(conn, spec, table, row_id, xmin, seen, statement):
    """Run `statement` on the row only if it is still at version xmin; else RowChanged."""
    matched = conn.execute(statement.where(
        table.c.id == row_id, text(f"{table.name}.xmin = CAST(:_xmin AS xid)").bindparams(_xmin=xmin)))
    if matched.rowcount != 1:
        raise RowChanged(read_row(conn, spec, table, row_id), _since(conn, spec, row_id, seen))


def _parse(version):
    found = VERSION.fullmatch(version) if isinstance(version, str) else None
    if found is None:
        raise ValueError(f"not a row version: {version!r}")
    return found.group(1), int(found.group(2))


def _since(conn, spec, row_id, seen):
    return [entry for entry in row_history(conn, spec, row_id) if entry.id > seen]


def row_history(conn, spec, row_id):
    """Return the row's audit entries, oldest first (also after it was withdrawn).

    Row ids can be used twice (TRUNCATE … RESTART IDENTITY clears pilot rows), so
    only entries since the table was last emptied, and of the row's own reference.
    """
    trail = audit_trail.c
    emptied = (select(func.coalesce(func.max(trail.id), 0))
               .where(trail.form == spec.name, trail.operation == "TRUNCATE").scalar_subquery())
    query = (select(audit_trail).where(trail.form == spec.name, trail.row_id == row_id, trail.id > emptied)
             .order_by(trail.id))
    found = conn.execute(query).mappings().all()
    reference = conn.execute(text(f"SELECT submission_id FROM {spec.name} WHERE id = :id"),
                             {"id": row_id}).scalar()
    if reference is None and found:  # withdrawn or deleted: the newest entry names it
        reference = found[-1]["submission_id"]
    return [_entry(row) for row in found if row["submission_id"] == reference]


def _entry(row):
    changes = row["changes"] or {}
    fields = list(row["fields"] or [])
    return HistoryEntry(
        id=row["id"], at=row["at"], operation=row["operation"], action=row["action"],
        actor=row["actor"], source=row["source"], reason=row["reason"],
        changes=[FieldChange(name, change.get("old"), change.get("new"))
                 for name, change in sorted(changes.items())],
        erased=row["changes"] is None and bool(fields), fields=fields)
