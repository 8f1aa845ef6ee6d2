"""RA invite links: hashed tokens, sign-in, entered_by, immediate revoke, public forms."""

import hashlib

import pytest
from sqlalchemy import text

from collector.db.invites import create_invite, token_hash
from collector.db.migrate import create_all
from tests.conftest import make_app
from tests.helpers import hidden_inputs, sign_in, valid_intake
from tests.processes import run_manage


def intake_rows(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT participant_id, entered_by FROM intake")).all()


def submit(client, **changes):
    hidden = hidden_inputs(client.get("/forms/intake").get_data(as_text=True))
    return client.post("/forms/intake", data={**valid_intake(**changes), **hidden})


def test_invite_command_prints_a_link_and_stores_only_its_hash(app, database_url, engine):
    result = run_manage("invite", "  Alice   Ng ", DATABASE_URL=database_url, BASE_URL="https://study.example/")
    assert result.returncode == 0, result.stderr
    header, link = result.stdout.splitlines()[:2]
    assert header == "Invite #1 for Alice Ng:"
    assert link.startswith("https://study.example/invite#")
    token = link.rsplit("#", 1)[1]
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT name, token_hash FROM invites")).one()
        every_value = conn.execute(text("SELECT invites::text FROM invites")).scalar()
    assert tuple(stored) == ("Alice Ng", token_hash(token))
    assert token_hash(token) != hashlib.sha256(token.encode()).hexdigest()  # not the old links' hash
    assert token not in every_value


def test_signed_in_browser_submits_under_the_ras_name(app, engine, anonymous_client):
    _id, token = create_invite(engine, "Alice Ng")
    response = sign_in(anonymous_client, token)
    assert response.status_code == 303
    index = anonymous_client.get("/").get_data(as_text=True)
    assert "Signed in as <strong>Alice Ng</strong>" in index
    assert submit(anonymous_client).status_code == 303
    assert intake_rows(engine) == [("P0042", "Alice Ng")]


def test_invite_only_form_refuses_a_browser_without_an_invite(app, engine, anonymous_client):
    page = anonymous_client.get("/forms/intake")
    assert page.status_code == 403 and "needs a personal invite link" in page.get_data(as_text=True)
    assert "intake" not in anonymous_client.get("/").get_data(as_text=True)
    posted = anonymous_client.post("/forms/intake", data=valid_intake())
    assert posted.status_code == 403 and 'value="P0042"' not in posted.get_data(as_text=True)
    assert intake_rows(engine) == []


@pytest.mark.parametrize("token", ["not-a-token", "x" * 43])
def test_a_wrong_link_signs_nobody_in(app, anonymous_client, token):
    response = sign_in(anonymous_client, token)
    assert response.status_code == 403 and "not valid" in response.get_data(as_text=True)
    assert anonymous_client.get("/forms/intake").status_code == 403


def test_revoke_refuses_the_next_submit_at_once(app, engine, database_url, client):
    assert submit(client, participant_id="P0001").status_code == 303
    hidden = hidden_inputs(client.get("/forms/intake").get_data(as_text=True))
    listing = run_manage("invites", DATABASE_URL=database_url)
    assert listing.returncode == 0 and "Test RA" in listing.stdout and "active" in listing.stdout
    revoked = run_manage("revoke", "1", DATABASE_URL=database_url)
    assert revoked.returncode == 0 and revoked.stdout == "Revoked invite #1 (Test RA).\n"
    response = client.post("/forms/intake", data={**valid_intake(participant_id="P0002"), **hidden})
    assert response.status_code == 403 and "revoked" in response.get_data(as_text=True)
    assert intake_rows(engine) == [("P0001", "Test RA")]
    assert client.get("/forms/intake").status_code == 403  # signed out
    assert "revoked" in run_manage("invites", DATABASE_URL=database_url).stdout
    again = run_manage("revoke", "1", DATABASE_URL=database_url)
    assert again.returncode == 1 and "no active invite #1" in again.stderr


def test_invite_needs_a_base_url_on_heroku(app, database_url):
    result = run_manage("invite", "Bob", DATABASE_URL=database_url, DYNO="run.1", SECRET_KEY="x")
    assert result.returncode == 1 and "set BASE_URL first" in result.stderr


@pytest.fixture
def public_app(tmp_path, database_url, engine):
    (tmp_path / "feedback.toml").write_text(
        'title = "Feedback"\naccess = "public"\n[[fields]]\nname = "comment"\ntype = "text"\n'
        'required = true\n')
    app = make_app(database_url, FORMS_DIR=str(tmp_path))
    create_all(engine, app.extensions["collector"])
    yield app
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE feedback CASCADE"))


def test_public_form_needs_no_invite_and_records_a_name_when_there_is_one(public_app, engine):
    client = public_app.test_client()
    assert "Feedback" in client.get("/").get_data(as_text=True)
    for _ in range(2):
        hidden = hidden_inputs(client.get("/forms/feedback").get_data(as_text=True))
        assert client.post("/forms/feedback", data={"comment": "Fine", **hidden}).status_code == 303
        _id, token = create_invite(engine, "Bob Li")
        sign_in(client, token)
    with engine.connect() as conn:
        names = conn.execute(text("SELECT entered_by FROM feedback ORDER BY id")).scalars().all()
    assert names == [None, "Bob Li"]


def test_a_browser_without_an_invite_never_sees_the_form_echoed(app, database_url, engine):
    # A CSRF token from another page of the same session (the PI login) must not
    # let an uninvited browser make the form render by sending a bad reference.
    admin = make_app(database_url, ADMIN_PASSWORD="a long passphrase for the PI")
    client = admin.test_client()
    token = client.get("/admin/").get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/forms/intake", data={**valid_intake(), "csrf_token": token,
                                                  "submission_id": "garbled"})
    assert response.status_code == 403 and "Participant ID" not in response.get_data(as_text=True)
    assert intake_rows(engine) == []
