"""Helpers shared by the tests: read hidden inputs, a valid intake entry."""

import re
import socket


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
    """Create a real invite in the database behind `engine`; return its link."""
    from collector.invites import create_invite
    _id, token = create_invite(engine, name)
    return f"{base_url}/invite/{token}"


def signed_in_before_outage(app, name="Test RA"):
    """Return a test client whose browser signed in earlier (the database is down now)."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["invite_id"], session["ra_name"] = 1, name
    return client
