"""RA invite links: a secret token per person, stored only as its hash.

Opening /invite/<token> signs that browser in (a signed session cookie);
every row it submits carries the invite's name in `entered_by`. Revoking an
invite takes effect at the next submit, because each submit re-reads it.
"""

import hashlib
import secrets

from sqlalchemy import func, select, update

from collector.system_tables import invites


def token_hash(token):
    """Return the stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


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
    """Return (id, name) of the unrevoked invite with this token, else None."""
    query = select(invites.c.id, invites.c.name).where(invites.c.revoked_at.is_(None),
                                                       invites.c.token_hash == token_hash(token))
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
