"""Two people edited the same row: say what the other did, field by field, and offer the form
again on the row as it is now, keeping this person's changes where nobody else changed the field.
"""

from dataclasses import dataclass

from collector.forms.conflicts import same_value
from collector.forms.form_text import from_json
from collector.web.row_display import value_text
from collector.web.row_history import changed_by


@dataclass(frozen=True)
class ChangedMeanwhile:
    """A field someone else changed after this person opened the row."""
    field: object
    opened: str        # the value when this person opened the row
    now: str           # the value now, as the other person left it
    by: str
    yours: str         # what this person entered
    you_changed: bool  # whether this person changed it too (their value is NOT in the form)


def merge(spec, current, since, entered):
    """Return (lines, values): who changed which field meanwhile, and the values for the form.

    `current` is the row now, `since` what others did since this person
    opened it (oldest first), `entered` the values this person sent.
    """
    opened = _as_opened(spec, current, since)
    by = changed_by(spec, since)
    theirs = [f for f in spec.fields if f.name in by]
    mine = {f.name for f in spec.fields if not same_value(opened[f.name], entered.get(f.name))}
    values = {f.name: entered.get(f.name) if f.name in mine and f.name not in by
              else current.get(f.name) for f in spec.fields}
    zone = spec.timezone
    lines = [ChangedMeanwhile(f, value_text(f, opened[f.name], zone),
                              value_text(f, current.get(f.name), zone), ", ".join(by[f.name]),
                              value_text(f, entered.get(f.name), zone), f.name in mine)
             for f in theirs]
    return lines, values


def _as_opened(spec, current, since):
    """The row's values as they were before the first change in `since`."""
    opened = {f.name: current.get(f.name) for f in spec.fields}
    for entry in reversed(since):  # newest first, so the oldest change's "old" is what stays
        for change in entry.changes:
            field = spec.fields_by_name.get(change.field)
            if field is not None:
                opened[field.name] = from_json(field, change.old)
    return opened
