"""The RA's pages: list forms, show a form, take a submission, confirm it."""

import uuid
from datetime import datetime, timezone

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict

from collector.db.database import db
from collector.db.storage import (HeldForRecovery, InviteRevoked, Withdrawn, find_saved,
                                  save_submission)
from collector.forms import messages
from collector.forms.conflicts import SubmissionConflict
from collector.forms.validation import validate_submission
from collector.ops.config import CSRF_TOKEN_HOURS
from collector.web import access, references
from collector.web.registry import current_registry, form_or_404
from collector.web.rendering import render_form

bp = Blueprint("forms", __name__)


@bp.get("/")
def index():
    """List the forms, so a PI can find their URLs (invite-only ones for an active invite)."""
    ra_name = access.active_name()
    specs = [spec for spec in current_registry().specs.values()
             if spec.access == "public" or ra_name]
    return render_template("index.html", specs=specs, ra_name=ra_name)


@bp.get("/invite")
def invite():
    """Show the invite page; static/invite.js posts the code from the link's #fragment."""
    return render_template("invite.html", signed_in_as=access.active_name())


@bp.post("/invite")
def invite_sign_in():
    """Sign this browser in with the invite code in the body (never in a URL, so never logged).

    A browser signed in as someone else switches only when the RA confirms it.
    """
    found = access.find_invite(request.form.get("code", ""))
    if found is None:
        return render_template("invite.html", error="This invite code is not valid. Check that "
                               "you pasted all of it, or ask your PI for a new link."), 403
    current = access.switch_needs_consent(found)
    if current is not None and request.form.get("replace") != "1":
        return render_template("invite.html", signed_in_as=current, switching_to=found.name,
                               code=request.form.get("code", "")), 409
    access.sign_in(found)
    return redirect(url_for(".index"), code=303)


@bp.get("/forms/<name>")
def show(name):
    """Show an empty form with a fresh submission_id."""
    spec, _table = form_or_404(name)
    access.check_can_open(spec)
    return render_form(spec, MultiDict(), uuid.uuid4())


@bp.post("/forms/<name>")
def submit(name):
    """Validate, write one row (at most once), and redirect to the confirmation."""
    spec, table = form_or_404(name)
    submitter = access.submitter(spec)  # before anything of the form is shown back
    submission_id = references.posted_reference(request.form)
    # One moment for today() and the row's submitted_at, which its CHECKs read as today().
    moment = datetime.now(timezone.utc)
    values, errors = validate_submission(spec, request.form, today=moment.astimezone(spec.timezone).date())
    if submission_id is None or errors:
        # The form is shown again: re-read the invite first, as opening it does.
        access.check_can_open(spec)
    if submission_id is None:
        return render_form(spec, request.form, uuid.uuid4(), status=400,
                           notice="This entry had no valid reference, so a new one was made. "
                                  "Check the values below and submit again.")
    if errors:
        return render_form(spec, request.form, submission_id, errors=errors, status=422,
                           values=values)
    own = _owner_check(submission_id, submitter)
    try:
        saved = save_submission(db.engine, spec, table, submission_id, values, submitter, moment)
    except InviteRevoked:
        session.clear()
        raise access.AccessDenied(access.REVOKED) from None
    except Withdrawn:
        return render_template("message.html", title="Not saved: this entry was withdrawn", message=(
            f"The entry with the reference {submission_id} was saved earlier, then withdrawn by "
            "the study team (the participant withdrew), so it is not saved again. If this "
            "device offers to restore it when you open the form, choose \"Discard it\".")), 410
    except SubmissionConflict as conflict:
        # Keep what was just typed in a form with a new reference: pressing
        # Submit there makes a separate entry, never a silent overwrite.
        if conflict.invite_revoked:
            session.clear()
        return _conflict_page(spec, conflict, own(conflict.stored_by, conflict.invite_revoked))
    except HeldForRecovery:
        page = render_template("held.html", spec=spec, submission_id=submission_id,
                               formdata=request.form)
        return page, 503, {"Retry-After": "30"}
    if saved.invite_revoked:  # saved without a name; the browser is signed out everywhere
        session.clear()
    if not saved.inserted and not own(saved.stored_by, saved.invite_revoked):
        # Same values under someone else's reference: confirming it would tell a
        # stranger what is stored, so it is answered like any other conflict.
        return _conflict_page(spec, SubmissionConflict(submission_id, []), False)
    return redirect(url_for(".saved", name=name, submission_id=submission_id), code=303)


@bp.get("/forms/<name>/saved/<uuid:submission_id>")
def saved(name, submission_id):
    """Confirm a saved row, only if it really is in the database.

    On invite-only forms only a browser with an active invite is told whether
    a reference is saved (and when); it says nothing of the entry's values.
    """
    spec, table = form_or_404(name)
    access.check_can_open(spec)
    saved_at = find_saved(db.engine, table, submission_id)
    if saved_at is None:
        return render_template("message.html", title="Not found",
                               message=f"No saved entry has the reference {submission_id}."), 404
    return render_template("saved.html", spec=spec, submission_id=submission_id, saved_at=saved_at)


bp.app_errorhandler(access.AccessDenied)(access.denied_page)


@bp.app_errorhandler(CSRFError)
def csrf_failed(error):
    """Give a post that failed its CSRF check back as the same form, values kept, fresh token.

    The notice says what really happened (expired, cookie missing, session
    changed, …); a post from another site gets a plain page, not its values.
    """
    reason = messages.csrf_reason(error.description, CSRF_TOKEN_HOURS)
    spec, _table = current_registry().get((request.view_args or {}).get("name"))
    if request.endpoint != "forms.submit" or spec is None or error.description == messages.CROSS_ORIGIN:
        return render_template("message.html", title="Please try again",
                               message=f"{reason}, so nothing was saved. Go back, reload "
                                       "the page and try again."), 400
    try:
        access.check_can_open(spec)
    except access.AccessDenied as denied:
        return access.denied_page(denied)
    return render_form(spec, request.form, references.posted_reference(request.form) or uuid.uuid4(), status=400,
                       notice=f"{reason}, so the entry was not saved yet. Your values are kept "
                              "below: check them and press Submit again.")


def _owner_check(submission_id, submitter):
    """Return own(stored_by): is the stored entry this browser's own?

    Yes when the reference was issued to this browser (its signature), or the
    signed-in RA's name is the one on the row and their invite is still
    active (a revoked phone must not read entries, not even under a new
    invite of the same name). Only then does the server confirm a duplicate
    or show stored values.
    """
    issued = references.issued_here(submission_id, request.form.get(references.SIGNATURE_FIELD))
    return lambda stored_by, revoked: issued or (
        submitter.name is not None and not revoked and stored_by == submitter.name)


def _conflict_page(spec, conflict, detailed):
    """409: the form with the values just sent under a new reference, and why."""
    return render_form(spec, request.form, uuid.uuid4(), status=409, conflict=conflict,
                       conflict_detailed=detailed)

