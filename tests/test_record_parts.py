"""The failed-write writer: every line fits in one atomic pipe write; parts read back exactly."""

import json
import random

import pytest

from collector.ops.log_items import Found
from collector.ops.log_records import read_records
from collector.ops.record_parts import LINE_LIMIT, PART_EVENT, record_lines

# Hostile text: Greek, CJK, emoji (with joiners), quotes, backslashes, NUL and other controls.
MIXED = ("Ελληνικά σημειώσεις «εντάξει» 漢字かな交じり文 👩‍⚕️🧪😀 "
         "\"quoted\" \\back\\slash\\ \x00 nul \t tab \r\n crlf \u2028 \u2029 \x85 \x7f ")


def record(notes, **changes):
    return {"event": "submission_failed", "form": "intake",
            "submission_id": "0b0f1a52-3a34-4c83-9d8e-6f1d2a3b4c5d", "entered_by": "Ζωή 李 \"Q\"",
            "values": {"participant_id": "P0042", "notes": notes, "conditions": ["asthma"]},
            "error": "OperationalError: connection refused", "request_id": "req-1",
            "at": "2026-11-21T10:00:00.000000Z", **changes}


def read_back(lines):
    items = list(read_records(lines))
    assert len(items) == 1 and isinstance(items[0], Found), items
    return items[0].record


SIZES = [1, 1_000, 3_900, 4_000, 10_000, 100_000, 1_000_000]


@pytest.mark.parametrize("alphabet", [MIXED, "\"", "\\", "😀", "Ω", "x", "\x00"])
@pytest.mark.parametrize("size", SIZES)
def test_every_line_fits_and_the_record_reads_back_equal(alphabet, size):
    notes = (alphabet * (size // len(alphabet) + 1))[:size]
    original = record(notes)
    lines = record_lines(original)
    assert all(len(line) <= LINE_LIMIT for line in lines), max(map(len, lines))
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in lines)
    # No line break Python's splitlines() knows (U+2028, U+0085 …) inside a line either.
    assert len(b"".join(lines).decode().splitlines()) == len(lines)
    random.Random(size).shuffle(lines)  # parts arrive in any order, interleaved with others
    assert read_back(lines) == original


def test_a_small_record_is_still_the_one_documented_line():
    original = record("Σημείωση 😀")
    [line] = record_lines(original)
    assert list(json.loads(line)) == list(original) and json.loads(line) == original
    assert "Σημείωση 😀".encode() in line  # UTF-8, not \u escapes: a third of the bytes


def test_a_line_of_exactly_the_limit_stays_whole_one_byte_more_makes_parts():
    overhead = len(record_lines(record(""))[0])
    assert len(record_lines(record("x" * (LINE_LIMIT - overhead)))) == 1
    parts = record_lines(record("x" * (LINE_LIMIT - overhead + 1)))
    assert len(parts) == 2
    first = json.loads(parts[0])
    assert list(first) == ["event", "form", "submission_id", "part", "parts", "sha256", "data"]
    assert (first["event"], first["form"], first["part"], first["parts"]) == (
        PART_EVENT, "intake", 1, 2)


def test_a_lone_surrogate_is_escaped_not_lost():
    original = record("half a pair: \udc80 " * 400)
    lines = record_lines(original)
    assert all(len(line) <= LINE_LIMIT for line in lines)
    assert read_back(lines) == original


def test_record_failed_write_prints_only_lines_that_fit(capfd):
    from collector.ops.failed_writes import record_failed_write
    values = {"participant_id": "P0042", "notes": ("Ω😀漢\"\\" * 400)[:2000]}
    capfd.readouterr()
    record_failed_write("intake", "0b0f1a52-3a34-4c83-9d8e-6f1d2a3b4c5d", "Ζωή", values,
                        RuntimeError("refused"))
    out = capfd.readouterr().out.encode()
    lines = out.splitlines(keepends=True)
    assert len(lines) > 1 and all(len(line) <= LINE_LIMIT for line in lines)
    record = read_back(lines)
    assert (record["values"], record["entered_by"], record["error"]) == (
        values, "Ζωή", "RuntimeError: refused")
