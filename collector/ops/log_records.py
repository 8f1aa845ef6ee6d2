"""Find failed-write records in log lines; report every marked line that cannot be read.

A line may carry a `heroku logs` or syslog prefix, garbage spliced in front by
another process's long write, several objects, or a record escaped as a JSON
string (a drain's export). So the reader searches for the event marker
anywhere in a line and decodes the JSON object around it. Lines are decoded
by collector/ops/log_text.py; parts (collector/ops/record_parts.py) are joined by
collector/ops/record_join.py; lines Heroku cut at 10,000 bytes are rejoined by
collector/ops/logplex.py. Each line that cannot be read is reported, and echoed, once.
"""

import re
from bisect import bisect_right, insort

from collector.ops.log_items import Found, Part, Unreadable
from collector.ops.log_objects import decode_at, read_at
from collector.ops.log_text import text_lines
from collector.ops.logplex import rejoined
from collector.ops.record_join import PartJoiner
from collector.ops.record_parts import RECORD_EVENT

MARKER = re.compile(r'\{\s*"event"\s*:\s*"submission_failed(?:_part)?"')
# The event anywhere: a hand-edited record whose first key is not "event", or a broken one.
LOOSE_MARKER = re.compile(r'"event"\s*:\s*"submission_failed(?:_part)?"')
# A record inside a JSON string, as a drain's JSON export stores each log line.
ESCAPED_MARKER = re.compile(r'\\"event\\"\s*:\s*\\"submission_failed(?:_part)?\\"')
# Objects tried per line around events that start no object: bounds a hostile line's cost.
MAX_TRIES = 1000


def read_records(lines):
    """Yield Found and Unreadable items for `lines` (bytes or str), in input order.

    Parts are yielded as one Found once all are in; parts still missing at the
    end are yielded last, as Unreadable items with status "incomplete".
    """
    joiner = PartJoiner()
    for number, text, chunks in rejoined(text_lines(lines), _cut_record_start):
        for item in scan_line(number, text):
            if isinstance(item, Found):
                item.chunks = chunks
            yield from joiner.add(item) if isinstance(item, Part) else [item]
    yield from joiner.leftovers()


def _cut_record_start(payload):
    """Say whether a line of exactly 10,000 bytes is a record's start that Heroku cut off."""
    items = list(scan_line(0, payload)) if LOOSE_MARKER.search(payload) else []
    return any(isinstance(item, Unreadable) for item in items)


def scan_line(number, text):
    """Yield Found, Part or Unreadable for each record in one line; echo the line at most once."""
    spans, broken = [], []
    position = 0
    while match := MARKER.search(text, position):
        item, end, why = read_at(number, text, match.start())
        if item is None:
            broken.append(why)
            spans.append((match.start(), match.end()))  # its "event" is no record of its own
            position = match.start() + 1
        else:
            spans.append((match.start(), end))
            position = end
            yield item
    yield from _unmarked(number, text, spans, broken)
    yield from _escaped(number, text, spans, broken)
    if broken:  # one report per line, the line once: a hostile line must not multiply
        more = f"; {len(broken) - 1} more broken records on this line" if len(broken) > 1 else ""
        yield Unreadable(str(number), broken[0]() + more, [text])


def _unmarked(number, text, spans, broken):
    """Yield the records around events that start no object (keys reordered by hand)."""
    low, tries = 0, [0]
    for hit in LOOSE_MARKER.finditer(text):
        after = _outside(spans, hit.start())
        if after is None:
            continue  # inside a record already read (or a broken one already counted)
        found = _enclosing(text, max(low, after), hit.start(), tries)
        if found is None:
            column = hit.start() + 1
            broken.append(lambda: f"has a {RECORD_EVENT} event but no JSON object around it "
                          f"(column {column})")
            low = hit.start()  # an object starting before here would have enclosed this hit
            continue
        start, end = found
        insort(spans, (start, end))
        item, _end, why = read_at(number, text, start)
        if item is None:
            broken.append(why)
        else:
            yield item


def _outside(spans, position):
    """Return where the last span before `position` ends (0 if none), or None inside one."""
    before = bisect_right(spans, (position, position)) - 1  # spans: sorted, disjoint
    if before < 0:
        return 0
    return None if spans[before][1] > position else spans[before][1]


def _enclosing(text, low, hit, tries):
    """Return (start, end) of the first object in text[low:] that encloses `hit`, or None."""
    position = low
    while (start := text.find("{", position, hit)) != -1 and tries[0] < MAX_TRIES:
        tries[0] += 1
        try:
            _obj, end = decode_at(text, start)
        except (ValueError, RecursionError):
            position = start + 1
            continue
        if end > hit:
            return start, end
        position = end
    return None


def _escaped(number, text, spans, broken):
    """Yield the records a line carries as JSON strings, e.g. {"message": "{\\"event\\": …"}.

    One level of escaping, the drain's own: a string is read as log text when it
    holds a record's start, or starts with an object holding the event.
    """
    tries = [0]
    for hit in ESCAPED_MARKER.finditer(text):
        after = _outside(spans, hit.start())
        if after is None:
            continue
        found = _enclosing(text, after, hit.start(), tries)
        outer = decode_at(text, found[0])[0] if found else None
        inner = [s for s in _strings(outer) if MARKER.search(s)
                 or s.lstrip().startswith("{") and LOOSE_MARKER.search(s)]
        if found:
            insort(spans, found)
        starts_object = text[max(0, hit.start() - 64):hit.start()].rstrip().endswith("{")
        if found is None or not inner and starts_object:
            broken.append(lambda: f"holds an escaped {RECORD_EVENT} record (a JSON string) "
                          "that is cut off or not JSON")
        for string in inner:
            yield from scan_line(number, string)


def _strings(value, depth=0):
    """Yield the strings inside a decoded JSON value (a drain's object is shallow)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (dict, list)) and depth < 5:
        for item in value.values() if isinstance(value, dict) else value:
            yield from _strings(item, depth + 1)
