"""Build SQL text that carries form-file text safely: literals and DDL statements."""

from sqlalchemy import text


def sql_literal(value):
    """Quote `value` as a PostgreSQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def ddl(statement):
    """Return DDL as an executable text() whose colons are never bind parameters.

    Labels, hints and choice codes go into views and CHECKs as literals; text()
    would read ' :name' inside them as a parameter, so every colon is escaped.
    """
    return text(statement.replace(":", "\\:"))
