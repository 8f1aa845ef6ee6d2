"""The PI's rows page as one query: newest first, filtered, a page at a time.

Pages are keyset pages on (submitted_at, id), never OFFSET and never a
count(*): page 5,000 of a million rows costs what page 1 does. The cursor of
the next page is the last row's (submitted_at, id) in an opaque string;
filters (RA, review status, a date range in the form's time zone, the key
field) are parsed from the page's query string here, so a bad value is a
RowsError with words for the PI, never a database error. See indexes.py for
the index each filter uses.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import DateTime, Text, cast, func, literal, select, tuple_
from sqlalchemy.exc import DataError

from collector.db import review
from collector.forms import values

PAGE_SIZE = 50
# Text longer than this is cut on the rows page (in SQL: a 2,000-character note is not fetched).
TEXT_PREVIEW = 80
SHORTENED_TYPES = ("text", "long_text", "email")
NO_INVITE = "(no invite)"
# Enough for any study's RAs; the list is read by skipping through the RA index.
MAX_RA_NAMES = 500
MAX_CURSOR_CHARS = 200
DAMAGED_LINK = "This page link is damaged: start again from the newest rows."
# How PostgreSQL writes a timestamptz Python cannot hold (readback.PgText): BC, year 10000+.
_PG_TIMESTAMP = re.compile(r"-?infinity|[0-9]{4,}-[0-9]{2}-[0-9]{2} [0-9:.]+[+-][0-9:]+( BC)?")


class RowsError(ValueError):
    """A filter or page link the rows page cannot use; the message is for the PI."""


@dataclass(frozen=True)
class Filters:
    entered_by: str | None = None   # an RA's name, or NO_INVITE for rows without one
    status: str | None = None       # a code of review.STATUSES
    since: object = None            # a date: from this day (in the form's time zone) on
    until: object = None            # a date: up to and including this day
    search: str = ""                # text typed for the key field
    key_value: object = None        # that text as the key field's value

    def active(self):
        """Return whether any filter is set."""
        return any((self.entered_by, self.status, self.since, self.until, self.search))

    def query_args(self):
        """Return the filters as query-string arguments (for page links)."""
        args = {"ra": self.entered_by, "status": self.status, "from": self.since,
                "to": self.until, "q": self.search}
        return {name: str(value) for name, value in args.items() if value not in (None, "")}


@dataclass(frozen=True)
class Page:
    rows: list
    next_cursor: str | None


def parse_filters(spec, args):
    """Return the Filters in `args` (a mapping of query-string text); raise RowsError."""
    text = {name: _clean(name, args.get(name)) for name in ("ra", "status", "from", "to", "q")}
    if text["status"] and text["status"] not in review.STATUSES:
        raise RowsError(f"There is no review status {text['status']!r}.")
    since, until = _date(text["from"], "From"), _date(text["to"], "To")
    if since and until and since > until:
        raise RowsError(f"The From date ({since}) is after the To date ({until}).")
    return Filters(entered_by=text["ra"] or None, status=text["status"] or None, since=since,
                   until=until, search=text["q"], key_value=_key_value(spec, text["q"]))


def _clean(name, value):
    value = (value or "").strip()
    if "\x00" in value:  # PostgreSQL text cannot hold NUL: say so instead of failing
        raise RowsError(f"The {name!r} filter contains a NUL character.")
    return value


def _date(text, label):
    if not text:
        return None
    try:
        return values.parse_date(text)
    except ValueError:
        raise RowsError(f"{label}: {text[:40]!r} is not a date like 2026-05-01.") from None


def _key_value(spec, text):
    """Return the search text as a value of the key field's type."""
    if not text:
        return None
    if spec.key is None:
        raise RowsError("This form has no key field to search by.")
    field = spec.field(spec.key)
    parse = {"integer": values.parse_integer, "decimal": values.parse_decimal,
             "date": values.parse_date}.get(field.type)
    if field.type == "choice":
        by_label = {choice.label.casefold(): choice.value for choice in field.choices}
        return by_label.get(text.casefold(), text)
    if parse is None:
        return text
    try:
        return parse(text)
    except ValueError as error:
        raise RowsError(f"{field.label} is searched by its exact value: {error}") from None


def conditions(spec, table, filters):
    """Return the WHERE conditions of `filters` on `table`."""
    where = []
    if filters.entered_by == NO_INVITE:
        where.append(table.c.entered_by.is_(None))
    elif filters.entered_by:
        where.append(table.c.entered_by == filters.entered_by)
    if filters.status:
        where.append(table.c[review.COLUMN] == filters.status)
    if filters.since:
        where.append(table.c.submitted_at >= _midnight(filters.since, spec.timezone))
    if filters.until:
        try:
            where.append(table.c.submitted_at < _midnight(filters.until + timedelta(days=1),
                                                          spec.timezone))
        except OverflowError:  # To 9999-12-31: no later bound
            pass
    if filters.key_value is not None:
        where.append(_key_condition(spec, table.c[spec.key], filters.key_value))
    return where


def _midnight(day, zone):
    return datetime.combine(day, time.min, tzinfo=zone)


def _key_condition(spec, column, value):
    """Exact match; for text keys also a prefix ("P00" finds P0042), with LIKE's % and _ escaped."""
    if spec.field(spec.key).type in ("text", "email"):
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(escaped + "%")  # backslash is LIKE's default escape character
    return column == value


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
