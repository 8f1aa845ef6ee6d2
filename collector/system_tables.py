"""The collector's own tables (not forms): invites and admin login failures."""

from sqlalchemy import BigInteger, Column, DateTime, Identity, MetaData, Table, Text, func

system_metadata = MetaData()

invites = Table(
    "invites", system_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False, comment="The RA's name, written to entered_by."),
    Column("token_hash", Text, nullable=False, unique=True,
           comment="SHA-256 of the invite token; the token itself is never stored."),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True), comment="Set by manage.py revoke."),
    comment="RA invite links (collector's own table).",
)

# Failed PI logins, kept in the database so the limit holds across every
# worker and dyno (an in-memory limiter counts per process).
admin_login_failures = Table(
    "admin_login_failures", system_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("ip", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now(), index=True),
    comment="Failed logins to /admin, for rate limiting (collector's own table).",
)


def ensure_system_tables(connectable):
    """Create the collector's own tables where missing (an engine or a connection)."""
    system_metadata.create_all(connectable)
