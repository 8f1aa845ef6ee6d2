"""replay reads hostile log files whole: other encodings, escaped records, drains, odd chunks."""

import codecs
import json

import pytest

from collector.ops import logplex
from collector.ops.log_items import Unreadable
from collector.ops.log_records import read_records
from collector.ops.record_parts import record_lines
from tests.test_replay_hostile import (HEROKU, assert_goods_stored, good, line, long_notes,
                                       old_logplex_chunks, replay_bytes)

LONG = "Ω😀\"\\漢字" * 300  # 1,800 characters, 4,800 bytes: the record travels in parts


def heroku_log(records):
    return b"".join(HEROKU + out for record in records for out in record_lines(record))


ENCODINGS = {
    "UTF-16LE with BOM and CRLF (PowerShell 5.1)": lambda text: codecs.BOM_UTF16_LE
    + text.replace("\n", "\r\n").encode("utf-16-le"),
    "UTF-16BE with BOM": lambda text: codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    "UTF-8 with BOM": lambda text: codecs.BOM_UTF8 + text.encode(),
    "UTF-16LE without BOM": lambda text: text.encode("utf-16-le"),
}


@pytest.mark.parametrize("encode", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_a_log_saved_in_another_encoding_is_read(app, engine, database_url, tmp_path, encode):
    records = [good(), good(values={**good()["values"], "notes": LONG})]
    result = replay_bytes(database_url, tmp_path, encode(heroku_log(records).decode()))
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert result.stderr.decode().splitlines()[-1] == (
        "replay: 2 records, 2 inserted, 0 already present, 0 rejected")
    assert_goods_stored(engine, records)


def test_nul_bytes_in_a_utf8_log_do_not_make_it_utf16():
    junk = b"\x00" * 20 + "Ωμέγα".encode() + b"\x00a" * 30 + b"\n"
    records = [good(), good()]
    items = list(read_records([junk] + [line(record) for record in records]))
    assert [item.record for item in items] == records


def drain_export(record_line):
    """A drain export line: the log line as a JSON string inside the drain's own object."""
    return json.dumps({"received_at": "2026-11-21T10:00:00Z", "program": "app/web.1",
                       "message": record_line.decode().rstrip("\n")}).encode() + b"\n"


def test_records_escaped_as_json_strings_in_a_drain_export_are_read(app, engine, database_url,
                                                                    tmp_path):
    records = [good(), good(values={**good()["values"], "notes": LONG})]
    export = b"".join(drain_export(out) for record in records for out in record_lines(record))
    cut = drain_export(line(good()))[:400] + b"\n"  # an export line cut off: named, not skipped
    result = replay_bytes(database_url, tmp_path, export + cut)
    err = result.stderr.decode().splitlines()
    assert result.returncode == 1
    last = len(export.splitlines()) + 1
    assert [e for e in err if e.startswith("unreadable:")] == [
        f"unreadable: line {last}: holds an escaped submission_failed record (a JSON string) "
        "that is cut off or not JSON"]
    assert err[-1] == "replay: 3 records, 2 inserted, 0 already present, 0 rejected, 1 unreadable"
    assert_goods_stored(engine, records)


def test_an_escaped_record_is_found_next_to_a_plain_one_and_in_any_key_order():
    plain, escaped = good(), good()
    text = (line(plain).decode().rstrip("\n") + " " + json.dumps(
        {"message": json.dumps(dict(reversed(escaped.items())), ensure_ascii=False)}))
    assert [item.record for item in read_records([text])] == [plain, escaped]


def test_every_record_on_a_line_is_found_whatever_its_key_order(app, engine, database_url,
                                                                tmp_path):
    first, second, third = good(), good(), good()
    last_event = {**{k: v for k, v in second.items() if k != "event"}, "event": second["event"]}
    content = (line(first).rstrip(b"\n") + b" " + line(last_event).rstrip(b"\n") + b' {"x": "{"} '
               + json.dumps(dict(reversed(third.items()))).encode() + b"\n")
    result = replay_bytes(database_url, tmp_path, content)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr.decode().splitlines()[-1].startswith("replay: 3 records, 3 inserted")
    assert_goods_stored(engine, [first, second, third])


def test_a_line_of_many_broken_record_starts_is_echoed_once(app, engine, database_url, tmp_path):
    hostile = b'{"event":"submission_failed",' * 1000 + b"\n"
    result = replay_bytes(database_url, tmp_path, hostile + line(good()))
    assert result.returncode == 1
    assert result.stdout == hostile.rstrip(b"\n")[hostile.index(b"{"):] + b"\n"
    err = result.stderr.decode().splitlines()
    assert len(err) == 3 and err[0].startswith("unreadable: line 1: ") and "999 more" in err[0]
    assert err[-1].endswith("1 inserted, 0 already present, 0 rejected, 1 unreadable")


class Counted(str):
    """Text that counts the characters copied by `+`, to show rejoining stays linear."""
    copied = 0

    def __add__(self, other):
        Counted.copied += len(self) + len(other)
        return Counted(str.__add__(self, other))


def test_rejoining_many_chunks_copies_each_byte_a_bounded_number_of_times():
    first = '{"event":"submission_failed","values":{"notes":"' + "a" * (10_000 - 48)
    lines = [(1, Counted(HEROKU.decode() + first))]
    lines += [(n, Counted(HEROKU.decode() + "a" * 10_000)) for n in range(2, 202)] + [(202, HEROKU.decode() + "x")]
    Counted.copied = 0
    [(number, text, joined)] = list(logplex.rejoined(lines, lambda payload: True))
    assert (number, joined, len(text)) == (1, 202, len(HEROKU) + 201 * 10_000 + 1)
    assert Counted.copied <= 2 * len(text)


def forged_parts(count, parts=100_000, numbers=(1,)):
    for i in range(count):
        for number in numbers:
            yield line({"event": "submission_failed_part", "form": "intake", "submission_id": "x",
                        "part": number, "parts": parts, "sha256": f"{i:064x}", "data": "Ω"})


def test_the_missing_parts_report_is_ranges_of_what_was_seen():
    items = list(read_records(forged_parts(3, numbers=(1, 2, 3, 7, 99_999))))
    assert [item.reason for item in items] == ["record x: parts 4-6, 8-99998, 100000 of 100000 "
                                               "missing"] * 3
    assert all(item.status == "incomplete" and len(item.raw) == 5 for item in items)
    [few] = read_records(forged_parts(1, parts=7, numbers=(1, 3, 4, 6)))
    assert few.reason == "record x: parts 2, 5, 7 of 7 missing"


def test_the_missing_parts_report_lists_at_most_twenty_ranges():
    [item] = read_records(forged_parts(1, numbers=range(1, 100, 2)))
    assert item.reason == ("record x: parts " + ", ".join(map(str, range(2, 41, 2)))
                           + ", … (50 ranges) of 100000 missing")


def exactly_10_000_bytes():
    record = good()
    room = 10_000 - len(json.dumps(record, ensure_ascii=True))
    record["values"]["notes"] += "😀" * (room // 12) + "n" * (room % 12)  # 12 bytes as \u escapes
    raw = json.dumps(record, ensure_ascii=True).encode()
    assert len(raw) == 10_000
    return record, raw


@pytest.mark.parametrize("prefix", [HEROKU, b""], ids=["heroku logs", "raw stdout"])
def test_a_whole_old_line_of_exactly_10_000_bytes_does_not_swallow_the_next(
        app, engine, database_url, tmp_path, prefix):
    (old, raw), new = exactly_10_000_bytes(), good()
    result = replay_bytes(database_url, tmp_path, prefix + raw + b"\n" + prefix + line(new))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr.decode().splitlines()[-1] == (
        "replay: 2 records, 2 inserted, 0 already present, 0 rejected")
    assert_goods_stored(engine, [old, new])


def test_a_corrupted_copy_of_parts_does_not_hide_a_good_copy_after_it(app, engine, database_url,
                                                                      tmp_path):
    record = good(values={**good()["values"], "notes": "Σ" * 2000})
    parts = record_lines(record)
    corrupted = [parts[0].replace("Σ".encode(), "Τ".encode(), 1)] + parts[1:]
    assert corrupted != parts
    result = replay_bytes(database_url, tmp_path, b"".join(corrupted + parts))
    err = result.stderr.decode().splitlines()
    assert result.returncode == 1
    assert [e.split(": ")[0] for e in err[:-1]] == ["unreadable", "inserted"]
    assert "joined do not match their sha256" in err[0]
    assert_goods_stored(engine, [record])


SYSLOG = {"syslog drain": b"<190>1 2026-11-21T10:00:00.000000+00:00 host app web.1 - ",
          "octet-counted syslog drain": b"10083 <190>1 2026-11-21T10:00:00.000000+00:00 host app "
                                        b"web.1 - "}


@pytest.mark.parametrize("prefix", SYSLOG.values(), ids=SYSLOG.keys())
def test_old_chunks_in_syslog_drain_form_are_rejoined(app, engine, database_url, tmp_path, prefix):
    old, new = long_notes(good()), good(values={**good()["values"], "notes": LONG})
    chunks = [prefix + chunk[chunk.index(b": ") + 2:]
              for chunk in old_logplex_chunks(old)]
    others = [prefix.replace(b"web.1", b"web.2") + out for out in record_lines(new)]
    result = replay_bytes(database_url, tmp_path, b"".join([chunks[0], others[0], *chunks[1:],
                                                             *others[1:]]))
    err = result.stderr.decode().splitlines()
    assert result.returncode == 1
    assert err[-1] == "replay: 2 records, 1 inserted, 0 already present, 1 rejected"
    [printed] = [json.loads(out) for out in result.stdout.splitlines()]
    assert printed.pop("error") == ("replay: rejoined from 3 lines Heroku's log router cut; a lost "
                                    "piece cannot be ruled out: check the values, then replay "
                                    "this line")
    assert printed == {key: value for key, value in old.items() if key != "error"}
    assert_goods_stored(engine, [new])
