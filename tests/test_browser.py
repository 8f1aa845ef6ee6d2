"""The form page in a real Chromium: drafts survive going offline and failed saves."""

import os
import shutil

import pytest
from sqlalchemy import text

from tests.helpers import free_port, invite_link, sign_in_in_browser
from tests.processes import WebProcess, process_environment

CHROMIUM = "/usr/bin/chromium"
# Flags for a sandbox with no internet: no background fetches, no first-run work.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); CI always runs these")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def web(app, database_url, tmp_path):
    env = process_environment(DATABASE_URL=database_url, PORT=str(free_port()),
                              SECRET_KEY="browser-secret", WEB_CONCURRENCY="2")
    with WebProcess(env, tmp_path / "web.log") as web:
        yield web


def signed_in_context(browser, web, engine, **options):
    """A browser context that has opened an RA's invite link."""
    context = browser.new_context(**options)
    page = context.new_page()
    sign_in_in_browser(page, invite_link(engine, web.base_url),
                       javascript=options.get("java_script_enabled", True))
    assert "Signed in as" in page.inner_text("main")
    page.close()
    return context


def fill_intake(page):
    page.fill("#f-participant_id", "P0042")
    page.check("input[name=site][value=south]")
    page.fill("#f-visit_at", "2026-11-21T10:30")
    page.fill("#f-date_of_birth", "1990-05-01")
    page.fill("#f-age_years", "36")
    page.fill("#f-weight_kg", "72.5")
    page.check("input[name=smoker][value=false]")
    page.check("input[name=conditions][value=asthma]")
    page.fill("#f-notes", "Entered offline")


def drafts(page):
    return page.evaluate("""() => Object.keys(localStorage)
        .filter(k => k.startsWith('collector:draft:intake:'))""")


def stored(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT submission_id::text, site, notes FROM intake")).all()


def submit_offline(browser, web, engine):
    """Open the form, fill it, lose the signal, press Submit; return (context, page, id)."""
    context = signed_in_context(browser, web, engine)
    page = context.new_page()
    page.goto(web.base_url + "/forms/intake")
    submission_id = page.input_value("input[name=submission_id]")
    fill_intake(page)
    assert drafts(page) == [f"collector:draft:intake:{submission_id}"]
    context.set_offline(True)
    page.click("button[type=submit]")
    page.wait_for_selector("#draft-status:has-text('there is no connection')")
    return context, page, submission_id


def test_offline_submit_keeps_the_draft_and_retry_saves_once(browser, web, engine):
    context, page, submission_id = submit_offline(browser, web, engine)
    assert "kept on this device" in page.inner_text("#draft-status")
    assert drafts(page) and stored(engine) == []

    context.set_offline(False)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/forms/intake/saved/{submission_id}")
    assert "is saved in the database" in page.inner_text("main")
    assert drafts(page) == []
    assert stored(engine) == [(submission_id, "south", "Entered offline")]
    context.close()


def test_draft_from_a_closed_tab_is_offered_back_with_its_reference(browser, web, engine):
    context, page, first_id = submit_offline(browser, web, engine)
    page.close()                          # the RA gives up and closes the tab

    context.set_offline(False)
    page = context.new_page()
    page.goto(web.base_url + "/forms/intake")
    page.wait_for_selector("#draft-restore:visible")
    page.click("[data-restore]")
    assert page.input_value("input[name=submission_id]") == first_id
    assert page.input_value("#f-participant_id") == "P0042"
    assert page.is_checked("input[name=conditions][value=asthma]")
    page.click("button[type=submit]")
    page.wait_for_url(f"**/saved/{first_id}")
    assert stored(engine) == [(first_id, "south", "Entered offline")]
    assert drafts(page) == []
    context.close()


def test_a_held_submission_keeps_the_draft_until_really_saved(browser, web, engine):
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE intake ADD CONSTRAINT browser_too_strict CHECK (age_years < 30)"))
    context = signed_in_context(browser, web, engine)
    page = context.new_page()
    try:
        page.goto(web.base_url + "/forms/intake")
        submission_id = page.input_value("input[name=submission_id]")
        fill_intake(page)
        page.click("button[type=submit]")
        page.wait_for_selector("#draft-status:has-text('HTTP 503')")
        assert drafts(page) and stored(engine) == []
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE intake DROP CONSTRAINT browser_too_strict"))
    page.click("button[type=submit]")
    page.wait_for_url(f"**/saved/{submission_id}")
    assert len(stored(engine)) == 1 and drafts(page) == []
    assert f'"submission_id": "{submission_id}"' in web.stdout()  # it was held, then saved
    context.close()


def test_form_works_with_javascript_off(browser, web, engine):
    context = signed_in_context(browser, web, engine, java_script_enabled=False)
    page = context.new_page()
    page.goto(web.base_url + "/forms/intake")
    submission_id = page.input_value("input[name=submission_id]")
    fill_intake(page)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/saved/{submission_id}")
    assert stored(engine) == [(submission_id, "south", "Entered offline")]
    context.close()
