"""A write the database refuses is printed as one replayable JSON line, never lost."""

import html as html_module
import json
import re
import uuid

from sqlalchemy import text

from tests.conftest import make_app
from tests.helpers import free_port, hidden_inputs, signed_in_before_outage, valid_intake

CONTRACT_KEYS = ["event", "form", "submission_id", "entered_by", "values", "error",
                 "request_id", "at"]
EXPECTED_VALUES = {
    "participant_id": "P0042", "site": "north", "visit_at": "2026-11-21T10:30:00+00:00",
    "date_of_birth": "1990-05-01", "age_years": 36, "weight_kg": "72.5", "smoker": False,
    "conditions": ["diabetes", "asthma"], "contact_email": "ra@example.org",
    "notes": "Line one\nLine two",
}


def submit(client, submission_id):
    fields = hidden_inputs(client.get("/forms/intake").get_data(as_text=True))
    data = {**valid_intake(), **fields, "submission_id": submission_id}
    return client.post("/forms/intake", data=data, headers={"X-Request-ID": "req-42"})


def only_json_line(output):
    lines = [line for line in output.splitlines() if line.startswith("{")]
    assert len(lines) == 1, lines
    return lines[0], json.loads(lines[0])


def test_unreachable_database_prints_the_exact_record_and_tells_the_truth(capfd):
    port = free_port()
    app = make_app(f"postgres://collector@127.0.0.1:{port}/collector")
    client = signed_in_before_outage(app)
    capfd.readouterr()
    submission_id = str(uuid.uuid4())
    response = submit(client, submission_id)
    line, record = only_json_line(capfd.readouterr().out)
    assert list(record) == CONTRACT_KEYS
    assert record | {"at": None, "error": None} == {
        "event": "submission_failed", "form": "intake", "submission_id": submission_id,
        "entered_by": "Test RA", "values": EXPECTED_VALUES, "error": None, "request_id": "req-42",
        "at": None}
    assert record["error"].startswith(
        f'OperationalError: connection to server at "127.0.0.1", port {port} failed')
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", record["at"])
    assert "\n" not in line
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "not saved in the database yet" in html and submission_id in html
    assert "Traceback" not in html and "OperationalError" not in html


def test_a_row_the_database_rejects_is_held_and_can_be_retried(client, engine, capfd):
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE intake ADD CONSTRAINT test_too_strict CHECK (age_years < 30)"))
    try:
        capfd.readouterr()
        submission_id = str(uuid.uuid4())
        response = submit(client, submission_id)
        _line, record = only_json_line(capfd.readouterr().out)
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE intake DROP CONSTRAINT test_too_strict"))
    assert response.status_code == 503
    assert record["error"].startswith("CheckViolation: new row for relation \"intake\"")
    assert record["values"] == EXPECTED_VALUES
    # The held page carries the entry; "Try saving again" saves it once the database takes it.
    retry = client.post("/forms/intake", data=_form_fields(response.get_data(as_text=True)))
    assert retry.status_code == 303
    with engine.connect() as conn:
        saved = conn.execute(text("SELECT submission_id::text, age_years FROM intake")).all()
    assert [tuple(r) for r in saved] == [(submission_id, 36)]


def _form_fields(html):
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)
    data = {}
    for name, value in pairs:
        data.setdefault(name, []).append(html_module.unescape(value))
    return data


def test_the_held_record_says_when_the_ra_submitted_not_when_the_write_failed(capfd):
    # A write can take seconds to fail; replay stores `at` and judges today() by it, so it is
    # the moment the values were checked at (here: just before midnight in UTC).
    from datetime import datetime, timezone
    from collector.ops.failed_writes import record_failed_write
    submitted = datetime(2026, 11, 22, 23, 59, 59, 999000, tzinfo=timezone.utc)
    record_failed_write("intake", uuid.uuid4(), "Zoë Ração", {"age_years": 36},
                        RuntimeError("timeout"), submitted)
    _line, record = only_json_line(capfd.readouterr().out)
    assert record["at"] == "2026-11-22T23:59:59.999000Z"
