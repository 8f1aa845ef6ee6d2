"""Turn a failed-write record into log lines that pipes and Heroku's log router keep whole.

A write() to a pipe is atomic only up to PIPE_BUF (4096 bytes): a longer line
from one gunicorn worker can be spliced with another worker's. Heroku's
Logplex cuts lines over 10,000 bytes into pieces. So a record whose line would
be longer than LINE_LIMIT travels as numbered parts, each line under the
limit, carrying a slice of the record's JSON text and the sha256 of the whole.
"""

import json
from hashlib import sha256

RECORD_EVENT = "submission_failed"
PART_EVENT = "submission_failed_part"
# Bytes per line, newline included: safely below PIPE_BUF, so one write() is atomic.
LINE_LIMIT = 4000
# The envelope is measured with numbers this wide, so it never grows past the limit.
WIDEST_PART_NUMBER = 10**9 - 1
MAX_HEAD_LENGTH = 200


# Characters JSON leaves raw that Python's splitlines() (and old JavaScript) take as line
# breaks; they can only occur inside strings, where a \u escape means the same.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def to_json(value):
    """Return `value` as JSON text in UTF-8 characters, with no line break of any kind."""
    return json.dumps(value, ensure_ascii=False, default=str).translate(_LINE_BREAKS)


def record_text(record):
    """Return the record's JSON text: UTF-8 where possible, escaped when it cannot be."""
    text = to_json(record)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate has no UTF-8 form; \u escapes keep it
        return json.dumps(record, ensure_ascii=True, default=str)
    return text


def record_lines(record):
    """Return the record as log lines (bytes, each ending in a newline, each <= LINE_LIMIT)."""
    text = record_text(record)
    line = text.encode("utf-8") + b"\n"
    if len(line) <= LINE_LIMIT:
        return [line]
    return part_lines(record, text)


def part_lines(record, text):
    """Return `text` cut into part lines; joined in order, their data is `text` again."""
    digest = sha256(text.encode("utf-8")).hexdigest()
    head = {"event": PART_EVENT,
            "form": str(record.get("form"))[:MAX_HEAD_LENGTH],
            "submission_id": str(record.get("submission_id"))[:MAX_HEAD_LENGTH]}
    widest = _encoded({**head, "part": WIDEST_PART_NUMBER, "parts": WIDEST_PART_NUMBER,
                       "sha256": digest, "data": ""})
    slices = list(_slices(text, LINE_LIMIT - len(widest)))
    return [_encoded({**head, "part": number, "parts": len(slices), "sha256": digest,
                      "data": piece})
            for number, piece in enumerate(slices, 1)]


def _encoded(part):
    return to_json(part).encode("utf-8") + b"\n"


def _cost(piece):
    """Bytes `piece` takes inside a JSON string (quotes and backslashes double)."""
    return len(to_json(piece).encode("utf-8")) - 2


def _slices(text, room):
    """Yield consecutive slices of `text`, each costing at most `room` bytes once escaped."""
    start = 0
    while start < len(text):
        # Every character costs at least one byte, so no more than `room` of them fit.
        end = min(len(text), start + room)
        if _cost(text[start:end]) > room:
            end = _longest_fit(text, start, end, room)
        yield text[start:end]
        start = end


def _longest_fit(text, start, end, room):
    """Return the largest stop in (start, end) whose slice still fits in `room` bytes."""
    low, high = start + 1, end - 1  # one character (at most 4 bytes escaped) always fits
    while low < high:
        middle = (low + high + 1) // 2
        if _cost(text[start:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return low
