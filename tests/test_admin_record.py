"""One row in the PI area, through the app against a real PostgreSQL: the row page, Edit with a
reason, two editors at once, Review with a query, Withdraw, hostile input, sign-in and CSRF."""

import re

import pytest
from sqlalchemy import text

from tests.helpers import hidden_inputs
from tests.test_admin import PASSWORD, fresh_admin_app, login
from tests.test_audit_trail import submit  # enters a row as RA (Đặng Thị Hương)

PI = "Ngozi Ọkafọr"
SECOND_PI = "Zoë Müller"
RA = "Đặng Thị Hương"
HOSTILE = "<script>alert(1)</script> '; DROP TABLE intake; --"


@pytest.fixture
def admin_app(app, database_url, engine):
    return fresh_admin_app(database_url, engine, PASSWORD)


@pytest.fixture
def pi(admin_app):
    """The PI's browser, signed in under their name."""
    client = admin_app.test_client()
    assert login(client, name=PI).status_code == 303
    return client


def stored(engine, row_id, columns="participant_id, weight_kg, notes, review_status"):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT {columns} FROM intake WHERE id = :id"), {"id": row_id}).one_or_none()


def trail(engine, row_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT * FROM audit_trail WHERE row_id = :id ORDER BY id"),
                            {"id": row_id}).mappings().all()


def edit_form(client, row_id):
    """Open Edit and return what the browser would post back unchanged (hidden inputs included)."""
    page = client.get(f"/admin/forms/intake/rows/{row_id}/edit")
    assert page.status_code == 200
    return form_values(page.get_data(as_text=True))


def form_values(html):
    """Read the edit form's controls as a browser submits them (checked boxes, filled inputs)."""
    form = html[html.index("data-edit-form"):html.index("</form>")]
    data = {}
    for tag in re.findall(r"<input [^>]*>", form):
        name = re.search(r' name="([^"]+)"', tag)
        value = re.search(r' value="([^"]*)"', tag)
        if not name or (' type="radio"' in tag or ' type="checkbox"' in tag) and " checked" not in tag:
            continue
        data.setdefault(name.group(1), []).append(_unescape(value.group(1) if value else ""))
    for name, body in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', form, re.S):
        data[name] = [_unescape(body)]
    return data


def _unescape(value):
    return (value.replace("&#34;", '"').replace("&#39;", "'").replace("&lt;", "<")
            .replace("&gt;", ">").replace("&amp;", "&"))


def test_the_row_page_shows_values_in_the_forms_layout(app, engine, pi):
    row_id = submit(app, engine, notes="Line one\r\nLine two " + "ü" * 1980, weight_kg="",
                    conditions=["asthma", "diabetes"])
    page = pi.get(f"/admin/forms/intake/rows/{row_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Clinic site</dt>" in html and "North clinic" in html           # labels, choice labels
    assert "Diabetes; Asthma" in html and "2026-11-21 10:30" in html         # local time, minutes
    assert "Line one\nLine two " + "ü" * 1980 in html                        # the full long text
    assert 'data-field="weight_kg"' in html and "(empty)" in html
    assert f"Submitted</strong> by <span class=\"who\">{RA}</span>" in html
    assert "Unreviewed" in html and f"Signed in as <strong>{PI}</strong>" in html


def test_an_edit_is_recorded_with_who_what_and_why(app, engine, pi):
    row_id = submit(app, engine)
    data = edit_form(pi, row_id) | {"weight_kg": ["73.0"], "notes": ["Corrigé: Ωμέγα"],
                                    "_reason": ["CRF says 73.0 kg"]}
    answer = pi.post(f"/admin/forms/intake/rows/{row_id}/edit", data=data)
    assert answer.status_code == 303 and answer.location.endswith(f"/rows/{row_id}#history")
    assert stored(engine, row_id)[1:3] == (73, "Corrigé: Ωμέγα")
    entry = trail(engine, row_id)[-1]
    assert (entry["action"], entry["actor"], entry["source"], entry["reason"]) == (
        "corrected", PI, "PI area", "CRF says 73.0 kg")
    assert set(entry["changes"]) == {"weight_kg", "notes"}
    html = pi.get(f"/admin/forms/intake/rows/{row_id}").get_data(as_text=True)
    corrected = html[html.index("<strong>Corrected</strong>"):]
    assert f'by <span class="who">{PI}</span>' in corrected and "CRF says 73.0 kg" in corrected
    assert '<th scope="row">Weight (kg)</th><td class="old">72.5</td><td class="new">73.0</td>' in corrected


def test_an_unchanged_edit_writes_nothing(app, engine, pi):
    row_id = submit(app, engine)
    answer = pi.post(f"/admin/forms/intake/rows/{row_id}/edit",
                     data=edit_form(pi, row_id) | {"_reason": ["just looking"]})
    assert answer.status_code == 200 and "nothing was saved" in answer.get_data(as_text=True)
    assert len(trail(engine, row_id)) == 1


@pytest.mark.parametrize("changes, message", [
    ({"weight_kg": ["400"]}, "Weight (kg)"),                        # the form's own rule
    ({"participant_id": ["P42"]}, "Use the expected format"),
    ({"weight_kg": ["73.0"], "_reason": ["   "]}, "Give the reason for the change"),
    ({"weight_kg": ["73.0"], "_reason": ["x" * 100_000]}, "at most 2,000 characters (this is 100,000)"),
    ({"weight_kg": ["73.0"], "_reason": ["bad\x00byte"]}, "NUL"),
])
def test_a_refused_edit_writes_nothing_and_says_why(app, engine, pi, changes, message):
    row_id = submit(app, engine)
    before = stored(engine, row_id)
    data = edit_form(pi, row_id) | {"_reason": ["a reason"]} | changes
    answer = pi.post(f"/admin/forms/intake/rows/{row_id}/edit", data=data)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422 and message in html and "Nothing was saved" in html
    assert stored(engine, row_id) == before and len(trail(engine, row_id)) == 1


def test_the_editor_cannot_change_the_rows_own_columns(app, engine, pi):
    row_id = submit(app, engine)
    keep = "submission_id, submitted_at, entered_by, form_version, review_status"
    before = stored(engine, row_id, keep)
    data = edit_form(pi, row_id) | {"notes": ["fixed"], "_reason": ["typo"], "id": ["999"],
                                    "entered_by": ["Mallory"], "submission_id": ["x"],
                                    "review_status": ["verified"], "form_version": ["evil"]}
    assert pi.post(f"/admin/forms/intake/rows/{row_id}/edit", data=data).status_code == 303
    assert stored(engine, row_id, keep) == before
    assert set(trail(engine, row_id)[-1]["changes"]) == {"notes"}


def test_two_editors_the_second_is_told_field_by_field_and_nothing_is_overwritten(
        app, engine, pi, admin_app):
    row_id = submit(app, engine)
    other = admin_app.test_client()
    assert login(other, name=SECOND_PI).status_code == 303
    mine, theirs = edit_form(pi, row_id), edit_form(other, row_id)   # both open Edit
    first = other.post(f"/admin/forms/intake/rows/{row_id}/edit", data=theirs | {
        "weight_kg": ["74.0"], "_reason": ["scale recalibrated"]})
    assert first.status_code == 303
    second = pi.post(f"/admin/forms/intake/rows/{row_id}/edit", data=mine | {
        "weight_kg": ["71.0"], "age_years": ["37"], "_reason": ["from the CRF"]})
    html = second.get_data(as_text=True)
    assert second.status_code == 409 and "someone else changed this row" in html
    line = html[html.index('<th scope="row">Weight (kg)</th>'):].split("</tr>")[0]
    assert ("<td>72.5</td>" in line and '<td class="now">74.0</td>' in line and SECOND_PI in line
            and "71.0" in line and "not kept" in line)
    assert stored(engine, row_id)[1] == 74      # the first editor's value stands
    again = form_values(html)
    assert again["weight_kg"] == ["74.0"] and again["age_years"] == ["37"]   # mine kept where free
    assert again["_reason"] == ["from the CRF"]
    # Saving the offered form now works: it carries the row's new version.
    assert pi.post(f"/admin/forms/intake/rows/{row_id}/edit", data=again).status_code == 303
    assert stored(engine, row_id, "weight_kg, age_years") == (74, 37)


def test_review_with_a_query_keeps_its_text_in_the_trail(app, engine, pi):
    row_id = submit(app, engine)
    page = pi.get(f"/admin/forms/intake/rows/{row_id}").get_data(as_text=True)
    hidden = hidden_inputs(page)
    no_text = pi.post(f"/admin/forms/intake/rows/{row_id}/review",
                      data=hidden | {"_status": "query_open", "_note": " "})
    assert no_text.status_code == 422 and "query&#39;s text" in no_text.get_data(as_text=True)
    assert stored(engine, row_id)[3] == "unreviewed"
    query = "Weight 72.5 kg vs 27.5 on the CRF? " + HOSTILE
    answer = pi.post(f"/admin/forms/intake/rows/{row_id}/review",
                     data=hidden | {"_status": "query_open", "_note": query})
    assert answer.status_code == 303 and stored(engine, row_id)[3] == "query_open"
    entry = trail(engine, row_id)[-1]
    assert (entry["action"], entry["actor"], entry["reason"]) == ("reviewed", PI, query)
    assert entry["changes"] == {"review_status": {"old": "unreviewed", "new": "query_open"}}
    html = pi.get(f"/admin/forms/intake/rows/{row_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '<td class="old">Unreviewed</td><td class="new">Query open</td>' in html
    stale = pi.post(f"/admin/forms/intake/rows/{row_id}/review",   # the page from before the query
                    data=hidden | {"_status": "verified", "_note": "looks fine"})
    assert stale.status_code == 409 and "changed after you opened it" in stale.get_data(as_text=True)
    assert stored(engine, row_id)[3] == "query_open"


def test_withdrawal_deletes_the_row_and_the_trail_keeps_no_values(app, engine, pi):
    row_id = submit(app, engine, notes="Secret: Ngozi's HIV status")
    edit = edit_form(pi, row_id) | {"notes": ["Secret, corrected"], "_reason": ["typo"]}
    assert pi.post(f"/admin/forms/intake/rows/{row_id}/edit", data=edit).status_code == 303
    hidden = hidden_inputs(pi.get(f"/admin/forms/intake/rows/{row_id}").get_data(as_text=True))
    no_reason = pi.post(f"/admin/forms/intake/rows/{row_id}/withdraw", data=hidden | {"_reason": ""})
    assert no_reason.status_code == 422 and stored(engine, row_id) is not None
    answer = pi.post(f"/admin/forms/intake/rows/{row_id}/withdraw",
                     data=hidden | {"_reason": "Participant withdrew consent"})
    assert answer.status_code == 303 and stored(engine, row_id) is None
    entries = trail(engine, row_id)
    assert entries[-1]["action"] == "withdrawn" and entries[-1]["actor"] == PI
    assert entries[-1]["reason"] == "Participant withdrew consent"
    assert "Secret" not in str([dict(e) for e in entries])
    gone = pi.get(f"/admin/forms/intake/rows/{row_id}")
    html = gone.get_data(as_text=True)
    assert gone.status_code == 404 and f"was withdrawn by\n  <strong>{PI}</strong>" in html
    assert "Participant withdrew consent" in html and "Values erased" in html and "Secret" not in html
    assert pi.get(f"/admin/forms/intake/rows/{row_id}/edit").status_code == 404


def test_an_unknown_row_says_so(pi):
    answer = pi.get("/admin/forms/intake/rows/424242")
    assert answer.status_code == 404 and "has no row 424242" in answer.get_data(as_text=True)
    assert pi.get("/admin/forms/nope/rows/1").status_code == 404


def test_without_sign_in_every_row_page_is_the_login_page(app, engine, admin_app):
    row_id = submit(app, engine)
    stranger = admin_app.test_client()
    for path in ("", "/edit"):
        answer = stranger.get(f"/admin/forms/intake/rows/{row_id}{path}")
        assert answer.status_code == 401 and 'name="password"' in answer.get_data(as_text=True)
    token = hidden_inputs(stranger.get("/admin/").get_data(as_text=True))["csrf_token"]
    for path in ("/edit", "/review", "/withdraw"):
        assert stranger.post(f"/admin/forms/intake/rows/{row_id}{path}", data={
            "_reason": "x", "_note": "x", "_status": "verified", "csrf_token": token}).status_code == 401
    assert len(trail(engine, row_id)) == 1


def test_posts_without_the_csrf_token_are_refused(app, engine, pi):
    row_id = submit(app, engine)
    version = hidden_inputs(pi.get(f"/admin/forms/intake/rows/{row_id}").get_data(as_text=True))["_version"]
    posts = {"/edit": edit_form(pi, row_id) | {"notes": ["x"], "_reason": ["r"]},
             "/review": {"_status": "verified", "_note": "ok", "_version": version},
             "/withdraw": {"_reason": "consent", "_version": version}}
    for path, data in posts.items():
        data = {key: value for key, value in data.items() if key != "csrf_token"}
        assert pi.post(f"/admin/forms/intake/rows/{row_id}{path}", data=data).status_code == 400
    assert stored(engine, row_id) is not None and len(trail(engine, row_id)) == 1


def test_hostile_values_and_reasons_are_shown_escaped(app, engine, pi):
    row_id = submit(app, engine, notes='<img src=x onerror="alert(1)">')
    data = edit_form(pi, row_id) | {"notes": [HOSTILE + "\n" + "Ω" * 1900], "_reason": [HOSTILE]}
    assert pi.post(f"/admin/forms/intake/rows/{row_id}/edit", data=data).status_code == 303
    assert stored(engine, row_id)[2] == HOSTILE + "\n" + "Ω" * 1900
    for path in ("", "/edit"):
        html = pi.get(f"/admin/forms/intake/rows/{row_id}{path}").get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_edit_of_a_row_withdrawn_meanwhile_says_so(app, engine, pi, admin_app):
    row_id = submit(app, engine)
    edit = edit_form(pi, row_id) | {"notes": ["late fix"], "_reason": ["typo"]}
    other = admin_app.test_client()
    assert login(other, name=SECOND_PI).status_code == 303
    hidden = hidden_inputs(other.get(f"/admin/forms/intake/rows/{row_id}").get_data(as_text=True))
    assert other.post(f"/admin/forms/intake/rows/{row_id}/withdraw",
                      data=hidden | {"_reason": "Consent withdrawn by phone"}).status_code == 303
    answer = pi.post(f"/admin/forms/intake/rows/{row_id}/edit", data=edit)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 409 and f"withdrawn by\n  <strong>{SECOND_PI}</strong>" in html
    assert "Consent withdrawn by phone" in html and stored(engine, row_id) is None
