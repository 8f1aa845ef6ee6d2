"""Derive a field's database CHECK constraints from its form-file rules.

Each constraint is (name, SQL). The name ends in a hash of the SQL, so a rule
changed in the form file shows up as a missing constraint in create_all's
drift report instead of silently keeping the old rule.
"""

import hashlib

from collector.db.sqltext import sql_literal

# Same shape as the server's check in validation.py, in PostgreSQL's dialect.
EMAIL_SQL_PATTERN = "^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$"


def constraint_name(table, column, rule, sql):
    """Return a stable name under PostgreSQL's 63-byte limit."""
    digest = hashlib.sha256(f"{table}.{column}.{sql}".encode()).hexdigest()[:6]
    return f"ck_{table}_{column}_{rule}"[:63 - 7] + "_" + digest


def field_checks(table, field):
    """Return [(name, sql), ...] for every CHECK the field's rules imply."""
    return [(constraint_name(table, field.name, rule, sql), sql)
            for rule, sql in _rules(field) if sql]


def _rules(field):
    column = field.name
    yield "range", _range_sql(field)
    yield "length", _length_sql(column, field.min_length, field.max_length)
    if field.places is not None:
        yield "places", f"scale({column}) <= {field.places}"
    if field.type == "choice":
        yield "choice", f"{column} IN ({', '.join(map(sql_literal, field.choice_values))})"
    if field.type == "multi_choice":
        options = ", ".join(map(sql_literal, field.choice_values))
        yield "choice", f"{column} <@ ARRAY[{options}]::text[]"
        if field.required:
            yield "required", f"cardinality({column}) >= 1"
    if field.type == "email":
        yield "email", f"{column} ~ {sql_literal(EMAIL_SQL_PATTERN)}"


def _range_sql(field):
    cast = {"date": "::date", "datetime": "::timestamptz"}.get(field.type, "")
    parts = []
    for operator, bound in ((">=", field.min), ("<=", field.max)):
        if bound is not None:
            literal = sql_literal(bound.isoformat()) + cast if cast else str(bound)
            parts.append(f"{field.name} {operator} {literal}")
    return " AND ".join(parts)


def _length_sql(column, min_length, max_length):
    parts = []
    if min_length:
        parts.append(f"char_length({column}) >= {min_length}")
    if max_length:
        parts.append(f"char_length({column}) <= {max_length}")
    return " AND ".join(parts)
