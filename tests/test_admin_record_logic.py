"""Editing a row of a form with logic: sections, fields the logic hid, calculations, today()
as the day the row was entered; a database refusal named; a psql change in the history."""

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import text

from collector.db.invites import create_invite
from tests.helpers import hidden_inputs, sign_in
from tests.test_admin_record import admin_app, form_values, pi, trail  # noqa: F401
from tests.test_logic_submit import valid_followup


def submit_followup(app, engine, **changes):
    client = app.test_client()
    _id, token = create_invite(engine, "Zoë Müller")
    assert sign_in(client, token).status_code == 303
    page = client.get("/forms/followup").get_data(as_text=True)
    answer = client.post("/forms/followup", data={**hidden_inputs(page), **valid_followup(**changes)})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:3000]
    with engine.connect() as conn:
        return conn.execute(text("SELECT max(id) FROM followup")).scalar()


def edit_followup(client, row_id):
    return form_values(client.get(f"/admin/forms/followup/rows/{row_id}/edit").get_data(as_text=True))


def row(engine, row_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM followup WHERE id = :id"), {"id": row_id}).mappings().one()


def test_the_row_page_has_the_sections_and_says_what_the_logic_skipped(app, engine, pi):  # noqa: F811
    row_id = submit_followup(app, engine, smokes="false", new_diagnosis="none")
    html = pi.get(f"/admin/forms/followup/rows/{row_id}").get_data(as_text=True)
    for title in ("Visit", "Measurements", "Smoking", "New diagnosis"):
        assert f">{title}</h2>" in html
    skipped = html[html.index('data-field="cigarettes_per_day"'):].split("</div>")[0]
    assert "not shown" in skipped
    assert "Body mass index <span class=\"req\">(calculated)</span>" in html and "22.4" in html
    assert "Gicht" not in html and "No</dd>" in html


def test_an_edit_recalculates_and_clears_what_the_logic_now_hides(app, engine, pi):  # noqa: F811
    row_id = submit_followup(app, engine)
    data = edit_followup(pi, row_id)
    assert data["diagnosis_other"] == ["Gicht (Podagra) – 痛風"] and "bmi" not in data
    data |= {"weight_kg": ["81.0"], "smokes": ["false"], "_reason": ["Stopped smoking in May"]}
    answer = pi.post(f"/admin/forms/followup/rows/{row_id}/edit", data=data)
    assert answer.status_code == 303, answer.get_data(as_text=True)[:3000]
    after = row(engine, row_id)
    assert after["bmi"] == Decimal("25.0") and after["cigarettes_per_day"] is None
    changes = trail(engine, row_id)[-1]["changes"]
    assert set(changes) == {"weight_kg", "bmi", "smokes", "cigarettes_per_day", "quit_attempts"}
    html = pi.get(f"/admin/forms/followup/rows/{row_id}").get_data(as_text=True)
    assert '<th scope="row">Cigarettes per day</th><td class="old">12</td><td class="new">(empty)</td>' in html
    assert '<th scope="row">Currently smokes</th><td class="old">Yes</td><td class="new">No</td>' in html


def test_today_means_the_day_the_row_was_entered(app, engine, pi):  # noqa: F811
    row_id = submit_followup(app, engine, visit_date=str(date.today() - timedelta(days=1)),
                            date_of_birth="1980-01-15")
    with engine.begin() as conn:   # entered ten days ago (the row's today() CHECK reads submitted_at)
        conn.execute(text("UPDATE followup SET submitted_at = submitted_at - interval '10 days', "
                          "visit_date = visit_date - 10 WHERE id = :id"), {"id": row_id})
    entered = row(engine, row_id)["submitted_at"].astimezone(app.extensions["collector"]
                                                             .specs["followup"].timezone).date()
    data = edit_followup(pi, row_id) | {"_reason": "date typo"}
    later = pi.post(f"/admin/forms/followup/rows/{row_id}/edit",
                    data=data | {"visit_date": str(entered + timedelta(days=3))})
    assert later.status_code == 422 and "cannot be in the future" in later.get_data(as_text=True)
    same_day = pi.post(f"/admin/forms/followup/rows/{row_id}/edit", data=data | {"visit_date": str(entered)})
    assert same_day.status_code == 303 and row(engine, row_id)["visit_date"] == entered


def test_a_database_refusal_names_the_rule_and_writes_nothing(app, engine, pi):  # noqa: F811
    row_id = submit_followup(app, engine)
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE followup ADD CONSTRAINT site_scale_limit CHECK (weight_kg < 80)"))
    try:
        answer = pi.post(f"/admin/forms/followup/rows/{row_id}/edit", data=edit_followup(pi, row_id) | {
            "weight_kg": ["85.0"], "_reason": ["re-weighed"]})
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE followup DROP CONSTRAINT site_scale_limit"))
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "site_scale_limit" in html and "Nothing was saved" in html
    assert row(engine, row_id)["weight_kg"] == Decimal("72.5") and len(trail(engine, row_id)) == 1


def test_a_change_made_in_psql_shows_in_the_history(app, engine, pi):  # noqa: F811
    row_id = submit_followup(app, engine)
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('collector.actor', 'Ngozi (psql)', true), "
                          "set_config('collector.reason', 'Fixed from the paper CRF', true)"))
        conn.execute(text("UPDATE followup SET quit_attempts = 3 WHERE id = :id"), {"id": row_id})
    html = pi.get(f"/admin/forms/followup/rows/{row_id}").get_data(as_text=True)
    entry = html[html.index("<strong>Updated outside the app</strong>"):].split("</li>")[0]
    assert "Ngozi (psql)" in entry and "Fixed from the paper CRF" in entry
    assert '<th scope="row">Quit attempts since the last visit</th><td class="old">2</td><td class="new">3</td>' in entry
