"""The PI's area: off without a password, rate-limited login, counts, chart, keyset pages, CSV."""

import csv
import io
import re
from html import unescape

import pytest
from sqlalchemy import text

from tests.conftest import make_app

PASSWORD = "correct horse battery staple"


def fresh_admin_app(database_url, engine, password):
    """An app with /admin on under `password`, no failed logins or PI sessions left over."""
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE admin_login_failures, admin_sessions"))
    return make_app(database_url, ADMIN_PASSWORD=password)


@pytest.fixture
def admin_app(app, database_url, engine):
    return fresh_admin_app(database_url, engine, PASSWORD)


PI_NAME = "Ngozi Ọkafọr"


def login(client, password=PASSWORD, name=PI_NAME):
    """Sign in as the PI does: the name every change is recorded under, and the password."""
    token = _csrf(client.get("/admin/").get_data(as_text=True))
    return client.post("/admin/login", data={"name": name, "password": password, "csrf_token": token})


def _csrf(html):
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def add_rows(engine, count, **values):
    """Insert `count` valid intake rows straight into the table."""
    row = {"participant_id": "P0001", "site": "north", "visit_at": "2026-05-01T10:00:00Z",
           "date_of_birth": "1990-01-01", "age_years": 30, "smoker": True, "entered_by": "Alice Ng",
           "notes": None} | values
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO intake (submission_id, form_version, participant_id, site, visit_at, "
            "date_of_birth, age_years, smoker, entered_by, notes) SELECT gen_random_uuid(), 't', "
            ":participant_id, :site, :visit_at, :date_of_birth, :age_years, :smoker, :entered_by, "
            ":notes FROM generate_series(1, :count)"), row | {"count": count})


def test_admin_does_not_exist_without_a_password(client):
    assert client.get("/admin/").status_code == 404
    assert client.post("/admin/login", data={"password": ""}).status_code in (400, 404)


def test_login_then_dashboard_shows_counts_and_latest(admin_app, engine):
    add_rows(engine, 3)
    client = admin_app.test_client()
    page = client.get("/admin/")
    assert page.status_code == 401 and 'type="password"' in page.get_data(as_text=True)
    assert login(client, "wrong").status_code == 401
    assert login(client).status_code == 303
    html = client.get("/admin/").get_data(as_text=True)
    assert "Participant intake" in html and '<td class="num">3</td>' in html
    intake_row = html[html.index("Participant intake"):].split("</tr>")[0]
    assert "none yet" not in intake_row
    # The follow-up form has no rows yet and says so.
    assert "none yet" in html[html.index("Follow-up visit"):].split("</tr>")[0]


def test_failed_logins_are_limited_across_processes(admin_app, database_url):
    # Two app instances stand for two gunicorn workers: the limit must hold across both.
    other_worker = make_app(database_url, ADMIN_PASSWORD=PASSWORD)
    for attempt in range(10):
        client = (admin_app if attempt % 2 else other_worker).test_client()
        assert login(client, f"guess {attempt}").status_code == 401
    blocked = login(admin_app.test_client())  # even the right password waits now
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.get_data(as_text=True)


def test_form_page_has_a_chart_per_ra_and_keyset_pages(admin_app, engine):
    add_rows(engine, 70, entered_by="Alice Ng", visit_at="2026-05-01T10:00:00Z")
    add_rows(engine, 50, entered_by=None)
    client = admin_app.test_client()
    login(client)
    first = client.get("/admin/forms/intake").get_data(as_text=True)
    assert first.count("<rect ") >= 2 and "<svg" in first and "<script" not in first
    assert "Alice Ng</li>" in first and "(no invite)</li>" in first
    assert "<td>Alice Ng</td><td class=\"num\">70</td>" in first
    # 70 rows share one submitted_at (one statement), so the pages rest on the row number too.
    assert row_numbers(first) == list(range(120, 70, -1))
    second = client.get(older_link(first)).get_data(as_text=True)
    assert row_numbers(second) == list(range(70, 20, -1)) and "<svg" not in second
    third = client.get(older_link(second)).get_data(as_text=True)
    assert row_numbers(third) == list(range(20, 0, -1))
    assert "Older rows</a>" not in third and "Newest</a>" in third


def row_numbers(html):
    """Return the row numbers of the rows table, in page order."""
    return [int(n) for n in re.findall(r'<td class="row-number"><a href="[^"]+">(\d+)</a>', html)]


def older_link(html):
    return unescape(re.search(r'<a href="([^"]+)">Older rows</a>', html).group(1))


def test_stored_markup_is_shown_escaped(admin_app, engine):
    add_rows(engine, 1, notes='<img src=x onerror="alert(1)">', entered_by="<b>Eve</b>")
    client = admin_app.test_client()
    login(client)
    html = client.get("/admin/forms/intake").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert "<b>Eve</b>" not in html and "&lt;b&gt;Eve&lt;/b&gt;" in html


def test_csv_download_is_exact_by_default_and_defused_for_excel(admin_app, engine):
    add_rows(engine, 1, notes="=HYPERLINK(\"http://evil\")", entered_by="@alice")
    add_rows(engine, 1, notes="-5 is fine as text", participant_id="P0002")
    client = admin_app.test_client()
    login(client)
    exact = client.get("/admin/forms/intake/export.csv")
    assert exact.status_code == 200 and exact.mimetype == "text/csv"
    assert "attachment" in exact.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(exact.get_data(as_text=True))))
    assert [r["notes"] for r in rows] == ['=HYPERLINK("http://evil")', "-5 is fine as text"]
    safe = client.get("/admin/forms/intake/export.csv?excel_safe=1").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(safe)))
    assert [r["notes"] for r in rows] == ["'=HYPERLINK(\"http://evil\")", "'-5 is fine as text"]
    assert rows[0]["entered_by"] == "'@alice" and rows[0]["age_years"] == "30"
    assert client.get("/admin/forms/nope/export.csv").status_code == 404


def test_admin_pages_need_the_login(admin_app):
    client = admin_app.test_client()
    for path in ("/admin/", "/admin/forms/intake", "/admin/forms/intake/export.csv"):
        response = client.get(path)
        assert response.status_code == 401 and response.mimetype == "text/html"
        assert 'type="password"' in response.get_data(as_text=True)
