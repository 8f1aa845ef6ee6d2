"""The PI area's row page in a real Chromium under real gunicorn: sign in with a name, open a
row from the rows page, Edit it with a reason, see the history; the form's logic runs on Edit.
With UPDATE_SCREENSHOTS=1 the README's screenshots of the PI area are refreshed."""

import random
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from tests.helpers import free_port
from tests.processes import WebProcess, process_environment
from tests.test_admin import PASSWORD, fresh_admin_app
from tests.test_admin_record import submit
from tests.test_admin_record_logic import submit_followup
from tests.test_browser import browser  # noqa: F401  (shared fixture)
from tests.test_field_ready import screenshot

pytestmark = pytest.mark.slow
PI = "Ngozi Ọkafọr"
DESKTOP = {"width": 1280, "height": 900}
RAS = ["Đặng Thị Hương", "Zoë Müller", "Ngozi Okafor", "Aarav Sharma", "Siobhán Ní Bhriain"]


@pytest.fixture
def admin_web(app, database_url, engine, tmp_path):
    fresh_admin_app(database_url, engine, PASSWORD)   # no sessions or failed logins left over
    env = process_environment(DATABASE_URL=database_url, PORT=str(free_port()),
                              SECRET_KEY="browser-secret", WEB_CONCURRENCY="2",
                              ADMIN_PASSWORD=PASSWORD)
    with WebProcess(env, tmp_path / "web.log") as web:
        yield web


def signed_in_page(browser, web):  # noqa: F811
    """A PI's browser page, signed in under PI's name; script errors are collected."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(web.base_url + "/admin/")
    page.fill("#name", PI)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(web.base_url + "/admin/")
    assert f"Signed in as {PI}" in page.inner_text("#signed-in-as")
    # From here on: script errors and CSP refusals (the browser's own favicon request is no problem).
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("console", lambda m: page.problems.append(m.text) if m.type == "error"
            and not m.location.get("url", "").endswith("/favicon.ico") else None)
    return context, page


NOTES = [None, "Came with daughter; interpreter (Yoruba) present.", "Fasting sample taken at 08:10.",
         "Participant asked for a copy of the consent form."]
STATUSES = ["unreviewed"] * 5 + ["verified"] * 3 + ["query_open", "query_resolved"]


def other_rows(engine, count=40):
    """Realistic rows from several RAs over three weeks, some reviewed, as a study has them."""
    rng = random.Random(12)
    insert = text(
        "INSERT INTO intake (submission_id, submitted_at, form_version, entered_by, participant_id, "
        "site, visit_at, date_of_birth, age_years, weight_kg, smoker, conditions, notes, review_status) "
        "VALUES (gen_random_uuid(), :at, 'd41d8cd98f00', :ra, :pid, :site, :at, :born, :age, :kg, "
        ":smoker, :conditions, :notes, :status)")
    with engine.begin() as conn:
        for n in range(count):
            day = date.today() - timedelta(days=rng.randint(0, 20))
            conn.execute(insert, {
                "at": f"{day}T{rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}:00+00:00",
                "ra": rng.choice(RAS), "pid": f"P{1000 + n:04d}",
                "site": rng.choice(["north", "south", "mobile"]),
                "born": f"{rng.randint(1940, 2005)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                "age": rng.randint(21, 85), "kg": f"{rng.randint(450, 1100) / 10:.1f}",
                "smoker": rng.random() < .3,
                "conditions": rng.sample(["diabetes", "asthma", "hypertension"], rng.randint(0, 2)),
                "notes": rng.choice(NOTES), "status": rng.choice(STATUSES)})


def test_pi_opens_a_row_edits_it_with_a_reason_and_sees_the_history(  # noqa: F811
        browser, admin_web, app, engine, tmp_path):
    other_rows(engine)
    row_id = submit(app, engine, notes="Weighed in clothes; interpreter Ọlá present")
    context, page = signed_in_page(browser, admin_web)
    page.click("text=Participant intake")
    page.wait_for_url("**/admin/forms/intake")
    page.locator(f'a[href$="/admin/forms/intake/rows/{row_id}"]').first.click()
    page.wait_for_url(f"**/admin/forms/intake/rows/{row_id}")
    assert "Weighed in clothes" in page.inner_text("main")

    page.click("#edit-row")
    page.wait_for_url("**/edit")
    assert page.input_value("#f-weight_kg") == "72.5"
    assert page.is_checked("input[name=conditions][value=asthma]")
    page.fill("#f-weight_kg", "71.5")
    page.click("button:has-text('Save the correction')")          # no reason yet: the browser says so
    assert "Give the reason for the change" in page.inner_text("#reason-error")
    page.fill("#reason", "CRF page 2 says 71.5 kg — weighed after removing coat")
    page.click("button:has-text('Save the correction')")
    page.wait_for_url(f"**/rows/{row_id}#history")
    newest = page.locator(".history-entry").first.inner_text()
    assert "Corrected by " + PI in newest and "CRF page 2 says 71.5 kg" in newest
    assert "Weight (kg)\t72.5\t71.5" in newest

    page.check("input[name=_status][value=query_open]")
    page.fill("#review-note", "Date of birth 1990-05-01 but age 36 on the CRF: which is right?")
    page.click("button:has-text('Save the review status')")
    page.wait_for_url(f"**/rows/{row_id}")
    assert page.inner_text("#review-status") == "Query open"
    assert "which is right?" in page.locator(".history-entry").first.inner_text()
    screenshot(page, "admin-row-history", tmp_path)
    assert page.problems == []
    with engine.connect() as conn:
        weight = conn.execute(text("SELECT weight_kg::text FROM intake WHERE id = :id"), {"id": row_id})
        assert weight.scalar() == "71.5"
    context.close()


def test_the_forms_logic_runs_on_the_edit_page(browser, admin_web, app, engine):  # noqa: F811
    row_id = submit_followup(app, engine, date_of_birth="1980-01-15")
    context, page = signed_in_page(browser, admin_web)
    page.goto(f"{admin_web.base_url}/admin/forms/followup/rows/{row_id}/edit")
    assert page.is_visible("#f-cigarettes_per_day") and page.input_value("#f-bmi") == "22.4"
    page.check("input[name=smokes][value=false]")
    assert not page.is_visible("#f-cigarettes_per_day")            # skip logic, live
    page.fill("#f-weight_kg", "81.0")
    page.locator("#f-weight_kg").dispatch_event("change")
    assert page.input_value("#f-bmi") == "25.0"                    # calculation, live
    page.fill("#reason", "Stopped smoking; re-weighed")
    page.click("button:has-text('Save the correction')")
    page.wait_for_url(f"**/rows/{row_id}#history")
    assert "not shown" in page.inner_text("[data-field=cigarettes_per_day]")
    assert page.problems == []
    context.close()
