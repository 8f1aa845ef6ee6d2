"""A revoked (or deleted) invite closes invite-only forms at once, not only at the next submit."""

from sqlalchemy import text

from collector.db.invites import create_invite, revoke
from tests.conftest import make_app
from tests.helpers import free_port, hidden_inputs, sign_in, signed_in_before_outage

# Hostile but valid: Greek, CJK, emoji, quotes and a backslash in the RA's name.
NAME = 'Ελένη "李" O\'Brien \\ 🧪'


def signed_in_client(app, engine):
    client = app.test_client()
    invite_id, token = create_invite(engine, NAME)
    assert sign_in(client, token).status_code == 303
    assert client.get("/forms/intake").status_code == 200
    return client, invite_id


def assert_closed(client):
    page = client.get("/forms/intake")
    html = page.get_data(as_text=True)
    assert page.status_code == 403 and "Invite needed" in html
    assert "Participant ID" not in html and "submission_id" not in html and "csrf_token" not in html
    assert "revoked" in html and "Ask your PI for a new link" in html
    index = client.get("/").get_data(as_text=True)
    assert "Participant intake" not in index and "Signed in as" not in index


def test_revoked_invite_cannot_open_the_form_or_see_it_listed(app, engine):
    client, invite_id = signed_in_client(app, engine)
    assert "Participant intake" in client.get("/").get_data(as_text=True)
    revoke(engine, invite_id)
    assert_closed(client)


def test_deleted_invite_cannot_open_the_form(app, engine):
    client, invite_id = signed_in_client(app, engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM invites WHERE id = :id"), {"id": invite_id})
    assert_closed(client)


def test_revocation_also_ends_the_sign_in_cookie(app, engine):
    client, invite_id = signed_in_client(app, engine)
    revoke(engine, invite_id)
    client.get("/forms/intake")
    with client.session_transaction() as session:
        assert "invite_id" not in session and "ra_name" not in session


def test_index_shows_the_name_of_the_active_invite(app, engine):
    client, _invite_id = signed_in_client(app, engine)
    html = client.get("/").get_data(as_text=True)
    assert "Ελένη &#34;李&#34; O&#39;Brien \\ 🧪" in html and "Participant intake" in html
    assert hidden_inputs(client.get("/forms/intake").get_data(as_text=True))["submission_id"]


def test_during_a_database_outage_a_signed_in_browser_still_gets_the_form():
    # The entry must still be typed and held for recovery; the submit re-checks the invite.
    app = make_app(f"postgres://collector@127.0.0.1:{free_port()}/collector")
    client = signed_in_before_outage(app, NAME)
    page = client.get("/forms/intake")
    assert page.status_code == 200 and "Participant ID" in page.get_data(as_text=True)
