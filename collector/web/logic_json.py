"""Write a form's checked logic as the JSON program static/form_logic.js runs.

The page embeds it in <script type="application/json" id="form-logic"> (data,
not code: the CSP forbids inline script, and nothing is ever eval'd). It
carries every rule the browser needs to reach the server's answer: each
field's effective relevance, calculation and constraint as trees, its own
value rules with the server's messages, the form's timezone, and the exact
characters Python's str.strip() removes.
"""

import sys
from datetime import date, datetime, timedelta, timezone as tz
from decimal import Decimal
from functools import lru_cache

from collector.forms import logic, messages
from collector.forms import values as parse
from collector.forms.expressions.tree import (Arith, Call, Compare, IsEmpty, Literal, Logic, Negate,
                                              Ref)
from collector.forms.validation import show_bound

# What str.strip() (and so every parser in values.py) removes: str.isspace() over all code
# points. JavaScript's trim() differs (it strips U+FEFF, keeps U+001C-U+001F and U+0085).
STRIP_CHARACTERS = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
# The years whose UTC offsets the program carries (the server's tz data, so a phone with
# older or different data still reads a wall time as the same instant); outside them the
# browser's own (Intl) data is used.
ZONE_YEARS = (1900, 2101)
# A wall time early on 1900-01-01 (or late on 2100-12-31) is an instant outside those
# years in UTC; a margin keeps every wall time of the years themselves in the table.
ZONE_MARGIN = timedelta(days=2)
# Offsets are sampled daily, then each change is found to the second. No zone changes and
# changes back within a day: for all 599 zones of tzdata 2025b this finds exactly what
# 6-hourly sampling finds (about 0.1 s per zone, once per process).
ZONE_STEP = timedelta(days=1)
# Stand for the count in a length message, and for a calculated value and what is wrong
# with it; the browser fills them in.
USED, VALUE, PROBLEM = "{used}", "{value}", "{problem}"


# Built once per form file (path and content hash): every GET of the form embeds it.
_PROGRAMS = {}


def program(spec):
    """Return the JSON-ready program for `spec`, fields in evaluation order."""
    key = (str(spec.path), spec.version)
    if key not in _PROGRAMS:
        _PROGRAMS[key] = _build_program(spec)
    return _PROGRAMS[key]


def _build_program(spec):
    fields = [field_entry(field, spec.timezone, shown_when=logic.shown_when(spec, field))
              for field in map(spec.field, logic.evaluation_order(spec))]
    sections = [{"name": s.name, "shown_when": encode(s.relevant.tree) if s.relevant else None}
                for s in spec.sections]
    return assemble(fields, spec.timezone, sections)


def has_logic(spec):
    """Return whether the page needs the logic scripts at all."""
    return spec.has_logic or bool(spec.sections)


def assemble(fields, timezone, sections=()):
    """Return the program: `fields` (from field_entry, in evaluation order) and the form's settings."""
    fields, sections = list(fields), list(sections)
    needs_zone = any(f["type"] == "datetime" for f in fields) or _calls_today([fields, sections])
    return {
        "timezone": timezone.key,
        "zone": zone_changes(timezone.key) if needs_zone else None,
        "strip": STRIP_CHARACTERS,
        "messages": {
            "whole_number": messages.WHOLE_NUMBER, "number": messages.NUMBER,
            "int_range": messages.out_of_int_range(parse.INT_MIN, parse.INT_MAX),
            "date": messages.DATE, "datetime": messages.DATETIME,
            "datetime_range": messages.DATETIME_RANGE, "email": messages.EMAIL, "nul": messages.NUL,
            "unlisted_choice": messages.UNLISTED_CHOICE, "unlisted_choices": messages.UNLISTED_CHOICES,
            "calculated": messages.calculated(VALUE, PROBLEM),
        },
        "limits": {"int_min": parse.INT_MIN, "int_max": parse.INT_MAX,
                   "max_number_chars": parse.MAX_NUMBER_CHARS},
        "fields": fields,
        "sections": sections,
    }


@lru_cache(maxsize=None)
def zone_changes(key):
    """Return the zone's UTC offsets over ZONE_YEARS as Python's zoneinfo has them.

    {"from", "to": UTC seconds since 1970, "initial": the offset at "from" (seconds east),
    "changes": [second, offset after it, ...]}: form_logic.js looks offsets up here.
    """
    from zoneinfo import ZoneInfo
    zone = ZoneInfo(key)
    start, stop = (datetime(year, 1, 1, tzinfo=tz.utc) for year in ZONE_YEARS)
    start, stop = start - ZONE_MARGIN, stop + ZONE_MARGIN

    def offset(second):
        return int(datetime.fromtimestamp(second, zone).utcoffset().total_seconds())

    first, last, step = int(start.timestamp()), int(stop.timestamp()), int(ZONE_STEP.total_seconds())
    initial = previous = offset(first)
    changes = []
    for moment in range(first, last, step):
        if offset(moment + step) != previous:
            low, high = moment, moment + step   # bisect to the first second with the new offset
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == previous else (low, middle)
            previous = offset(high)
            changes += [high, previous]
    return {"from": first, "to": last, "initial": initial, "changes": changes}


def _calls_today(encoded):
    """Whether any encoded tree in `encoded` (nested lists and dicts) calls today()."""
    if isinstance(encoded, list):
        return any(_calls_today(item) for item in encoded)
    if isinstance(encoded, dict):
        return encoded.get("f") == "today" or any(_calls_today(v) for v in encoded.values())
    return False


def field_entry(field, timezone, shown_when=None):
    """Return one field's part of the program; `shown_when` is its effective relevance tree."""
    calculation, constraint = field.calculation, field.constraint
    return {
        "name": field.name,
        "type": field.type,
        "required": field.required,
        "shown_when": encode(shown_when) if shown_when is not None else None,
        "calculation": encode(calculation.tree) if calculation else None,
        "constraint": encode(constraint.tree) if constraint else None,
        "constraint_message": field.constraint_message if constraint else None,
        "rules": {"min": _value(field.min), "max": _value(field.max),
                  "min_length": field.min_length, "max_length": field.max_length,
                  "pattern": field.pattern, "places": field.places,
                  "choices": list(field.choice_values)},
        "messages": _field_messages(field, timezone),
    }


def _field_messages(field, timezone):
    found = {"required": messages.required(field)}
    if field.max_length:
        found["too_long"] = messages.too_long(field.max_length, USED)
    if field.min_length:
        found["too_short"] = messages.too_short(field.min_length, USED)
    if field.pattern:
        found["pattern"] = messages.pattern(field)
    if field.places is not None:
        found["places"] = messages.places(field.places)
    if field.min is not None:
        found["below"] = messages.below(field, show_bound(field, field.min, timezone))
    if field.max is not None:
        found["above"] = messages.above(field, show_bound(field, field.max, timezone))
    return found


def encode(node):
    """Return a checked expression tree as JSON-ready dicts (the node kinds form_logic.js reads)."""
    if isinstance(node, Literal):
        return {"k": "lit", "t": node.type, "v": _value(node.value)}
    if isinstance(node, Ref):
        return {"k": "ref", "t": node.type, "n": node.name}
    if isinstance(node, IsEmpty):
        return {"k": "empty", "t": node.type, "neg": node.negated, "a": encode(node.operand)}
    if isinstance(node, Negate):
        return {"k": "neg", "t": node.type, "a": encode(node.operand)}
    kinds = {Arith: "arith", Compare: "cmp", Logic: "logic"}
    if type(node) in kinds:
        return {"k": kinds[type(node)], "t": node.type, "op": node.op,
                "l": encode(node.left), "r": encode(node.right)}
    if isinstance(node, Call):
        return {"k": "call", "t": node.type, "f": node.name, "a": [encode(a) for a in node.args]}
    raise TypeError(f"no browser form for expression node {node!r}")


def _value(value):
    """Write a literal or a bound as text the browser parses exactly (no floats, no exponents)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.astimezone(tz.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no browser form for the value {value!r}")
