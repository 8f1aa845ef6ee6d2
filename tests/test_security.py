"""Security headers, cookies and HTTPS on Heroku's terms."""

from tests.conftest import make_app


def test_every_page_sends_the_security_headers(client):
    for path in ("/", "/forms/intake", "/forms/missing"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # only over Heroku's HTTPS


def test_pages_have_no_inline_script(client):
    html = client.get("/forms/intake").get_data(as_text=True)
    assert "<script>" not in html and "onclick=" not in html and "style=" not in html
    assert '<script src="/static/drafts.js" defer></script>' in html


def test_heroku_redirects_http_to_https_and_sets_hsts_and_secure_cookies(database_url):
    app = make_app(database_url, DYNO="web.1")
    client = app.test_client()
    plain = client.get("/forms/intake?x=1")
    assert plain.status_code == 308
    assert plain.headers["Location"] == "https://localhost/forms/intake?x=1"
    posted = client.post("/forms/intake", data={"a": "b"})
    assert posted.status_code == 308  # keeps method and body: a POST is not lost
    secure = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_session_cookie_is_httponly_and_samesite(client):
    response = client.get("/forms/intake")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
