"""The review status every row carries: a column with a CHECK, set from the PI area.

A monitor or data manager marks a row verified, opens a query on it (the
query's text is the reason kept in the audit trail) or resolves the query.
New rows start unreviewed (the column's default), so the submit path never
names the column.
"""

from collector.db.sqltext import sql_literal

COLUMN = "review_status"
DEFAULT = "unreviewed"

# Stored code -> the words the PI area, the labelled view and the docs show.
STATUSES = {
    "unreviewed": "Unreviewed",
    "verified": "Verified",
    "query_open": "Query open",
    "query_resolved": "Query resolved",
}


def check_name(table):
    """Name of the table's review-status CHECK (not ck_<table>_…: those are the fields' rules,
    which create_all drops when the form no longer declares them)."""
    return f"review_status_of_{table}"[:63]


def check_sql():
    """The CHECK's condition: one of STATUSES."""
    return f"{COLUMN} IN ({', '.join(map(sql_literal, STATUSES))})"


def labelled_sql():
    """The status in words, for <form>_labelled."""
    cases = " ".join(f"WHEN {sql_literal(code)} THEN {sql_literal(label)}"
                     for code, label in STATUSES.items())
    return f"CASE {COLUMN} {cases} ELSE {COLUMN} END AS {COLUMN}"
