"""The PI's known devices: a long-lived signed cookie set by a successful sign-in.

A known device is exempt from the overall failed-login limit (it keeps a limit
of its own), so guessing from many addresses cannot lock the PI out. Only
someone who has signed in can get such a cookie: it is signed with SECRET_KEY.
"""

import secrets

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "collector_admin_device"
MAX_AGE_SECONDS = 400 * 24 * 3600  # browsers keep no cookie longer than 400 days


def current():
    """Return this browser's device id if it carries a valid known-device cookie, else None."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return None
    try:
        device = _serializer().loads(raw, max_age=MAX_AGE_SECONDS)
    except BadSignature:  # forged, altered, or older than MAX_AGE_SECONDS
        return None
    return device if isinstance(device, str) else None


def remember(response):
    """Mark this browser as a known device (after a successful sign-in); return `response`."""
    device = current() or secrets.token_urlsafe(16)
    response.set_cookie(COOKIE, _serializer().dumps(device), max_age=MAX_AGE_SECONDS,
                        path="/admin", httponly=True, samesite="Lax",
                        secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _serializer():
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="collector-admin-device")
