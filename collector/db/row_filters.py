"""The rows page's filters: parsed from its query string, and as SQL conditions.

A bad value is a RowsError with words for the PI, never a database error:
NUL characters (which PostgreSQL text cannot hold), dates that are not
dates, a number key given letters. The key search escapes LIKE's `%`, `_`
and `\\`, so what the PI types is only ever matched as text. See indexes.py
for the index each filter uses.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from collector.db import review
from collector.forms import values

NO_INVITE = "(no invite)"


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
