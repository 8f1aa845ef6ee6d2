"""The PI's login: one shared ADMIN_PASSWORD, compared in constant time, rate limited."""

import hashlib
import hmac

from flask import current_app, request
from sqlalchemy import func, select

from collector import admin_sessions
from collector.database import db
from collector.system_tables import admin_login_failures as failures

WINDOW_MINUTES = 15
MAX_FAILURES_PER_IP = 10
# Guessing from many addresses at once is limited too.
MAX_FAILURES_OVERALL = 100


def enabled():
    """The PI's area exists only when ADMIN_PASSWORD is set."""
    return bool(current_app.config.get("ADMIN_PASSWORD"))


def signed_in():
    """Return whether this browser holds a live admin session (see admin_sessions)."""
    return admin_sessions.is_active()


def too_many_failures():
    """Return whether logins are paused for this address (or for everyone)."""
    recent = failures.c.at > func.now() - func.make_interval(0, 0, 0, 0, 0, WINDOW_MINUTES)
    with db.engine.connect() as conn:
        mine = conn.execute(select(func.count()).where(recent, failures.c.ip == _client_ip())).scalar()
        everyone = conn.execute(select(func.count()).where(recent)).scalar()
    return mine >= MAX_FAILURES_PER_IP or everyone >= MAX_FAILURES_OVERALL


def check_password(given):
    """Sign the PI in if `given` is right; record a failure otherwise. Return success."""
    # Hash both sides first so the comparison takes the same time whatever the lengths.
    expected = hashlib.sha256(current_app.config["ADMIN_PASSWORD"].encode()).digest()
    if hmac.compare_digest(hashlib.sha256(given.encode()).digest(), expected):
        admin_sessions.start()
        return True
    with db.engine.begin() as conn:
        conn.execute(failures.insert().values(ip=_client_ip()))
    return False


def _client_ip():
    # ProxyFix has already taken the router's X-Forwarded-For into remote_addr.
    return request.remote_addr or "unknown"
