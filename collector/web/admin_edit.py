"""Edit one row in the PI area: the RA's form with the stored values, the same validation,
a reason, and one guarded update (two people editing the same row: the second is told)."""

from flask import redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from collector.db.corrections import RowChanged, correct_row
from collector.db.database import db
from collector.forms.form_text import form_text
from collector.forms.validation import validate_submission
from collector.web import admin_auth, logic_json
from collector.web.admin import bp
from collector.web.admin_record import gone_page, history_of, load
from collector.web.edit_merge import merge
from collector.web.pi_changes import MAX_REASON_LENGTH, clean_reason, refusal_text, submitted_day
from collector.web.registry import form_or_404
from collector.web.rendering import field_views, groups


@bp.get("/forms/<name>/rows/<int:row_id>/edit")
def edit_row(name, row_id):
    """Show the form the RA used, filled with the row's stored values."""
    spec, table = form_or_404(name)
    row, history = load(spec, table, row_id)
    if row is None:
        return gone_page(spec, row_id, history)
    return edit_page(spec, row, stored_form_data(spec, row), row["_version"])


@bp.post("/forms/<name>/rows/<int:row_id>/edit")
def save_edit(name, row_id):
    """Validate as a submit does (today() = the day the row was entered), then one guarded UPDATE."""
    spec, table = form_or_404(name)
    row, history = load(spec, table, row_id)
    if row is None:
        return gone_page(spec, row_id, history, 409, since=[])
    version = request.form.get("_version", "")
    values, errors = validate_submission(spec, request.form, today=submitted_day(spec, row))
    reason, reason_error = clean_reason(request.form.get("_reason"))
    if errors or reason_error:
        return edit_page(spec, row, request.form, version, errors, values, reason_error, 422)
    values = keep_untouched(spec, row, request.form, values)
    try:
        changed = correct_row(db.engine, spec, table, row_id, version, values,
                              admin_auth.signed_in_name(), reason)
    except RowChanged as moved:
        return _changed_meanwhile(spec, moved, values, row_id)
    except IntegrityError as refused:
        return edit_page(spec, row, request.form, version, values=values, status=422,
                         notice=refusal_text(spec, refused))
    except ValueError:  # a version this app never wrote (a forged or very old page)
        return _unreadable_version(spec, row, values)
    if changed == []:
        return edit_page(spec, row, request.form, version, values=values,
                         notice="No value differs from the stored row, so nothing was saved.")
    return redirect(url_for(".row_page", name=name, row_id=row_id, _anchor="history"), code=303)


def _changed_meanwhile(spec, moved, values, row_id):
    """409: what others did, field by field, and the form on the row as it is now."""
    if moved.current is None:
        return gone_page(spec, row_id, history_of(spec, row_id), 409, since=moved.since)
    lines, merged = merge(spec, moved.current, moved.since, values)
    data = stored_form_data(spec, merged)
    return edit_page(spec, moved.current, data, moved.current["_version"], status=409,
                     conflict=lines)


def _unreadable_version(spec, row, values):
    """409: the page's version is unreadable; offer the entered values on the row as it is now."""
    _lines, merged = merge(spec, row, [], values)
    return edit_page(spec, row, stored_form_data(spec, merged), row["_version"], status=409,
                     notice="This page did not say which version of the row it showed, so "
                            "nothing was saved. Check the values below and save again.")


def keep_untouched(spec, row, formdata, values):
    """Return `values` with the stored value kept for every field whose control still holds
    exactly the text it was filled with.

    Reading that text back need not give the stored value: a local time in the hour
    clocks go back names two instants, and a value set from psql (a trailing space,
    CRLF, '' for NULL) is normalised by validation. Untouched, it must not change.
    A field the logic now hides (validated to None) is left as validation says.
    """
    kept = dict(values)
    prefilled = stored_form_data(spec, row)
    for field in spec.fields:
        if field.calculation is not None or values.get(field.name) is None:
            continue
        posted, filled = formdata.getlist(field.name), prefilled.getlist(field.name)
        if (sorted(posted) if field.type == "multi_choice" else posted) == (
                sorted(filled) if field.type == "multi_choice" else filled):
            kept[field.name] = row[field.name]
    return kept


def stored_form_data(spec, values):
    """Return what the form's controls hold for typed `values` (a row, or merged values)."""
    data = MultiDict()
    for field in spec.fields:
        if field.calculation is None:
            text = form_text(field, values.get(field.name), spec.timezone)
            for item in text if isinstance(text, list) else [text]:
                data.add(field.name, item)
    return data


def edit_page(spec, row, formdata, version, errors=None, values=None, reason_error=None,
              status=200, notice=None, conflict=None):
    """Render the Edit page: the form's own fields, the reason, the version it was opened at."""
    if values is None:
        values, _problems = validate_submission(spec, formdata, today=submitted_day(spec, row))
    views = field_views(spec, formdata, errors, values)
    return render_template(
        "admin/edit.html", spec=spec, row=row, fields=views, groups=groups(spec, views),
        errors=errors or {}, version=version, reason=request.form.get("_reason", ""),
        reason_error=reason_error, max_reason=MAX_REASON_LENGTH, notice=notice, conflict=conflict,
        logic=logic_json.program(spec) if logic_json.has_logic(spec) else None), status
