"""The rows page in a real Chromium: as wide as the window, the table scrolling sideways, filters.

With UPDATE_SCREENSHOTS=1 the README's screenshot docs/admin-rows.png is refreshed.
"""

import re

import pytest
from sqlalchemy import text

from tests.helpers import free_port
from tests.processes import WebProcess, process_environment
from tests.test_browser import browser  # noqa: F401  (shared fixture)
from tests.test_field_ready import screenshot

pytestmark = pytest.mark.slow
PASSWORD = "a long password only the PI knows"

# A month of entries by five RAs (one without an invite), some reviewed, notes short and long.
ROWS = """
INSERT INTO intake (submission_id, form_version, submitted_at, entered_by, review_status,
                    participant_id, site, visit_at, date_of_birth, age_years, weight_kg, smoker,
                    conditions, contact_email, notes)
SELECT gen_random_uuid(), 'v1', now() - interval '29 days' * (1 - g / 140.0) - interval '3 minutes',
       (ARRAY['Ngozi Ọkafọr', 'Zoë Müller', 'Đặng Thị Hương', 'Alice Ng', NULL])[1 + (g * 7) % 5],
       (ARRAY['unreviewed', 'unreviewed', 'unreviewed', 'verified', 'query_open',
              'query_resolved'])[1 + g % 6],
       'P' || lpad((g * 37 % 10000)::text, 4, '0'), (ARRAY['north', 'south', 'mobile'])[1 + g % 3],
       now() - interval '29 days' * (1 - g / 140.0) - interval '40 minutes',
       date '1950-01-01' + g * 97, 18 + g % 70, round(48 + (g % 90) / 1.7, 1), g % 4 = 0,
       CASE g % 3 WHEN 0 THEN ARRAY[]::text[] WHEN 1 THEN ARRAY['asthma']
                  ELSE ARRAY['diabetes', 'hypertension'] END,
       CASE WHEN g % 2 = 0 THEN 'p' || g || '@example.org' END,
       CASE WHEN g % 5 = 0 THEN 'Came with her daughter, who translated; asked to move the next '
                                'visit to a morning because of work. <b>Consent</b> re-read aloud.'
            WHEN g % 5 = 1 THEN 'Fasting.' END
FROM generate_series(1, 140) AS g"""


@pytest.fixture
def admin_web(app, database_url, engine, tmp_path):
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE admin_login_failures, admin_sessions"))
        conn.execute(text(ROWS))
    env = process_environment(DATABASE_URL=database_url, PORT=str(free_port()),
                              SECRET_KEY="browser-secret", ADMIN_PASSWORD=PASSWORD)
    with WebProcess(env, tmp_path / "web.log") as web:
        yield web


def test_a_data_manager_filters_and_scrolls_the_rows_of_a_form(browser, admin_web, tmp_path):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(admin_web.base_url + "/admin/")
    page.fill("#name", "Dr Ngozi Ọkafọr")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.click("text=Participant intake")
    screenshot(page, "admin-rows", tmp_path)
    assert page.locator("main").bounding_box()["width"] > 1200     # not held in 42rem
    box = page.locator(".scroll")
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")      # the table scrolls sideways
    assert page.locator("main").evaluate("m => m.scrollWidth <= m.clientWidth")  # the page does not
    header = page.locator("table.rows thead").inner_text()
    for label in ("Row", "Submitted", "Entered by", "Review", "Participant ID", "Clinic site",
                  "Diagnosed conditions"):
        assert label in header
    # A submitted time fits one line: no seconds, no microseconds, no wrapping.
    when = page.locator("table.rows td.when").first
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", when.inner_text())
    lines = """cell => { const range = document.createRange(); range.selectNodeContents(cell);
                          return new Set([...range.getClientRects()].map(r => r.top)).size; }"""
    assert when.evaluate(lines) == 1
    assert page.locator("table.rows td:nth-child(3)").first.evaluate(lines) == 1   # a name
    # The chart's last day label ends inside the drawing.
    label_end, width = page.evaluate("""() => {
        const svg = document.querySelector('svg.chart'), last = [...svg.querySelectorAll('text')].pop();
        const box = last.getBBox(); return [box.x + box.width, svg.viewBox.baseVal.width]; }""")
    assert label_end <= width

    page.select_option("#filter-ra", "Zoë Müller")
    page.select_option("#filter-status", "unreviewed")
    page.click("text=Apply")
    assert "ra=Zo%C3%AB+M%C3%BCller" in page.url and "status=unreviewed" in page.url
    entered = page.locator("table.rows tbody tr td:nth-child(3)").all_inner_texts()
    assert entered and set(entered) == {"Zoë Müller"}
    assert set(page.locator("table.rows .badge").all_inner_texts()) == {"Unreviewed"}
    first = page.locator("table.rows td.row-number a").first
    assert re.fullmatch(r"/admin/forms/intake/rows/\d+", first.get_attribute("href"))

    page.fill("#filter-q", "P9")
    page.click("text=Apply")
    assert "No rows match: entered by Zoë Müller, review status Unreviewed, Participant ID " \
           "starting with “P9”." in page.inner_text("main")
    page.click("text=Clear")
    assert page.url.endswith("/admin/forms/intake")
    context.close()
