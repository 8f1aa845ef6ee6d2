"""RA invite links: a secret token per person, stored only as its hash.

The link is /invite#<token>: the token sits in the URL fragment, which no
browser sends, so neither the router nor gunicorn ever logs it; the invite page
posts it (static/invite.js, or pasted by hand). Signing in sets a signed session
cookie; every row that browser submits carries the invite's name in
`entered_by`. Every page of an invite-only form and every submit re-read the
invite, so a revoke takes effect at once.
"""

import hashlib
import re
import secrets

from sqlalchemy import func, select, update

from collector.db.system_tables import invites

# Links made before the fragment form were /invite/<token>, so those tokens sit
# in router and access logs. Hashing tokens under this prefix makes every such
# old token useless for signing in; browsers it already signed in keep working.
TOKEN_HASH_PREFIX = b"collector invite v2\0"


def token_hash(token):
    """Return the stored form of a token."""
    return hashlib.sha256(TOKEN_HASH_PREFIX + token.encode()).hexdigest()


# What secrets.token_urlsafe(32) makes: 43 URL-safe characters.
CODE = re.compile(r"[A-Za-z0-9_-]{43}")


def code_from_input(text):
    """Return the token in what an RA pasted: the bare code, the whole link, or the
    whole line `manage.py invite` printed ("Invite code: …", <…>, a full stop)."""
    found = CODE.findall(text.rsplit("#", 1)[-1]) or CODE.findall(text)
    return found[-1] if found else text.strip()


# A code pasted into a path may sit inside a longer run of such characters
# (/invite%2523<code>): every window of a run is tried, up to this many.
MAX_WINDOWS = 512
_RUN = re.compile(r"[A-Za-z0-9_-]{43,}")


def codes_in(text):
    """Return every 43-character window of URL-safe characters in `text` (possible codes)."""
    windows = []
    for run in _RUN.findall(text):
        windows += [run[start:start + 43] for start in range(len(run) - 42)]
    return windows[:MAX_WINDOWS]


def mark_exposed(engine, codes):
    """Stop the invites with these codes from signing in new browsers; return their ids.

    Called when a code shows up in a request path: Heroku's router has logged
    it, so anyone who reads the logs could use it. Browsers already signed in
    with it keep working.
    """
    if not codes:
        return []
    with engine.begin() as conn:
        return conn.execute(update(invites).where(
            invites.c.token_hash.in_([token_hash(code) for code in codes]),
            invites.c.code_exposed_at.is_(None)).values(code_exposed_at=func.now())
            .returning(invites.c.id)).scalars().all()


def create_invite(engine, name):
    """Store a new invite for `name`; return (id, token). The token is shown once."""
    name = " ".join(name.split())
    if not name:
        raise ValueError("give the RA's name, e.g. manage.py invite \"Alice Ng\"")
    token = secrets.token_urlsafe(32)
    with engine.begin() as conn:
        invite_id = conn.execute(invites.insert().values(name=name, token_hash=token_hash(token))
                                 .returning(invites.c.id)).scalar()
    return invite_id, token


def active_invite(engine, token):
    """Return (id, name) of the unrevoked invite with this token, else None.

    A code that was ever seen in a request path signs in no new browser.
    """
    query = select(invites.c.id, invites.c.name).where(invites.c.revoked_at.is_(None),
                                                       invites.c.code_exposed_at.is_(None),
                                                       invites.c.token_hash == token_hash(token))
    with engine.connect() as conn:
        return conn.execute(query).first()


def active_invite_by_id(engine, invite_id):
    """Return (id, name) of invite `invite_id` if it is still unrevoked, else None."""
    query = select(invites.c.id, invites.c.name).where(invites.c.revoked_at.is_(None),
                                                       invites.c.id == invite_id)
    with engine.connect() as conn:
        return conn.execute(query).first()


def list_invites(engine):
    """Return every invite, newest first."""
    with engine.connect() as conn:
        return conn.execute(select(invites).order_by(invites.c.id.desc())).mappings().all()


def revoke(engine, invite_id):
    """Revoke an invite at once; return its name, or None if there was no active one."""
    with engine.begin() as conn:
        return conn.execute(update(invites).where(invites.c.id == invite_id,
                                                  invites.c.revoked_at.is_(None))
                            .values(revoked_at=func.now()).returning(invites.c.name)).scalar()
