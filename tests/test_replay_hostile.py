"""replay and hostile input: every marked line it cannot read is named, nothing else is lost."""

import itertools
import json
import uuid
from hashlib import sha256

import pytest
from sqlalchemy import text

from collector.ops.record_parts import record_lines
from tests.processes import run_manage

HEROKU = b"2026-11-21T10:00:00.000000+00:00 app[web.1]: "


def good(**changes):
    """A valid failed-write record with hostile but legal text."""
    values = {"participant_id": "P0042", "site": "north", "visit_at": "2026-11-21T10:30:00+00:00",
              "date_of_birth": "1990-05-01", "age_years": 36, "weight_kg": "72.5",
              "smoker": False, "conditions": ["diabetes", "asthma"],
              "contact_email": "ζωή@例え.ελ", "notes": 'Σημείωση 😀 "q" \\ 漢字'}
    return {"event": "submission_failed", "form": "intake", "submission_id": str(uuid.uuid4()),
            "entered_by": 'Ζωή "Q" 李', "values": values, "error": "OperationalError: refused",
            "request_id": "req-1", "at": "2026-11-21T10:00:00.000000Z", **changes}


def line(record):
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


def part(number, parts, data="", digest="0" * 64, **changes):
    return line({"event": "submission_failed_part", "form": "intake",
                 "submission_id": str(uuid.uuid4()), "part": number, "parts": parts,
                 "sha256": digest, "data": data, **changes})


def old_logplex_chunks(record, source=b"app[web.1]"):
    """An old collector's single ASCII line over 10,000 bytes, as Heroku's router cuts it."""
    raw = json.dumps(record, ensure_ascii=True).encode()
    assert len(raw) > 10_000
    return [b"2026-11-21T10:00:00.000000+00:00 " + source + b": " + raw[i:i + 10_000] + b"\n"
            for i in range(0, len(raw), 10_000)]


def long_notes(record, notes="😀🧪" * 1000):  # 24,000 bytes as \u escapes: three chunks
    return {**record, "values": {**record["values"], "notes": notes}}


def deep(depth):
    return b'{"event": "submission_failed", "values": ' + b"[" * depth + b"]" * depth + b"}\n"


UNREADABLE = {
    "truncated record": (line(good())[:300] + b"\n", "cut off or not JSON"),
    "10,000 nested lists": (deep(10_000), "nested too deeply"),
    "5,000-digit integer": (line(good())[:-2] + b', "n": ' + b"7" * 5000 + b"}\n",
                            "cannot read a value"),
    "invalid UTF-8": (line(good()).replace("😀".encode(), b"\xff\xfe\xf0"), "not UTF-8"),
    "parts=0": (part(1, 0), "part 1 of 0 is out of range"),
    "part > parts": (part(3, 2), "part 3 of 2 is out of range"),
    "part is a boolean": (part(True, 1), "must be whole numbers"),
    "sha256 not hex": (part(1, 1, digest="ZZ"), "sha256 is not a hex digest"),
    "sha256 mismatch": (part(1, 1, data=json.dumps(good())), "do not match their sha256"),
    "joined parts are no record": (part(1, 1, data="[1]", digest=sha256(b"[1]").hexdigest()),
                                   "are no submission_failed record"),
    "other event under the marker": (b'{"event": "submission_failed", '
                                     + line(good(event="other"))[1:], "is not 'submission_failed'"),
    "event without JSON": (HEROKU + b'oops "event": "submission_failed", {\n',
                           "has a submission_failed event but no JSON object"),
    "old line cut by Logplex, its last chunk lost": (
        b"".join(old_logplex_chunks(long_notes(good(), "Ω" * 2000))[::2]), "a piece is missing"),
}
REJECTED = {
    "values a list": (good(values=[1, 2]), "values is missing or not an object"),
    "submission_id a number": (good(submission_id=12345), "submission_id 12345 is not a UUID"),
    "form null": (good(form=None), "form None is not a form name"),
    "form a list": (good(form=["intake"]), "form ['intake'] is not a form name"),
    "entered_by an object": (good(entered_by={"name": "x"}), "entered_by is not text"),
    "a value an object": (good(values={**good()["values"], "notes": {"a": 1}}),
                          "field 'notes': an object or nested list is not a form value"),
}


def replay_bytes(database_url, tmp_path, content):
    (tmp_path / "held.log").write_bytes(content)
    return run_manage("replay", str(tmp_path / "held.log"), text=False, DATABASE_URL=database_url)


def stored(engine, records):
    ids = [r["submission_id"] for r in records]
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT submission_id::text, notes, entered_by, contact_email "
                                 "FROM intake")).all()
    return {r[0]: tuple(r[1:]) for r in rows if r[0] in ids}


def surrounded(hostile):
    """Good records before and after `hostile` (line 2 on), one of them long enough for parts."""
    long_one = good(values={**good()["values"], "notes": "Ω😀\"\\" * 500})
    records = [good(), long_one, good()]
    assert len(record_lines(long_one)) > 1
    return records, line(records[0]) + hostile + b"".join(record_lines(long_one)) + line(records[2])


def assert_goods_stored(engine, records):
    expected = {r["submission_id"]: (r["values"]["notes"], r["entered_by"],
                                     r["values"]["contact_email"]) for r in records}
    assert stored(engine, records) == expected


@pytest.mark.parametrize("hostile, reason", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_an_unreadable_line_is_named_and_kept_and_the_rest_replayed(app, engine, database_url,
                                                                     tmp_path, hostile, reason):
    records, content = surrounded(hostile)
    result = replay_bytes(database_url, tmp_path, content)
    err = result.stderr.decode()
    assert result.returncode == 1 and "Traceback" not in err
    [named] = [e for e in err.splitlines() if e.startswith("unreadable:")]
    assert named.startswith("unreadable: line 2: ") and reason in named, named
    assert err.splitlines()[-1] == "replay: 4 records, 3 inserted, 0 already present, 0 rejected, 1 unreadable"
    first_line = hostile.splitlines()[0]
    assert first_line[first_line.index(b"{") if b"{" in first_line else 0:] in result.stdout
    assert_goods_stored(engine, records)


@pytest.mark.parametrize("bad, reason", REJECTED.values(), ids=REJECTED.keys())
def test_a_record_of_wrong_types_is_rejected_by_line_and_the_rest_replayed(app, engine, database_url,
                                                                          tmp_path, bad, reason):
    records, content = surrounded(line(bad))
    result = replay_bytes(database_url, tmp_path, content)
    err = result.stderr.decode()
    assert result.returncode == 1 and "Traceback" not in err
    [named] = [e for e in err.splitlines() if e.startswith("rejected:")]
    assert named.endswith(f"(line 2): {reason}"), named
    assert json.loads(result.stdout)["error"] == f"replay: {reason}"
    assert_goods_stored(engine, records)


READABLE = {
    "two records on one line": lambda a, b: line(a).rstrip(b"\n") + line(b),
    "garbage before a record": lambda a, b: b"\xff\x00{\"half " + line(a) + line(b),
    "heroku prefix and a spliced piece": lambda a, b: HEROKU + b'{"event": "access", "pa' + line(a)
    + HEROKU + line(b),
    "the word in other lines": lambda a, b: line(a) + HEROKU + line(
        {"event": "access", "path": '/forms/"event": "submission_failed"'}) + HEROKU
    + b"at=info path=/submission_failed\n" + line(b),
    "a hand-edited record, keys reordered": lambda a, b: line(a) + line(dict(reversed(b.items()))),
    "the same parts twice, reordered": lambda a, b: b"".join(
        reversed(record_lines(a) * 2)) + line(b),
}


@pytest.mark.parametrize("build", READABLE.values(), ids=READABLE.keys())
def test_records_in_awkward_places_are_still_read(app, engine, database_url, tmp_path, build):
    pair = [good(values={**good()["values"], "notes": "Ελληνικά " * 221 + "τέλος"}), good()]
    result = replay_bytes(database_url, tmp_path, build(*pair))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr.decode().splitlines()[-1] == (
        "replay: 2 records, 2 inserted, 0 already present, 0 rejected")
    assert_goods_stored(engine, pair)


def test_old_lines_cut_by_logplex_are_rejoined_and_printed_for_a_person_to_check(
        app, engine, database_url, tmp_path):
    old = [long_notes(good()), long_notes(good(), "Ω😀" * 1000)]
    chunks = itertools.zip_longest(old_logplex_chunks(old[0]),
                                   old_logplex_chunks(old[1], b"app[web.2]"), fillvalue=b"")
    result = replay_bytes(database_url, tmp_path, b"".join(itertools.chain(*chunks)))
    assert result.returncode == 1
    assert result.stderr.decode().splitlines()[-1] == (
        "replay: 2 records, 0 inserted, 0 already present, 2 rejected")
    printed = [json.loads(out) for out in result.stdout.splitlines()]
    assert sorted(p.pop("error")[:29] for p in printed) == [
        "replay: rejoined from 2 lines", "replay: rejoined from 3 lines"]
    by_id = {r["submission_id"]: {k: v for k, v in r.items() if k != "error"} for r in old}
    assert {p["submission_id"]: p for p in printed} == by_id
    assert stored(engine, old) == {}, "a lost chunk need not break the JSON: nothing goes in unseen"
    again = replay_bytes(database_url, tmp_path, result.stdout)  # after the PI has looked
    assert again.returncode == 0
    assert_goods_stored(engine, old)
