"""Submitting through the app: HTML rules, per-field errors, one row, idempotency, CSRF."""

import re
import time
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text

from tests.helpers import hidden_inputs, valid_intake


def rows(engine, sql="SELECT * FROM intake ORDER BY id"):
    with engine.connect() as conn:
        return conn.execute(text(sql)).mappings().all()


def open_form(client):
    response = client.get("/forms/intake")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def post(client, data, **hidden):
    fields = hidden_inputs(open_form(client)) | hidden
    return client.post("/forms/intake", data={**fields, **data})


def test_index_lists_the_forms(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/forms/intake"' in html and "Participant intake" in html


def test_unknown_form_is_a_plain_404(client):
    response = client.get("/forms/nope")
    assert response.status_code == 404 and "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("name, attributes", [
    ("participant_id", ['maxlength="5"', 'pattern="P[0-9]{4}"', 'required', 'type="text"']),
    ("age_years", ['type="number"', 'min="16"', 'max="120"', 'step="1"', 'required']),
    ("weight_kg", ['type="number"', 'step="0.1"', 'min="20"', 'max="300"']),
    ("date_of_birth", ['type="date"', 'min="1900-01-01"', 'max="2010-12-31"']),
    ("visit_at", ['type="datetime-local"', 'min="2026-01-01T00:00"']),
    ("contact_email", ['type="email"', 'maxlength="254"']),
])
def test_form_mirrors_rules_as_html_attributes(client, name, attributes):
    html = open_form(client)
    tag = re.search(rf'<input id="f-{name}"[^>]*>', html).group(0)
    for attribute in attributes:
        assert attribute in tag
    assert f'<label for="f-{name}">' in html


def test_choices_render_as_labelled_options(client):
    html = open_form(client)
    assert '<input type="radio" name="site" value="north" required> North clinic' in html
    assert '<input type="checkbox" name="conditions" value="asthma"> Asthma' in html
    assert '<textarea id="f-notes" name="notes" rows="5" maxlength="2000" ' in html


def test_inputs_carry_the_servers_messages_for_the_browser(client):
    html = open_form(client)
    age = re.search(r'<input id="f-age_years"[^>]*>', html).group(0)
    assert 'data-msg-range-overflow="Enter at most 120."' in age
    assert 'data-msg-value-missing="Enter a value."' in age
    assert 'data-msg-step-mismatch="Enter a whole number, like 42."' in age
    assert 'data-msg-value-missing="Choose yes or no."' in html
    visit = re.search(r'<input id="f-visit_at"[^>]*>', html).group(0)
    assert 'data-msg-range-underflow="Enter 2026-01-01 00:00 or later."' in visit


def test_first_field_with_an_error_gets_focus_without_javascript(client):
    response = post(client, valid_intake(site="", age_years="300"))
    html = response.get_data(as_text=True)
    assert html.count("autofocus") == 1
    assert re.search(r'<input type="radio" name="site" value="north"[^>]*autofocus>', html)


def test_each_render_mints_a_new_submission_id(client):
    first, second = (hidden_inputs(open_form(client))["submission_id"] for _ in range(2))
    assert first != second and uuid.UUID(first)


def test_valid_submission_writes_one_typed_row_and_redirects(client, engine):
    submission_id = str(uuid.uuid4())
    response = post(client, valid_intake(), submission_id=submission_id)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/forms/intake/saved/{submission_id}"
    (row,) = rows(engine)
    assert str(row["submission_id"]) == submission_id
    assert row["age_years"] == 36 and row["weight_kg"] == Decimal("72.5")
    assert row["date_of_birth"] == date(1990, 5, 1) and row["smoker"] is False
    assert row["visit_at"] == datetime(2026, 11, 21, 10, 30, tzinfo=timezone.utc)  # London in winter
    assert row["conditions"] == ["diabetes", "asthma"] and row["notes"] == "Line one\nLine two"
    assert row["form_version"] == client.application.extensions["collector"].specs["intake"].version
    confirmation = client.get(response.headers["Location"])
    assert confirmation.status_code == 200 and submission_id in confirmation.get_data(as_text=True)


def test_invalid_submission_shows_messages_keeps_values_and_writes_nothing(client, engine):
    response = post(client, valid_intake(age_years="300", participant_id="P42",
                                         notes="<script>alert(1)</script>"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert '<p class="error" id="f-age_years-error">Enter at most 120.</p>' in html
    assert 'aria-describedby="f-participant_id-hint f-participant_id-error"' in html
    assert 'value="300"' in html and 'value="P42"' in html
    assert 'value="north" checked' in html and 'value="asthma" checked' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert rows(engine) == []


def test_resubmitting_the_same_id_writes_no_second_row(client, engine):
    submission_id = str(uuid.uuid4())
    first = post(client, valid_intake(), submission_id=submission_id)
    second = post(client, valid_intake(), submission_id=submission_id)
    changed = post(client, valid_intake(participant_id="P9999"), submission_id=submission_id)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert changed.status_code == 409          # other values: never "saved" (tests/test_conflicts.py)
    assert [r["participant_id"] for r in rows(engine)] == ["P0042"]


def test_missing_csrf_token_keeps_values_and_gives_a_fresh_token(client, engine):
    open_form(client)
    submission_id = str(uuid.uuid4())
    response = client.post("/forms/intake", data={**valid_intake(), "submission_id": submission_id})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your values are kept below" in html and 'value="P0042"' in html
    assert hidden_inputs(html)["submission_id"] == submission_id
    assert rows(engine) == []
    retry = client.post("/forms/intake", data={**valid_intake(), **hidden_inputs(html)})
    assert retry.status_code == 303 and len(rows(engine)) == 1


def test_expired_csrf_token_keeps_values(app, client, engine):
    stale = hidden_inputs(open_form(client))
    app.config["WTF_CSRF_TIME_LIMIT"] = 1
    try:
        time.sleep(2.1)  # tokens carry whole-second timestamps
        response = client.post("/forms/intake", data={**valid_intake(), **stale})
    finally:
        app.config["WTF_CSRF_TIME_LIMIT"] = 24 * 3600
    assert response.status_code == 400 and 'value="P0042"' in response.get_data(as_text=True)
    assert rows(engine) == []


def test_garbled_submission_id_gets_a_new_one_and_nothing_written(client, engine):
    response = post(client, valid_intake(), submission_id="not-a-uuid")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "no valid reference" in html
    assert uuid.UUID(hidden_inputs(html)["submission_id"])
    assert rows(engine) == []


def test_confirmation_for_an_unknown_reference_is_404(client):
    response = client.get(f"/forms/intake/saved/{uuid.uuid4()}")
    assert response.status_code == 404 and "No saved entry" in response.get_data(as_text=True)


def test_request_id_is_taken_from_the_router_and_returned(client):
    response = client.get("/forms/intake", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    assert len(client.get("/forms/intake").headers["X-Request-ID"]) == 32
