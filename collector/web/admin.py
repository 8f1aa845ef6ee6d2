"""The PI's area at /admin: forms with counts, a chart per form, rows to filter and page, CSV."""

from datetime import datetime

from flask import (Blueprint, Response, abort, current_app, redirect, render_template, request,
                   url_for)
from collector.db import form_summary, review, row_filters, rows
from collector.db.database import db
from collector.db.export import copy_sql, stream_csv
from collector.web import admin_auth, admin_sessions, cells, known_device, rows_page
from collector.web.chart import build_chart, daily_counts
from collector.web.registry import current_registry, form_or_404

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_admin():
    """404 when ADMIN_PASSWORD is unset, 503 when it is too short; else the login page."""
    if not admin_auth.enabled():
        abort(404)
    if admin_auth.password_too_short():
        return render_template("message.html", title="PI area closed", message=(
            f"ADMIN_PASSWORD is shorter than {admin_auth.MIN_PASSWORD_LENGTH} characters, so no "
            "one can sign in here: a short password can be guessed. Set a longer one (heroku "
            "config:set ADMIN_PASSWORD=...); the forms keep working meanwhile.")), 503
    if request.endpoint != "admin.login" and not admin_auth.signed_in():
        return render_template("admin/login.html"), 401


@bp.context_processor
def signed_in_as():
    """Give every PI-area page the name its changes are recorded under ("Signed in as …")."""
    return {"pi_name": admin_auth.signed_in_name() if admin_auth.enabled() else None}


@bp.after_app_request
def no_store(response):
    """Keep every /admin answer (rows, counts, the login page) out of caches.

    App-wide and by path: answers no /admin route produced (a 404, 405 or
    308 from routing) carry no blueprint, and must not be cached either.
    """
    if request.path == bp.url_prefix or request.path.startswith(bp.url_prefix + "/"):
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/login")
def login():
    if admin_auth.too_many_failures():
        return render_template("admin/login.html", error="Too many failed attempts. Wait 15 "
                               "minutes, then try again."), 429
    # The name first: a missing name is no password guess, so it is not counted as one.
    name, problem = admin_auth.clean_name(request.form.get("name", ""))
    if problem:
        return render_template("admin/login.html", error=problem), 422
    if not admin_auth.check_password(request.form.get("password", ""), name):
        return render_template("admin/login.html", error="That password is not right."), 401
    # This browser is now known: guesses from elsewhere can no longer lock it out.
    return known_device.remember(redirect(url_for(".dashboard"), code=303))


@bp.post("/logout")
def logout():
    admin_sessions.end()
    return redirect(url_for("forms.index"), code=303)


@bp.get("/")
def dashboard():
    """Every form with its row count (exact when small, else estimated) and last submission."""
    registry = current_registry()
    summaries = []
    with db.engine.connect() as conn:
        for name, table in registry.tables.items():
            summaries.append((registry.specs[name], form_summary.row_count(conn, table),
                              form_summary.last_submission(conn, table)))
    return render_template("admin/dashboard.html", summaries=summaries,
                           exact_up_to=form_summary.EXACT_UP_TO)


@bp.get("/forms/<name>")
def form_rows(name):
    """The chart (first page, no filters), the filter bar and one page of rows, newest first.

    A bad filter or page link answers 400 with the page and the problem in words.
    """
    spec, table = form_or_404(name)
    cursor = request.args.get("after")
    today = datetime.now(spec.timezone).date()
    page, error, filters = None, None, row_filters.Filters()
    with db.engine.connect() as conn:
        ras, anonymous = rows.ra_names(conn, table)
        # The chart counts every row of 30 days: only where the PI starts, not on each filter.
        unfiltered = not any(request.args.get(name) for name in ("ra", "status", "from", "to", "q"))
        chart = (build_chart(daily_counts(conn, table, spec.timezone, today), today)
                 if unfiltered and not cursor else None)
        try:
            filters = row_filters.parse_filters(spec, request.args)
            page = rows.page(conn, spec, table, filters, cursor)
        except row_filters.RowsError as problem:
            error = str(problem)
    html = render_template(
        "admin/form.html", spec=spec, chart=chart, page=page, error=error, filters=filters,
        typed=request.args, first_page=not cursor, ras=ras, anonymous=anonymous,
        table_rows=rows_page.table_rows(spec, page), statuses=review.STATUSES,
        no_invite=row_filters.NO_INVITE, filter_words=rows_page.filters_in_words(spec, filters),
        search_hint=rows_page.search_hint(spec), status_words=cells.status_words,
        wrapping=[cells.wraps(field) for field in spec.fields])
    return html, 400 if error else 200


@bp.get("/forms/<name>/export.csv")
def export_csv(name):
    """Stream the whole table as CSV (exact, or ?excel_safe=1)."""
    spec, _table = form_or_404(name)
    excel_safe = request.args.get("excel_safe") == "1"
    filename = f"{name}-{datetime.now(spec.timezone):%Y-%m-%d}{'-excel' if excel_safe else ''}.csv"
    body = stream_csv(db.engine, copy_sql(spec, excel_safe), current_app.logger)
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
