"""Who may open and submit a form: invite-only forms need a signed-in RA.

The session cookie (signed with SECRET_KEY) remembers which invite signed the
browser in; every submit re-reads the invite, so a revoke takes effect at once.
"""

from dataclasses import dataclass

from flask import render_template, session

from collector import invites
from collector.database import db


class AccessDenied(Exception):
    """The browser may not use this form; the message is shown to the RA."""


def signed_in_name():
    """Return the RA name this browser signed in with, or None."""
    return session.get("ra_name")


def sign_in(token):
    """Sign this browser in with an invite token; return the RA's name, or None if invalid."""
    found = invites.active_invite(db.engine, token)
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


@dataclass(frozen=True)
class Submitter:
    """Who is submitting: the invite that must still be active (if any), and the name."""
    invite_id: int | None
    name: str | None


def submitter(spec):
    """Return the Submitter for this browser and form, or raise AccessDenied.

    The invite itself is re-read by the INSERT (storage.save_submission), so
    a revoke takes effect at the next submit without an extra round trip, on
    invite-only and public forms alike.
    """
    if "invite_id" not in session:
        check_can_open(spec)
        return Submitter(None, None)
    return Submitter(session["invite_id"], signed_in_name())


REVOKED = ("Your invite link has been revoked, so this entry was not saved. "
           "Ask your PI for a new link.")


def denied_page(error):
    """Render the page for AccessDenied (403)."""
    return render_template("message.html", title="Invite needed", message=str(error)), 403
