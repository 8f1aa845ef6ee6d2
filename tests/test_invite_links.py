"""Invite codes never reach a log: the link carries them in the #fragment, the page posts them.

Real gunicorn, real Chromium (with and without JavaScript, phone and laptop).
What the router would log is every URL the browser asks for; what the app logs
is gunicorn's stdout and stderr. Neither may contain the code.
"""

import hashlib
import http.cookiejar
import urllib.error
import urllib.request

import pytest
from sqlalchemy import text

from collector.db.invites import create_invite
from tests.conftest import make_app
from tests.helpers import free_port, invite_link, sign_in, sign_in_over_http
from tests.processes import WebProcess, process_environment, run_manage
from tests.test_browser import browser, web  # noqa: F401  (shared fixtures)

SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}
# The RA's name is hostile on purpose; it is shown escaped on the index.
NAME = 'Δήμητρα 山田 "Q" \\ 🧪'


def code_of(link):
    return link.partition("#")[2]


def watch_requests(page):
    """Record every URL and header the browser sends: what a router could log."""
    sent = []
    page.on("request", lambda request: sent.append(request.url + repr(request.headers)))
    return sent


@pytest.mark.slow
@pytest.mark.parametrize("size", SIZES)
def test_clicking_the_link_signs_in_with_javascript_and_sends_no_code(browser, web, engine, size):  # noqa: F811
    link = invite_link(engine, web.base_url, NAME)
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    sent = watch_requests(page)
    page.set_content(f'<a href="{link}">Your invite</a>')  # as in the RA's email
    page.click("text=Your invite")
    page.wait_for_url(web.base_url + "/")
    assert f"Signed in as {NAME}" in page.inner_text("main")
    assert "#" not in page.url
    page.go_back()  # the history entry of the invite page has lost its code too
    assert code_of(link) not in page.url
    context.close()
    assert sent and not [line for line in sent if code_of(link) in line]
    web.stop()
    assert code_of(link) not in web.stdout() + web.stderr()


@pytest.mark.slow
def test_without_javascript_the_ra_pastes_the_code(browser, web, engine):  # noqa: F811
    link = invite_link(engine, web.base_url, NAME)
    context = browser.new_context(java_script_enabled=False, viewport=SIZES["phone"])
    page = context.new_page()
    sent = watch_requests(page)
    page.goto(link)
    page.fill("text=Invite code", f"  {code_of(link)}\n")  # pasted with stray blanks
    page.click("button[type=submit]")
    page.wait_for_url(web.base_url + "/")
    assert f"Signed in as {NAME}" in page.inner_text("main")
    page.click("text=Participant intake")
    assert page.locator("#f-participant_id").count() == 1
    context.close()
    assert not [line for line in sent if code_of(link) in line]
    web.stop()
    assert code_of(link) not in web.stdout() + web.stderr()


def test_gunicorn_logs_hold_no_code_even_for_old_links(app, database_url, engine, tmp_path):
    env = process_environment(DATABASE_URL=database_url, PORT=str(free_port()),
                              SECRET_KEY="invite-logs", WEB_CONCURRENCY="2")
    with WebProcess(env, tmp_path / "web.log") as web:
        link = invite_link(engine, web.base_url, NAME)
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        status, html = sign_in_over_http(opener, link)
        assert status == 200 and "Signed in as" in html
        for old in (f"/invite/{code_of(link)}", f"/INVITE/{code_of(link)}?x=1",
                    f"/invite/{code_of(link)}/more"):
            with pytest.raises(urllib.error.HTTPError):
                opener.open(web.base_url + old)
        web.stop()
    logged = web.stdout() + web.stderr()
    assert '"path": "/invite"' in logged and '"path": "/invite/[redacted]"' in logged
    assert code_of(link) not in logged


def test_old_path_links_answer_410_and_sign_nobody_in(app, engine, anonymous_client):
    _id, token = create_invite(engine, NAME)
    response = anonymous_client.get(f"/invite/{token}")
    assert response.status_code == 410 and "Ask your PI for a new invite link" in response.text
    assert token not in response.text
    assert anonymous_client.get("/forms/intake").status_code == 403


def test_codes_from_before_the_fragment_links_no_longer_sign_in(app, engine, anonymous_client):
    # An invite stored the old way (plain SHA-256 of the code): that code may sit in logs.
    old_code = "Zx9-" + "q" * 39
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO invites (name, token_hash) VALUES (:name, :hash)"),
                     {"name": NAME, "hash": hashlib.sha256(old_code.encode()).hexdigest()})
    assert sign_in(anonymous_client, old_code).status_code == 403
    assert anonymous_client.get("/forms/intake").status_code == 403


@pytest.mark.parametrize("pasted", ["{code}", "  {code}\r\n", "{link}", " {link} "])
def test_the_code_or_the_whole_link_can_be_pasted(app, engine, anonymous_client, pasted):
    link = invite_link(engine, "https://study.example", NAME)
    code = code_of(link)
    response = sign_in(anonymous_client, pasted.format(code=code, link=link))
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert anonymous_client.get("/forms/intake").status_code == 200


@pytest.mark.parametrize("code", ["", "' OR '1'='1", "\x00", "κωδικός 招待 🔑", "x" * 100_000, "#"])
def test_a_bad_code_gets_the_form_again_and_no_hint(app, engine, anonymous_client, code):
    invite_id, revoked_code = create_invite(engine, NAME)
    engine_revoke(engine, invite_id)
    for attempt in (code, revoked_code):
        response = sign_in(anonymous_client, attempt)
        html = response.get_data(as_text=True)
        assert response.status_code == 403 and 'name="code"' in html
        assert "This invite code is not valid" in html and "revoked" not in html
        assert "Traceback" not in html
    assert anonymous_client.get("/forms/intake").status_code == 403


def engine_revoke(engine, invite_id):
    from collector.db.invites import revoke
    assert revoke(engine, invite_id) == NAME


def test_invite_command_prints_the_link_the_code_and_what_to_do_without_javascript(
        app, database_url, engine):
    result = run_manage("invite", "  Eleni   Παππά ", DATABASE_URL=database_url,
                        BASE_URL="https://study.example/")
    assert result.returncode == 0, result.stderr
    header, link, code_line, advice = result.stdout.splitlines()
    code = code_line.removeprefix("Invite code: ")
    assert header == "Invite #1 for Eleni Παππά:"
    assert link == f"https://study.example/invite#{code}" and len(code) >= 43
    assert advice == ("Send both privately. Without JavaScript, open "
                      "https://study.example/invite and paste the invite code.")
    with engine.connect() as conn:
        every_value = conn.execute(text("SELECT invites::text FROM invites")).scalar()
    assert code not in every_value


def test_on_heroku_the_invite_page_signs_in_over_https(app, database_url, engine):
    # Secure cookies, the HTTPS redirect and Flask-WTF's Referer check all apply here.
    heroku = make_app(database_url, DYNO="web.1").test_client()
    _id, code = create_invite(engine, NAME)
    options = {"base_url": "https://localhost", "headers": {"Referer": "https://localhost/invite"}}
    answer = sign_in(heroku, code, **options)
    assert answer.status_code == 303 and "Secure" in answer.headers["Set-Cookie"]
    assert heroku.get("/forms/intake", **options).status_code == 200
