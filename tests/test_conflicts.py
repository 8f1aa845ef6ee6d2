"""A reference already stored with other values is a conflict, never "Saved"."""

import re

import pytest
from sqlalchemy import text

from collector.db.invites import create_invite, revoke
from collector.db.migrate import create_all
from tests.conftest import make_app
from tests import helpers
from tests.helpers import hidden_inputs, valid_intake
from tests.test_invites import public_app  # noqa: F401  (the "feedback" public form)

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


def sign_in(client, engine, name):
    _id, token = create_invite(engine, name)
    assert helpers.sign_in(client, token).status_code == 303
    return _id


def test_a_revoked_invite_puts_no_name_on_public_rows_and_signs_out(public_app, engine):  # noqa: F811
    client = public_app.test_client()
    invite_id = sign_in(client, engine, "Bob Li")
    revoke(engine, invite_id)
    hidden = hidden_inputs(client.get("/forms/feedback").get_data(as_text=True))
    assert client.post("/forms/feedback", data={"comment": "Καλά", **hidden}).status_code == 303
    with engine.connect() as conn:
        assert conn.execute(text("SELECT entered_by, comment FROM feedback")).all() == [(None, "Καλά")]
    with client.session_transaction() as session:
        assert "invite_id" not in session and "ra_name" not in session


def conflict_box(response):
    return response.get_data(as_text=True).split('id="conflict"')[1].split("</div>")[0]


@pytest.fixture
def alice_and_bob(app, engine):
    """Two RAs' browsers, each signed in with their own invite."""
    alice, bob = app.test_client(), app.test_client()
    sign_in(alice, engine, "Alice Ng")
    sign_in(bob, engine, "Bob Li")
    return alice, bob


def test_another_ra_with_the_reference_learns_nothing_about_the_entry(alice_and_bob, engine):
    alice, bob = alice_and_bob
    hidden = first_post(alice, notes=GREEK_NOTE, site="mobile", smoker="true")
    # Bob learns the reference (a shared tablet's history) and probes it with guesses.
    bobs = hidden_inputs(bob.get("/forms/intake").get_data(as_text=True))
    answers = set()
    for guess in ({"site": "mobile"}, {"site": "north"}, {"smoker": "true"}, {"smoker": "false"},
                  {"notes": GREEK_NOTE, "site": "mobile", "smoker": "true"}):   # the last is exact
        data = {**valid_intake(**guess), **bobs, "submission_id": hidden["submission_id"]}
        response = bob.post("/forms/intake", data=data)
        assert response.status_code == 409                  # never 303: no confirmation
        answers.add(conflict_box(response).replace(hidden["submission_id"], "REF"))
    assert len(answers) == 1                                 # every guess gets the same answer
    box = answers.pop()
    assert "this browser did not make it" in box and "<table" not in box
    assert "Mobile" not in box and "Clinic site" not in box and "ασθενής" not in box
    assert len(intake_rows(engine)) == 1


def test_the_ra_on_the_row_sees_the_details_from_another_device(app, engine):
    phone, laptop = app.test_client(), app.test_client()
    sign_in(phone, engine, "Alice Ng")
    sign_in(laptop, engine, "Alice Ng")
    hidden = first_post(phone, notes=GREEK_NOTE)
    mine = hidden_inputs(laptop.get("/forms/intake").get_data(as_text=True))
    data = {**valid_intake(notes="from the laptop"), **mine, "submission_id": hidden["submission_id"]}
    response = laptop.post("/forms/intake", data=data)
    assert response.status_code == 409 and "ασθενής" in conflict_box(response)


def test_on_a_public_form_only_the_browser_given_the_reference_is_answered(public_app, engine):  # noqa: F811
    author, stranger = public_app.test_client(), public_app.test_client()
    hidden = hidden_inputs(author.get("/forms/feedback").get_data(as_text=True))
    assert author.post("/forms/feedback", data={"comment": "Πρώτο", **hidden}).status_code == 303
    # The author's double click and correction: the reference's signature says it is theirs.
    assert author.post("/forms/feedback", data={"comment": "Πρώτο", **hidden}).status_code == 303
    corrected = author.post("/forms/feedback", data={"comment": "Δεύτερο", **hidden})
    assert corrected.status_code == 409 and "Πρώτο" in conflict_box(corrected)
    # A stranger with the same reference (and their own CSRF token) learns nothing.
    theirs = hidden_inputs(stranger.get("/forms/feedback").get_data(as_text=True))
    for comment in ("Πρώτο", "guess"):
        data = {"comment": comment, **theirs, "submission_id": hidden["submission_id"]}
        probe = stranger.post("/forms/feedback", data=data)
        assert probe.status_code == 409 and "this browser did not make it" in conflict_box(probe)
        assert "Πρώτο" not in conflict_box(probe) and "<table" not in conflict_box(probe)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT comment FROM feedback")).scalars().all() == ["Πρώτο"]


def test_a_revoked_invite_does_not_turn_a_public_duplicate_into_not_saved(public_app, engine):  # noqa: F811
    client = public_app.test_client()
    invite_id = sign_in(client, engine, "Bob Li")
    hidden = hidden_inputs(client.get("/forms/feedback").get_data(as_text=True))
    assert client.post("/forms/feedback", data={"comment": "Καλά", **hidden}).status_code == 303
    revoke(engine, invite_id)                     # the answer was lost; then the PI revokes
    again = client.post("/forms/feedback", data={"comment": "Καλά", **hidden})
    assert again.status_code == 303               # it is saved, and it is said so
    with client.session_transaction() as session:
        assert "invite_id" not in session


def test_a_revoked_invite_on_an_invite_form_never_claims_an_entry_was_not_saved(client, engine):
    hidden = first_post(client)
    revoke(engine, 1)
    response = client.post("/forms/intake", data={**valid_intake(), **hidden})
    html = response.get_data(as_text=True)
    assert response.status_code == 403 and "nothing you sent from this page was saved just now" in html
    assert "this entry was not saved" not in html


@pytest.mark.parametrize("first, again", [
    ({"conditions": ["asthma", "diabetes"]}, {"conditions": ["diabetes", "asthma"]}),
    ({"visit_at": "2026-11-21T10:30"}, {"visit_at": "2026-11-21T10:30:00Z"}),
])
def test_the_same_entry_written_differently_is_not_a_conflict(client, engine, first, again):
    hidden = first_post(client, **first)
    assert client.post("/forms/intake", data={**valid_intake(**again), **hidden}).status_code == 303


def test_differences_that_read_alike_are_shown_apart(client, engine):
    hidden = first_post(client, visit_at="2026-11-21T10:30")
    response = client.post("/forms/intake", data={**valid_intake(visit_at="2026-11-21T10:30:59"),
                                                  **hidden})
    assert response.status_code == 409
    assert "2026-11-21 10:30+00:00" in conflict_box(response)
    assert "2026-11-21 10:30:59+00:00" in conflict_box(response)


def test_a_form_changed_after_the_first_send_still_confirms_the_same_entry(tmp_path, database_url,
                                                                          engine):
    path = tmp_path / "visit.toml"
    path.write_text('title = "Visit"\naccess = "public"\n[[fields]]\nname = "n"\ntype = "integer"\n'
                    '[[fields]]\nname = "code"\ntype = "integer"\n')
    create_all(engine, make_app(database_url, FORMS_DIR=str(tmp_path)).extensions["collector"])
    try:
        client = make_app(database_url, FORMS_DIR=str(tmp_path)).test_client()
        hidden = hidden_inputs(client.get("/forms/visit").get_data(as_text=True))
        assert client.post("/forms/visit", data={"n": "2", "code": "7", **hidden}).status_code == 303
        # Deployed meanwhile: n became decimal and code text (DRIFT: the columns stay as
        # they are), and a multi_choice field was added (NULL in the saved row).
        path.write_text(path.read_text().replace('"n"\ntype = "integer"', '"n"\ntype = "decimal"')
                        .replace('"code"\ntype = "integer"', '"code"\ntype = "text"')
                        + '[[fields]]\nname = "tags"\ntype = "multi_choice"\n'
                          'choices = [{ value = "a", label = "A" }]\n')
        app = make_app(database_url, FORMS_DIR=str(tmp_path))
        create_all(engine, app.extensions["collector"])
        with client.session_transaction() as session:
            cookie_session = dict(session)
        again = app.test_client()
        with again.session_transaction() as session:
            session.update(cookie_session)          # the same browser, after the deploy
        response = again.post("/forms/visit", data={"n": "2", "code": "7", **hidden})
        assert response.status_code == 303, conflict_box(response)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE visit CASCADE"))


def test_a_page_shown_again_never_signs_someone_elses_reference(alice_and_bob, engine):
    alice, bob = alice_and_bob
    hidden = first_post(alice, notes=GREEK_NOTE)
    bobs = hidden_inputs(bob.get("/forms/intake").get_data(as_text=True))
    stolen = {**bobs, "submission_id": hidden["submission_id"]}
    # A bad value makes the server show the form again with the posted reference ...
    again = bob.post("/forms/intake", data={**valid_intake(age_years="999"), **stolen})
    assert again.status_code == 422
    laundered = hidden_inputs(again.get_data(as_text=True))
    assert laundered["submission_id"] == hidden["submission_id"] and laundered["submission_sig"] == ""
    # ... and re-posting what it gave back still reveals nothing.
    probe = bob.post("/forms/intake", data={**valid_intake(notes="probe"), **laundered})
    assert probe.status_code == 409 and "ασθενής" not in probe.get_data(as_text=True)
    # The RA's own 422 keeps the proof: her corrected resubmission is confirmed.
    mine = alice.post("/forms/intake", data={**valid_intake(notes=GREEK_NOTE, age_years="999"), **hidden})
    kept = hidden_inputs(mine.get_data(as_text=True))
    assert kept["submission_sig"] == hidden["submission_sig"]


def test_a_revoked_phone_reads_nothing_even_under_a_new_invite_of_the_same_name(public_app, engine):  # noqa: F811
    phone, laptop = public_app.test_client(), public_app.test_client()
    old_invite = sign_in(phone, engine, "Alice Ng")
    revoke(engine, old_invite)                 # the phone is lost; the PI re-invites Alice
    sign_in(laptop, engine, "Alice Ng")
    hidden = hidden_inputs(laptop.get("/forms/feedback").get_data(as_text=True))
    assert laptop.post("/forms/feedback", data={"comment": "Απόρρητο", **hidden}).status_code == 303
    phones = hidden_inputs(phone.get("/forms/feedback").get_data(as_text=True))
    probe = phone.post("/forms/feedback", data={"comment": "guess", **phones,
                                                "submission_id": hidden["submission_id"]})
    assert probe.status_code == 409 and "Απόρρητο" not in probe.get_data(as_text=True)
    with phone.session_transaction() as session:
        assert "invite_id" not in session


def test_a_revoked_browser_gets_no_form_back_from_a_bad_submit_or_the_saved_page(client, engine):
    hidden = first_post(client)
    revoke(engine, 1)
    for data in ({**valid_intake(age_years="999"), **hidden},
                 {**valid_intake(), **hidden, "submission_id": "nope"}):
        response = client.post("/forms/intake", data=data)
        assert response.status_code == 403 and "Participant ID" not in response.get_data(as_text=True)
    saved = client.get(f"/forms/intake/saved/{hidden['submission_id']}")
    assert saved.status_code == 403 and "is saved" not in saved.get_data(as_text=True)


@pytest.mark.parametrize("spell", [str.upper, lambda ref: ref.replace("-", ""),
                                   lambda ref: "{" + ref + "}", lambda ref: "urn:uuid:" + ref])
def test_another_spelling_of_the_reference_launders_no_signature(alice_and_bob, engine, spell):
    alice, bob = alice_and_bob
    hidden = first_post(alice, notes=GREEK_NOTE)
    bobs = hidden_inputs(bob.get("/forms/intake").get_data(as_text=True))
    again = bob.post("/forms/intake", data={**valid_intake(age_years="999"), **bobs,
                                            "submission_id": spell(hidden["submission_id"])})
    laundered = hidden_inputs(again.get_data(as_text=True))
    assert again.status_code == 422 and laundered["submission_sig"] == ""
    probe = bob.post("/forms/intake", data={**valid_intake(notes="probe"), **laundered})
    assert probe.status_code == 409 and "ασθενής" not in probe.get_data(as_text=True)
