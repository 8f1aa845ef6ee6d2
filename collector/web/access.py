"""Who may open and submit a form: invite-only forms need a signed-in RA.

The session cookie (signed with SECRET_KEY) remembers which invite signed the
browser in; opening an invite-only form, the index and every submit re-read
the invite, so a revoke takes effect everywhere at once.
"""

from dataclasses import dataclass

from flask import render_template, request, session
from sqlalchemy.exc import OperationalError, SQLAlchemyError, TimeoutError as PoolTimeout

from collector.db import invites
from collector.db.database import db


class AccessDenied(Exception):
    """The browser may not use this form; the message is shown to the RA."""


def signed_in_name():
    """Return the RA name this browser signed in with, or None."""
    return session.get("ra_name")


def find_invite(pasted):
    """Return (id, name) of the active invite whose code (or pasted link) this is, or None."""
    return invites.active_invite(db.engine, invites.code_from_input(pasted))


def switch_needs_consent(found):
    """Return the name this browser is signed in as when `found` would replace it, else None.

    Another site can open /invite#<its own code> in a popup; without this the
    RA's entries would silently carry someone else's name from then on.
    """
    current = active_name()
    return current if current is not None and session.get("invite_id") != found.id else None


def sign_in(found):
    """Sign this browser in with invite `found` (from find_invite); return its name."""
    session.clear()  # a new identity gets a new session (and a new CSRF token)
    session.permanent = True
    session["invite_id"], session["ra_name"] = found.id, found.name
    return found.name


def active_name():
    """Return the RA name if this browser's invite is still active, else None.

    A revoked or deleted invite signs the browser out (session cleared).
    One primary-key lookup. When the database cannot be reached, trust the
    signed cookie: the form must still open so the entry can be held for
    recovery (the submit re-checks the invite whenever the database is up).
    """
    if "invite_id" not in session:
        return None
    try:
        found = invites.active_invite_by_id(db.engine, session["invite_id"])
    except (OperationalError, PoolTimeout):
        # Not logged: the outage already shows in the held entries' lines.
        return signed_in_name()
    if found is None:
        session.clear()  # a copy of this cookie is refused the same way
        return None
    return found.name


def check_can_open(spec):
    """Raise AccessDenied if this browser may not see the form."""
    if spec.access != "invite":
        return
    had_invite = "invite_id" in session
    if active_name() is None:
        raise AccessDenied(REVOKED_ON_OPEN if had_invite else NEEDS_INVITE)


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


REVOKED = ("Your invite link has been revoked, so nothing you sent from this page was saved "
           "just now. Ask your PI for a new link.")
NEEDS_INVITE = ("This form needs a personal invite link. Ask your PI for one, "
                "open it on this device, then come back to the form.")
REVOKED_ON_OPEN = ("Your invite link has been revoked, so this device is signed out. "
                   "Ask your PI for a new link.")


def denied_page(error):
    """Render the page for AccessDenied (403)."""
    return render_template("message.html", title="Invite needed", message=str(error)), 403


OLD_LINK = ("This link carries its code where the server's logs can see it (an older kind of "
            "link, or an app changed the '#' in it), so it signs no one in and has been switched "
            "off. Ask your PI for a new invite link.")


def switch_off_codes_in_addresses():
    """Switch off any invite code a request carries in its path or query (before_request).

    Heroku's router logs both, so such a code must sign no one in from then on
    (old /invite/<code> links, a '#' an app encoded as %23 or %2523, a code
    pasted after '?'). /invite… paths other than /invite itself answer 410.
    Runs first, before the HTTPS redirect: the router has logged the code
    whatever we answer. Costs nothing unless the address holds a code-shaped run.
    """
    address = request.path + "?" + request.query_string.decode("latin-1")
    codes = [code for code in invites.codes_in(address) if any(c.isupper() for c in code)]
    if codes:
        try:
            invites.mark_exposed(db.engine, codes)
        except SQLAlchemyError:
            pass  # the database is down: the code signs no one in now either
    path = request.path.lower().rstrip("/")
    if path.startswith("/invite") and path != "/invite":
        return render_template("message.html", title="This invite link no longer works",
                               message=OLD_LINK), 410
    return None
