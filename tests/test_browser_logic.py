"""The follow-up form (forms/followup.toml) in a real Chromium: skip logic, live calculations,
rule messages, one page per section, drafts, a phone's width, and the same form without JavaScript."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from tests.test_browser import browser, drafts, signed_in_context, web  # noqa: F401

pytestmark = pytest.mark.slow
PHONE = {"width": 360, "height": 740}
# The visit is yesterday in the form's zone (the form refuses future visits and any before 2026).
VISIT = (datetime.now(ZoneInfo("Europe/London")).date() - timedelta(days=1)).isoformat()
AGE = str(int(VISIT[:4]) - 1990 - (VISIT[5:] < "05-01"))


def open_followup(browser, web, engine, **options):  # noqa: F811
    context = signed_in_context(browser, web, engine, **options)
    page = context.new_page()
    page.goto(web.base_url + "/forms/followup")
    return context, page


def current_page(page):
    return page.evaluate("document.querySelector('.form-section.current h2').textContent")


def visible(page, selector):
    return page.locator(selector).is_visible()


def fill_visit(page):
    page.fill("#f-participant_id", "P0042")
    page.fill("#f-visit_date", VISIT)
    page.fill("#f-date_of_birth", "1990-05-01")


def fill_body(page):
    page.fill("#f-height_cm", "172.5")
    page.fill("#f-weight_kg", "70.1")
    page.locator("#f-weight_kg").dispatch_event("change")


def row(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT participant_id, age_at_visit, bmi::text, smokes, cigarettes_per_day, "
                                 "quit_attempts, new_diagnosis, diagnosis_other, diagnosed_on, notes "
                                 "FROM followup")).one()


def test_pages_skip_logic_calculations_and_rules_then_one_row(browser, web, engine):  # noqa: F811
    context = signed_in_context(browser, web, engine, viewport=PHONE)
    page = context.new_page()
    problems = []   # script errors, and anything the CSP refuses, show up here
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.goto(web.base_url + "/forms/followup")
    submission_id = page.input_value("input[name=submission_id]")
    assert current_page(page) == "Visit"
    assert page.inner_text(".page-status") == "Page 1 of 4"
    assert not visible(page, "[data-page-back]") and not visible(page, "button[type=submit]")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.click("[data-page-next]")                       # nothing typed: Next checks this page only
    assert current_page(page) == "Visit"
    assert page.inner_text("#f-participant_id-error") == "Enter a value."
    assert page.evaluate("document.activeElement.id") == "f-participant_id"

    fill_visit(page)
    page.locator("#f-date_of_birth").dispatch_event("change")
    assert page.input_value("#f-age_at_visit") == AGE     # calculated live, read-only, never sent
    assert page.get_attribute("#f-age_at_visit", "readonly") is not None
    assert page.get_attribute("#f-age_at_visit", "name") is None

    page.fill("#f-date_of_birth", VISIT)                  # a cross-field rule breaks: said at once
    page.locator("#f-date_of_birth").dispatch_event("change")
    assert page.inner_text("#f-date_of_birth-error") == "The date of birth must be before the visit date."
    page.click("[data-page-next]")
    assert current_page(page) == "Visit"
    page.fill("#f-date_of_birth", "1990-05-01")           # fixed: the message goes as it is typed
    assert page.inner_text("#f-date_of_birth-error") == ""
    page.click("[data-page-next]")

    assert current_page(page) == "Measurements"
    assert page.evaluate("document.activeElement.textContent") == "Measurements"
    page.fill("#f-height_cm", "100")
    page.fill("#f-weight_kg", "300")
    page.locator("#f-weight_kg").dispatch_event("change")
    assert page.input_value("#f-bmi") == "300.0"
    assert page.inner_text("#f-bmi-error") == ("Calculated as 300.0: Enter at most 80. "
                                              "Check the answers it is calculated from.")
    page.click("[data-page-next]")
    assert current_page(page) == "Measurements" and page.evaluate("document.activeElement.id") == "f-bmi"
    fill_body(page)
    assert page.input_value("#f-bmi") == "23.6" and page.inner_text("#f-bmi-error") == ""
    page.click("[data-page-back]")
    assert current_page(page) == "Visit" and page.input_value("#f-participant_id") == "P0042"
    page.click("[data-page-next]")
    page.click("[data-page-next]")

    assert current_page(page) == "Smoking"
    assert not visible(page, "#f-cigarettes_per_day")      # unknown until answered: hidden
    page.check("input[name=smokes][value=true]")
    assert visible(page, "#f-cigarettes_per_day")
    assert page.evaluate("document.getElementById('f-cigarettes_per_day').required")
    page.fill("#f-cigarettes_per_day", "12")
    page.fill("#f-quit_attempts", "60")
    page.locator("#f-quit_attempts").dispatch_event("change")
    assert page.inner_text("#f-quit_attempts-error") == "At most one attempt a week: enter 52 or fewer."
    page.check("input[name=smokes][value=false]")         # hidden again: emptied and disabled
    assert not visible(page, "#f-cigarettes_per_day") and not visible(page, "#f-quit_attempts")
    assert page.evaluate("""() => ['f-cigarettes_per_day', 'f-quit_attempts'].map(id => {
        const c = document.getElementById(id); return [c.value, c.disabled, c.required]; })""") == [
        ["", True, False], ["", True, False]]
    page.check("input[name=smokes][value=true]")          # asked again: empty, the old message gone
    assert page.input_value("#f-cigarettes_per_day") == "" and page.inner_text("#f-quit_attempts-error") == ""
    page.fill("#f-cigarettes_per_day", "12")
    page.locator("#f-cigarettes_per_day").press("Enter")   # Enter on an early page means Next
    assert current_page(page) == "New diagnosis"
    assert visible(page, "button[type=submit]") and not visible(page, "[data-page-next]")

    assert not visible(page, "#f-diagnosis_other") and not visible(page, "#f-diagnosed_on")
    page.check("input[name=new_diagnosis][value=other]")
    page.fill("#f-diagnosis_other", "Gicht (Ärztin: Dr. Ñúñez)")
    page.fill("#f-diagnosed_on", "1980-01-01")
    page.locator("#f-diagnosed_on").dispatch_event("change")
    assert page.inner_text("#f-diagnosed_on-error") == ("The diagnosis date must be between the date of "
                                                       "birth and the visit date.")
    page.click("button[type=submit]")                      # refused in the browser: nothing sent
    assert page.evaluate("document.activeElement.id") == "f-diagnosed_on"
    page.fill("#f-diagnosed_on", VISIT)
    page.check("input[name=new_diagnosis][value=diabetes]")  # "which?" is hidden and emptied
    assert page.evaluate("document.getElementById('f-diagnosis_other').value") == ""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.click("button[type=submit]")
    page.wait_for_url(f"**/forms/followup/saved/{submission_id}")
    assert tuple(row(engine)) == ("P0042", int(AGE), "23.6", True, 12, None, "diabetes", None,
                                  datetime.fromisoformat(VISIT).date(), None)
    assert problems == []
    context.close()


def test_a_server_refusal_opens_the_page_of_the_first_problem(browser, web, engine):  # noqa: F811
    context, page = open_followup(browser, web, engine)
    fill_visit(page)
    page.click("[data-page-next]")
    fill_body(page)
    page.click("[data-page-next]")
    page.check("input[name=smokes][value=true]")
    page.fill("#f-cigarettes_per_day", "12")
    page.click("[data-page-next]")
    page.check("input[name=new_diagnosis][value=none]")

    # A problem on an earlier page (an autofill tool emptied it): Submit opens that page.
    page.evaluate("document.getElementById('f-participant_id').value = 'p42'")
    page.click("button[type=submit]")
    assert current_page(page) == "Visit" and page.evaluate("document.activeElement.id") == "f-participant_id"
    assert page.inner_text("#f-participant_id-error").startswith("Use the expected format")
    page.fill("#f-participant_id", "P0042")
    for _ in range(3):
        page.click("[data-page-next]")

    # The server finds what the browser could not (here: a body changed on the way).
    def tamper(route):   # drafts.js sends multipart; its fallback post is urlencoded
        body = route.request.post_data.replace('name="cigarettes_per_day"\r\n\r\n12\r\n',
                                               'name="cigarettes_per_day"\r\n\r\n900\r\n')
        route.continue_(post_data=body.replace("cigarettes_per_day=12&", "cigarettes_per_day=900&"))
    page.route("**/forms/followup", tamper)
    page.click("button[type=submit]")
    page.wait_for_selector(".error-summary")
    assert current_page(page) == "Smoking"
    assert page.evaluate("document.activeElement.id") == "f-cigarettes_per_day"
    assert page.inner_text("#f-cigarettes_per_day-error") == "Enter at most 200."
    assert page.input_value("#f-bmi") == "23.6"            # the server's calculation, shown back
    assert page.input_value("#f-age_at_visit") == AGE
    page.unroute("**/forms/followup")
    page.click("[data-page-back]")
    page.click(".error-summary a")                          # its list opens the page of the field
    assert current_page(page) == "Smoking"
    context.close()


def test_a_draft_restores_every_page_and_the_logic_runs_again(browser, web, engine):  # noqa: F811
    context, page = open_followup(browser, web, engine)
    first_id = page.input_value("input[name=submission_id]")
    fill_visit(page)
    page.click("[data-page-next]")
    fill_body(page)
    page.click("[data-page-next]")
    page.check("input[name=smokes][value=true]")
    page.fill("#f-cigarettes_per_day", "7")
    page.click("[data-page-next]")
    page.check("input[name=new_diagnosis][value=other]")
    page.fill("#f-diagnosis_other", "Asthma, seit 2025")
    page.fill("#f-diagnosed_on", VISIT)
    context.set_offline(True)
    page.click("button[type=submit]")
    page.wait_for_selector("#draft-status:has-text('there is no connection')")
    page.close()

    context.set_offline(False)
    page = context.new_page()
    page.goto(web.base_url + "/forms/followup")
    assert page.input_value("#f-bmi") == "" and not visible(page, "#f-cigarettes_per_day")
    page.wait_for_selector("#draft-restore:visible")
    page.click("[data-restore]")
    assert page.input_value("input[name=submission_id]") == first_id
    assert page.input_value("#f-age_at_visit") == AGE and page.input_value("#f-bmi") == "23.6"
    assert page.input_value("#f-cigarettes_per_day") == "7"
    assert page.evaluate("document.getElementById('f-diagnosis_other').disabled") is False
    assert page.input_value("#f-diagnosis_other") == "Asthma, seit 2025"
    assert current_page(page) == "Visit"
    for _ in range(3):
        page.click("[data-page-next]")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/saved/{first_id}")
    assert row(engine)[4:8] == (7, None, "other", "Asthma, seit 2025")
    assert drafts(page) == []
    context.close()


def test_without_javascript_every_field_and_section_is_there(browser, web, engine):  # noqa: F811
    context, page = open_followup(browser, web, engine, java_script_enabled=False, viewport=PHONE)
    submission_id = page.input_value("input[name=submission_id]")
    for title in ("Visit", "Measurements", "Smoking", "New diagnosis"):
        assert page.locator(f"section h2:text-is('{title}')").is_visible()
    for name in ("participant_id", "age_at_visit", "bmi", "cigarettes_per_day", "quit_attempts",
                 "diagnosis_other", "diagnosed_on", "notes"):
        assert visible(page, f"#f-{name}"), name
    assert not visible(page, ".pager")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    fill_visit(page)
    fill_body(page)
    page.check("input[name=smokes][value=false]")
    page.fill("#f-cigarettes_per_day", "5")                # not asked of a non-smoker: dropped
    page.check("input[name=new_diagnosis][value=none]")
    page.click("button[type=submit]")                       # no `required` on a field that may be hidden
    page.wait_for_url(f"**/saved/{submission_id}")
    assert tuple(row(engine))[1:6] == (int(AGE), "23.6", False, None, None)
    context.close()


def test_without_javascript_the_server_shows_its_calculations_and_messages(browser, web, engine):  # noqa: F811
    context, page = open_followup(browser, web, engine, java_script_enabled=False)
    fill_visit(page)
    page.fill("#f-height_cm", "100")
    page.fill("#f-weight_kg", "300")
    page.check("input[name=smokes][value=true]")
    page.check("input[name=new_diagnosis][value=none]")
    page.click("button[type=submit]")
    page.wait_for_selector(".error-summary")
    assert page.input_value("#f-bmi") == "300.0" and page.input_value("#f-age_at_visit") == AGE
    assert page.inner_text("#f-bmi-error").startswith("Calculated as 300.0: Enter at most 80.")
    assert page.inner_text("#f-cigarettes_per_day-error") == "Enter a value."
    context.close()
