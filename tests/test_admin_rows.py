"""The PI's rows page: each filter alone and together, keyset pages with ties, hostile input."""

import base64
import random
import re
from datetime import date, datetime, timedelta, timezone
from html import unescape

import pytest
from sqlalchemy import text

from collector.db import row_filters, rows
from tests.test_admin import PASSWORD, fresh_admin_app, login

UTC = timezone.utc
RAS = ["Ngozi Ọkafọr", "Zoë Müller", "Đặng Thị Hương", "'; DROP TABLE intake; --", None]
STATUSES = ["unreviewed", "unreviewed", "verified", "query_open", "query_resolved"]
KEYS = ["P0042", "P0043", "P0420", "P%_1", "P_%2", "P\\x3"]
START = datetime(2026, 3, 25, 23, 30, tzinfo=UTC)   # around London's change to summer time


def insert(engine, rows_):
    """Insert intake rows given as dicts of id-less column values."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO intake (submission_id, form_version, submitted_at, entered_by, review_status,"
            " participant_id, site, visit_at, date_of_birth, age_years, smoker, conditions, notes)"
            " VALUES (gen_random_uuid(), 't', :submitted_at, :entered_by, :review_status,"
            " :participant_id, :site, :visit_at, '1990-01-01', :age_years, :smoker, :conditions,"
            " :notes)"), [{"site": "north", "visit_at": "2026-05-01T09:00:00Z", "age_years": 30,
                           "smoker": False, "conditions": [], "notes": None} | r for r in rows_])


@pytest.fixture
def table_rows(app, engine):
    """300 rows over 6 days, several sharing one submitted_at; returns them as inserted (id order)."""
    chance = random.Random(12)
    made = []
    for n in range(300):
        made.append({"submitted_at": START + timedelta(hours=(n // 3) * 1.5),  # threes share a time
                     "entered_by": chance.choice(RAS), "review_status": chance.choice(STATUSES),
                     "participant_id": chance.choice(KEYS)})
    insert(engine, made)
    for number, row in enumerate(made, 1):
        row["id"] = number
    return made


def expected(made, ra=None, status=None, since=None, until=None, prefix=None):
    """The ids the filters must return, newest first, computed here without SQL."""
    zone = __import__("zoneinfo").ZoneInfo("Europe/London")
    keep = [r for r in made
            if (ra is None or r["entered_by"] == (None if ra == row_filters.NO_INVITE else ra))
            and (status is None or r["review_status"] == status)
            and (since is None or r["submitted_at"].astimezone(zone).date() >= since)
            and (until is None or r["submitted_at"].astimezone(zone).date() <= until)
            and (prefix is None or r["participant_id"].startswith(prefix))]
    return [r["id"] for r in sorted(keep, key=lambda r: (r["submitted_at"], r["id"]), reverse=True)]


def every_page(conn, spec, table, filters, size):
    """Follow the cursors from the newest page to the last; return all ids in order."""
    ids, cursor = [], None
    while True:
        page = rows.page(conn, spec, table, filters, cursor, size=size)
        ids += [row["id"] for row in page.rows]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


@pytest.mark.parametrize("args", [
    {}, {"ra": "Ngozi Ọkafọr"}, {"ra": row_filters.NO_INVITE}, {"ra": "'; DROP TABLE intake; --"},
    {"status": "verified"}, {"status": "unreviewed"}, {"from": "2026-03-27"}, {"to": "2026-03-26"},
    {"from": "2026-03-26", "to": "2026-03-28"}, {"q": "P004"}, {"q": "P%"}, {"q": "P_"},
    {"q": "P\\"}, {"ra": "Zoë Müller", "status": "query_open", "from": "2026-03-26", "q": "P0"},
])
@pytest.mark.parametrize("size", [7, 50])
def test_each_filter_alone_and_together_pages_through_exactly_the_right_rows(
        app, engine, table_rows, args, size):
    spec, table = app.extensions["collector"].get("intake")
    filters = row_filters.parse_filters(spec, args)
    want = expected(table_rows, ra=args.get("ra"), status=args.get("status"),
                    since=args.get("from") and date.fromisoformat(args["from"]),
                    until=args.get("to") and date.fromisoformat(args["to"]), prefix=args.get("q"))
    with engine.connect() as conn:
        got = every_page(conn, spec, table, filters, size)
    assert got == want and len(set(got)) == len(got)
    assert want or args.get("q") == "P\\"  # each case but one finds rows (the fixture's mix)


def test_the_date_range_is_in_the_forms_time_zone(app, engine):
    # 23:30 UTC on 31 March is 00:30 on 1 April in London (summer time).
    insert(engine, [{"submitted_at": datetime(2026, 3, 31, 23, 30, tzinfo=UTC),
                     "entered_by": "Zoë Müller", "review_status": "unreviewed",
                     "participant_id": "P0001"}])
    spec, table = app.extensions["collector"].get("intake")
    with engine.connect() as conn:
        april = rows.page(conn, spec, table, row_filters.parse_filters(spec, {"from": "2026-04-01"}))
        march = rows.page(conn, spec, table, row_filters.parse_filters(spec, {"to": "2026-03-31"}))
        everything = rows.page(conn, spec, table, row_filters.parse_filters(
            spec, {"from": "0001-01-01", "to": "9999-12-31"}))
    assert len(april.rows) == 1 and march.rows == [] and len(everything.rows) == 1


@pytest.fixture
def pi(admin_app_for_rows):
    client = admin_app_for_rows.test_client()
    assert login(client).status_code == 303
    return client


@pytest.fixture
def admin_app_for_rows(app, database_url, engine):
    return fresh_admin_app(database_url, engine, PASSWORD)


def cursor_of(raw):
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("query, message", [
    ("after=garbage!", "This page link is damaged"),
    ("after=" + cursor_of("12.not a time"), "This page link is damaged"),
    ("after=" + cursor_of("12.2026-05-01T10:00:00"), "This page link is damaged"),  # no offset
    ("after=" + cursor_of("99999999999999999999.2026-05-01T10:00:00+00:00"), "damaged"),
    ("after=" + cursor_of("12.2026-99-99 10:00:00+00 BC"), "This page link is damaged"),
    ("after=" + "A" * 5000, "This page link is damaged"),
    ("from=2026-02-30", "From: &#39;2026-02-30&#39; is not a date"),
    ("to=yesterday", "To: &#39;yesterday&#39; is not a date"),
    ("from=2026-05-02&to=2026-05-01", "The From date (2026-05-02) is after the To date"),
    ("status=approved", "There is no review status &#39;approved&#39;"),
    ("q=P00%00", "contains a NUL character"),
    ("ra=Zo%00e", "contains a NUL character"),
])
def test_a_bad_page_link_or_filter_is_a_clear_400(pi, table_rows, query, message):
    page = pi.get(f"/admin/forms/intake?{query}")
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and message in html, html[-3000:]
    assert '<table class="data rows">' not in html and "Show the newest rows" in html


@pytest.mark.parametrize("query", [
    "q=%25", "q=_", "q=%27%3B+DROP+TABLE+intake%3B+--", "q=" + "Ω" * 10_000,
    "ra=" + "x" * 10_000, "ra=Ngozi+%E1%BB%8Ckaf%E1%BB%8Dr", "q=%5C", "q=P%25%25",
    "from=0001-01-01&to=9999-12-31", "after=" + cursor_of("1.infinity"),
])
def test_hostile_filter_values_are_only_ever_values(pi, engine, table_rows, query):
    page = pi.get(f"/admin/forms/intake?{query}")
    assert page.status_code == 200, page.get_data(as_text=True)[-2000:]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM intake")).scalar() == 300


def test_a_number_key_is_searched_by_its_exact_value(tmp_path, database_url, engine):
    (tmp_path / "weigh.toml").write_text(
        'title = "Weigh"\n[[fields]]\nname = "note"\ntype = "long_text"\n'
        '[[fields]]\nname = "box"\ntype = "integer"\n')
    from collector.db.migrate import create_all
    from tests.conftest import make_app
    app = make_app(database_url, FORMS_DIR=str(tmp_path), ADMIN_PASSWORD=PASSWORD)
    create_all(engine, app.extensions["collector"])
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO weigh (submission_id, form_version, box) "
                              "SELECT gen_random_uuid(), 't', g FROM generate_series(1, 30) g"))
        client = app.test_client()
        login(client)
        found = client.get("/admin/forms/weigh?q=12").get_data(as_text=True)
        assert re.findall(r'rows/(\d+)">', found) == ["12"]   # not 1 or 120: exact
        refused = client.get("/admin/forms/weigh?q=12abc")
        assert refused.status_code == 400 and "Box is searched by its exact value" in \
            refused.get_data(as_text=True)
        huge = client.get("/admin/forms/weigh?q=99999999999")
        assert huge.status_code == 400
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE weigh CASCADE"))


def test_filters_survive_paging_and_an_empty_result_says_which_are_on(pi, table_rows):
    first = pi.get("/admin/forms/intake?ra=Ngozi+%E1%BB%8Ckaf%E1%BB%8Dr&from=2026-03-20"
                   ).get_data(as_text=True)
    older = unescape(re.search(r'<a href="([^"]+)">Older rows</a>', first).group(1))
    assert "ra=Ngozi" in older and "from=2026-03-20" in older and "after=" in older
    second = pi.get(older).get_data(as_text=True)
    assert len(re.findall(r'rows/(\d+)">', first + second)) == len(
        expected(table_rows, ra="Ngozi Ọkafọr"))
    assert '<option selected>Ngozi Ọkafọr</option>' in second
    assert 'name="from" type="date" value="2026-03-20"' in second
    filtered = pi.get("/admin/forms/intake?status=query_open").get_data(as_text=True)
    assert '<option value="query_open" selected>Query open</option>' in filtered
    none = pi.get("/admin/forms/intake?ra=Zo%C3%AB+M%C3%BCller&from=2030-01-01&q=P9"
                  ).get_data(as_text=True)
    assert ("No rows match: entered by Zoë Müller, from 2030-01-01, Participant ID starting "
            "with “P9”.") in none


def test_the_page_shows_labels_choice_labels_local_minutes_and_short_text(pi, engine, app):
    note = "<b>Ωμέγα</b> " + "long note " * 30
    insert(engine, [{"submitted_at": datetime(2026, 5, 1, 9, 5, 7, 123456, tzinfo=UTC),
                     "entered_by": "Đặng Thị Hương", "review_status": "query_open",
                     "participant_id": "P0042", "site": "mobile", "smoker": True,
                     "visit_at": "2026-05-01T08:00:00.5Z", "conditions": ["asthma", "diabetes"],
                     "notes": note}])
    html = pi.get("/admin/forms/intake").get_data(as_text=True)
    table = html[html.index('<table class="data rows">'):]
    assert "Participant ID<span class=\"column-name\">participant_id</span>" in table
    assert "Clinic site<span" in table and "Visit date and time<span" in table
    assert '<td class="when">2026-05-01 10:05</td>' in table        # BST, to the minute
    assert "<td>2026-05-01 09:00</td>" in table and ".5" not in table
    assert '<td title="mobile">Mobile unit</td>' in table
    assert "<td>Yes</td>" in table and ">Asthma; Diabetes</td>" in table
    assert '<span class="badge status-query_open">Query open</span>' in table
    assert "&lt;b&gt;Ωμέγα&lt;/b&gt; long note" in table and "<b>Ωμέγα" not in table
    shown = re.search(r'title="Shortened[^"]*">([^<]*)</td>', table).group(1)
    assert shown.endswith("…") and len(unescape(shown)) <= rows.TEXT_PREVIEW + 1
    assert 'href="/admin/forms/intake/rows/1">1</a>' in table
    with engine.connect() as conn:
        submission_id = str(conn.execute(text("SELECT submission_id FROM intake")).scalar())
    assert submission_id not in html and "123456" not in html


def test_the_dashboard_shows_the_last_submission_by_time_not_by_row_number(pi, engine):
    insert(engine, [{"submitted_at": datetime(2026, 6, 1, 12, 0, tzinfo=UTC), "entered_by": "A",
                     "review_status": "unreviewed", "participant_id": "P0001"},
                    {"submitted_at": datetime(2026, 2, 1, 12, 0, tzinfo=UTC), "entered_by": "B",
                     "review_status": "unreviewed", "participant_id": "P0002"}])  # higher id
    html = pi.get("/admin/").get_data(as_text=True)
    intake = html[html.index("Participant intake"):].split("</tr>")[0]
    assert "2026-06-01 13:00" in intake and "2026-02-01" not in intake
    assert '<td class="num">2</td>' in intake


def test_a_big_table_is_counted_by_estimate_not_by_reading_every_row(pi, engine, monkeypatch):
    from collector.db import form_summary
    monkeypatch.setattr(form_summary, "EXACT_UP_TO", 100)
    insert(engine, [{"submitted_at": START, "entered_by": "A", "review_status": "unreviewed",
                     "participant_id": "P0001"}] * 1234)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE intake"))
    html = pi.get("/admin/").get_data(as_text=True)
    assert "<td class=\"num\">about 1,230</td>" in html, re.findall(r"<td class=\"num\">[^<]*</td>", html)


def test_rough_rounding_keeps_three_digits():
    from collector.db.form_summary import RowCount, round_roughly
    assert [round_roughly(n) for n in (1_003_456, 12_345, 999_999)] == [1_000_000, 12_300, 1_000_000]
    assert str(RowCount(None, exact=False)) == "more than 10,000"
    assert str(RowCount(9_876, exact=True)) == "9,876"
