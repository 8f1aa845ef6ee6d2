"""Helpers shared by the tests: read hidden inputs, a valid intake entry, sign in with an invite."""

import re
import socket
import urllib.error
import urllib.parse

from sqlalchemy import text


def hidden_inputs(html):
    """Return the form's hidden inputs (csrf_token, submission_id) as a dict."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def valid_intake(**changes):
    """Return form data for a valid intake entry, with `changes` applied."""
    data = {
        "participant_id": "P0042", "site": "north", "visit_at": "2026-11-21T10:30",
        "date_of_birth": "1990-05-01", "age_years": "36", "weight_kg": "72.5",
        "smoker": "false", "conditions": ["asthma", "diabetes"],
        "contact_email": "ra@example.org", "notes": "Line one\r\nLine two",
    }
    data.update(changes)
    return data


def free_port():
    """Return a local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def invite_link(engine, base_url, name="Test RA"):
    """Create a real invite in the database behind `engine`; return its link (…/invite#code)."""
    from collector.db.invites import create_invite
    _id, token = create_invite(engine, name)
    return f"{base_url}/invite#{token}"


def invite_form(page_html, code):
    """Return the body the invite page posts: its CSRF token and `code`, as a browser sends it."""
    return {"csrf_token": hidden_inputs(page_html)["csrf_token"], "code": code}


def sign_in(client, code, **options):
    """Sign a Flask test client in the way an RA does: open /invite, post the code.

    `options` (e.g. headers=...) go with both requests.
    """
    page = client.get("/invite", **options).get_data(as_text=True)
    return client.post("/invite", data=invite_form(page, code), **options)


def sign_in_over_http(opener, link):
    """Sign a urllib opener in with an invite link over real HTTP; return the final answer.

    Does what a browser with invite.js does: GET the page (the #fragment is never
    sent), then POST the code. A 303 is returned as it is if the opener does not
    follow redirects.
    """
    page_url, _hash, code = link.partition("#")
    with opener.open(page_url, timeout=30) as page:
        body = invite_form(page.read().decode(), code)
    try:
        answer = opener.open(page_url, data=urllib.parse.urlencode(body).encode(), timeout=30)
    except urllib.error.HTTPError as error:
        answer = error
    with answer:
        return answer.status, answer.read().decode()


def signed_in_before_outage(app, name="Test RA"):
    """Return a test client whose browser signed in earlier (the database is down now)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["invite_id"], session["ra_name"] = 1, name
    return client


def sign_in_in_browser(page, link, javascript=True):
    """Open an invite link in a Playwright page and wait until it is signed in.

    With JavaScript, invite.js posts the code; without, paste it as an RA would.
    """
    page.goto(link)
    if not javascript:
        page.fill("#invite-code", link.partition("#")[2])
        page.click("button[type=submit]")
    page.wait_for_url(link.partition("/invite#")[0] + "/")


def clear_audit_trail(conn):
    """Empty audit_trail between tests the way the README tells an owner to (its guard
    refuses TRUNCATE): row ids restart per test, and old history must not attach to them."""
    conn.execute(text("ALTER TABLE audit_trail DISABLE TRIGGER audit_trail_no_truncate"))
    conn.execute(text("TRUNCATE audit_trail RESTART IDENTITY"))
    conn.execute(text("ALTER TABLE audit_trail ENABLE TRIGGER audit_trail_no_truncate"))
