"""The server applies form logic on submit: hidden fields stored as NULL, calculations
computed here, required only when shown, constraints in the RA's words; replay the same."""

import io
import json
from contextlib import redirect_stdout
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text

from tests.conftest import make_app
from tests.helpers import free_port, hidden_inputs, signed_in_before_outage
from tests.processes import run_manage

FORM = "/forms/followup"


def valid_followup(**changes):
    """Form data for a valid follow-up visit (a smoker with an 'other' diagnosis)."""
    data = {
        "participant_id": "P0042", "visit_date": "2026-11-20", "date_of_birth": "1980-11-21",
        "height_cm": "180.0", "weight_kg": "72.5", "smokes": "true", "cigarettes_per_day": "12",
        "quit_attempts": "2", "new_diagnosis": "other", "diagnosis_other": "Gicht (Podagra) – 痛風",
        "diagnosed_on": "2026-03-14", "notes": "Ünïcödé notes\r\nline two",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def post(client, data):
    hidden = hidden_inputs(client.get(FORM).get_data(as_text=True))
    return client.post(FORM, data={**hidden, **data})


def stored(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM followup ORDER BY id")).mappings().all()


def test_calculations_are_computed_on_the_server_whatever_was_sent(client, engine):
    response = post(client, valid_followup(age_at_visit="3", bmi="99.9"))
    assert response.status_code == 303, response.get_data(as_text=True)
    row = stored(engine)[0]
    assert row["age_at_visit"] == 45  # years-between 1980-11-21 and 2026-11-20
    assert row["bmi"] == Decimal("22.4")  # 72.5 / 1.8², rounded to the field's one place
    assert row["diagnosis_other"] == "Gicht (Podagra) – 痛風"


def test_a_hidden_field_is_stored_as_null_whatever_was_sent(client, engine):
    response = post(client, valid_followup(smokes="false", new_diagnosis="none"))
    assert response.status_code == 303, response.get_data(as_text=True)
    row = stored(engine)[0]
    # The browser sent values for fields the answers hide: none of them is kept.
    assert (row["cigarettes_per_day"], row["quit_attempts"]) == (None, None)
    assert (row["diagnosis_other"], row["diagnosed_on"]) == (None, None)


def test_a_hidden_field_with_a_bad_value_is_not_an_error(client, engine):
    response = post(client, valid_followup(smokes="false", cigarettes_per_day="lots",
                                           quit_attempts="-5"))
    assert response.status_code == 303
    assert stored(engine)[0]["cigarettes_per_day"] is None


def test_required_applies_only_while_shown(client, engine):
    response = post(client, valid_followup(cigarettes_per_day="", diagnosis_other=" "))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and stored(engine) == []
    assert "Cigarettes per day: Enter a value." in html and "Which diagnosis?: Enter a value." in html
    assert post(client, valid_followup(smokes="false", cigarettes_per_day="",
                                       new_diagnosis="diabetes", diagnosis_other="")).status_code == 303


@pytest.mark.parametrize("changes, field, message", [
    ({"date_of_birth": "2026-11-21"}, "Date of birth", "The date of birth must be before the visit date."),
    ({"diagnosed_on": "1970-01-01"}, "Date of diagnosis",
     "The diagnosis date must be between the date of birth and the visit date."),
    ({"quit_attempts": "53"}, "Quit attempts since the last visit", "At most one attempt a week"),
    ({"visit_date": "2099-01-01", "diagnosed_on": "2098-01-01"}, "Visit date",
     "The visit date cannot be in the future."),
    ({"weight_kg": "290.0", "height_cm": "100.0"}, "Body mass index",
     "Calculated as 290.0: Enter at most 80. Check the answers it is calculated from."),
    ({"date_of_birth": "2015-01-01"}, "Age at visit (years)", "Calculated as 11: Enter at least 16."),
])
def test_cross_field_rules_refuse_with_the_form_files_message(client, engine, changes, field, message):
    response = post(client, valid_followup(**changes))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and stored(engine) == []
    assert f"{field}: {message}" in html.replace("&#39;", "'")


def test_a_constraint_over_an_empty_answer_does_not_stop_the_entry(client, engine):
    # Height empty: BMI cannot be calculated and is stored empty; nothing else is in the way.
    response = post(client, valid_followup(height_cm=""))
    assert response.status_code == 303
    assert stored(engine)[0]["bmi"] is None


def test_without_javascript_the_page_shows_every_field(anonymous_client, client):
    html = client.get(FORM).get_data(as_text=True)
    for name in ("cigarettes_per_day", "quit_attempts", "diagnosis_other", "diagnosed_on"):
        assert f'name="{name}"' in html
    assert "Smoking" in html and "New diagnosis" in html  # section titles
    # Without JavaScript the RA sees which answers are needed only when the question applies.
    label = lambda name: html.split(f'for="f-{name}">')[1].split("</label>")[0]  # noqa: E731
    assert "(required if asked)" in label("cigarettes_per_day") and "(required)" in label("visit_date")
    assert "Some questions apply only after certain answers" in html  # the <noscript> note


@pytest.fixture(scope="module")
def held_followup_line():
    """A real failed-write line for a follow-up visit whose visit date is 'today'."""
    app = make_app(f"postgres://u@127.0.0.1:{free_port()}/d")
    client = signed_in_before_outage(app)
    hidden = hidden_inputs(client.get(FORM).get_data(as_text=True))
    captured = io.StringIO()
    today = date.today().isoformat()
    with redirect_stdout(captured):
        assert client.post(FORM, data={**valid_followup(visit_date=today, diagnosed_on=today),
                                       **hidden}).status_code == 503
    return next(line for line in captured.getvalue().splitlines() if "submission_failed" in line)


def test_replay_checks_logic_on_the_day_the_entry_was_made(app, engine, database_url,
                                                            held_followup_line):
    record = json.loads(held_followup_line)
    age = record["values"]["age_at_visit"]
    assert record["values"]["bmi"] == "22.4" and age == date.today().year - 1980 - (
        date.today().strftime("%m-%d") < "11-21")
    # Replayed a year later, "not in the future" is judged against the day it was entered.
    record["at"] = "2025-01-01T10:00:00+00:00"
    late = run_manage("replay", stdin=json.dumps(record), DATABASE_URL=database_url)
    assert late.returncode == 1 and "The visit date cannot be in the future." in late.stdout
    result = run_manage("replay", stdin=held_followup_line, DATABASE_URL=database_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert stored(engine)[0]["age_at_visit"] == age

    tampered = json.loads(held_followup_line)
    tampered["submission_id"] = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
    tampered["values"]["bmi"] = "30.0"  # a held value differing from the calculation is recomputed
    result = run_manage("replay", stdin=json.dumps(tampered), DATABASE_URL=database_url)
    assert result.returncode == 0 and stored(engine)[1]["bmi"] == Decimal("22.4")
