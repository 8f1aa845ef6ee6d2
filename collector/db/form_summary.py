"""Each form's row count and last submission for the PI's dashboard, cheap at any size.

count(*) reads the whole table: about a second per million rows, on every
view of /admin. So the count is exact only up to EXACT_UP_TO rows (counting at
most that many, through an index); above it, the dashboard shows the
planner's estimate (pg_class.reltuples scaled to the table's current size,
as the planner itself does), rounded and marked "about".
"""

from dataclasses import dataclass

from sqlalchemy import func, select, text

EXACT_UP_TO = 10_000

ESTIMATE = text("""
SELECT CASE WHEN c.reltuples < 0 OR c.relpages = 0 THEN NULL
            ELSE c.reltuples / c.relpages
                 * (pg_relation_size(c.oid) / current_setting('block_size')::int) END
FROM pg_class c WHERE c.oid = CAST(:table AS regclass)""")


@dataclass(frozen=True)
class RowCount:
    rows: int | None      # exact, or the estimate (None: more than EXACT_UP_TO, never analysed)
    exact: bool

    def __str__(self):
        if self.exact:
            return f"{self.rows:,}"
        if self.rows is None or self.rows <= EXACT_UP_TO:
            return f"more than {EXACT_UP_TO:,}"
        return f"about {round_roughly(self.rows):,}"


def round_roughly(number):
    """Round to three significant digits: 1,003,456 -> 1,000,000 (an estimate is no more exact)."""
    return int(round(number, 3 - len(str(int(number)))))


def row_count(conn, table):
    """Return the table's RowCount: exact up to EXACT_UP_TO rows, else estimated."""
    capped = select(table.c.id).limit(EXACT_UP_TO + 1).subquery()
    counted = conn.execute(select(func.count()).select_from(capped)).scalar()
    if counted <= EXACT_UP_TO:
        return RowCount(counted, exact=True)
    estimate = conn.execute(ESTIMATE, {"table": table.name}).scalar()
    return RowCount(None if estimate is None else int(estimate), exact=False)


def last_submission(conn, table):
    """Return the latest submitted_at (by time, not by row number), or None: one index step."""
    return conn.execute(select(func.max(table.c.submitted_at))).scalar()
