"""Replay failed-write records into the database, each at most once.

Input is anything `heroku logs` or stdout produced: lines that are a
failed-write record (raw, or behind the `<time> app[web.1]: ` prefix) are
replayed; every other line is ignored. Each record is checked against the
current form file, then inserted with ON CONFLICT DO NOTHING, so replaying
the same log twice inserts nothing the second time.
"""

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from werkzeug.datastructures import MultiDict

from collector.failed_writes import describe_error
from collector.storage import insert_once, is_saved
from collector.validation import validate_submission

# `2026-11-21T10:00:00.000000+00:00 app[web.1]: {...}`, or the bare `{...}`.
LOG_LINE = re.compile(r"^(?:\S+ +[\w.-]+\[[\w.-]+\]: *)?(\{.*\})\s*$")


@dataclass
class Outcome:
    record: dict
    status: str            # inserted, present, would insert, rejected
    reason: str = ""


@dataclass
class Summary:
    outcomes: list = field(default_factory=list)

    def count(self, status):
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def rejected(self):
        return [o for o in self.outcomes if o.status == "rejected"]


def read_records(lines):
    """Yield each failed-write record found in `lines`; ignore everything else."""
    for line in lines:
        match = LOG_LINE.match(line.strip())
        if not match:
            continue
        try:
            record = json.loads(match.group(1))
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("event") == "submission_failed":
            yield record


def replay_record(engine, registry, record, dry_run=False):
    """Check one record against its form and insert it once; return its Outcome."""
    try:
        spec, table, submission_id, values, submitted_at = _checked(registry, record)
    except ValueError as problem:
        return Outcome(record, "rejected", str(problem))
    try:
        if dry_run:
            present = is_saved(engine, table, submission_id)
            return Outcome(record, "present" if present else "would insert")
        inserted = insert_once(engine, spec, table, submission_id, values,
                               record.get("entered_by"), submitted_at)
    except Exception as error:  # the database refused or is down: keep the record
        return Outcome(record, "rejected", f"database error: {describe_error(error)}")
    return Outcome(record, "inserted" if inserted else "present")


def _checked(registry, record):
    spec, table = registry.get(record.get("form"))
    if spec is None:
        raise ValueError(f"no form called {record.get('form')!r} in the form files")
    try:
        submission_id = uuid.UUID(str(record.get("submission_id")))
    except ValueError:
        raise ValueError(f"submission_id {record.get('submission_id')!r} is not a UUID") from None
    values = record.get("values")
    if not isinstance(values, dict):
        raise ValueError("values is missing or not an object")
    unknown = sorted(set(values) - {f.name for f in spec.fields})
    if unknown:
        raise ValueError(f"field {unknown[0]!r} is not in forms/{spec.path.name} any more")
    typed, errors = validate_submission(spec, _as_form_data(values))
    if errors:
        name, message = next(iter(errors.items()))
        raise ValueError(f"field {name!r}: {message}")
    return spec, table, submission_id, typed, _submitted_at(record.get("at"))


def _as_form_data(values):
    """Turn JSON values back into what a browser would have sent."""
    data = MultiDict()
    for name, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            data.add(name, str(item).lower() if isinstance(item, bool) else str(item))
    return data


def _submitted_at(at):
    """Keep when the RA submitted, from the record's `at`; None lets the database say now()."""
    try:
        return datetime.fromisoformat(str(at).replace("Z", "+00:00"))
    except ValueError:
        return None


def rejected_line(outcome):
    """Return the record as a JSON line again, its error replaced by why replay refused it."""
    return json.dumps({**outcome.record, "error": f"replay: {outcome.reason}"}, ensure_ascii=True)
