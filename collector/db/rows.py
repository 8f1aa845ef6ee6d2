"""The PI's rows page as one query: newest first, filtered, a page at a time.

Pages are keyset pages on (submitted_at, id), never OFFSET and never a
count(*): page 5,000 of a million rows costs what page 1 does. The cursor of
the next page is the last row's (submitted_at, id) in an opaque string. The
filters are in row_filters.py.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Text, cast, func, literal, select, tuple_
from sqlalchemy.exc import DataError

from collector.db import review
from collector.db.row_filters import RowsError, conditions

PAGE_SIZE = 50
# Text longer than this is cut on the rows page (in SQL: a 2,000-character note is not fetched).
TEXT_PREVIEW = 80
SHORTENED_TYPES = ("text", "long_text", "email")
# Enough for any study's RAs; the list is read by skipping through the RA index.
MAX_RA_NAMES = 500
MAX_CURSOR_CHARS = 200
DAMAGED_LINK = "This page link is damaged: start again from the newest rows."
# How PostgreSQL writes a timestamptz Python cannot hold (readback.PgText): BC, year 10000+.
_PG_TIMESTAMP = re.compile(r"-?infinity|[0-9]{4,}-[0-9]{2}-[0-9]{2} [0-9:.]+[+-][0-9:]+( BC)?")


@dataclass(frozen=True)
class Page:
    rows: list
    next_cursor: str | None


def shown_columns(spec, table):
    """Return the columns the rows page shows: the row's facts, then each field (long text cut)."""
    fields = [func.left(table.c[f.name], TEXT_PREVIEW + 1).label(f.name)
              if f.type in SHORTENED_TYPES else table.c[f.name] for f in spec.fields]
    return [table.c.id, table.c.submitted_at, table.c.entered_by, table.c[review.COLUMN], *fields]


def page_query(spec, table, filters, cursor=None, size=PAGE_SIZE):
    """Return the SELECT of one page and one row more (which tells whether a next page exists)."""
    order = (table.c.submitted_at.desc(), table.c.id.desc())
    query = (select(*shown_columns(spec, table)).where(*conditions(spec, table, filters))
             .order_by(*order).limit(size + 1))
    if cursor:
        at, row_id = decode_cursor(cursor)
        query = query.where(tuple_(table.c.submitted_at, table.c.id)
                            < tuple_(cast(literal(at, Text), DateTime(timezone=True)), row_id))
    return query


def page(conn, spec, table, filters, cursor=None, size=PAGE_SIZE):
    """Return one Page of rows matching `filters`, newest first, after `cursor` if given."""
    query = page_query(spec, table, filters, cursor, size)
    try:
        rows = conn.execute(query).mappings().all()
    except DataError:  # a cursor whose time PostgreSQL cannot read (forged, not ours)
        conn.rollback()
        raise RowsError(DAMAGED_LINK) from None
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, encode_cursor(rows[-1]) if more else None)


def encode_cursor(row):
    """Return the page link's cursor for the page after `row` (a mapping with submitted_at, id)."""
    at = row["submitted_at"]
    at = at.isoformat() if isinstance(at, datetime) else str(at)  # PgText: PostgreSQL's own text
    return base64.urlsafe_b64encode(f"{row['id']}.{at}".encode()).decode().rstrip("=")


def decode_cursor(cursor):
    """Return (submitted_at as text, id) from a cursor; raise RowsError if it was not ours."""
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        row_id, at = raw.split(".", 1)
        if not row_id.isdigit() or int(row_id) >= 2**63:
            raise ValueError
        if not _PG_TIMESTAMP.fullmatch(at) and datetime.fromisoformat(at).tzinfo is None:
            raise ValueError
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise RowsError(DAMAGED_LINK) from None
    return at, int(row_id)


def ra_names(conn, table, limit=MAX_RA_NAMES):
    """Return the RAs' names in the table, in order, and whether rows without one exist.

    Skips through the RA index one name at a time (a few index probes per RA),
    where SELECT DISTINCT would read every row.
    """
    col = table.c.entered_by
    first = select(col).where(col.is_not(None)).order_by(col).limit(1).scalar_subquery()
    names = select(first.label("name")).cte("names", recursive=True)
    following = (select(col).where(col > names.c.name).order_by(col).limit(1)
                 .scalar_subquery())
    names = names.union_all(select(following).where(names.c.name.is_not(None)))
    found = conn.execute(select(names.c.name).where(names.c.name.is_not(None))
                         .limit(limit)).scalars().all()
    anonymous = conn.execute(select(select(col).where(col.is_(None)).exists())).scalar()
    return found, anonymous
