"""The indexes a form table has besides its keys: what each one serves, and how to make it.

Every index costs each submission an index insert (bench/pi_area.py prints the
cost per row), so there are few, each serving the PI area's rows page at any
size with keyset pages in (submitted_at, id) order:

- time: (submitted_at, id): the newest rows, every later page, a date range,
  the chart's last 30 days and "last submission" (one step from the end);
- research assistant: (entered_by, submitted_at, id): one RA's rows (also an
  RA with ten rows a year ago), and the RA list by skipping through it;
- review state: (review_status, submitted_at, id), for every status: late in a
  study most rows are reviewed and the unreviewed ones are the data manager's
  work queue, which a partial index of reviewed rows would leave to a full
  scan (one index insert per submission is the price);
- key: the form's key field (text_pattern_ops for text, so a prefix search
  uses it whatever the database's collation).
"""

from dataclasses import dataclass, field

from sqlalchemy import Index, text

from collector.db import review
from collector.forms.names import (key_index_name, ra_index_name, review_index_name,
                                   time_index_name)

TEXT_KEYS = ("text", "email", "choice")


@dataclass(frozen=True)
class FormIndex:
    name: str
    columns: tuple
    purpose: str
    ops: dict = field(default_factory=dict)   # column -> operator class
    where: str = ""
    where_printed: str = ""

    def index(self):
        """Return the SQLAlchemy Index (attach it by passing it to the Table)."""
        where = text(self.where) if self.where else None
        return Index(self.name, *self.columns, postgresql_ops=self.ops, postgresql_where=where)

    def create_sql(self, table):
        """Return CREATE INDEX for `table` (create_all adds it to an old table with this)."""
        return f"CREATE INDEX {self.name} ON {table} {self.printed(self.where)}"

    def printed(self, where=None):
        """Return the definition as pg_get_indexdef prints it after "USING btree "."""
        columns = ", ".join(" ".join([c] + ([self.ops[c]] if c in self.ops else []))
                            for c in self.columns)
        where = self.where_printed if where is None else where
        return f"({columns})" + (f" WHERE {where}" if where else "")

    def describe(self):
        """Return the definition in words for a create_all report."""
        return f"on {self.printed()}: {self.purpose}"


def form_indexes(spec):
    """Return the FormIndexes `spec`'s table has (the key index only when the form has a key)."""
    name = spec.name
    indexes = [
        FormIndex(time_index_name(name), ("submitted_at", "id"), "newest first, pages, dates"),
        FormIndex(ra_index_name(name), ("entered_by", "submitted_at", "id"),
                  "one research assistant's rows"),
        FormIndex(review_index_name(name), (review.COLUMN, "submitted_at", "id"),
                  "rows by review status"),
    ]
    if spec.key is not None:
        ops = {spec.key: "text_pattern_ops"} if spec.field(spec.key).type in TEXT_KEYS else {}
        indexes.append(FormIndex(key_index_name(name), (spec.key,), "search by the key field",
                                 ops=ops))
    return indexes
