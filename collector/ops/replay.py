"""Replay failed-write records into the database, each at most once.

Input is anything `heroku logs` or stdout produced; collector/ops/log_records.py
finds the records (whole, or joined from parts) and names every line it
cannot read. Each record is checked against the current form file, then
inserted with ON CONFLICT DO NOTHING, so replaying the same log twice inserts
nothing the second time.
"""

import json
from dataclasses import dataclass, field

from collector.db.storage import Withdrawn, insert_once, stored_differences
from collector.forms.conflicts import SubmissionConflict, differences
from collector.ops.failed_writes import describe_error, json_value
from collector.ops.log_items import Unreadable
from collector.ops.log_records import read_records
from collector.ops.replay_checks import checked

# Outcomes that make replay exit non-zero: the entry is not in the database as held.
FAILED = ("rejected", "conflict", "unreadable", "incomplete")
REJOINED = ("rejoined from {} lines Heroku's log router cut; a lost piece cannot be ruled "
            "out: check the values, then replay this line")


@dataclass
class Outcome:
    record: dict           # {} when the lines could not be read
    status: str            # inserted, present, would insert, withdrawn, conflict, rejected,
                           # unreadable, incomplete
    reason: str = ""
    line: str = ""         # where in the input: "12", or "12-40" for parts
    raw: list = field(default_factory=list)  # the input text, for lines that cannot be read
    differences: list = field(default_factory=list)  # conflict: [Difference] stored vs held


@dataclass
class Summary:
    outcomes: list = field(default_factory=list)

    def count(self, status):
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def rejected(self):
        return [o for o in self.outcomes if o.status == "rejected"]

    @property
    def failed(self):
        return [o for o in self.outcomes if o.status in FAILED]


def outcomes(engine, registry, lines, dry_run=False):
    """Yield an Outcome for every record and every unreadable record in `lines`."""
    planned = {} if dry_run else None  # what this dry run would have inserted so far
    for item in read_records(lines):
        if isinstance(item, Unreadable):
            yield Outcome({}, item.status, item.reason, item.line, item.raw)
        elif item.chunks > 1:  # a lost chunk need not break the JSON: a person checks it
            yield Outcome(item.record, "rejected", REJOINED.format(item.chunks), item.line, item.raw)
        else:
            outcome = replay_record(engine, registry, item.record, dry_run, planned)
            outcome.line, outcome.raw = item.line, item.raw
            yield outcome


def replay_record(engine, registry, record, dry_run=False, planned=None):
    """Check one record against its form and insert it once; return its Outcome.

    A dry run writes nothing, so it remembers in `planned` what it would have
    inserted: a second copy of a reference then forecasts what the real run does.
    """
    try:
        spec, table, submission_id, values, submitted_at = checked(registry, record)
    except ValueError as problem:
        return Outcome(record, "rejected", str(problem))
    except Exception as error:  # a record shaped like nothing we wrote: name it, go on
        return Outcome(record, "rejected", f"cannot check it: {describe_error(error)}")
    try:
        if dry_run:
            return _forecast(engine, spec, table, submission_id, values, record,
                             {} if planned is None else planned)
        inserted = insert_once(engine, spec, table, submission_id, values,
                               record.get("entered_by"), submitted_at)
    except Withdrawn:  # erased on purpose: not printed again, not an error
        return Outcome({key: record.get(key) for key in ("form", "submission_id")}, "withdrawn",
                       "the participant was withdrawn in the PI area; not brought back")
    except SubmissionConflict as conflict:  # the same reference holds other values
        names = ", ".join(d.field.name for d in conflict.differences)
        return Outcome(record, "conflict", f"already stored with other values in: {names}",
                       differences=conflict.differences)
    except Exception as error:  # the database refused or is down: keep the record
        return Outcome(record, "rejected", f"database error: {describe_error(error)}")
    return Outcome(record, "inserted" if inserted else "present")


def _forecast(engine, spec, table, submission_id, values, record, planned):
    """Say what inserting would do, counting what this run would already have inserted."""
    key = (table.name, submission_id)
    if key in planned:
        found = differences(spec, planned[key], values)
    else:
        found = stored_differences(engine, spec, table, submission_id, values)
    if found:
        raise SubmissionConflict(submission_id, found)
    if found is None:
        planned[key] = values
        return Outcome(record, "would insert")
    return Outcome(record, "present")


def rejected_lines(outcome):
    """Return what to print for a failed outcome: the record with its error replaced by why
    replay refused it, or the input lines as read when there is no record to print."""
    if outcome.status not in ("rejected", "conflict"):
        return list(outcome.raw)
    printed = {**outcome.record, "error": f"replay: {outcome.status}: {outcome.reason}"
               if outcome.status == "conflict" else f"replay: {outcome.reason}"}
    if outcome.differences:  # what the PI must decide between, field by field
        printed["differences"] = {d.field.name: {"stored": json_value(d.stored),
                                                 "held": json_value(d.sent)}
                                  for d in outcome.differences}
    try:
        return [json.dumps(printed, ensure_ascii=True, default=str)]
    except (ValueError, RecursionError):  # too deep to print again: give back what was read
        return list(outcome.raw)
