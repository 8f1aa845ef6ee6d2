"""Read every date and time PostgreSQL can hold back into Python without raising.

PostgreSQL holds dates from 4713 BC to 5874897 AD and `infinity`; Python's
datetime holds years 1 to 9999. psycopg2 raises on the rest (BC, year 10000)
and turns infinity into date.max or datetime.max, which then overflows in
astimezone(). So each connection gets typecasters that return the normal
Python value when it fits and otherwise PostgreSQL's own text as PgText.
They also read jsonb numbers (the audit trail's values) as exact Decimals.
"""

import json
from datetime import datetime
from decimal import Decimal
from functools import partial

import psycopg2
import psycopg2.extensions as pg
import psycopg2.extras
from sqlalchemy import event

from collector.forms.conflicts import exact_timespec

INFINITIES = ("infinity", "-infinity")


class PgText(str):
    """A date or time Python cannot hold, kept as PostgreSQL wrote it (e.g. "0044-03-15 BC")."""


def _tolerant(base):
    """Return a typecaster like `base` that gives PgText instead of raising or lying."""
    def cast(text, cursor):
        if text is None:
            return None
        if text in INFINITIES or text.endswith(" BC"):
            return PgText(text)
        try:
            return base(text, cursor)
        except (ValueError, OverflowError, psycopg2.DataError):
            return PgText(text)  # year 10000 and later
    return cast


def _typecasters():
    """Return tolerant casters for date, timestamp, timestamptz and their arrays."""
    casters = []
    for scalar, array in ((pg.PYDATE, pg.PYDATEARRAY), (pg.PYDATETIME, pg.PYDATETIMEARRAY),
                          (pg.PYDATETIMETZ, pg.PYDATETIMETZARRAY)):
        element = pg.new_type(scalar.values, f"TOLERANT_{scalar.name}", _tolerant(scalar))
        casters += [element, pg.new_array_type(array.values, f"TOLERANT_{array.name}", element)]
    return casters


TYPECASTERS = _typecasters()
EXACT_JSON = partial(json.loads, parse_float=Decimal)


def register_typecasters(dbapi_connection, _connection_record=None):
    """Install the tolerant casters on one psycopg2 connection (engine "connect" event)."""
    for caster in TYPECASTERS:
        pg.register_type(caster, dbapi_connection)
    # The audit trail's old and new values are jsonb: numbers must stay exact decimals
    # (json.loads would make 12345678901234567.89 a float, and 75.1 an approximation).
    psycopg2.extras.register_default_jsonb(dbapi_connection, loads=EXACT_JSON)


def install(engine):
    """Make every connection `engine` opens read odd dates as PgText."""
    event.listen(engine, "connect", register_typecasters)


def local_time(value, zone, exact=False):
    """Show a timestamp as YYYY-MM-DD HH:MM in `zone`; never raise (Jinja filter).

    `exact` adds seconds (and microseconds) when the value has any: a stored
    answer, where two values that differ must read differently.
    """
    if not isinstance(value, datetime):
        return "" if value is None else str(value)
    try:
        shown = value.astimezone(zone) if value.tzinfo else value
    except (OverflowError, ValueError):
        # Near year 1 or 9999 the zone's offset leaves Python's range: keep the stored offset.
        return value.isoformat(sep=" ", timespec="minutes")
    # isoformat, not strftime: strftime writes year 1 as "1", not "0001".
    timespec = exact_timespec(shown) if exact else "minutes"
    return shown.replace(tzinfo=None).isoformat(sep=" ", timespec=timespec)
