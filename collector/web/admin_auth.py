"""The PI's login: one shared ADMIN_PASSWORD, compared in constant time, rate limited.

Failed logins are counted in the database, so the limits hold across workers
and dynos. An unknown browser may fail MAX_FAILURES_PER_IP times per address
and all unknown browsers together MAX_FAILURES_OVERALL times per window; a
browser that has signed in before (known_device) is exempt from both and may
fail MAX_FAILURES_PER_DEVICE times on its own, so an attacker guessing from
many addresses cannot lock the PI out.
"""

import hashlib
import hmac
import unicodedata

from flask import current_app, request
from sqlalchemy import func, select

from collector.db.database import db
from collector.db.system_tables import admin_login_failures as failures
from collector.web import admin_sessions, known_device

WINDOW_MINUTES = 15
MAX_FAILURES_PER_IP = 10
MAX_FAILURES_PER_DEVICE = 10
# Guessing from many addresses at once is limited too (for unknown browsers).
MAX_FAILURES_OVERALL = 100
# Shorter passwords could be guessed even at these rates: /admin stays closed.
MIN_PASSWORD_LENGTH = 12
# The name every change in the PI area is recorded under (the audit trail's "who").
MAX_NAME_LENGTH = 100


def enabled():
    """The PI's area exists only when ADMIN_PASSWORD is set."""
    return bool(current_app.config.get("ADMIN_PASSWORD"))


def password_too_short():
    """Return whether ADMIN_PASSWORD is too short to allow any login."""
    return len(current_app.config["ADMIN_PASSWORD"]) < MIN_PASSWORD_LENGTH


def signed_in():
    """Return whether this browser holds a live admin session (see admin_sessions)."""
    return admin_sessions.is_active()


def signed_in_name():
    """Return the name this browser signed in under (None when not signed in)."""
    return admin_sessions.current_name()


def too_many_failures():
    """Return whether logins are paused for this browser."""
    recent = failures.c.at > func.now() - func.make_interval(0, 0, 0, 0, 0, WINDOW_MINUTES)
    device = known_device.current()
    with db.engine.connect() as conn:
        def count(*where):
            return conn.execute(select(func.count()).where(recent, *where)).scalar()
        if device is not None:
            return count(failures.c.device == device) >= MAX_FAILURES_PER_DEVICE
        unknown = failures.c.device.is_(None)
        return (count(unknown, failures.c.ip == _client_ip()) >= MAX_FAILURES_PER_IP
                or count(unknown) >= MAX_FAILURES_OVERALL)


def clean_name(raw):
    """Return (name, problem): the name as it will be recorded, or why it cannot be.

    Any script is welcome ("Đặng Thị Hương"); it is trimmed and put in NFC, so
    the same name typed on two keyboards is recorded the same way.
    """
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        return None, "Enter your name: every change you make here is recorded under it."
    if len(name) > MAX_NAME_LENGTH:
        return None, f"Enter at most {MAX_NAME_LENGTH} characters for your name (this is {len(name)})."
    if any(unicodedata.category(char) == "Cc" for char in name):
        return None, "Enter your name on one line, without tabs or control characters."
    return name, None


def check_password(given, name):
    """Sign `name` in if the password `given` is right; record a failure otherwise.

    Return success.
    """
    # Hash both sides first so the comparison takes the same time whatever the lengths.
    expected = hashlib.sha256(current_app.config["ADMIN_PASSWORD"].encode()).digest()
    if hmac.compare_digest(hashlib.sha256(given.encode()).digest(), expected):
        admin_sessions.start(name)
        return True
    with db.engine.begin() as conn:
        conn.execute(failures.insert().values(ip=_client_ip(), device=known_device.current()))
    return False


def _client_ip():
    # ProxyFix has already taken the router's X-Forwarded-For into remote_addr.
    return request.remote_addr or "unknown"
