"""The collector's own tables (not forms): invites, admin sessions, login failures, audit trail."""

from contextlib import nullcontext

from sqlalchemy import (ARRAY, BigInteger, Column, DateTime, Engine, Identity, Index, MetaData,
                        Table, Text, Uuid, func, inspect, text)
from sqlalchemy.dialects.postgresql import JSONB

system_metadata = MetaData()

invites = Table(
    "invites", system_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False, comment="The RA's name, written to entered_by."),
    Column("token_hash", Text, nullable=False, unique=True,
           comment="SHA-256 of the invite token; the token itself is never stored."),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True), comment="Set by manage.py revoke."),
    Column("code_exposed_at", DateTime(timezone=True),
           comment="When the code was seen in a request path (so in the router's log): from then "
                   "on it signs in no new browser; send a new invite."),
    comment="RA invite links (collector's own table).",
)

# Failed PI logins, kept in the database so the limit holds across every
# worker and dyno (an in-memory limiter counts per process).
admin_login_failures = Table(
    "admin_login_failures", system_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("ip", Text, nullable=False),
    Column("device", Text, comment="The known device that failed (collector/web/known_device.py); "
                                   "NULL for unknown browsers."),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
    comment="Failed logins to /admin, for rate limiting (collector's own table).",
)


# The PI's sign-ins, kept server-side so logout and a new ADMIN_PASSWORD end
# them for good (a signed cookie alone cannot be taken back).
admin_sessions = Table(
    "admin_sessions", system_metadata,
    Column("id_hash", Text, primary_key=True,
           comment="SHA-256 of the session id in the PI's cookie; the id itself is never stored."),
    Column("password_fingerprint", Text, nullable=False,
           comment="HMAC of ADMIN_PASSWORD under SECRET_KEY: a new password ends the session."),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("ended_at", DateTime(timezone=True), comment="Set at logout."),
    Column("name", Text, comment="The name the PI or data manager gave at sign-in: every change "
                                 "made in the PI area is recorded under it."),
    comment="Sign-ins to /admin (collector's own table).",
)


# Every change to every form table, written by triggers (collector/db/audit.py), never
# changed afterwards: a guard trigger refuses UPDATE, DELETE and TRUNCATE, except that
# a withdrawal erases the values `changes` held of a row that no longer exists.
audit_trail = Table(
    "audit_trail", system_metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True,
           comment="Order of the changes."),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now(),
           comment="When the change's transaction ran."),
    Column("form", Text, nullable=False, comment="The form's table."),
    Column("row_id", BigInteger, comment="The row's id (empty for a TRUNCATE)."),
    Column("submission_id", Uuid, comment="The row's reference."),
    Column("operation", Text, nullable=False, comment="INSERT, UPDATE, DELETE or TRUNCATE."),
    Column("action", Text, nullable=False,
           comment="submitted, replayed, corrected, reviewed, withdrawn, or inserted/updated/"
                   "deleted/truncated outside the app."),
    Column("actor", Text, comment="Who: the RA (entered_by) or the PI-area user's name; "
                                  "outside the app, the database user unless they named themselves."),
    Column("source", Text, nullable=False, comment="form, replay, PI area, or outside the app."),
    Column("reason", Text, comment="Why, as given (required in the PI area); a query's text."),
    Column("fields", ARRAY(Text), comment="The columns that changed (kept after a withdrawal)."),
    Column("changes", JSONB, comment='{"column": {"old": …, "new": …}} for exactly the columns '
                                     "that changed; empty once a withdrawal erased the row's values."),
    Column("database_user", Text, nullable=False, server_default=text("session_user"),
           comment="The PostgreSQL role of the session that made the change."),
    Column("client", Text, server_default=text("current_setting('application_name')"),
           comment="The connecting program (application_name): collector, psql, …"),
    # A row's history, in order, with one index lookup.
    Index("ix_audit_trail_row", "form", "row_id", "id"),
    # Withdrawn references, for replay; partial, so submits never write to it.
    Index("ix_audit_trail_deleted", "form", "submission_id", postgresql_where=text("operation = 'DELETE'")),
    comment="Every INSERT, UPDATE, DELETE and TRUNCATE on every form table (collector's own "
            "table, append-only; see README, \"The audit trail\").",
)


def ensure_system_tables(connectable):
    """Create the collector's own tables where missing (an engine or a connection)."""
    system_metadata.create_all(connectable)
    # Tables made by older versions lack these columns; create_all adds none.
    # Look first: ALTER TABLE would lock the table even when there is nothing to do.
    with _transaction(connectable) as conn:
        for table, column, sql_type in ADDED_COLUMNS:
            if column not in {c["name"] for c in inspect(conn).get_columns(table)}:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {sql_type}"))


# (table, column, type) added after the table first shipped.
ADDED_COLUMNS = (("admin_login_failures", "device", "text"),
                 ("invites", "code_exposed_at", "timestamptz"),
                 ("admin_sessions", "name", "text"))


def _transaction(connectable):
    return connectable.begin() if isinstance(connectable, Engine) else nullcontext(connectable)
