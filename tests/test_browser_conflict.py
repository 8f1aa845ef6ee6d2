"""In Chromium: the first send landed but its answer was lost; the RA fixes a typo and sends again."""

from tests.test_browser import browser, drafts, fill_intake, signed_in_context, stored, web  # noqa: F401

pytestmark = __import__("pytest").mark.slow


def test_a_correction_after_a_lost_answer_is_shown_as_a_conflict(browser, web, engine):  # noqa: F811
    context = signed_in_context(browser, web, engine)
    page = context.new_page()
    page.goto(web.base_url + "/forms/intake")
    first_id = page.input_value("input[name=submission_id]")
    fill_intake(page)

    def lose_the_answer(route):
        route.fetch()        # the server receives the entry and saves it ...
        route.abort()        # ... but the signal drops before its answer arrives
    page.route("**/forms/intake", lose_the_answer)
    page.click("button[type=submit]")
    page.wait_for_selector("#draft-status:has-text('there is no connection')")
    page.unroute("**/forms/intake")
    assert stored(engine) == [(first_id, "south", "Entered offline")]

    page.fill("#f-notes", "Entered offline, Ηλίας corrected")     # the RA fixes a typo
    page.click("button[type=submit]")
    page.wait_for_selector("#conflict")
    text = page.inner_text("#conflict")
    assert "Not saved: this entry was already saved with other values" in text
    assert "Entered offline\tEntered offline, Ηλίας corrected" in text
    assert stored(engine) == [(first_id, "south", "Entered offline")]     # nothing overwritten
    # The new values are in the form under a new reference; the old draft is settled.
    new_id = page.input_value("input[name=submission_id]")
    assert new_id != first_id and page.input_value("#f-notes") == "Entered offline, Ηλίας corrected"
    assert drafts(page) == [f"collector:draft:intake:{new_id}"]
    # Opening the form again offers the corrected entry under its new reference only.
    page.goto(web.base_url + "/forms/intake")
    page.wait_for_selector("#draft-restore:visible")
    page.click("[data-restore]")
    assert page.input_value("input[name=submission_id]") == new_id
    assert page.input_value("#f-notes") == "Entered offline, Ηλίας corrected"
    context.close()
