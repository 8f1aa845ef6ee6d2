"""A reference already stored with other values is a conflict, never "Saved"."""

import re

import pytest
from sqlalchemy import text

from collector.invites import create_invite, revoke
from collector.migrate import create_all
from tests.conftest import make_app
from tests.helpers import hidden_inputs, valid_intake

GREEK_NOTE = "Ο ασθενής ανέφερε πονοκέφαλο· 頭痛 🤕 \"quoted\" \\ back"


def intake_rows(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM intake ORDER BY id")).mappings().all()


def first_post(client, **changes):
    hidden = hidden_inputs(client.get("/forms/intake").get_data(as_text=True))
    response = client.post("/forms/intake", data={**valid_intake(**changes), **hidden})
    assert response.status_code == 303
    return hidden


def test_same_reference_same_values_is_one_row_and_saved_again(client, engine):
    hidden = first_post(client, notes=GREEK_NOTE)
    # The same instant and the same ticks, written differently, are the same entry.
    again = valid_intake(notes=GREEK_NOTE, visit_at="2026-11-21T10:30:00+00:00",
                         conditions=["diabetes", "asthma", "asthma"])
    response = client.post("/forms/intake", data={**again, **hidden})
    assert response.status_code == 303 and response.location.endswith(hidden["submission_id"])
    assert len(intake_rows(engine)) == 1


def test_same_reference_other_values_is_409_field_by_field_and_nothing_changes(client, engine):
    hidden = first_post(client, notes=GREEK_NOTE)
    stored = intake_rows(engine)
    corrected = valid_intake(notes=GREEK_NOTE + " διορθώθηκε", weight_kg="75.0",
                             conditions=["asthma"], site="south")
    response = client.post("/forms/intake", data={**corrected, **hidden})
    html = response.get_data(as_text=True)

    assert response.status_code == 409
    assert intake_rows(engine) == stored                      # nothing overwritten, nothing added
    assert "Not saved" in html and "is saved in the database" not in html
    assert hidden["submission_id"] in html                    # the reference the PI needs
    table = html.split('id="conflict"')[1].split("</table>")[0]
    cells = re.findall(r'<tr><th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td></tr>', table)
    assert [label for label, _old, _new in cells] == [
        "Clinic site", "Weight (kg)", "Diagnosed conditions", "Notes"]
    assert cells[0][1:] == ("North clinic", "South clinic")
    assert cells[1][1:] == ("72.5", "75.0")
    assert cells[2][1:] == ("Diabetes; Asthma", "Asthma")
    assert "διορθώθηκε" in cells[3][2] and "διορθώθηκε" not in cells[3][1]
    # The new values stay in the form, under a NEW reference: Submit there adds a
    # separate entry on purpose, it can never overwrite the stored one.
    form = html.split("<form")[1]
    assert 'value="75.0"' in form and 'value="south" checked required' in form
    new_hidden = hidden_inputs(html)
    assert new_hidden["submission_id"] != hidden["submission_id"]
    assert "Save as a new, separate entry" in html and "tell your PI" in html


def test_conflict_is_logged_with_field_names_only(client, engine, capsys):
    hidden = first_post(client, notes=GREEK_NOTE)
    capsys.readouterr()
    client.post("/forms/intake", data={**valid_intake(notes="changed"), **hidden})
    out = capsys.readouterr().out
    assert '"event": "submission_conflict"' in out and '"fields": ["notes"]' in out
    assert "changed" not in out and "ασθενής" not in out  # values stay out of the log


def test_a_revoked_invite_conflict_still_names_the_stored_entry(client, engine):
    hidden = first_post(client)
    revoke(engine, 1)
    response = client.post("/forms/intake", data={**valid_intake(age_years="40"), **hidden})
    assert response.status_code == 403          # revoked: refused, nothing stored is shown
    assert "72.5" not in response.get_data(as_text=True)
    assert len(intake_rows(engine)) == 1


@pytest.fixture
def public_app(tmp_path, database_url, engine):
    (tmp_path / "feedback.toml").write_text(
        'title = "Feedback"\naccess = "public"\n[[fields]]\nname = "comment"\ntype = "long_text"\n')
    app = make_app(database_url, FORMS_DIR=str(tmp_path))
    create_all(engine, app.extensions["collector"])
    yield app
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE feedback CASCADE"))


def sign_in(client, engine, name):
    _id, token = create_invite(engine, name)
    client.get(f"/invite/{token}")
    return _id


def test_a_revoked_invite_puts_no_name_on_public_rows_and_signs_out(public_app, engine):
    client = public_app.test_client()
    invite_id = sign_in(client, engine, "Bob Li")
    revoke(engine, invite_id)
    hidden = hidden_inputs(client.get("/forms/feedback").get_data(as_text=True))
    assert client.post("/forms/feedback", data={"comment": "Καλά", **hidden}).status_code == 303
    with engine.connect() as conn:
        assert conn.execute(text("SELECT entered_by, comment FROM feedback")).all() == [(None, "Καλά")]
    with client.session_transaction() as session:
        assert "invite_id" not in session and "ra_name" not in session


def test_stored_values_are_shown_only_to_the_ra_who_entered_them(app, engine):
    alice, bob = app.test_client(), app.test_client()
    sign_in(alice, engine, "Alice Ng")
    sign_in(bob, engine, "Bob Li")
    hidden = first_post(alice, notes=GREEK_NOTE)
    # Bob learns the reference (a shared tablet's history) and posts other values.
    bobs = hidden_inputs(bob.get("/forms/intake").get_data(as_text=True))
    data = {**valid_intake(notes="probe"), **bobs, "submission_id": hidden["submission_id"]}
    response = bob.post("/forms/intake", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "not shown: entered by someone else" in html
    assert "ασθενής" not in html and "probe" in html
