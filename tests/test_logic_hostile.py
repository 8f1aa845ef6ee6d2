"""Hostile review of form logic: each test is a way the three places (Python, PostgreSQL,
Chromium) were made to disagree, or a form file or post that broke a promise of
docs/FORMS.md ("Form logic"). Forms are written as TOML, loaded and created as a deploy would.
"""

import json
import textwrap
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from collector.db.migrate import create_all
from collector.forms.validation import validate_submission
from collector.web import logic_json
from collector.web.registry import load_registry
from tests.conftest import make_app
from tests.helpers import free_port
from tests.logic_js import open_logic
from tests.processes import WebProcess, process_environment
from tests.test_browser import browser  # noqa: F401
from tests.test_logic_agrees_with_server import same
from tests.test_logic_differential import as_form, database_accepts

TODAY = date(2026, 11, 22)


@pytest.fixture(scope="module")
def chromium(browser):  # noqa: F811
    context, logic = open_logic(browser)
    yield logic
    context.close()


@pytest.fixture
def make_form(engine, tmp_path):
    """Return a function: TOML text -> (spec, table), created in PostgreSQL by create_all."""
    made = []

    def make(body, name="hostile"):
        directory = tmp_path / f"forms_{len(made)}"
        directory.mkdir()
        (directory / f"{name}.toml").write_text(textwrap.dedent(body), encoding="utf-8")
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {name} CASCADE"))
        registry = load_registry(directory)
        create_all(engine, registry)
        made.append(name)
        return registry.specs[name], registry.tables[name]

    yield make
    with engine.begin() as conn:
        for name in made:
            conn.execute(text(f"DROP TABLE IF EXISTS {name} CASCADE"))


def judges(engine, chromium, spec, table, raw):
    """Return (python values, python errors, database refusal, browser result) for one post."""
    values, errors = validate_submission(spec, as_form(raw), today=TODAY)
    with engine.connect() as conn, conn.begin():
        refused = None if errors else database_accepts(conn, table, spec, values)
    # As the page does: the program goes as JSON text (playwright's own serializer recurses).
    browser_said = chromium.page.evaluate(
        "([p, raw, today]) => window.collectorLogic.evaluate(JSON.parse(p), raw, {today: today})",
        [json.dumps(logic_json.program(spec)), raw, TODAY.isoformat()])
    return values, errors, refused, browser_said


def assert_agree(engine, chromium, spec, table, raw):
    values, errors, refused, browser_said = judges(engine, chromium, spec, table, raw)
    assert refused is None, (values, refused)
    assert browser_said["errors"] == errors, (errors, browser_said["errors"])
    wrong = {n: (values[n], browser_said["values"][n]) for n in values
             if not same(browser_said["values"][n], values[n])}
    assert not wrong
    return values



PROTOTYPE_FORM = """
title = "Names JavaScript objects already have"
timezone = "Europe/London"

[[fields]]
name = "constructor"
type = "integer"
constraint = ". > 2"
constraint_message = "More than 2."

[[fields]]
name = "picks"
type = "multi_choice"
choices = [{ value = "toString", label = "A" }, { value = "constructor", label = "B" },
           { value = "__proto__", label = "C" }, { value = "plain", label = "D" }]

[[fields]]
name = "note"
type = "text"
relevant = "selected(${picks}, 'toString') or selected(${picks}, 'constructor')"
"""


def test_field_names_and_codes_that_objects_inherit_mean_nothing_special(engine, chromium, make_form):
    """A field `constructor` and codes "toString", "__proto__": form_logic.js looked them up
    in plain objects, so every such code counted as ticked (the note was shown in the browser
    while the server discarded it) and the field's constraint was never checked."""
    spec, table = make_form(PROTOTYPE_FORM)
    for raw in [{"constructor": "5", "picks": ["plain"], "note": "asked?"},
                {"constructor": "1", "picks": [], "note": "asked?"},
                {"constructor": "", "picks": ["toString"], "note": "Zoë"},
                {"constructor": "3", "picks": ["__proto__", "constructor"], "note": "x"},
                {"picks": ["__proto__"]}]:
        assert_agree(engine, chromium, spec, table, raw)


@pytest.mark.slow
def test_a_field_named_constructor_keeps_the_page_and_drafts_working(browser, database_url, engine,  # noqa: F811
                                                                     tmp_path):
    """On the page: form_page.js gave the control Object's constructor as its message (the
    form could never be sent), and drafts.js threw on `values.constructor.push`."""
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "protos.toml").write_text('access = "public"\n' + PROTOTYPE_FORM, encoding="utf-8")
    create_all(engine, make_app(database_url, FORMS_DIR=str(forms)).extensions["collector"])
    env = process_environment(DATABASE_URL=database_url, PORT=str(free_port()), FORMS_DIR=str(forms),
                              SECRET_KEY="protos-secret")
    try:
        with WebProcess(env, tmp_path / "web.log") as web:
            context = browser.new_context()
            page = context.new_page()
            page.goto(web.base_url + "/forms/protos")
            first_id = page.input_value("input[name=submission_id]")
            assert page.is_hidden("#f-note")  # nothing ticked: the note is not asked
            page.fill("#f-constructor", "7")
            page.check("input[name=picks][value=toString]")
            page.fill("#f-note", "Łódź")
            context.set_offline(True)
            page.click("button[type=submit]")
            page.wait_for_selector("#draft-status:has-text('there is no connection')")
            context.set_offline(False)
            page.goto(web.base_url + "/forms/protos")
            page.wait_for_selector("#draft-restore:visible")
            page.click("[data-restore]")
            assert page.input_value("#f-constructor") == "7"
            page.click("button[type=submit]")
            page.wait_for_url(f"**/forms/protos/saved/{first_id}")
            with engine.connect() as conn:
                row = conn.execute(text("SELECT * FROM protos")).mappings().one()
            assert (row["constructor"], row["picks"], row["note"]) == (7, ["toString"], "Łódź")
            context.close()
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS protos CASCADE"))


@pytest.mark.parametrize("expression", ["-" * 1900 + "${a}", " * ".join(["1"] * 490), "1" + " - -" * 450 + " 1"],
                         ids=["unary minus", "long product", "minus minus"])
def test_deep_expressions_without_brackets_are_one_line_from_manage_check(tmp_path, expression):
    """The bracket counter missed nesting without brackets: a RecursionError traceback."""
    from tests.processes import run_manage
    (tmp_path / "deep.toml").write_text(
        'title = "Deep"\n[[fields]]\nname = "a"\ntype = "integer"\n'
        f'[[fields]]\nname = "b"\ntype = "integer"\ncalculation = "{expression}"\n', encoding="utf-8")
    result = run_manage("check", FORMS_DIR=str(tmp_path))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "operations inside each other; the limit is 200: split it into calculated fields" in result.stderr


def test_a_sum_of_200_fields_works_in_all_three_places(engine, chromium, make_form):
    """The deepest tree allowed (a 200-item score) is evaluated, compiled and checked everywhere."""
    fields = "".join(f'[[fields]]\nname = "q{i}"\ntype = "integer"\n' for i in range(200))
    total = " + ".join(f"${{q{i}}}" for i in range(200))
    spec, table = make_form('title = "Scale"\ntimezone = "Europe/London"\n' + fields +
                            f'[[fields]]\nname = "total"\ntype = "integer"\ncalculation = "{total}"\n'
                            f'constraint = ". != 1"\n')
    raw = {f"q{i}": str(i % 7 - 3) for i in range(200)}
    assert assert_agree(engine, chromium, spec, table, raw)["total"] == sum(i % 7 - 3 for i in range(200))


def test_today_on_the_server_is_the_day_the_row_is_saved(database_url, engine, tmp_path, monkeypatch):
    """today() was read from the app's clock when validating, but the CHECK reads submitted_at,
    the database's now() at INSERT: an entry sent at midnight (or with the app's clock a second
    behind the database's) was accepted by the server, refused by PostgreSQL and held (503)."""
    import collector.forms.expressions.evaluate as evaluate_module
    import collector.web.views as views_module
    from tests.helpers import hidden_inputs
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "midnight.toml").write_text(textwrap.dedent("""
        title = "Midnight"
        access = "public"
        timezone = "Pacific/Kiritimati"

        [[fields]]
        name = "seen_on"
        type = "date"
        calculation = "today()"
        """), encoding="utf-8")
    app = make_app(database_url, FORMS_DIR=str(forms))
    create_all(engine, app.extensions["collector"])
    with engine.connect() as conn:  # one second before midnight of the database's day, there
        db_today = conn.execute(text("SELECT (now() AT TIME ZONE 'Pacific/Kiritimati')::date")).scalar()
    zone = ZoneInfo("Pacific/Kiritimati")
    app_now = datetime(db_today.year, db_today.month, db_today.day, tzinfo=zone).timestamp() - 1

    class AppClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(app_now, tz)

    monkeypatch.setattr(evaluate_module, "datetime", AppClock)
    if hasattr(views_module, "datetime"):
        monkeypatch.setattr(views_module, "datetime", AppClock)
    try:
        client = app.test_client()
        hidden = hidden_inputs(client.get("/forms/midnight").get_data(as_text=True))
        response = client.post("/forms/midnight", data={**hidden, "seen_on": "1999-01-01"})
        assert response.status_code == 303, response.status_code
        with engine.connect() as conn:
            row = conn.execute(text("SELECT seen_on, submitted_at FROM midnight")).one()
        assert row.seen_on == row.submitted_at.astimezone(zone).date()
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS midnight CASCADE"))


@pytest.mark.parametrize("zone, wall", [("Europe/Amsterdam", "1900-01-01T00:00"),
                                         ("Europe/Amsterdam", "1900-01-01T00:10:05"),
                                         ("Africa/Casablanca", "2100-12-31T23:30"),
                                         ("Asia/Kolkata", "1900-01-01T03:00")])
def test_wall_times_at_the_ends_of_the_zone_table_read_as_the_server_reads_them(engine, chromium, make_form,
                                                                                 zone, wall):
    """The browser's copy of the server's offsets began at 1900-01-01T00:00Z, so a wall time
    early on 1900-01-01 east of Greenwich (or late on 2100-12-31 west of it) fell back to the
    phone's Intl data: in Amsterdam (+00:19:32 then, in Python's tz data) the browser read
    1900-01-01T00:00 as 00:00Z and disagreed with the server on every comparison."""
    spec, table = make_form(f'title = "Ends"\ntimezone = "{zone}"\n'
                            '[[fields]]\nname = "at"\ntype = "datetime"\n'
                            '[[fields]]\nname = "bt"\ntype = "datetime"\n'
                            '[[fields]]\nname = "earlier"\ntype = "boolean"\ncalculation = "${at} < ${bt}"\n')
    for other in (wall[:16] + "Z", wall[:11] + "00:00Z", "1899-12-31T23:45Z", "2101-01-01T00:15Z"):
        assert_agree(engine, chromium, spec, table, {"at": wall, "bt": other})
