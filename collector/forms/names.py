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
METADATA_COLUMNS = ("id", "submission_id", "submitted_at", "entered_by", "form_version",
                    "review_status")

# PostgreSQL's system columns exist in every table: CREATE TABLE refuses a
# column of the same name ("conflicts with a system column name").
SYSTEM_COLUMNS = ("tableoid", "xmin", "cmin", "xmax", "cmax", "ctid")

# Names the web form itself uses for hidden inputs.
FORM_CONTROL_NAMES = ("csrf_token", "submission_sig")

# Names PostgreSQL keeps for itself: it refuses `pg_` relation names in some
# schemas and tools treat them as catalog objects everywhere.
SYSTEM_PREFIX = "pg_"

# Every relation (table, view, index, sequence) the collector makes for itself.
# A form table may take none of these names: tables, views, indexes and
# sequences share one namespace. tests/test_names.py checks this list against
# what ensure_system_tables and create_all really create.
RESERVED_TABLE_NAMES = frozenset({
    "codebook",
    "invites", "invites_pkey", "invites_id_seq", "invites_token_hash_key",
    "admin_login_failures", "admin_login_failures_pkey", "admin_login_failures_id_seq",
    "ix_admin_login_failures_at",
    "admin_sessions", "admin_sessions_pkey",
    "audit_trail", "audit_trail_pkey", "audit_trail_id_seq", "ix_audit_trail_row",
    "ix_audit_trail_deleted", "audit_history",
})


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
    if name in SYSTEM_COLUMNS:
        return f"{name!r} is the name of a PostgreSQL system column that every table has"
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
    if name.startswith(SYSTEM_PREFIX):
        return f"{name!r} starts with {SYSTEM_PREFIX!r}, which PostgreSQL keeps for its own objects"
    if name in RESERVED_TABLE_NAMES or name.endswith("_labelled"):
        return f"{name!r} is reserved for the collector's own tables, indexes and views"
    return None


def pg_object_name(name1, name2, label):
    """Return the name PostgreSQL gives an implicit object (its makeObjectName).

    E.g. ("intake", None, "pkey") -> "intake_pkey"; long parts are clipped,
    the longer one first, so the whole fits in 63 bytes.
    """
    available = 63 - len(label) - 1 - (1 if name2 else 0)
    keep1, keep2 = len(name1), len(name2 or "")
    while keep1 + keep2 > available:
        if keep1 > keep2:
            keep1 -= 1
        else:
            keep2 -= 1
    parts = [name1[:keep1]] + ([name2[:keep2]] if name2 else []) + [label]
    return "_".join(parts)


# Each fits 63 bytes: form names are at most 54 characters.
def time_index_name(form):
    """Name of the index on (submitted_at, id): newest first, pages, dates, the chart."""
    return f"ix_{form}_time"


def ra_index_name(form):
    """Name of the index on (entered_by, submitted_at, id): one RA's rows."""
    return f"ix_{form}_ra"


def review_index_name(form):
    """Name of the partial index on rows whose review state is not "unreviewed"."""
    return f"ix_{form}_state"


def key_index_name(form):
    """Name of the index on the form's key field (the PI's search)."""
    return f"ix_{form}_key"


def labelled_view_name(form):
    """Name of the view with choice labels instead of codes."""
    return f"{form}_labelled"


def relation_names(form):
    """Return every relation create_all makes for `form`, by kind of object."""
    return {
        "table": form,
        "primary key index": pg_object_name(form, None, "pkey"),
        "row number sequence": pg_object_name(form, "id", "seq"),
        "submission_id index": pg_object_name(form, "submission_id", "key"),
        "time index": time_index_name(form),
        "research assistant index": ra_index_name(form),
        "review status index": review_index_name(form),
        "key index": key_index_name(form),
        "labelled view": labelled_view_name(form),
    }


def relation_clash(forms):
    """Return (form, other, kind) for the first form whose table name another form's
    objects already use, or None. `forms` is an iterable of form names."""
    taken = {}
    for form in sorted(forms):
        for kind, name in relation_names(form).items():
            if kind != "table":
                taken[name] = (form, kind)
    for form in sorted(forms):
        if form in taken:
            other, kind = taken[form]
            return form, other, kind
    return None
