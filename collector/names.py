"""Decide which names may become PostgreSQL tables and columns."""

import re

# Lower snake case, starting with a letter, at most 63 bytes: PostgreSQL
# truncates longer identifiers silently, which would make two fields collide.
IDENTIFIER = re.compile(r"[a-z][a-z0-9_]{0,62}")

# Words PostgreSQL reserves (pg_get_keywords() catcode 'R' and 'T'). A column
# with such a name needs quoting in every query a PI writes, so we refuse it.
# tests/test_names.py checks this list against the running server.
RESERVED_WORDS = frozenset("""
    all analyse analyze and any array as asc asymmetric authorization binary
    both case cast check collate collation column concurrently constraint
    create cross current_catalog current_date current_role current_schema
    current_time current_timestamp current_user default deferrable desc
    distinct do else end except false fetch for foreign freeze from full grant
    group having ilike in initially inner intersect into is isnull join lateral
    leading left like limit localtime localtimestamp natural not notnull null
    offset on only or order outer overlaps placing primary references returning
    right select session_user similar some symmetric system_user table
    tablesample then to trailing true union unique user using variadic verbose
    when where window with
""".split())

# Columns every form table has; a field may not take their names.
METADATA_COLUMNS = ("id", "submission_id", "submitted_at", "entered_by", "form_version")

# Names the web form itself uses for hidden inputs.
FORM_CONTROL_NAMES = ("csrf_token",)

# Names the collector keeps for its own database objects.
RESERVED_TABLE_NAMES = frozenset({"codebook", "invites", "admin_login_failures"})


def identifier_problem(name):
    """Return why `name` cannot be a table or column name, or None if it can."""
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        return (f"{name!r} is not a valid name: use lower_snake_case, start with a "
                "letter, at most 63 characters")
    if name in RESERVED_WORDS:
        return f"{name!r} is a reserved word in PostgreSQL"
    return None


def column_name_problem(name):
    """Return why `name` cannot be a field's column, or None if it can."""
    problem = identifier_problem(name)
    if problem:
        return problem
    if name in METADATA_COLUMNS or name in FORM_CONTROL_NAMES:
        return f"{name!r} is reserved for the collector's own columns"
    return None


# <form>_labelled must also fit in PostgreSQL's 63 bytes.
MAX_TABLE_NAME = 63 - len("_labelled")


def table_name_problem(name):
    """Return why a form file stem cannot be a table name, or None if it can."""
    problem = identifier_problem(name)
    if problem:
        return problem
    if len(name) > MAX_TABLE_NAME:
        return f"{name!r} is too long: at most {MAX_TABLE_NAME} characters for a form name"
    if name in RESERVED_TABLE_NAMES or name.endswith("_labelled"):
        return f"{name!r} is reserved for the collector's own tables and views"
    return None
