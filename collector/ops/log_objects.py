"""Decode the JSON object at one place in a log line into a record, a part, or why not."""

import json
from functools import partial

from collector.ops.log_items import Found, Unreadable
from collector.ops.logplex import CHUNK
from collector.ops.record_join import part_from
from collector.ops.record_parts import PART_EVENT, RECORD_EVENT

DECODER = json.JSONDecoder()
# Characters decoded first: json's error counts the line breaks before the error (a pass
# over the whole line), which would make a line of many broken records quadratic.
WINDOW = 4096


class BrokenJSON(ValueError):
    """The JSON at some column of a line is cut off or malformed."""

    def __init__(self, msg, pos):
        super().__init__(msg)
        self.msg, self.pos = msg, pos


def decode_at(text, start):
    """Return (object, end) for the JSON at `start`; raise BrokenJSON, ValueError or
    RecursionError. A window's object is the line's (JSON is read left to right);
    an error near the window's end may be the window's own, so the window grows."""
    size = WINDOW
    while True:
        window = text[start:start + size]
        try:
            obj, end = DECODER.raw_decode(window)
            return obj, start + end
        except json.JSONDecodeError as error:
            cut_by_window = error.pos >= len(window) - 16 or error.msg.startswith("Unterminated")
            if start + size >= len(text) or not cut_by_window:
                raise BrokenJSON(error.msg, start + error.pos) from None
        size *= 8


def read_at(number, text, start):
    """Decode the object at `start`; return (item, end, None) or (None, None, why not).

    Why not is a function: saying why costs a pass over the rest of the line,
    which only the first broken record of a line is worth.
    """
    try:
        obj, end = decode_at(text, start)
    except (ValueError, RecursionError) as error:
        return None, None, partial(_why, error, text, start)
    span = text[start:end]
    try:
        span.encode("utf-8")
    except UnicodeEncodeError as error:
        column = start + error.start + 1
        return None, None, lambda: f"bytes that are not UTF-8 at column {column}"
    return _classify(number, obj, span), end, None


def _classify(number, obj, raw):
    if obj.get("event") == PART_EVENT:
        return part_from(number, obj, raw)
    if obj.get("event") == RECORD_EVENT:
        return Found(str(number), obj, [raw])
    return Unreadable(str(number), f"event {obj.get('event')!r} is not {RECORD_EVENT!r}", [raw])


def _why(error, text, start):
    """Say in a few words why the object at `start` could not be decoded."""
    if isinstance(error, RecursionError):
        return "nested too deeply to read"
    if not isinstance(error, BrokenJSON):  # e.g. an integer of 5,000 digits
        return f"cannot read a value: {str(error).split(';')[0]}"
    reason = f"cut off or not JSON ({error.msg} at column {error.pos + 1})"
    if len(text[start:].encode("utf-8", "surrogateescape")) % CHUNK == 0:
        reason += "; Heroku's log router cut it at 10,000 bytes and a piece is missing"
    return reason
