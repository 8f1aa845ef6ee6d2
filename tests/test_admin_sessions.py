"""The PI's sign-in is a server-side session: logout and a new password end it for good."""

import pytest
from sqlalchemy import text

from tests.conftest import make_app
from tests.test_admin import add_rows, fresh_admin_app, login

# Hostile but valid: Greek, CJK, emoji, quotes and a backslash, well over 12 characters.
PASSWORD = 'Καλημέρα 世界 🔐 "quoted" \\ back'


@pytest.fixture
def admin_app(app, database_url, engine):
    return fresh_admin_app(database_url, engine, PASSWORD)


def signed_in_pair(admin_app):
    """The PI's browser, and a second browser holding a copy of its session cookie."""
    pi = admin_app.test_client()
    assert login(pi, PASSWORD).status_code == 303
    thief = admin_app.test_client()
    thief.set_cookie("session", pi.get_cookie("session").value)
    assert thief.get("/admin/").status_code == 200
    return pi, thief


def csrf_of(client):
    html = client.get("/admin/").get_data(as_text=True)
    return html.split('name="csrf_token" value="')[1].split('"')[0]


def test_logout_ends_the_session_for_every_copy_of_the_cookie(admin_app, engine):
    add_rows(engine, 1, notes="Ωμέγα 李 😀")
    pi, thief = signed_in_pair(admin_app)
    assert pi.post("/admin/logout", data={"csrf_token": csrf_of(pi)}).status_code == 303
    for browser in (pi, thief):
        page = browser.get("/admin/forms/intake")
        assert page.status_code == 401 and "Ωμέγα" not in page.get_data(as_text=True)
        assert browser.get("/admin/forms/intake/export.csv").status_code == 401


def test_a_new_admin_password_ends_every_session(admin_app, database_url):
    pi, thief = signed_in_pair(admin_app)
    # The PI changes ADMIN_PASSWORD: Heroku restarts the dynos with the new value.
    restarted = make_app(database_url, ADMIN_PASSWORD=PASSWORD + "!")
    for browser in (pi, thief):
        moved = restarted.test_client()
        moved.set_cookie("session", browser.get_cookie("session").value)
        assert moved.get("/admin/").status_code == 401
    newcomer = restarted.test_client()
    assert login(newcomer, PASSWORD + "!").status_code == 303
    assert newcomer.get("/admin/").status_code == 200


def test_changing_the_password_back_does_not_revive_old_sessions(admin_app, database_url):
    pi, thief = signed_in_pair(admin_app)
    changed = make_app(database_url, ADMIN_PASSWORD=PASSWORD + "!")
    newcomer = changed.test_client()
    assert login(newcomer, PASSWORD + "!").status_code == 303      # PI signs in under the new one
    back = make_app(database_url, ADMIN_PASSWORD=PASSWORD)        # ... and later changes it back
    moved = back.test_client()
    moved.set_cookie("session", thief.get_cookie("session").value)
    assert moved.get("/admin/").status_code == 401


def test_a_session_ends_by_itself_after_a_working_day(admin_app, engine):
    pi, _thief = signed_in_pair(admin_app)
    with engine.begin() as conn:
        conn.execute(text("UPDATE admin_sessions SET created_at = now() - interval '13 hours'"))
    assert pi.get("/admin/").status_code == 401


def test_only_hashes_are_stored(admin_app, engine):
    pi, _thief = signed_in_pair(admin_app)
    with pi.session_transaction() as session:
        session_id = session["admin_session"]
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT admin_sessions::text FROM admin_sessions")).scalar()
    assert session_id not in stored and PASSWORD not in stored and "Καλημέρα" not in stored


def test_a_forged_session_id_is_refused(admin_app):
    forger = admin_app.test_client()
    forger.get("/admin/")
    for forged in ("' OR '1'='1", "\x00", "", 42, ["x"], "κλειδί 鍵 🔑"):
        with forger.session_transaction() as session:
            session["admin_session"], session["admin"] = forged, True
        assert forger.get("/admin/").status_code == 401


def test_every_admin_answer_says_no_store(admin_app):
    client = admin_app.test_client()
    answers = [client.get("/admin/"), login(client, "wrong password, long enough"),
               client.get("/admin/forms/nope")]
    login(client, PASSWORD)
    answers += [client.get("/admin/"), client.get("/admin/forms/intake"),
                client.get("/admin/forms/intake?before=abc"), client.get("/admin/forms/nope"),
                client.get("/admin/forms/intake/export.csv"),
                client.post("/admin/logout", data={"csrf_token": csrf_of(client)})]
    # Answers no /admin route produced: routing's redirect, 404 and 405.
    answers += [client.get("/admin"), client.get("/admin/no/such/page"), client.get("/admin/login")]
    assert [a.status_code for a in answers] == [401, 401, 401, 200, 200, 200, 404, 200, 303,
                                                308, 404, 405]
    assert all(a.headers.get("Cache-Control") == "no-store" for a in answers), \
        [(a.request.path, a.headers.get("Cache-Control")) for a in answers]
