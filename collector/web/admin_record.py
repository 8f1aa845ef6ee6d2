"""One row in the PI area: its values in the form's layout, its history, Review and Withdraw.

Edit is in admin_edit.py. Every change names the person signed in (admin
sessions), gives a reason, and is guarded by the row's version: a change
someone else made meanwhile is shown, never overwritten.
"""

from flask import redirect, render_template, request, url_for

from collector.db import review
from collector.db.corrections import (RowChanged, read_row, row_history, set_review_status,
                                      withdraw_row)
from collector.db.database import db
from collector.db.readback import local_time
from collector.web import admin_auth
from collector.web.admin import bp
from collector.web.pi_changes import clean_reason, submitted_day
from collector.web.registry import form_or_404
from collector.web.row_display import row_sections
from collector.web.row_history import history_views


@bp.get("/forms/<name>/rows/<int:row_id>")
def row_page(name, row_id):
    """Show one row: its values by section, its facts, its history, and what can be done."""
    spec, table = form_or_404(name)
    row, history = load(spec, table, row_id)
    if row is None:
        return gone_page(spec, row_id, history)
    return show_row(spec, row, history)


@bp.post("/forms/<name>/rows/<int:row_id>/review")
def review_row(name, row_id):
    """Set the row's review status, with a note (a query's text) kept in the trail."""
    spec, table = form_or_404(name)
    row, history = load(spec, table, row_id)
    if row is None:
        return gone_page(spec, row_id, history)
    status = request.form.get("_status", "")
    note, problem = clean_reason(request.form.get("_note"),
                                 "the query's text" if status == "query_open" else "a note")
    if status not in review.STATUSES:
        problem = "Choose the review status to give this row."
    elif status == row[review.COLUMN]:
        problem = f"The row is already \"{review.STATUSES[status]}\": nothing was changed."
    if problem:
        return show_row(spec, row, history, 422, review_error=problem)
    return _guarded(spec, table, row, history, set_review_status, status, admin_auth.signed_in_name(), note)


@bp.post("/forms/<name>/rows/<int:row_id>/withdraw")
def withdraw(name, row_id):
    """Delete the row's data for good; the history keeps who, when and why."""
    spec, table = form_or_404(name)
    row, history = load(spec, table, row_id)
    if row is None:
        return gone_page(spec, row_id, history)
    reason, problem = clean_reason(request.form.get("_reason"), "the reason for withdrawing it")
    if problem:
        return show_row(spec, row, history, 422, withdraw_error=problem)
    return _guarded(spec, table, row, history, withdraw_row, admin_auth.signed_in_name(), reason)


def _guarded(spec, table, row, history, change, *arguments):
    """Make `change` at the version the page showed; tell what happened meanwhile if it moved."""
    version = request.form.get("_version", "")
    try:
        change(db.engine, spec, table, row["id"], version, *arguments)
    except RowChanged as changed:
        if changed.current is None:
            return gone_page(spec, row["id"], history_of(spec, row["id"]), 409, since=changed.since)
        return show_row(spec, changed.current, history_of(spec, row["id"]), 409, since=changed.since)
    except ValueError:  # a version this app never wrote: a page from before an upgrade, or forged
        return show_row(spec, row, history, 409, since=[])
    return redirect(url_for(".row_page", name=spec.name, row_id=row["id"]), code=303)


def load(spec, table, row_id):
    """Return (row or None, history) read together."""
    with db.engine.connect() as conn:
        return read_row(conn, spec, table, row_id), row_history(conn, spec, row_id)


def history_of(spec, row_id):
    with db.engine.connect() as conn:
        return row_history(conn, spec, row_id)


def show_row(spec, row, history, status=200, since=None, **messages):
    """Render the row page; `since` (after a refused change) says what others did meanwhile."""
    return render_template(
        "admin/row.html", spec=spec, row=row, sections=row_sections(spec, row, submitted_day(spec, row)),
        submitted_at=local_time(row["submitted_at"], spec.timezone),
        history=history_views(spec, history), statuses=review.STATUSES,
        since=None if since is None else history_views(spec, since, newest_first=False),
        form=request.form if request.method == "POST" else {}, **messages), status


def gone_page(spec, row_id, history, status=404, since=None):
    """A row that is not there: withdrawn (with what the history keeps), or never was."""
    withdrawn = next((h for h in reversed(history) if h.action == "withdrawn"), None)
    return render_template("admin/row_gone.html", spec=spec, row_id=row_id, withdrawn=withdrawn,
                           history=history_views(spec, history), moved=since is not None,
                           at=local_time(withdrawn.at, spec.timezone) if withdrawn else None), status
