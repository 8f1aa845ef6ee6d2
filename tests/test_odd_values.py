"""Any value PostgreSQL holds can be shown; date-times it could not read back are refused."""

import json
import re
import uuid

import pytest
from sqlalchemy import text

from collector.db.migrate import create_all
from tests.conftest import make_app
from tests.helpers import hidden_inputs, valid_intake
from tests.processes import run_manage
from tests.test_admin import PASSWORD, login

ODDITIES = """title = "Oddities"
access = "public"
timezone = "Asia/Tokyo"

[[fields]]
name = "seen_at"
type = "datetime"

[[fields]]
name = "born"
type = "date"

[[fields]]
name = "weight"
type = "decimal"
"""

# (seen_at and submitted_at as a psql session could write them, what the rows page shows)
ODD_ROWS = [
    ("infinity", "'infinity'", "infinity"),
    ("-infinity", "'-infinity'", "-infinity"),
    ("0044-03-15 12:00:00+00 BC", "'0044-03-15 12:00:00+00 BC'", "0044-03-15 12:00:00+00 BC"),
    ("10000-01-01 11:59:00+00", "'10000-01-01 11:59:00+00'", "10000-01-01 11:59:00+00"),
    # Shown to the minute in the form's zone (Tokyo; in year 1 its local mean time, +09:18),
    # or with the stored offset where the zone's would leave Python's range.
    ("9999-12-31 23:59:00+00", "'9999-12-31 23:59:00+00'", "9999-12-31 23:59+00:00"),
    ("0001-01-01 00:00:00+00", "'0001-01-01 00:00:00+00'", "0001-01-01 09:18"),
    ("2026-05-01 10:00:00+00", "now() + interval '3 days'", "2026-05-01 19:00"),
]
BORN = ["infinity", "-infinity", "0044-03-15 BC", "10000-01-01", "9999-12-31", "0001-01-01", None]
WEIGHT = ["NaN", "Infinity", "-Infinity", "1e100", "-0.000000000000000000001", "0", None]


@pytest.fixture
def odd_app(app, engine, database_url, tmp_path):
    """An app with a form whose fields have no bounds, so any value fits its columns."""
    (tmp_path / "oddities.toml").write_text(ODDITIES)
    odd = make_app(database_url, FORMS_DIR=str(tmp_path), ADMIN_PASSWORD=PASSWORD)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS oddities CASCADE"))
        conn.execute(text("TRUNCATE admin_login_failures"))
    create_all(engine, odd.extensions["collector"])
    yield odd
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE oddities CASCADE"))


def insert_odd_rows(engine, name="Σωκράτης 李 🧪 \\ \"'"):
    """Write the rows a hostile psql session could write: no app code involved."""
    with engine.begin() as conn:
        conn.execute(text("SET TIME ZONE 'UTC'"))
        for (seen_at, submitted_at, _shown), born, weight in zip(ODD_ROWS, BORN, WEIGHT):
            conn.execute(text(
                "INSERT INTO oddities (submission_id, form_version, seen_at, born, weight, "
                f"entered_by, submitted_at) VALUES (gen_random_uuid(), 't', :seen_at, :born, "
                f":weight, :name, {submitted_at})"),
                {"seen_at": seen_at, "born": born, "weight": weight, "name": name})
        conn.execute(text(
            "INSERT INTO oddities (submission_id, form_version, entered_by) "
            "SELECT gen_random_uuid(), 't', 'Alice Ng' FROM generate_series(1, 2)"))


def test_every_admin_page_shows_rows_python_cannot_hold(odd_app, engine):
    insert_odd_rows(engine)
    client = odd_app.test_client()
    assert login(client).status_code == 303
    dashboard = client.get("/admin/")
    assert dashboard.status_code == 200
    assert '<td class="num">9</td>' in dashboard.get_data(as_text=True)
    page = client.get("/admin/forms/oddities")
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    for _seen_at, _submitted_at, shown in ODD_ROWS:
        assert re.search(rf"<td[^>]*>{re.escape(shown)}</td>", html), shown
    for value in BORN[:-1] + WEIGHT[:3]:
        assert re.search(rf"<td[^>]*>{re.escape(value)}</td>", html), value
    # Only today's two rows are in the chart; the rest are outside its 30 days.
    assert html.count("<rect ") == 1 and '<td>Alice Ng</td><td class="num">2</td>' in html
    assert "Σωκράτης" not in html.split("<details>")[1].split("</details>")[0]


@pytest.mark.parametrize("submitted_at", ["infinity", "-infinity", "10000-01-01 11:59:00+00",
                                          "0044-03-15 12:00:00+00 BC", "9999-12-31 23:59:00+00",
                                          "0001-01-01 00:00:00+00"])
def test_dashboard_and_saved_page_show_an_odd_latest_submission(odd_app, engine, submitted_at):
    submission_id = uuid.uuid4()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO oddities (submission_id, form_version, submitted_at) "
                          "VALUES (:sid, 't', :at)"), {"sid": submission_id, "at": submitted_at})
    client = odd_app.test_client()
    login(client)
    dashboard = client.get("/admin/").get_data(as_text=True)
    saved = client.get(f"/forms/oddities/saved/{submission_id}")
    assert saved.status_code == 200 and str(submission_id) in saved.get_data(as_text=True)
    row = dashboard.split("<code>oddities</code>")[1].split("</tr>")[0]
    if submitted_at.endswith("infinity"):
        assert f"<td>{submitted_at}</td>" in row
        assert f"Saved at {submitted_at} (Asia/Tokyo)" in saved.get_data(as_text=True)
    else:
        assert "none yet" not in row and submitted_at[:4] in row


BOUNDARY_DATETIMES = ["9999-12-31T23:59-12:00", "9999-12-31T23:59", "9999-12-30T00:01Z",
                      "0001-01-01T00:30+05:00", "0001-01-01T00:00", "0001-01-01T12:00+14:00"]


@pytest.mark.parametrize("visit_at", BOUNDARY_DATETIMES)
def test_datetimes_that_could_not_be_read_back_are_refused(client, engine, visit_at):
    hidden = hidden_inputs(client.get("/forms/intake").get_data(as_text=True))
    answer = client.post("/forms/intake", data={**valid_intake(visit_at=visit_at), **hidden})
    assert answer.status_code == 422
    assert "Enter a date and time from 0001-01-02 to 9999-12-30 (UTC)." in answer.get_data(as_text=True)
    assert visit_at in answer.get_data(as_text=True)  # the value is kept for correcting
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM intake")).scalar() == 0


def test_the_last_safe_datetimes_are_accepted(client, engine):
    for visit_at in ("9999-12-29T23:59+14:00", "9999-12-30T00:00Z"):
        hidden = hidden_inputs(client.get("/forms/intake").get_data(as_text=True))
        answer = client.post("/forms/intake", data={**valid_intake(visit_at=visit_at), **hidden})
        assert answer.status_code == 303
        assert client.get(answer.headers["Location"]).status_code == 200


def test_replay_rejects_a_datetime_outside_the_window(app, engine, database_url):
    record = {"event": "submission_failed", "form": "intake", "submission_id": str(uuid.uuid4()),
              "entered_by": "Σωκράτης", "values": {**valid_intake(visit_at="9999-12-31T23:59-12:00"),
                                                   "age_years": 36, "smoker": False},
              "error": "OperationalError: x", "request_id": "r", "at": "2026-11-21T10:00:00Z"}
    result = run_manage("replay", stdin=json.dumps(record) + "\n", DATABASE_URL=database_url)
    assert result.returncode == 1, result.stderr
    rejected = json.loads(result.stdout.strip())
    assert rejected["submission_id"] == record["submission_id"]
    assert "visit_at" in rejected["error"] and "0001-01-02 to 9999-12-30" in rejected["error"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM intake")).scalar() == 0
