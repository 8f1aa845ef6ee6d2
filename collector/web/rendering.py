"""Draw a form spec as HTML with the RA's typed values and per-field messages."""

from dataclasses import dataclass

from flask import render_template

from collector.forms.conflicts import shown
from collector.forms.validation import raw_value
from collector.web import references, widgets


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

    def is_checked(self, option_value):
        """Return whether a radio or checkbox option was chosen."""
        if isinstance(self.value, list):
            return option_value in self.value
        return option_value == self.value


def render_form(spec, formdata, submission_id, errors=None, notice=None, status=200,
                conflict=None, conflict_detailed=False):
    """Return (html, status) for the form, keeping every value the RA typed.

    With `conflict` (a SubmissionConflict), the page first says the old
    reference is taken; with `conflict_detailed` (the entry is this browser's
    own) it shows, field by field, what is stored and what was just sent.
    """
    errors = errors or {}
    views = [FieldView(field=f, widget=widgets.widget(f),
                       attributes=widgets.input_attributes(f, spec.timezone),
                       messages=widgets.message_attributes(f, spec.timezone),
                       options=widgets.options(f), value=raw_value(f, formdata),
                       error=errors.get(f.name)) for f in spec.fields]
    html = render_template("form.html", spec=spec, fields=views, submission_id=submission_id,
                           errors=errors, notice=notice, conflict=conflict,
                           conflict_detailed=conflict_detailed, shown=shown,
                           submission_sig=_signature(formdata, submission_id))
    return html, status


def _signature(formdata, submission_id):
    """Sign a reference minted for this page; pass a posted one's proof back only if valid.

    Signing whatever reference a post carries (a 422 or a CSRF page shows it
    again) would hand any browser a valid proof for someone else's reference.
    """
    if references.posted_reference(formdata) == submission_id:
        given = formdata.get(references.SIGNATURE_FIELD)
        return given if references.issued_here(submission_id, given) else ""
    return references.signature(submission_id)
