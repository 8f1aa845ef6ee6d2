"""Invite codes seen in a path are switched off; a link cannot silently change who you are."""

import pytest
from sqlalchemy import text

from collector.db.invites import create_invite
from tests.helpers import free_port, hidden_inputs, invite_link, sign_in, valid_intake
from tests.processes import WebProcess, process_environment
from tests.test_browser import browser, signed_in_context  # noqa: F401

ALICE, MALLORY = "Αλίκη Ng", "Mallory 🦹"


@pytest.mark.parametrize("mangle", ["/invite%23{}", "/invite/{}", "/invite;{}", "/invite%23{}%0A"])
def test_a_code_that_reached_a_path_signs_no_one_in_and_is_not_logged(app, database_url, engine,
                                                                      tmp_path, mangle):
    _id, code = create_invite(engine, ALICE)
    env = process_environment(DATABASE_URL=database_url, PORT=str(free_port()), SECRET_KEY="h")
    import urllib.error
    import urllib.request
    with WebProcess(env, tmp_path / "web.log") as web:
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(web.base_url + mangle.format(code))
        assert answer.value.code == 410
        web.stop()
        logged = web.stdout() + web.stderr()
    assert code not in logged
    assert '"path": "/invite[redacted]"' in logged or '"path": "/invite/[redacted]"' in logged
    client = app.test_client()
    assert sign_in(client, code).status_code == 403     # the router logged it: switched off
    with engine.connect() as conn:
        assert conn.execute(text("SELECT code_exposed_at IS NOT NULL FROM invites")).scalar()


def test_a_browser_signed_in_before_keeps_working_after_its_code_is_switched_off(app, engine):
    client = app.test_client()
    _id, code = create_invite(engine, ALICE)
    assert sign_in(client, code).status_code == 303
    client.get(f"/invite%23{code}")
    page = client.get("/forms/intake")
    assert page.status_code == 200 and "Entering as" in page.get_data(as_text=True)


@pytest.mark.parametrize("pasted", ["Invite code: {}", "<http://x/invite#{}>", "{}.", "  {}\n",
                                    "http://127.0.0.1:5000/invite#{} "])
def test_what_an_ra_pastes_from_the_message_signs_in(app, engine, pasted):
    _id, code = create_invite(engine, ALICE)
    assert sign_in(app.test_client(), pasted.format(code)).status_code == 303


def test_another_invite_switches_a_signed_in_browser_only_when_confirmed(app, engine):
    client = app.test_client()
    assert sign_in(client, create_invite(engine, ALICE)[1]).status_code == 303
    mallory_code = create_invite(engine, MALLORY)[1]
    asked = sign_in(client, mallory_code)
    html = asked.get_data(as_text=True)
    assert asked.status_code == 409 and "This browser is signed in as <strong>Αλίκη Ng</strong>" in html
    with client.session_transaction() as session:
        assert session["ra_name"] == ALICE            # nothing changed yet
    confirmed = client.post("/invite", data={**hidden_inputs(html), "code": mallory_code, "replace": "1"})
    assert confirmed.status_code == 303
    with client.session_transaction() as session:
        assert session["ra_name"] == MALLORY


@pytest.mark.slow
def test_a_popup_from_another_site_cannot_change_who_the_ra_is(browser, app, database_url, engine,  # noqa: F811
                                                               tmp_path):
    env = process_environment(DATABASE_URL=database_url, PORT=str(free_port()), SECRET_KEY="popup")
    with WebProcess(env, tmp_path / "web.log") as web:
        context = signed_in_context(browser, web, engine)         # the RA ("Test RA")
        page = context.new_page()
        page.goto(invite_link(engine, web.base_url, MALLORY))    # what the popup would open
        page.wait_for_selector("#invite-current")
        assert page.input_value("#invite-code")                 # filled in, but not sent
        assert "#" not in page.url                               # the code left the address bar
        page.goto(web.base_url + "/forms/intake")
        assert "Entering as Test RA" in page.inner_text("#entering-as")
        context.close()


def test_invites_lists_a_switched_off_code(app, database_url, engine):
    from tests.processes import run_manage
    _id, code = create_invite(engine, ALICE)
    app.test_client().get(f"/invite/{code}")
    listed = run_manage("invites", DATABASE_URL=database_url)
    assert listed.returncode == 0 and "signs in no new device: send a new invite" in listed.stdout


def test_the_dev_servers_request_log_redacts_invite_paths():
    import logging
    from collector.ops.gunicorn_logging import RedactInviteCodes
    code = "Jx3" + "a" * 40
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - - [%s] %s', (
        "127.0.0.1", "22/Nov/2026", f'"GET /invite%23{code} HTTP/1.1" 410 -'), None)
    assert RedactInviteCodes().filter(record)
    assert code not in record.getMessage() and '"GET /invite[redacted] HTTP/1.1" 410' in record.getMessage()


@pytest.mark.parametrize("address", ["/invite%2523{}", "/invite/x{}", "/Invite/{}", "/INVITE%23{}",
                                     "/invite?{}", "/invite/?c={}", "/static/x?code={}"])
def test_a_code_anywhere_in_an_address_is_switched_off(app, engine, address):
    _id, code = create_invite(engine, ALICE)
    app.test_client().get(address.format(code))
    assert sign_in(app.test_client(), code).status_code == 403


def test_on_heroku_a_code_in_a_plain_http_address_is_switched_off_before_the_redirect(database_url,
                                                                                        engine, app):
    from tests.conftest import make_app
    heroku = make_app(database_url, DYNO="web.1")
    _id, code = create_invite(engine, ALICE)
    assert heroku.test_client().get(f"/invite/{code}").status_code == 410
    assert sign_in(app.test_client(), code).status_code == 403

