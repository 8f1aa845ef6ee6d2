"""Bring the database in line with the form files without ever losing data.

Policy, safest first:
- create missing tables; add missing columns (nullable when the table has rows);
- loosen where the form loosened (DROP NOT NULL, drop collector CHECKs the form
  no longer declares): this never changes or removes a stored value;
- add new CHECKs; on a table with rows as NOT VALID, so old rows stay as they
  were entered and new rows follow the new rule;
- never drop a column, change its type or SET NOT NULL: report it as drift
  with the SQL a human could run after looking at the data.
"""

from dataclasses import dataclass

from sqlalchemy import inspect, text

from collector.db import audit, review
from collector.db.checks import checks_of
from collector.db.indexes import form_indexes
from collector.db.schema import column_comment, metadata_columns, table_comment
from collector.db.sqltext import ddl
from collector.db.sqlviews import refresh_views
from collector.db.system_tables import ensure_system_tables
from collector.forms.names import key_index_name

LOCK_KEY = "collector.create_all"


@dataclass(frozen=True)
class Change:
    table: str
    message: str
    sql: str = ""
    drift: bool = False
    # A column whose type is not the form's: new entries would be cast by the
    # database (1.5 into an integer column is stored as 2), so it must stop a release.
    blocking: bool = False

    def __str__(self):
        prefix = "DRIFT " if self.drift else ""
        return f"{self.table}: {prefix}{self.message}" + (f"\n    {self.sql}" if self.sql else "")


def create_all(engine, registry):
    """Create or extend every form's table; return the list of Changes made or needed."""
    changes, created = [], set()
    with engine.begin() as conn:
        # Two release phases or a release and a dev run must not interleave DDL.
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": LOCK_KEY})
        ensure_system_tables(conn)
        for spec in registry.specs.values():
            table = registry.tables[spec.name]
            if inspect(conn).has_table(spec.name):
                changes += _sync_table(conn, spec, table)
            else:
                table.create(conn)
                created.add(spec.name)
                changes.append(Change(spec.name, f"created table with {len(spec.fields)} fields"))
            _comment(conn, spec, table)
        # A new table is audited from its first row; say so only for tables made before.
        for table in sorted(set(audit.install(conn, list(registry.specs))) - created):
            changes.append(Change(table, "audit trail on: every insert, update and delete is "
                                         "recorded in audit_trail"))
        refresh_views(conn, list(registry.specs.values()))
    return changes


def _sync_table(conn, spec, table):
    name = spec.name
    found = {c["name"]: c for c in inspect(conn).get_columns(name)}
    has_rows = conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {name})")).scalar()
    changes = []
    for column in table.columns:
        if column.name not in found:
            changes.append(_add_column(conn, name, column, has_rows))
        else:
            changes += _compare_column(conn, spec, column, found[column.name])
    kept = {c.name for c in metadata_columns()} | {f.name for f in spec.fields}
    for column_name, reflected in found.items():
        if column_name not in kept:
            changes += _orphan_column(conn, name, column_name, reflected)
    retyped = {column.name for column in table.columns if column.name in found
               and _sql_type(conn, column.type) != _sql_type(conn, found[column.name]["type"])}
    return (changes + _sync_checks(conn, spec, has_rows, retyped) + _sync_review_check(conn, name)
            + _sync_indexes(conn, spec, retyped))


def _sync_review_check(conn, table):
    """Add the review-status CHECK to a table made before review statuses existed."""
    name = review.check_name(table)
    if name in {c["name"] for c in inspect(conn).get_check_constraints(table)}:
        return []
    conn.execute(text(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({review.check_sql()})"))
    return [Change(table, f"added check {name} ({review.check_sql()})")]


def _sql_type(conn, sql_type):
    return sql_type.compile(dialect=conn.dialect)


def _sync_indexes(conn, spec, retyped):
    """Add missing indexes, rebuild ones defined otherwise (the old time index on submitted_at
    alone, a key index on a field that is no longer the key), drop a key index without a key.

    On a big table each takes seconds, and submissions wait for it: create_all is one
    transaction, and CREATE INDEX CONCURRENTLY cannot run inside one.
    """
    table, changes = spec.name, []
    found = dict(conn.execute(text(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = CAST(:t AS regclass)"),
        {"t": table}).all())
    wanted = [index for index in form_indexes(spec) if not set(index.columns) & retyped]
    for index in wanted:
        definition = found.get(index.name)
        if definition is not None and definition.endswith(" USING btree " + index.printed()):
            continue
        if definition is not None:
            conn.execute(text(f"DROP INDEX {index.name}"))
        conn.execute(text(index.create_sql(table)))
        verb = "rebuilt" if definition is not None else "added"
        changes.append(Change(table, f"{verb} index {index.name} {index.describe()}"))
    stale = key_index_name(table)
    if stale in found and stale not in {index.name for index in form_indexes(spec)}:
        conn.execute(text(f"DROP INDEX {stale}"))
        changes.append(Change(table, f"dropped index {stale}: the form has no key field"))
    return changes


def _add_column(conn, table, column, has_rows):
    # A column with a default fills old rows with it, so it can be NOT NULL at once.
    default = (str(column.server_default.arg.compile(dialect=conn.dialect))
               if column.server_default is not None else None)
    not_null = not column.nullable and (not has_rows or default is not None)
    sql_type = column.type.compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column.name} {sql_type}"
                      + (f" DEFAULT {default}" if default is not None else "")
                      + (" NOT NULL" if not_null else "")))
    if column.nullable or not_null:
        return Change(table, f"added column {column.name} ({sql_type})")
    return Change(table, f"added column {column.name} ({sql_type}) as nullable because the table "
                         "has rows; once old rows are filled in, require it with",
                  f"ALTER TABLE {table} ALTER COLUMN {column.name} SET NOT NULL;")


def _compare_column(conn, spec, column, reflected):
    table, changes = spec.name, []
    wanted, actual = _sql_type(conn, column.type), _sql_type(conn, reflected["type"])
    if wanted != actual:
        changes.append(Change(table, f"column {column.name} is {actual} in the database but "
                                     f"{wanted} in the form file; to convert it, check the data, then run",
                              f"ALTER TABLE {table} ALTER COLUMN {column.name} TYPE {wanted} "
                              f"USING {column.name}::{wanted};", drift=True, blocking=True))
    if column.nullable and not reflected["nullable"]:
        conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN {column.name} DROP NOT NULL"))
        required = any(f.name == column.name and f.required for f in spec.fields)
        changes.append(Change(table, f"column {column.name} is " + (
            "required only while shown now (dropped NOT NULL; a check asks for it while shown)"
            if required else "optional now (dropped NOT NULL)")))
    elif not column.nullable and reflected["nullable"]:
        changes.append(Change(table, f"column {column.name} is required in the form file but "
                                     "nullable in the database; after filling old rows, run",
                              f"ALTER TABLE {table} ALTER COLUMN {column.name} SET NOT NULL;",
                              drift=True))
    return changes


def _orphan_column(conn, table, column_name, reflected):
    changes = []
    if not reflected["nullable"]:
        # A NOT NULL column the form no longer fills would make every new INSERT fail.
        conn.execute(text(f"ALTER TABLE {table} ALTER COLUMN {column_name} DROP NOT NULL"))
        changes.append(Change(table, f"column {column_name} is not in the form file: dropped NOT NULL "
                                     "so new rows can leave it empty"))
    changes.append(Change(table, f"column {column_name} is not in the form file any more; its data "
                                 "is kept. To drop it for good, run",
                          f"ALTER TABLE {table} DROP COLUMN {column_name};", drift=True))
    return changes


def _sync_checks(conn, spec, has_rows, retyped):
    """Drop CHECKs the form no longer declares; add new ones, except those reading a retyped
    column (a rule for the new type cannot apply to the old one: that column is DRIFT)."""
    table = spec.name
    wanted = {check.name: check for field in spec.fields for check in checks_of(spec, field)
              if not check.reads & retyped}
    found = {c["name"] for c in inspect(conn).get_check_constraints(table)}
    ours = f"ck_{table}_"[:56]
    changes = [_waiting(spec, field, retyped) for field in spec.fields
               if any(check.reads & retyped for check in checks_of(spec, field))]
    for name in sorted(n for n in found - set(wanted) if n.startswith(ours)):
        conn.execute(text(f"ALTER TABLE {table} DROP CONSTRAINT {name}"))
        changes.append(Change(table, f"dropped check {name}: the form file no longer declares it"))
    for name, check in wanted.items():
        if name not in found:
            changes.append(_add_check(conn, table, check, has_rows))
    return changes


def _waiting(spec, field, retyped):
    """Say which rules of `field` wait for a retyped column to be converted."""
    held = [check for check in checks_of(spec, field) if check.reads & retyped]
    columns = sorted(set().union(*(check.reads & retyped for check in held)))
    subject = ("its column has" if columns == [field.name] else
               f"column{'s' * (len(columns) > 1)} {', '.join(columns)} "
               f"{'have' if len(columns) > 1 else 'has'}")
    return Change(spec.name, f"rules of field {field.name} not applied in the database until "
                             f"{subject} the form's type (see DRIFT above): "
                             f"{', '.join(check.rule for check in held)}", drift=True)


def _add_check(conn, table, check, has_rows):
    """Add one CHECK; on a table with rows as NOT VALID, with the SQL to find old rows it refuses."""
    name, sql = check.name, check.sql
    conn.execute(ddl(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({sql})"
                     + (" NOT VALID" if has_rows else "")))
    if not has_rows:
        return Change(table, f"added check {name} ({sql})")
    # NOT (check) is true exactly where the CHECK refuses: it lets NULL (unknown) pass.
    find = f"SELECT id FROM {table} WHERE NOT ({sql}) ORDER BY id;"
    validate = f"ALTER TABLE {table} VALIDATE CONSTRAINT {name};"
    # Logic rules (relevant, constraint, calculation) reach across fields: old rows were
    # entered without them and may well break them, so they are drift for a person to look at.
    return Change(table, f"added check {name} for new rows ({sql}); existing rows were not "
                         "checked. To find the old rows it refuses, then check them all, run",
                  f"{find}\n    {validate}", drift=check.logic)


def _comment(conn, spec, table):
    """Refresh table and column comments so `\\d+` always matches the form file."""
    conn.execute(text(f"COMMENT ON TABLE {spec.name} IS :c"), {"c": table_comment(spec)})
    comments = {c.name: c.comment for c in metadata_columns()}
    comments.update({f.name: column_comment(spec, f) for f in spec.fields})
    for column, comment in comments.items():
        conn.execute(text(f"COMMENT ON COLUMN {spec.name}.{column} IS :c"), {"c": comment})
