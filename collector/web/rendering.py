"""Draw a form spec as HTML with the RA's typed values and per-field messages.

Nothing is hidden here: without JavaScript every field and section is on the
page and the server applies the form's logic on submit. static/form_page.js
(with the program from logic_json.py) hides, shows, calculates and pages.
"""

from dataclasses import dataclass

from flask import render_template
from werkzeug.datastructures import MultiDict

from collector.forms.conflicts import shown
from collector.forms.validation import raw_value, validate_submission
from collector.web import logic_json, references, widgets


@dataclass(frozen=True)
class FieldView:
    """What the template needs to draw one field."""
    field: object
    widget: str
    attributes: dict
    messages: dict
    options: list
    value: object
    error: str | None

    @property
    def calculated(self):
        return self.field.calculation is not None

    @property
    def always_required(self):
        """Required whatever is answered: a field that can be hidden is required only when shown."""
        return self.field.required and self.field.shown is None

    def is_checked(self, option_value):
        """Return whether a radio or checkbox option was chosen."""
        if isinstance(self.value, list):
            return option_value in self.value
        return option_value == self.value


def render_form(spec, formdata, submission_id, errors=None, notice=None, status=200,
                conflict=None, conflict_detailed=False, values=None):
    """Return (html, status) for the form, keeping every value the RA typed.

    With `conflict` (a SubmissionConflict), the page first says the old
    reference is taken; with `conflict_detailed` (the entry is this browser's
    own) it shows, field by field, what is stored and what was just sent.
    `values` are the server's values for `formdata` when the caller has them.
    """
    errors = errors or {}
    views = field_views(spec, formdata, errors, values)
    html = render_template("form.html", spec=spec, fields=views, groups=groups(spec, views),
                           submission_id=submission_id, errors=errors, notice=notice,
                           conflict=conflict, conflict_detailed=conflict_detailed, shown=shown,
                           submission_sig=_signature(formdata, submission_id),
                           logic=logic_json.program(spec) if logic_json.has_logic(spec) else None)
    return html, status


def field_views(spec, formdata, errors=None, values=None):
    """Return a FieldView per field: the typed text of `formdata`, calculated values, messages.

    The RA's form and the PI's Edit page draw fields from these (templates/form_fields.html).
    """
    errors = errors or {}
    computed = _calculated(spec, formdata, values)
    return [FieldView(field=f, widget=widgets.widget(f),
                      attributes=widgets.input_attributes(f, spec.timezone),
                      messages=widgets.message_attributes(f, spec.timezone),
                      options=widgets.options(f),
                      value=computed[f.name] if f.name in computed else raw_value(f, formdata),
                      error=errors.get(f.name)) for f in spec.fields]


@dataclass(frozen=True)
class Group:
    """A section (None for a form without sections) and the views of its fields."""
    section: object
    fields: list


def groups(spec, views):
    """Return the views grouped by section (one Group without a section when there are none)."""
    if not spec.sections:
        return [Group(None, views)]
    return [Group(section, [v for v in views if v.field.section == section.name])
            for section in spec.sections]


def _calculated(spec, formdata, values=None):
    """Return {name: text} for calculated fields: the server's value for what was posted."""
    if not any(f.calculation is not None for f in spec.fields):
        return {}
    if values is None:
        values, _errors = validate_submission(spec, formdata if formdata is not None else MultiDict())
    return {f.name: widgets.calculated_text(f, values[f.name], spec.timezone)
            for f in spec.fields if f.calculation is not None}


def _signature(formdata, submission_id):
    """Sign a reference minted for this page; pass a posted one's proof back only if valid.

    Signing whatever reference a post carries (a 422 or a CSRF page shows it
    again) would hand any browser a valid proof for someone else's reference.
    """
    if references.posted_reference(formdata) == submission_id:
        given = formdata.get(references.SIGNATURE_FIELD)
        return given if references.issued_here(submission_id, given) else ""
    return references.signature(submission_id)
