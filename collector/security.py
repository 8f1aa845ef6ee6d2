"""HTTP hardening: HTTPS on Heroku, security headers on every response."""

from flask import abort, current_app, redirect, request

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


def refuse_huge_forms():
    """413 for a form with more fields than any form file could need (before_request).

    Werkzeug caps multipart parts and form memory itself; this caps URL-encoded
    field counts too.
    """
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        if sum(1 for _ in request.form.items(multi=True)) > current_app.config["MAX_FORM_PARTS"]:
            abort(413)
    return None


def add_security_headers(response):
    """Set the headers every page needs (after_request)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Flask-WTF checks a same-origin Referer on HTTPS POSTs: no-referrer would break them.
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if current_app.config["ON_HEROKU"]:
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
    return response
