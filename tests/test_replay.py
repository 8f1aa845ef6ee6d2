"""manage.py replay: failed-write lines (raw or from `heroku logs`) go in once each."""

import io
import json
import uuid
from contextlib import redirect_stdout
from datetime import datetime

import pytest
from sqlalchemy import text

from tests.conftest import make_app
from tests.helpers import free_port, hidden_inputs, signed_in_before_outage, valid_intake
from tests.processes import run_manage


@pytest.fixture(scope="module")
def failed_lines():
    """Three real failed-write lines, produced by the app against a closed port."""
    app = make_app(f"postgres://u@127.0.0.1:{free_port()}/d")
    client = signed_in_before_outage(app)
    lines = []
    for age in ("31", "32", "33"):
        hidden = hidden_inputs(client.get("/forms/intake").get_data(as_text=True))
        captured = io.StringIO()
        with redirect_stdout(captured):
            assert client.post("/forms/intake", data={**valid_intake(age_years=age), **hidden}
                               ).status_code == 503
        lines += [line for line in captured.getvalue().splitlines() if "submission_failed" in line]
    assert len(lines) == 3
    return lines


def heroku_logs(lines):
    """Wrap lines the way `heroku logs` prints them, with noise around them."""
    out = ["2026-11-21T10:00:00.000000+00:00 heroku[router]: at=info method=POST path=\"/forms/intake\"",
           '2026-11-21T10:00:00.100000+00:00 app[web.1]: {"event": "submission_saved", "form": "intake"}']
    out += [f"2026-11-21T10:00:01.{i:06d}+00:00 app[web.{i + 1}]: {line}" for i, line in enumerate(lines)]
    return "\n".join(out + ["not json at all {", ""])


def replay(database_url, stdin, *args):
    return run_manage("replay", *args, stdin=stdin, DATABASE_URL=database_url)


def saved_rows(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT submission_id::text, age_years, submitted_at, entered_by "
                                 "FROM intake ORDER BY age_years")).all()


def test_replay_inserts_each_record_once_and_twice_is_harmless(app, engine, database_url,
                                                               failed_lines):
    first = replay(database_url, heroku_logs(failed_lines))
    assert first.returncode == 0, first.stderr
    assert first.stdout == ""
    assert first.stderr.splitlines()[-1] == ("replay: 3 records, 3 inserted, 0 already present, "
                                             "0 rejected")
    records = [json.loads(line) for line in failed_lines]
    rows = saved_rows(engine)
    assert [(r[0], r[1]) for r in rows] == [(rec["submission_id"], int(rec["values"]["age_years"]))
                                            for rec in records]
    # submitted_at is when the RA submitted, not when the replay ran.
    assert [r[2] for r in rows] == [datetime.fromisoformat(rec["at"]) for rec in records]
    assert {r[3] for r in rows} == {"Test RA"}

    second = replay(database_url, "\n".join(failed_lines))
    assert second.returncode == 0
    assert second.stderr.splitlines()[-1].endswith("0 inserted, 3 already present, 0 rejected")
    assert len(saved_rows(engine)) == 3


def test_dry_run_writes_nothing(app, engine, database_url, failed_lines):
    result = replay(database_url, "\n".join(failed_lines), "--dry-run")
    assert result.returncode == 0
    assert result.stderr.splitlines()[-1] == ("replay (dry run, nothing written): 3 records, "
                                              "3 would insert, 0 already present, 0 rejected")
    assert saved_rows(engine) == []


def test_rejected_records_are_printed_back_ready_to_fix_and_replay(app, engine, database_url,
                                                                    failed_lines, tmp_path):
    good, bad_value, unknown_form = (json.loads(line) for line in failed_lines)
    bad_value["values"]["age_years"] = 300
    unknown_form["form"] = "exit_survey"
    bad_uuid = {**good, "submission_id": "not-a-uuid"}
    extra_field = {**good, "submission_id": str(uuid.uuid4()),
                   "values": {**good["values"], "shoe_size": 9}}
    source = tmp_path / "log.txt"
    source.write_text("\n".join(json.dumps(r) for r in
                                (good, bad_value, unknown_form, bad_uuid, extra_field)) + "\n")
    result = replay(database_url, "", str(source))
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == ("replay: 5 records, 1 inserted, 0 already present, "
                                              "4 rejected")
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [p["error"] for p in printed] == [
        "replay: field 'age_years': Enter at most 120.",
        "replay: no form called 'exit_survey' in the form files",
        "replay: submission_id 'not-a-uuid' is not a UUID",
        "replay: field 'shoe_size' is not in forms/intake.toml any more",
    ]
    assert all(p["event"] == "submission_failed" for p in printed)

    printed[0]["values"]["age_years"] = 36  # the PI fixes the value and replays the line
    fixed = replay(database_url, json.dumps(printed[0]))
    assert fixed.returncode == 0
    assert sorted(r[1] for r in saved_rows(engine)) == [31, 36]


def test_replay_says_so_when_the_database_is_down(app, failed_lines):
    result = replay(f"postgres://u@127.0.0.1:{free_port()}/d", failed_lines[0])
    assert result.returncode == 1
    assert json.loads(result.stdout)["error"].startswith("replay: database error: OperationalError")


def test_a_held_record_whose_reference_holds_other_values_is_a_conflict(failed_lines, database_url, engine, app):
    assert replay(database_url, "\n".join(failed_lines)).returncode == 0
    changed = json.loads(failed_lines[0])
    changed["values"].update(age_years=45, notes="Διορθωμένο 📝")
    for args in ((), ("--dry-run",)):
        result = replay(database_url, "\n".join([json.dumps(changed, ensure_ascii=False),
                                                 *failed_lines[1:]]), *args)
        assert result.returncode == 1, result.stderr
        assert f"conflict: intake {changed['submission_id']} (line 1): already stored with other " \
               "values in: age_years, notes" in result.stderr
        assert result.stderr.strip().endswith("already present, 0 rejected, 1 conflicts")
        printed = json.loads(result.stdout)
        assert printed["differences"] == {"age_years": {"stored": 31, "held": 45},
                                          "notes": {"stored": "Line one\nLine two",
                                                    "held": "Διορθωμένο 📝"}}
        assert printed["error"].startswith("replay: conflict: ")
    assert [row[1] for row in saved_rows(engine)] == [31, 32, 33]   # nothing overwritten


def test_replay_never_brings_back_a_withdrawn_participant(app, engine, database_url, failed_lines):
    """Saved by replay, withdrawn in the PI area, then the same log replayed again: the
    withdrawal stands (an old log line must not undo an erasure), and says so."""
    from collector.db.corrections import read_row, withdraw_row
    assert replay(database_url, heroku_logs(failed_lines)).returncode == 0
    spec, table = app.extensions["collector"].specs["intake"], app.extensions["collector"].tables["intake"]
    with engine.connect() as conn:
        row_id = conn.execute(text("SELECT id FROM intake WHERE age_years = 32")).scalar()
        (replayed,) = conn.execute(text("SELECT action, source, actor FROM audit_trail "
                                        "WHERE row_id = :id"), {"id": row_id}).all()
        version = read_row(conn, spec, table, row_id)["_version"]
    assert tuple(replayed) == ("replayed", "replay", "Test RA")  # the RA named in the record
    from collector.db.database import db
    with app.app_context():  # the app's own connections: only they withdraw (README)
        app_engine = db.engine
    withdraw_row(app_engine, spec, table, row_id, version, "Dr Ngozi Ọkafọr", "Consent withdrawn")
    for args in ((), ("--dry-run",)):
        again = replay(database_url, heroku_logs(failed_lines), *args)
        assert again.returncode == 0, again.stderr
        assert again.stdout == ""  # the withdrawn values are not printed again
        assert "withdrawn: intake" in again.stderr and "not brought back" in again.stderr
        assert again.stderr.splitlines()[-1].endswith(", 1 withdrawn")
    assert sorted(age for _sid, age, _at, _by in saved_rows(engine)) == [31, 33]
