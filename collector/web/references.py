"""Tell whether a submission reference was issued to this browser.

A reference (submission_id) is minted when the form is shown. Anyone who
learns one (a shared device's history, a screenshot) could post it again;
what the server then says about the stored entry must not become an oracle.
So each reference travels with a signature tied to this browser's session,
and only a browser holding both counts as the entry's own.
"""

import hashlib
import hmac
import secrets
import uuid

from flask import current_app, session

SIGNATURE_FIELD = "submission_sig"
_BROWSER_KEY = "browser_key"


def posted_reference(formdata):
    """Return the reference a post carried as a UUID (any spelling uuid.UUID reads), or None."""
    try:
        return uuid.UUID(formdata.get("submission_id", ""))
    except (ValueError, TypeError, AttributeError):
        return None


def signature(submission_id):
    """Return the signature of `submission_id` for this browser (made on first use)."""
    if _BROWSER_KEY not in session:
        session[_BROWSER_KEY] = secrets.token_urlsafe(16)
    return _sign(submission_id, session[_BROWSER_KEY])


def issued_here(submission_id, given):
    """Return whether `given` is this browser's signature of `submission_id`."""
    key = session.get(_BROWSER_KEY)
    if not key or not isinstance(given, str):
        return False
    return hmac.compare_digest(_sign(submission_id, key), given)


def _sign(submission_id, key):
    message = f"{submission_id}|{key}".encode()
    return hmac.new(current_app.secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]
