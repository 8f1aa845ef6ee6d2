"""The RA's pages: list forms, show a form, take a submission, confirm it."""

import uuid

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.datastructures import MultiDict

from collector import access, messages
from collector.config import CSRF_TOKEN_HOURS
from collector.conflicts import SubmissionConflict
from collector.database import db
from collector.registry import current_registry, form_or_404
from collector.rendering import render_form
from collector.storage import HeldForRecovery, InviteRevoked, find_saved, save_submission
from collector.validation import validate_submission

bp = Blueprint("forms", __name__)


@bp.get("/")
def index():
    """List the forms, so a PI can find their URLs."""
    specs = [spec for spec in current_registry().specs.values()
             if spec.access == "public" or access.signed_in_name()]
    return render_template("index.html", specs=specs, ra_name=access.signed_in_name())


@bp.get("/invite/<token>")
def invite(token):
    """Sign this browser in with a personal invite link."""
    name = access.sign_in(token)
    if name is None:
        return render_template("message.html", title="Invite link not valid",
                               message="This invite link is not valid: it may have been revoked "
                                       "or mistyped. Ask your PI for a new one."), 403
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
    submission_id = _submission_id(request.form)
    if submission_id is None:
        return render_form(spec, request.form, uuid.uuid4(), status=400,
                           notice="This entry had no valid reference, so a new one was made. "
                                  "Check the values below and submit again.")
    values, errors = validate_submission(spec, request.form)
    if errors:
        return render_form(spec, request.form, submission_id, errors=errors, status=422)
    try:
        saved = save_submission(db.engine, spec, table, submission_id, values, submitter)
    except InviteRevoked:
        session.clear()
        raise access.AccessDenied(access.REVOKED) from None
    except SubmissionConflict as conflict:
        # Keep what was just typed in a form with a new reference: pressing
        # Submit there makes a separate entry, never a silent overwrite.
        return render_form(spec, request.form, uuid.uuid4(), status=409, conflict=conflict)
    except HeldForRecovery:
        page = render_template("held.html", spec=spec, submission_id=submission_id,
                               formdata=request.form)
        return page, 503, {"Retry-After": "30"}
    if saved.invite_revoked:  # saved without a name; the browser is signed out everywhere
        session.clear()
    return redirect(url_for(".saved", name=name, submission_id=submission_id), code=303)


@bp.get("/forms/<name>/saved/<uuid:submission_id>")
def saved(name, submission_id):
    """Confirm a saved row, only if it really is in the database."""
    spec, table = form_or_404(name)
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
    return render_form(spec, request.form, _submission_id(request.form) or uuid.uuid4(), status=400,
                       notice=f"{reason}, so the entry was not saved yet. Your values are kept "
                              "below: check them and press Submit again.")


def _submission_id(formdata):
    try:
        return uuid.UUID(formdata.get("submission_id", ""))
    except ValueError:
        return None
