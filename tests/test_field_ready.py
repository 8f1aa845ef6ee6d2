"""The RA's experience in a real Chromium: invite, a bad value, the fix, the confirmation.

Desktop and phone size; only this app's own requests; under 30 KB per form page;
every control labelled and reachable by keyboard. With UPDATE_SCREENSHOTS=1 the
screenshots in docs/ are refreshed.
"""

import os

import pytest
from sqlalchemy import text

from tests.helpers import invite_link, sign_in_in_browser
from tests.processes import PROJECT_ROOT
from tests.test_browser import browser, web  # noqa: F401  (shared fixtures)

pytestmark = pytest.mark.slow
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}
MAX_PAGE_BYTES = 30 * 1024


def screenshot(page, name, tmp_path):
    folder = PROJECT_ROOT / "docs" if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def fill_valid_except_participant(page):
    page.check("input[name=site][value=north]")
    page.fill("#f-visit_at", "2026-11-21T10:30")
    page.fill("#f-date_of_birth", "1990-05-01")
    page.fill("#f-age_years", "36")
    page.check("input[name=smoker][value=false]")


@pytest.mark.parametrize("size", SIZES)
def test_ra_fixes_a_bad_value_and_the_row_is_saved(browser, web, engine, tmp_path, size):  # noqa: F811
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    requests, weight = [], {}
    page.on("request", lambda request: requests.append(request.url))
    page.on("response", lambda response: weight.__setitem__(response.url, len(response.body()))
            if response.request.resource_type in ("document", "stylesheet", "script") else None)

    sign_in_in_browser(page, invite_link(engine, web.base_url, "Alice Ng"))
    page.click("text=Participant intake")
    page.wait_for_url("**/forms/intake")
    form_page = {url: size for url, size in weight.items() if url.endswith(
        ("/forms/intake", ".css", ".js"))}
    assert sum(form_page.values()) < MAX_PAGE_BYTES, form_page
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
    assert page.evaluate("""() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
        .every(c => c.labels.length > 0 && c.labels[0].textContent.trim())""")

    fill_valid_except_participant(page)
    page.fill("#f-participant_id", "P42")
    page.click("button[type=submit]")
    error = page.locator("#f-participant_id-error")
    assert error.inner_text() == "Use the expected format: P followed by four digits, e.g. P0042."
    assert page.evaluate("document.activeElement.id") == "f-participant_id"
    assert "f-participant_id-error" in page.get_attribute("#f-participant_id", "aria-describedby")
    screenshot(page, f"form-{size}", tmp_path)

    page.fill("#f-participant_id", "P0042")
    page.click("button[type=submit]")
    page.wait_for_url("**/forms/intake/saved/*")
    assert "is saved in the database" in page.inner_text("main")
    if size == "desktop":
        screenshot(page, "confirmation", tmp_path)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT participant_id, entered_by FROM intake")).one()
    assert tuple(row) == ("P0042", "Alice Ng")
    assert all(url.startswith(web.base_url) for url in requests), "no third-party request"
    context.close()


def test_keyboard_alone_reaches_every_control_and_submits(browser, web, engine):  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    sign_in_in_browser(page, invite_link(engine, web.base_url))
    page.goto(web.base_url + "/forms/intake")
    order = []
    page.keyboard.press("Tab")
    for _ in range(40):
        order.append(page.evaluate("document.activeElement.name || document.activeElement.type"))
        if order[-1] == "submit":
            break
        page.keyboard.press("Tab")
    fields = ["participant_id", "site", "visit_at", "date_of_birth", "age_years", "weight_kg",
              "smoker", "conditions", "contact_email", "notes"]
    assert [name for name in dict.fromkeys(order) if name in fields] == fields
    assert order[-1] == "submit"

    page.focus("#f-participant_id")
    page.keyboard.type("P0042")
    page.keyboard.press("Tab")            # into the site radios
    page.keyboard.press("ArrowDown")      # arrow keys choose within a radio group
    page.fill("#f-visit_at", "2026-11-21T10:30")    # native pickers; typed segments vary by locale
    page.fill("#f-date_of_birth", "1990-05-01")
    page.focus("#f-age_years")
    page.keyboard.type("36")
    page.focus("input[name=smoker][value=true]")
    page.keyboard.press("Space")
    page.focus("input[name=conditions][value=asthma]")
    page.keyboard.press("Space")
    page.focus("#f-notes")
    page.keyboard.type("typed by keyboard")
    page.focus("#f-contact_email")
    page.keyboard.press("Enter")           # Enter in a text input submits the form
    page.wait_for_url("**/saved/*")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT site, smoker, conditions, notes FROM intake")).one()
    assert tuple(row) == ("south", True, ["asthma"], "typed by keyboard")
    context.close()
