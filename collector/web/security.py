"""HTTP hardening: HTTPS on Heroku, security headers on every response, body caps."""

import io
from urllib.parse import urlsplit

from flask import abort, current_app, redirect, request
from flask_wtf.csrf import CSRFError

from collector.forms import messages

# Everything comes from this app: no inline script, no CDN, no framing.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
                           "base-uri 'none'; object-src 'none'")
HSTS_SECONDS = 365 * 24 * 3600


def redirect_to_https():
    """On Heroku, send plain-HTTP requests to HTTPS (before_request)."""
    if current_app.config["ON_HEROKU"] and request.scheme != "https":
        # 308 keeps the method and body, so even a POST is not lost on the way.
        return redirect(request.url.replace("http://", "https://", 1), code=308)
    return None


def refuse_cross_origin():
    """Refuse a POST whose Origin or Referer names another site (before_request, before CSRF).

    Stands in for Flask-WTF's WTF_CSRF_SSL_STRICT, which needs a Referer: a
    browser that sends none (or Origin: null) is let through, since the CSRF
    token and the SameSite=Lax cookie already tie the post to this site.
    """
    if request.method not in current_app.config["WTF_CSRF_METHODS"]:
        return None
    origin, referrer = request.headers.get("Origin"), request.headers.get("Referer")
    for source in (None if origin == "null" else origin, referrer):
        if source and not _same_origin(source, request.host_url):
            raise CSRFError(messages.CROSS_ORIGIN)
    return None


def _same_origin(url, other):
    try:
        a, b = urlsplit(url), urlsplit(other)
        return (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
    except ValueError:  # a malformed header is no proof of anything
        return False


def refuse_huge_forms():
    """413 for a form with more fields than any form file could need (before_request).

    Werkzeug caps multipart parts and form memory itself; this caps URL-encoded
    field counts too.
    """
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        if sum(1 for _ in request.form.items(multi=True)) > current_app.config["MAX_FORM_PARTS"]:
            abort(413)
    return None


class BodyWithoutLength:
    """WSGI middleware: give a body sent without Content-Length (chunked) a length.

    Werkzeug cuts such a body silently at MAX_CONTENT_LENGTH and parses the
    first part, so fields after the cut would be saved as empty. Reading at most
    limit + 1 bytes and stating the length lets werkzeug refuse it with 413 like
    any other oversized body, and parse a smaller one whole.
    """

    def __init__(self, app, limit):
        self.app, self.limit = app, limit

    def __call__(self, wsgi_env, start_response):  # a request, not the OS environment
        if not wsgi_env.get("CONTENT_LENGTH") and "wsgi.input_terminated" in wsgi_env:
            body = _read_at_most(wsgi_env["wsgi.input"], self.limit + 1)
            wsgi_env["wsgi.input"] = io.BytesIO(body)
            # From here on it is an ordinary body of known length (werkzeug ignores
            # Content-Length while Transfer-Encoding says chunked).
            wsgi_env["CONTENT_LENGTH"] = str(len(body))
            wsgi_env.pop("HTTP_TRANSFER_ENCODING", None)
            del wsgi_env["wsgi.input_terminated"]
        return self.app(wsgi_env, start_response)


def _read_at_most(stream, size):
    chunks, left = [], size
    while left > 0 and (chunk := stream.read(min(left, 64 * 1024))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def add_security_headers(response):
    """Set the headers every page needs (after_request)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Our own pages get a Referer to check; other sites learn only our origin.
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if current_app.config["ON_HEROKU"]:
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
    return response
