"""Held entries of any length survive a lagging log pipe, Heroku's log router and lost lines.

Real gunicorn (2 workers) with the database down, 8 RAs posting entries with
every field at its maximum, stdout read slowly through a pipe; the captured
log is replayed into the real database as it is, as `heroku logs` shows it
(prefixed, cut at 10,000 bytes, shuffled), and with a line missing.
"""

import json
import random
import threading
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text

from collector.ops.record_parts import LINE_LIMIT
from tests.helpers import invite_link
from tests.load import FormClient
from tests.processes import WebProcess, run_manage
from tests.test_faults import empty_intake, fault_db, web_env  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow
CLIENTS, ENTRIES_EACH = 8, 38
NOTE_ALPHABETS = ["Ο ασθενής ανέφερε «πόνο» στο στήθος· ", "患者は胸の痛みを訴えた。漢字😀 ",
                  "👩‍⚕️🧪😀🇬🇷 ", 'quote " back\\slash {"event": "submission_failed"} </script>\n']
EMAIL = ("ζωή.李." * 40)[:240] + "@例え.ελ"
MAXED = {"participant_id": "P9999", "site": "mobile", "visit_at": "2099-12-31T23:59",
         "date_of_birth": "2010-12-31", "age_years": "120", "weight_kg": "300.0",
         "smoker": "true", "contact_email": EMAIL,
         "conditions": ["diabetes", "hypertension", "asthma", "depression"]}
STORED = ("P9999", "mobile", datetime(2099, 12, 31, 23, 59, tzinfo=timezone.utc),
          date(2010, 12, 31), 120, Decimal("300.0"), True, EMAIL,
          ["diabetes", "hypertension", "asthma", "depression"], "Test RA")


def maximal_notes(number):
    """2,000 characters (the form's max_length) that differ from entry to entry."""
    alphabet = NOTE_ALPHABETS[number % len(NOTE_ALPHABETS)]
    body = (f"{number:04d} " + alphabet * 2000)[:2000].rstrip()
    return body + "." * (2000 - len(body))  # no trailing space: the server would strip it


@pytest.fixture(scope="module")
def held_log(fault_db, tmp_path_factory):  # noqa: F811
    """Post every entry while the database is down; return (stdout bytes, {id: notes})."""
    server, url, engine = fault_db
    log_path = tmp_path_factory.mktemp("long") / "web.log"
    with WebProcess(web_env(url), log_path, slow_reader=True) as web:
        clients = [FormClient(web.base_url, invite_link(engine, web.base_url))
                   for _ in range(CLIENTS)]
        server.stop()
        try:
            held = _post_all(clients)
        finally:
            assert web.stop() == 0
            server.ensure_postgres_running()
    assert len(held) == CLIENTS * ENTRIES_EACH
    return log_path.read_bytes(), held


def _post_all(clients):
    held, lock = {}, threading.Lock()

    def post(client, first):
        for number in range(first, first + ENTRIES_EACH):
            hidden, notes = client.fresh_form(), maximal_notes(number)
            status, _ = client.post(hidden, notes=notes.replace("\n", "\r\n"), **MAXED)
            assert status == 503
            with lock:
                held[hidden["submission_id"]] = notes
    threads = [threading.Thread(target=post, args=(client, i * ENTRIES_EACH))
               for i, client in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return held


def replay_file(path, url):
    return run_manage("replay", str(path), DATABASE_URL=url)


def stored_rows(engine):
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT submission_id::text, notes, participant_id, site, visit_at, date_of_birth, "
            "age_years, weight_kg, smoker, contact_email, conditions, entered_by FROM intake")).all()
    return {row[0]: (row[1], tuple(row[2:])) for row in rows}, len(rows)


def assert_all_stored_exactly(engine, held):
    rows, count = stored_rows(engine)
    assert count == len(rows) == len(held), (count, len(held))
    assert {sid: notes for sid, (notes, _rest) in rows.items()} == held  # byte-identical
    assert [rest for _notes, rest in rows.values() if rest != STORED] == []


def test_every_held_entry_from_a_lagging_pipe_is_replayed_whole(empty_intake, held_log,
                                                                 tmp_path, report):
    _server, url, engine = empty_intake
    log, held = held_log
    lines = log.splitlines(keepends=True)
    assert max(len(line) for line in lines if b"submission_failed" in line) <= LINE_LIMIT
    (tmp_path / "stdout.log").write_bytes(log)
    result = replay_file(tmp_path / "stdout.log", url)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_all_stored_exactly(engine, held)
    report(f"long records: {len(held)} held entries with 2,000-character notes through a slow "
           f"pipe, {len(log):,} bytes, {sum(b'submission_failed_part' in l for l in lines)} part "
           f"lines; {result.stderr.splitlines()[-1]}")


def heroku_logs(log, seed=7):
    """`log` as Logplex delivers it: prefixed, lines cut into 10,000-byte chunks, reordered."""
    out = []
    for number, line in enumerate(log.splitlines()):
        prefix = f"2026-11-21T10:00:{number % 60:02d}.000000+00:00 app[web.{number % 2 + 1}]: "
        out += [prefix.encode() + line[i:i + 10_000] for i in range(0, len(line) or 1, 10_000)]
    random.Random(seed).shuffle(out)
    return b"\n".join(out) + b"\n"


def test_the_same_log_shuffled_in_heroku_form_replays_too(empty_intake, held_log, tmp_path):
    _server, url, engine = empty_intake
    log, held = held_log
    (tmp_path / "heroku.log").write_bytes(heroku_logs(log))
    result = replay_file(tmp_path / "heroku.log", url)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_all_stored_exactly(engine, held)


def test_a_lost_part_line_is_reported_and_everything_else_replayed(empty_intake, held_log,
                                                                   tmp_path):
    _server, url, engine = empty_intake
    log, held = held_log
    lines = log.splitlines(keepends=True)
    lost = next(i for i, line in enumerate(lines) if b'"part": 2,' in line)
    lost_part = json.loads(lines[lost][lines[lost].index(b"{"):])
    siblings = [line for line in lines if lost_part["sha256"].encode() in line and line != lines[lost]]
    (tmp_path / "lossy.log").write_bytes(b"".join(lines[:lost] + lines[lost + 1:]))
    result = replay_file(tmp_path / "lossy.log", url)
    assert result.returncode == 1
    incomplete = [line for line in result.stderr.splitlines() if line.startswith("incomplete:")]
    assert len(incomplete) == 1 and incomplete[0].startswith("incomplete: line")
    assert (f"record {lost_part['submission_id']}: parts 2 of {lost_part['parts']} missing"
            in incomplete[0])
    assert result.stderr.splitlines()[-1].endswith(", 1 incomplete")
    # The parts that did arrive go to stdout as read, to join later with a drain's copy.
    assert [line[line.index(b"{"):] for line in siblings] == [
        line + b"\n" for line in result.stdout.encode().splitlines()]
    held = {sid: notes for sid, notes in held.items() if sid != lost_part["submission_id"]}
    assert_all_stored_exactly(engine, held)
