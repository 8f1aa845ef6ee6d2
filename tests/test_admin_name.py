"""The PI signs in with a name: stored with the session, shown on every page, required."""

import pytest
from sqlalchemy import text

from tests.test_admin import PASSWORD, _csrf, add_rows, fresh_admin_app, login


@pytest.fixture
def admin_app(app, database_url, engine):
    return fresh_admin_app(database_url, engine, PASSWORD)


def stored_names(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT name FROM admin_sessions ORDER BY created_at")).scalars().all()


@pytest.mark.parametrize("typed, recorded", [
    ("Đặng Thị Hương", "Đặng Thị Hương"),
    ("  Zoë Müller\t ", "Zoë Müller"),
    ("Zoe\u0308 Mu\u0308ller", "Zoë Müller"),            # typed decomposed: recorded as NFC
    ("x" * 100, "x" * 100),
    ("<b>Eve</b> '; DROP TABLE intake; --", "<b>Eve</b> '; DROP TABLE intake; --"),
])
def test_the_name_given_is_stored_and_shown_on_every_page(admin_app, engine, typed, recorded):
    add_rows(engine, 1)
    client = admin_app.test_client()
    assert login(client, name=typed).status_code == 303
    assert stored_names(engine) == [recorded]
    for path in ("/admin/", "/admin/forms/intake"):
        html = client.get(path).get_data(as_text=True)
        assert "Signed in as <strong>" in html
        assert "<b>Eve</b>" not in html      # escaped like every stored value
    assert recorded.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;") in html


@pytest.mark.parametrize("typed, message", [
    ("", "Enter your name"),
    ("   \t ", "Enter your name"),
    ("x" * 101, "at most 100 characters"),
    ("Ngozi\nỌkafọr", "on one line"),
    ("Ngozi\x00", "on one line"),
])
def test_a_missing_or_unusable_name_signs_no_one_in_and_counts_no_failure(admin_app, engine,
                                                                          typed, message):
    client = admin_app.test_client()
    answer = login(client, name=typed)
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert client.get("/admin/").status_code == 401
    assert stored_names(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admin_login_failures")).scalar() == 0


def test_the_name_typed_is_kept_when_the_password_is_wrong(admin_app):
    client = admin_app.test_client()
    answer = login(client, "not the password at all", name="Đặng Thị Hương")
    assert answer.status_code == 401 and 'value="Đặng Thị Hương"' in answer.get_data(as_text=True)


def test_a_session_from_before_names_were_asked_must_sign_in_again(admin_app, engine):
    client = admin_app.test_client()
    assert login(client).status_code == 303
    with engine.begin() as conn:              # what an upgrade leaves: the added column is empty
        conn.execute(text("UPDATE admin_sessions SET name = NULL"))
    page = client.get("/admin/")
    assert page.status_code == 401 and 'name="name"' in page.get_data(as_text=True)
    assert login(client, name="Ngozi Ọkafọr").status_code == 303
    assert client.get("/admin/").status_code == 200


def test_the_login_page_asks_for_the_name_before_the_password(admin_app):
    html = admin_app.test_client().get("/admin/").get_data(as_text=True)
    assert html.index('id="name"') < html.index('id="password"')
    assert "Your name" in html and _csrf(html)
