"""CSRF on Heroku's HTTPS: no Referer needed, other sites refused, every refusal told truthfully."""

import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import text

from collector.db.invites import create_invite
from collector.db.migrate import create_all
from tests.conftest import make_app
from tests.helpers import hidden_inputs, sign_in, valid_intake

HTTPS = {"X-Forwarded-Proto": "https"}
VALUES = valid_intake(participant_id="P0042", notes="Ωμέγα 李 🧪 \\ \"quoted\" 'single'")


@pytest.fixture
def heroku(app, database_url, engine):
    """A browser signed in with an invite, talking to the app as Heroku's router does."""
    client = make_app(database_url, DYNO="web.1").test_client()
    _id, token = create_invite(engine, "Ζωή Λ.")
    assert sign_in(client, token, headers=HTTPS).status_code == 303
    return client


def open_form(client):
    return hidden_inputs(client.get("/forms/intake", headers=HTTPS).get_data(as_text=True))


def post(client, data, **headers):
    return client.post("/forms/intake", data=data, headers={**HTTPS, **headers})


def rows(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT participant_id, notes FROM intake")).all()


@pytest.mark.parametrize("headers", [
    {},                                                     # Referrer-Policy: no-referrer
    {"Origin": "null"},                                     # privacy mode, sandboxed pages
    {"Origin": "https://localhost"},
    {"Referer": "https://localhost/forms/intake"},
    {"Origin": "https://localhost", "Referer": "https://localhost/forms/intake?x=1"},
])
def test_https_post_without_a_referer_is_saved(heroku, engine, headers):
    answer = post(heroku, {**VALUES, **open_form(heroku)}, **headers)
    assert answer.status_code == 303, answer.get_data(as_text=True)
    assert rows(engine) == [("P0042", VALUES["notes"])]


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "http://localhost"},                        # same host, not HTTPS
    {"Origin": "https://localhost:8443"},
    {"Origin": "null", "Referer": "https://evil.example/forms/intake"},
    {"Referer": "https://localhost.evil.example/"},
    {"Origin": "https://[::1"},                             # malformed
])
def test_post_from_another_origin_is_refused_even_with_a_valid_token(heroku, engine, headers):
    answer = post(heroku, {**VALUES, **open_form(heroku)}, **headers)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "sent from a page on another site" in html and "nothing was saved" in html
    assert "Ωμέγα" not in html  # another site's values are not put into our form
    assert rows(engine) == []


def expired_token(client, app):
    """Sign the session's CSRF secret with a timestamp from 25 hours ago."""
    with client.session_transaction() as session:
        raw = session["csrf_token"]

    class Yesterday(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - 25 * 3600

    return URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token", signer=Yesterday).dumps(raw)


def other_sessions_token(app, engine):
    other = app.test_client()
    sign_in(other, create_invite(engine, "Other RA")[1], headers=HTTPS)
    return open_form(other)["csrf_token"]


@pytest.mark.parametrize("case, message", [
    ("missing", "The page was sent without its security token"),
    ("expired", "The page was open for more than 24 hours"),
    ("invalid", "security token could not be checked"),
    ("other session", "Your session changed after the page was opened"),
])
def test_each_refusal_says_what_happened_and_keeps_the_values(heroku, engine, case, message):
    hidden = open_form(heroku)
    app = heroku.application
    token = {"missing": None, "expired": expired_token(heroku, app), "invalid": hidden["csrf_token"] + "x",
             "other session": other_sessions_token(app, engine)}[case]
    data = {**VALUES, "submission_id": hidden["submission_id"]}
    answer = post(heroku, data if token is None else {**data, "csrf_token": token})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert message in html and "open for a long time" not in html
    assert "Your values are kept below" in html and "Ωμέγα 李 🧪" in html
    assert hidden_inputs(html)["submission_id"] == hidden["submission_id"]
    assert rows(engine) == []
    retry = post(heroku, {**VALUES, **hidden_inputs(html)})
    assert retry.status_code == 303 and len(rows(engine)) == 1


def test_admin_login_without_a_cookie_says_so(app, database_url):
    admin = make_app(database_url, DYNO="web.1", ADMIN_PASSWORD="a long PI password").test_client()
    token = admin.get("/admin/", headers=HTTPS).get_data(as_text=True)
    token = token.split('name="csrf_token" value="')[1].split('"')[0]
    admin.delete_cookie("session", domain="localhost")
    answer = admin.post("/admin/login", data={"password": "pw", "csrf_token": token}, headers=HTTPS)
    assert answer.status_code == 400
    assert "did not send this site&#39;s cookie" in answer.get_data(as_text=True)


SURVEY = """title = "Ψηφοφορία 投票 🗳"
access = "public"
[[fields]]
name = "comment"
label = "Σχόλιο 评论"
type = "long_text"
required = true
"""
EVIL = 'Ωμέγα 李 🧪 \\ "quoted" \'single\' <b>' + "ž" * 1900
ATTACKER_ID = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
CROSS_SITE = [
    {"Origin": "https://evil.example", "Referer": "https://evil.example/x"},
    {"Origin": "https://evil.example"},
    {"Referer": "https://localhost.evil.example/forms/intake"},
]


@pytest.fixture
def survey(tmp_path, database_url, engine):
    """A public form (no invite needed), served as Heroku's router serves it."""
    (tmp_path / "survey.toml").write_text(SURVEY, encoding="utf-8")
    app = make_app(database_url, FORMS_DIR=str(tmp_path), DYNO="web.1")
    create_all(engine, app.extensions["collector"])
    yield app
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE survey CASCADE"))


def assert_plain_refusal(answer):
    """The cross-site refusal: no values, no reference, no form, no token, no cookie."""
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400, html
    assert "sent from a page on another site" in html and "nothing was saved" in html
    assert "Your values are kept" not in html and "Ωμέγα" not in html and "ž" not in html
    assert ATTACKER_ID not in html and "<form" not in html and "csrf_token" not in html
    assert answer.headers.getlist("Set-Cookie") == []


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_cross_site_post_to_a_public_form_gets_no_values_token_or_cookie(survey, engine, headers):
    # What a browser sends for another site's top-level form POST: SameSite=Lax
    # withholds the cookie, the attacker has no token.
    answer = survey.test_client().post("/forms/survey", headers={**HTTPS, **headers},
                                       data={"comment": EVIL, "submission_id": ATTACKER_ID})
    assert_plain_refusal(answer)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM survey")).scalar() == 0


@pytest.mark.parametrize("headers", CROSS_SITE)
@pytest.mark.parametrize("cookie", ["withheld", "sent"])
def test_cross_site_post_to_the_invite_form_gets_no_values_token_or_cookie(heroku, engine, headers,
                                                                           cookie):
    client = heroku if cookie == "sent" else heroku.application.test_client()
    answer = post(client, {**VALUES, "notes": EVIL, "submission_id": ATTACKER_ID}, **headers)
    assert_plain_refusal(answer)
    assert rows(engine) == []
