"""The PI's sign-ins, kept server-side: the cookie carries only a random id.

A session counts while its row exists, has not ended, is younger than
SESSION_HOURS, was opened with the current ADMIN_PASSWORD and carries the
name the person gave (sessions from before names were asked must sign in
again). Logout ends the row, so a copied cookie dies too; a new password
ends every session.
Plain statements only, so transaction pooling (PgBouncer) is fine.
"""

import hashlib
import hmac
import secrets

from flask import current_app, g, session
from sqlalchemy import func, select, update

from collector.db.database import db
from collector.db.system_tables import admin_sessions as sessions

SESSION_HOURS = 12  # a working day; the PI signs in again after that
COOKIE_KEY = "admin_session"


def password_fingerprint():
    """Return an HMAC of ADMIN_PASSWORD under SECRET_KEY (never the password itself)."""
    key, password = current_app.config["SECRET_KEY"], current_app.config["ADMIN_PASSWORD"]
    return hmac.new(str(key).encode(), password.encode(), hashlib.sha256).hexdigest()


def start(name):
    """Open a session for `name` in this browser and put its id in the session cookie."""
    session_id = secrets.token_urlsafe(32)
    with db.engine.begin() as conn:
        # Sessions opened under an older password end for good now, so that
        # changing the password back later cannot bring them back.
        conn.execute(update(sessions).where(sessions.c.ended_at.is_(None),
                                            sessions.c.password_fingerprint != password_fingerprint())
                     .values(ended_at=func.now()))
        conn.execute(sessions.insert().values(id_hash=_hash(session_id), name=name,
                                              password_fingerprint=password_fingerprint()))
    session[COOKIE_KEY] = session_id


def is_active():
    """Return whether this browser's admin session is still valid (one indexed lookup)."""
    return current_name() is not None


def current_name():
    """Return the name this browser signed in under, or None without a valid session."""
    if "admin_name" not in g:
        session_id = session.get(COOKIE_KEY)
        g.admin_name = _live_name(session_id) if isinstance(session_id, str) else None
    return g.admin_name


def end():
    """End this browser's session in the database (copies of the cookie too) and forget it."""
    session_id = session.pop(COOKIE_KEY, None)
    if isinstance(session_id, str):
        with db.engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id_hash == _hash(session_id),
                                                sessions.c.ended_at.is_(None))
                         .values(ended_at=func.now()))
    g.admin_name = None


def _live_name(session_id):
    young = sessions.c.created_at > func.now() - func.make_interval(0, 0, 0, 0, SESSION_HOURS)
    mine = sessions.c.id_hash == _hash(session_id)
    query = (select(sessions.c.password_fingerprint, sessions.c.name)
             .where(mine, sessions.c.ended_at.is_(None), young))
    with db.engine.connect() as conn:
        found = conn.execute(query).one_or_none()
    if found is None:
        return None
    if found.password_fingerprint != password_fingerprint():  # another password: end it for good
        with db.engine.begin() as conn:
            conn.execute(update(sessions).where(mine).values(ended_at=func.now()))
        return None
    # Opened before names were asked: nothing could be recorded under it, so sign in again.
    return found.name or None


def _hash(session_id):
    return hashlib.sha256(session_id.encode()).hexdigest()
