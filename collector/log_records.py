"""Find failed-write records in log lines; report every marked line that cannot be read.

A line may carry a `heroku logs` prefix, garbage spliced in front by another
process's long write, or two objects. So the reader searches for the event
marker anywhere in a line and decodes the JSON object that starts there.
Parts (collector/record_parts.py) are joined by collector/record_join.py;
lines Heroku cut at 10,000 bytes are rejoined by collector/logplex.py.
"""

import json
import re

from collector.log_items import Found, Part, Unreadable
from collector.logplex import CHUNK, PREFIX, rejoined
from collector.record_join import PartJoiner, part_from
from collector.record_parts import PART_EVENT, RECORD_EVENT

MARKER = re.compile(r'\{\s*"event"\s*:\s*"submission_failed(?:_part)?"')
# The event anywhere: a hand-edited record whose first key is not "event", or a broken one.
LOOSE_MARKER = re.compile(r'"event"\s*:\s*"submission_failed(?:_part)?"')
_DECODER = json.JSONDecoder()


def read_records(lines):
    """Yield Found and Unreadable items for `lines` (bytes or str), in input order.

    Parts are yielded as one Found once all are in; parts still missing at the
    end are yielded last, as Unreadable items with status "incomplete".
    """
    joiner = PartJoiner()
    for number, text, chunks in rejoined(_texts(lines), LOOSE_MARKER.search):
        for item in scan_line(number, text):
            if isinstance(item, Found):
                item.chunks = chunks
            yield from joiner.add(item) if isinstance(item, Part) else [item]
    yield from joiner.leftovers()


def _texts(lines):
    """Yield (line number, text without its line end); bytes that are not UTF-8 are kept."""
    for number, raw in enumerate(lines, 1):
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", "surrogateescape")
        yield number, raw.rstrip("\r\n")


def scan_line(number, text):
    """Yield Found, Part or Unreadable for each marked object in one line."""
    position, marked = 0, False
    while match := MARKER.search(text, position):
        marked = True
        item, position = _decode(number, text, match.start())
        yield item
    if not marked and LOOSE_MARKER.search(text):
        yield _whole_line(number, text)


def _decode(number, text, start):
    """Decode the object at `start`; return (item, where to search next)."""
    try:
        obj, end = _DECODER.raw_decode(text, start)
    except (ValueError, RecursionError) as error:
        return Unreadable(str(number), _why(error, text, start), [text]), start + 1
    span = text[start:end]
    try:
        span.encode("utf-8")
    except UnicodeEncodeError as error:
        reason = f"bytes that are not UTF-8 at column {start + error.start + 1}"
        return Unreadable(str(number), reason, [text]), end
    return _classify(number, obj, span), end


def _classify(number, obj, raw):
    if obj.get("event") == PART_EVENT:
        return part_from(number, obj, raw)
    if obj.get("event") == RECORD_EVENT:
        return Found(str(number), obj, [raw])
    return Unreadable(str(number), f"event {obj.get('event')!r} is not {RECORD_EVENT!r}", [raw])


def _whole_line(number, text):
    """Read a line whose record does not start with "event" (hand-edited), or say why not."""
    try:
        obj = json.loads(text[PREFIX.match(text).end():])
    except (ValueError, RecursionError) as error:
        return Unreadable(str(number), f"has a {RECORD_EVENT} event but no JSON object: "
                          f"{_why(error, text, 0)}", [text])
    if isinstance(obj, dict) and obj.get("event") in (RECORD_EVENT, PART_EVENT):
        return _classify(number, obj, text)
    return Unreadable(str(number), f"has a {RECORD_EVENT} event but no record", [text])


def _why(error, text, start):
    """Say in a few words why the object at `start` could not be decoded."""
    if isinstance(error, RecursionError):
        return "nested too deeply to read"
    if not isinstance(error, json.JSONDecodeError):  # e.g. an integer of 5,000 digits
        return f"cannot read a value: {str(error).split(';')[0]}"
    reason = f"cut off or not JSON ({error.msg} at column {error.pos + 1})"
    if len(text[start:].encode("utf-8", "surrogateescape")) % CHUNK == 0:
        reason += "; Heroku's log router cut it at 10,000 bytes and a piece is missing"
    return reason
