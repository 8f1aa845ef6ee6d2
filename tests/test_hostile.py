"""Hostile input: hundreds of bad requests, no 5xx, nothing written from invalid input, markup escaped."""

import uuid

import pytest
from markupsafe import escape
from sqlalchemy import text

from collector.db.invites import create_invite, revoke
from collector.web.widgets import widget
from tests.helpers import hidden_inputs, sign_in, valid_intake

PAYLOADS = [
    "' OR '1'='1", "'; DROP TABLE intake; --", "1; SELECT pg_sleep(5)", "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>', "{{7*7}}", "${7*7}", "\u202eevil\u202c", "A" * 100_000,
    "\x00", "%00", "../../etc/passwd", "=cmd|' /C calc'!A0", "\U0001F600" * 10, "NaN",
    "-1e309", "9" * 50, "2026-02-30", "true\nfalse", "north\r\nsouth",
]


class Counter:
    def __init__(self, client):
        self.client, self.requests = client, 0

    def get(self, *args, **kwargs):
        self.requests += 1
        return self.client.get(*args, **kwargs)

    def post(self, *args, **kwargs):
        self.requests += 1
        return self.client.post(*args, **kwargs)

    def fresh(self):
        return hidden_inputs(self.get("/forms/intake").get_data(as_text=True))


def rows(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM intake")).scalar()


def check_answer(response, engine, expected_rows, payload="", echoed=False):
    """No 5xx, no stack trace, markup never raw (and escaped where the page echoes it)."""
    assert response.status_code < 500, response.status_code
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    if "<" in payload and response.status_code != 303:
        assert payload not in body
        if echoed:
            assert str(escape(payload)) in body
    assert rows(engine) == expected_rows


@pytest.fixture
def hostile(client):
    return Counter(client)


def test_every_field_against_every_payload(hostile, app, engine):
    spec = app.extensions["collector"].specs["intake"]
    saved = 0
    for field in spec.fields:
        for payload in PAYLOADS:
            response = hostile.post("/forms/intake", data={**valid_intake(**{field.name: payload}),
                                                           **hostile.fresh()})
            if response.status_code == 303:
                saved += 1
                _assert_stored_verbatim(engine, field.name, payload)
            else:
                assert response.status_code == 422, (field.name, payload[:30], response.status_code)
            echoes_text = widget(field) in ("input", "textarea") and response.status_code == 422
            check_answer(response, engine, saved, payload, echoed=echoes_text)
    assert hostile.requests >= 2 * len(spec.fields) * len(PAYLOADS)
    assert 0 < saved < len(spec.fields) * len(PAYLOADS)  # free text takes text, typed fields refuse it


def _assert_stored_verbatim(engine, column, payload):
    with engine.connect() as conn:
        stored = conn.execute(text(f"SELECT {column}::text FROM intake ORDER BY id DESC LIMIT 1")).scalar()
    assert stored == payload.replace("\r\n", "\n").strip()


def test_malformed_requests_are_refused_without_writing(hostile, engine, app):
    hidden = hostile.fresh()
    forged = {**hidden, "csrf_token": "forged"}
    someone_else = app.test_client()
    sign_in(someone_else, create_invite(engine, "Other RA")[1])
    other_session = hidden_inputs(someone_else.get("/forms/intake").get_data(as_text=True))
    cases = [
        (lambda: hostile.post("/forms/intake", data=valid_intake()), 400),
        (lambda: hostile.post("/forms/intake", data={**valid_intake(), **forged}), 400),
        (lambda: hostile.post("/forms/intake", data={**valid_intake(), **other_session}), 400),
        (lambda: hostile.post("/forms/intake", data={**hidden, "x": "y" * (2 * 1024 * 1024)}), 413),
        (lambda: hostile.post("/forms/intake", data={**hidden, **{f"f{i}": "1" for i in range(600)}}), 413),
        (lambda: hostile.post("/forms/intake", json={**valid_intake(), **hidden}), 400),
        (lambda: hostile.post("/forms/intake", data=b"participant_id=%FF%FE%FD&submission_id=%C0%AF",
                              content_type="application/x-www-form-urlencoded"), 400),
        (lambda: hostile.post("/forms/intake", data={**valid_intake(), **hidden,
                                                     "submission_id": "'; DROP TABLE intake; --"}), 400),
        (lambda: hostile.client.put("/forms/intake", data=hidden), 405),
        (lambda: hostile.client.delete("/forms/intake"), 405),
        (lambda: hostile.get("/forms/<script>alert(1)</script>"), 404),
        (lambda: hostile.get("/forms/intake/saved/' OR 1=1 --"), 404),
        (lambda: hostile.get("/forms/..%2f..%2fetc%2fpasswd"), 404),
        (lambda: hostile.get("/invite/' OR '1'='1"), 410),
        (lambda: sign_in(hostile, "' OR '1'='1"), 403),
        (lambda: hostile.get("/admin/"), 404),
        (lambda: hostile.get("/forms/intake", headers={"X-Request-ID": "x" * 1000}), 200),
    ]
    for make_request, status in cases:
        response = make_request()
        assert response.status_code == status
        check_answer(response, engine, 0)
    assert len(hostile.get("/forms/intake", headers={"X-Request-ID": "x" * 1000}
                           ).headers["X-Request-ID"]) == 32


def test_unknown_fields_are_ignored_and_utf8_garbage_never_stored(hostile, engine):
    response = hostile.post("/forms/intake", data={**valid_intake(), **hostile.fresh(),
                                                   "is_admin": "1", "entered_by": "Mallory",
                                                   "id": "999", "form_version": "evil"})
    assert response.status_code == 303
    with engine.connect() as conn:
        row = conn.execute(text("SELECT id, entered_by, form_version FROM intake")).one()
    assert row.id == 1 and row.entered_by == "Test RA" and row.form_version != "evil"


def test_replayed_and_revoked_invites_write_nothing(app, engine, anonymous_client):
    invite_id, token = create_invite(engine, "Rita")
    hostile = Counter(anonymous_client)
    assert sign_in(hostile, token).status_code == 303
    hidden = hostile.fresh()
    revoke(engine, invite_id)
    for _ in range(5):  # the revoked browser keeps trying, the link is replayed
        response = hostile.post("/forms/intake", data={**valid_intake(), **hidden})
        assert response.status_code in (403, 400)
        assert sign_in(hostile, token).status_code == 403
        check_answer(response, engine, 0)
    assert sign_in(hostile, uuid.uuid4().hex).status_code == 403
