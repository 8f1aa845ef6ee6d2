"""Bodies without Content-Length (Transfer-Encoding: chunked) under real gunicorn."""

import http.client
import http.cookiejar
import urllib.parse
import urllib.request

import pytest
from sqlalchemy import text

from collector.ops.config import MAX_BODY_BYTES
from tests.helpers import free_port, hidden_inputs, invite_link, sign_in_over_http, valid_intake
from tests.processes import WebProcess, as_heroku_url, process_environment

NOTES = "Σημείωση 李 🧪 \\ \" ' after the padding"


@pytest.fixture
def web(migrated_app, app, database_url, tmp_path):
    env = process_environment(DATABASE_URL=as_heroku_url(database_url), PORT=str(free_port()),
                              SECRET_KEY="chunked-secret")
    with WebProcess(env, tmp_path / "web.log") as web:
        yield web


def signed_in_form(web, engine):
    """Return (cookie header, hidden inputs) of a browser signed in with an invite."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    sign_in_over_http(opener, invite_link(engine, web.base_url, "Ζωή Chunk"))
    with opener.open(web.base_url + "/forms/intake") as page:
        hidden = hidden_inputs(page.read().decode())
    return "; ".join(f"{c.name}={c.value}" for c in jar), hidden


def post_chunked(web, cookie, body, chunk=64 * 1024):
    """POST `body` in chunks with no Content-Length; return (status, html)."""
    connection = http.client.HTTPConnection("127.0.0.1", int(web.base_url.rsplit(":", 1)[1]),
                                            timeout=30)
    connection.putrequest("POST", "/forms/intake")
    connection.putheader("Content-Type", "application/x-www-form-urlencoded")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.putheader("Cookie", cookie)
    connection.endheaders()
    for start in range(0, len(body), chunk):
        piece = body[start:start + chunk]
        connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    html = response.read().decode()
    connection.close()
    return response.status, html


def body_with_padding(hidden, padding_bytes):
    """Required fields first, then an unknown padding field, then optional fields."""
    fields = {k: v for k, v in valid_intake().items() if k not in ("notes", "contact_email")}
    first = urllib.parse.urlencode({**fields, **hidden}, doseq=True)
    last = urllib.parse.urlencode({"notes": NOTES, "contact_email": "zoë@example.org"})
    padding = "&pad=" + "x" * (padding_bytes - len(first) - len(last) - len("&pad=&"))
    body = f"{first}{padding}&{last}".encode()
    assert len(body) == padding_bytes
    return body


def rows(engine):
    with engine.connect() as conn:
        return conn.execute(text("SELECT notes, contact_email FROM intake")).all()


def test_chunked_body_over_the_cap_is_refused_whole(web, engine):
    cookie, hidden = signed_in_form(web, engine)
    status, html = post_chunked(web, cookie, body_with_padding(hidden, MAX_BODY_BYTES + 1))
    assert status == 413, html
    assert rows(engine) == []


def test_chunked_body_under_the_cap_is_saved_whole(web, engine):
    cookie, hidden = signed_in_form(web, engine)
    status, html = post_chunked(web, cookie, body_with_padding(hidden, MAX_BODY_BYTES))
    assert status == 303, html
    assert rows(engine) == [(NOTES, "zoë@example.org")]
