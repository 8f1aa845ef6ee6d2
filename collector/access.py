"""Who may open and submit a form: invite-only forms need a signed-in RA.

The session cookie (signed with SECRET_KEY) remembers which invite signed the
browser in; every submit re-reads the invite, so a revoke takes effect at once.
"""

from flask import render_template, session
from sqlalchemy.exc import SQLAlchemyError

from collector import invites
from collector.database import db


class AccessDenied(Exception):
    """The browser may not use this form; the message is shown to the RA."""


def signed_in_name():
    """Return the RA name this browser signed in with, or None."""
    return session.get("ra_name")


def sign_in(token):
    """Sign this browser in with an invite token; return the RA's name, or None if invalid."""
    found = invites.active_invite(db.engine, token=token)
    if found is None:
        return None
    session.clear()  # a new identity gets a new session (and a new CSRF token)
    session.permanent = True
    session["invite_id"], session["ra_name"] = found.id, found.name
    return found.name


def check_can_open(spec):
    """Raise AccessDenied if this browser may not see the form."""
    if spec.access == "invite" and "invite_id" not in session:
        raise AccessDenied("This form needs a personal invite link. Ask your PI for one, "
                           "open it on this device, then come back to the form.")


def entered_by(spec):
    """Return the name to store with a submission, or raise AccessDenied.

    If the database cannot be asked, the session's name is used: the insert
    will then be held for recovery (or succeed), and nothing is lost.
    """
    if "invite_id" not in session:
        check_can_open(spec)
        return None
    try:
        found = invites.active_invite(db.engine, invite_id=session["invite_id"])
    except SQLAlchemyError:
        return signed_in_name()
    if found is None:
        session.clear()
        raise AccessDenied("Your invite link has been revoked, so this entry was not saved. "
                           "Ask your PI for a new link.")
    return found.name


def denied_page(error):
    """Render the page for AccessDenied (403)."""
    return render_template("message.html", title="Invite needed", message=str(error)), 403
