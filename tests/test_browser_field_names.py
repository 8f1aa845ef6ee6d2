"""In Chromium: fields named like a form's own properties (action, elements, …) keep drafts working."""

from sqlalchemy import text

from collector.db.migrate import create_all
from tests.conftest import make_app
from tests.helpers import free_port
from tests.processes import WebProcess, process_environment
from tests.test_browser import browser  # noqa: F401

pytestmark = __import__("pytest").mark.slow

# Each would shadow an HTMLFormElement property a script might read.
SHADOWING = ["action", "elements", "dataset", "method", "length", "target", "submit", "reset"]


def test_drafts_and_messages_work_whatever_the_fields_are_called(browser, database_url, engine,  # noqa: F811
                                                                  tmp_path):
    forms = tmp_path / "forms"
    forms.mkdir()
    fields = "".join(f'[[fields]]\nname = "{name}"\ntype = "text"\nrequired = true\nmax_length = 40\n'
                     for name in SHADOWING)
    (forms / "props.toml").write_text('title = "Props"\naccess = "public"\n' + fields)
    create_all(engine, make_app(database_url, FORMS_DIR=str(forms)).extensions["collector"])
    env = process_environment(DATABASE_URL=database_url, PORT=str(free_port()), FORMS_DIR=str(forms),
                              SECRET_KEY="props-secret")
    try:
        with WebProcess(env, tmp_path / "web.log") as web:
            context = browser.new_context()
            page = context.new_page()
            page.goto(web.base_url + "/forms/props")
            first_id = page.input_value("input[name=submission_id]")
            page.click("button[type=submit]")              # empty: inline messages, nothing sent
            assert page.inner_text("#f-action-error") == "Enter a value."
            for name in SHADOWING:
                page.fill(f"#f-{name}", f"{name} · τιμή")
            context.set_offline(True)
            page.click("button[type=submit]")
            page.wait_for_selector("#draft-status:has-text('there is no connection')")
            context.set_offline(False)
            page.goto(web.base_url + "/forms/props")
            page.wait_for_selector("#draft-restore:visible")
            page.click("[data-restore]")
            assert page.input_value("#f-elements") == "elements · τιμή"
            page.click("button[type=submit]")
            page.wait_for_url(f"**/forms/props/saved/{first_id}")
            with engine.connect() as conn:
                row = conn.execute(text("SELECT * FROM props")).mappings().one()
            assert {name: row[name] for name in SHADOWING} == {n: f"{n} · τιμή" for n in SHADOWING}
            assert page.evaluate("Object.keys(localStorage).filter(k => k.includes(':props:'))") == []
            context.close()
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE props CASCADE"))
