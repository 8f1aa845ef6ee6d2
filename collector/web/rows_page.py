"""What the rows page's template needs beyond the query: its cells, and its filters in words."""

from collector.db import row_filters
from collector.web import cells


def table_rows(spec, page):
    """Return [(row, submitted Cell, [one Cell per field])] for the template."""
    if page is None:
        return []
    zone = spec.timezone
    return [(row, cells.submitted_cell(row["submitted_at"], zone),
             [cells.field_cell(field, row[field.name], zone) for field in spec.fields])
            for row in page.rows]


def filters_in_words(spec, filters):
    """Return the active filters as a phrase, e.g. 'entered by Ngozi Ọkafọr, from 2026-05-01'."""
    parts = []
    if filters.entered_by == row_filters.NO_INVITE:
        parts.append("entered without an invite")
    elif filters.entered_by:
        parts.append(f"entered by {filters.entered_by}")
    if filters.status:
        parts.append(f"review status {cells.status_words(filters.status)}")
    if filters.since:
        parts.append(f"from {filters.since}")
    if filters.until:
        parts.append(f"to {filters.until}")
    if filters.search:
        how = "starting with" if spec.field(spec.key).type in ("text", "email") else "equal to"
        parts.append(f"{spec.field(spec.key).label} {how} “{filters.search}”")
    return ", ".join(parts)


def search_hint(spec):
    """Return how the key search matches, for the label of the search box."""
    if spec.key is None:
        return ""
    field = spec.field(spec.key)
    if field.type in ("text", "email"):
        return "the exact value or its start (case matters)"
    if field.type == "choice":
        return "a choice's code or label"
    return "the exact value"
