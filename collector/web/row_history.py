"""Turn a row's audit-trail entries (collector.db.corrections.row_history) into what the row
page shows: when, who, what was done, what changed from what to what, and why."""

from dataclasses import dataclass

from collector.db.readback import local_time
from collector.web.row_display import column_label, order_of, trail_text

ACTIONS = {"submitted": "Submitted", "replayed": "Submitted (replayed from the log)",
           "corrected": "Corrected", "reviewed": "Review status changed", "withdrawn": "Withdrawn"}


@dataclass(frozen=True)
class ChangeView:
    """One field of one change: its label, and the values before and after, as text."""
    label: str
    old: str
    new: str | None    # None: the row was deleted, so there is no after


@dataclass(frozen=True)
class HistoryView:
    id: int
    at: str
    action: str
    who: str
    source: str
    reason: str | None
    changes: list
    erased: list       # labels of the fields whose values a withdrawal erased


def history_views(spec, entries, newest_first=True):
    """Return a HistoryView per entry, newest first unless told otherwise."""
    views = [_view(spec, entry) for entry in entries]
    return views[::-1] if newest_first else views


def _view(spec, entry):
    order = order_of(spec)
    changes = sorted(entry.changes, key=lambda c: order.get(c.field, len(order)))
    deleted = entry.operation == "DELETE"
    return HistoryView(
        id=entry.id, at=local_time(entry.at, spec.timezone),
        action=ACTIONS.get(entry.action, (entry.action or entry.operation).capitalize()),
        who=entry.actor or "(no name)", source=entry.source, reason=entry.reason,
        changes=[ChangeView(column_label(spec, c.field), trail_text(spec, c.field, c.old),
                            None if deleted else trail_text(spec, c.field, c.new))
                 for c in changes],
        erased=[column_label(spec, name) for name in sorted(entry.fields or [],
                                                            key=lambda n: order.get(n, len(order)))]
        if entry.erased else [])


def changed_by(spec, since):
    """Return {field name: [who changed it]} over entries others made meanwhile."""
    found = {}
    for entry in since:
        for change in entry.changes:
            names = found.setdefault(change.field, [])
            if (entry.actor or "(no name)") not in names:
                names.append(entry.actor or "(no name)")
    return found

