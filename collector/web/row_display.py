"""Write one stored row and its history in words a PI reads: labels, choice labels, Yes/No,
local times, the form's sections, and which fields the form's logic did not show."""

from dataclasses import dataclass
from datetime import datetime

from collector.db import review
from collector.db.readback import local_time
from collector.forms.conflicts import shown
from collector.forms.expressions.evaluate import evaluate
from collector.forms.form_text import from_json

EMPTY = "(empty)"
# Columns every form table has, by the names the row page gives them.
METADATA_LABELS = {"id": "Row number", "submission_id": "Reference", "submitted_at": "Submitted at",
                   "entered_by": "Entered by", "form_version": "Form version",
                   review.COLUMN: "Review status"}


def value_text(field, value, timezone):
    """Return a stored value of `field` as people read it (local times, labels, Yes/No)."""
    if value is None or value == []:
        return EMPTY
    if isinstance(value, datetime):
        return local_time(value, timezone, exact=True)
    return shown(field, value, timezone)


@dataclass(frozen=True)
class ShownField:
    """One field of a stored row on the row page."""
    field: object
    text: str
    state: str         # "answered", "empty", or "not shown" (the form's logic hid it)

    @property
    def calculated(self):
        return self.field.calculation is not None


@dataclass(frozen=True)
class ShownSection:
    section: object    # None for a form without sections
    fields: list


def row_sections(spec, row, today):
    """Return the row's fields by section, each as text, marking those the logic did not show.

    `today` is the day the row was submitted: what today() meant when it was entered.
    """
    values = {field.name: row.get(field.name) for field in spec.fields}
    views = [ShownField(field, value_text(field, values[field.name], spec.timezone),
                        _state(spec, field, values, today)) for field in spec.fields]
    if not spec.sections:
        return [ShownSection(None, views)]
    return [ShownSection(section, [v for v in views if v.field.section == section.name])
            for section in spec.sections]


def _state(spec, field, values, today):
    if field.shown is not None and values[field.name] is None:
        try:
            if evaluate(field.shown, values, spec.timezone, today) is not True:
                return "not shown"
        except (ArithmeticError, TypeError, ValueError):  # an old row of another shape
            pass
    return "empty" if values[field.name] in (None, []) else "answered"


def column_label(spec, name):
    """The label of a field or of a table's own column; a removed field keeps its name."""
    if name in spec.fields_by_name:
        return spec.fields_by_name[name].label
    return METADATA_LABELS.get(name, name)


def trail_text(spec, name, value):
    """Return a value as the audit trail keeps it (JSON) as people read it."""
    if value is None or value == []:
        return EMPTY
    if name == review.COLUMN:
        return review.STATUSES.get(value, value)
    field = spec.fields_by_name.get(name)
    if field is None:
        moment = _moment(value) if name == "submitted_at" else None
        return local_time(moment, spec.timezone, exact=True) if moment else str(value)
    return value_text(field, from_json(field, value), spec.timezone)


def _moment(value):
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def order_of(spec):
    """Return {column name: position}: the form's fields in order, then the table's own columns."""
    names = [*(field.name for field in spec.fields), *METADATA_LABELS]
    return {name: index for index, name in enumerate(names)}
