"""Join the part lines of long failed-write records, in any order, checking their sha256."""

import json
import re
from hashlib import sha256

from collector.ops.log_items import Found, Part, Unreadable
from collector.ops.record_parts import RECORD_EVENT

HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
# A 1 MB body makes a few hundred parts; far more is a corrupt or hostile line.
MAX_PARTS = 100_000
MAX_LISTED = 20


def part_from(number, obj, raw):
    """Return the Part in `obj` (a decoded part line), or Unreadable saying which key is wrong."""
    problem = _part_problem(obj)
    if problem:
        return Unreadable(str(number), f"part of record {obj.get('submission_id')!r}: {problem}",
                          [raw])
    return Part(number, obj["submission_id"], obj["sha256"], obj["part"], obj["parts"],
                obj["data"], raw)


def _part_problem(obj):
    part, parts = obj.get("part"), obj.get("parts")
    if type(part) is not int or type(parts) is not int:  # bool is an int subclass: not a count
        return "part and parts must be whole numbers"
    if not 1 <= part <= parts <= MAX_PARTS:
        return f"part {part} of {parts} is out of range (1 to parts, at most {MAX_PARTS})"
    if not isinstance(obj.get("sha256"), str) or not HEX_DIGEST.fullmatch(obj["sha256"]):
        return "sha256 is not a hex digest"
    if not isinstance(obj.get("submission_id"), str):
        return "submission_id is not text"
    if not isinstance(obj.get("data"), str):
        return "data is not text"
    return None


class PartJoiner:
    """Collect parts by (submission_id, sha256); hand out each record once all its parts are in."""

    def __init__(self):
        self.groups = {}   # (submission_id, sha256) -> {part number: Part}
        self.done = set()  # keys already joined: later copies (a drain's, say) are duplicates

    def add(self, part):
        """Yield the joined record (Found or Unreadable) when `part` completes it."""
        key = (part.submission_id, part.sha256)
        if key in self.done:
            return
        group = self.groups.setdefault(key, {})
        first = next(iter(group.values()), part)
        if part.parts != first.parts:
            yield Unreadable(str(part.line), f"part of record {part.submission_id}: says "
                             f"{part.parts} parts, line {first.line} said {first.parts}", [part.raw])
            return
        group.setdefault(part.number, part)  # a duplicate (log drain and heroku logs) is harmless
        if len(group) == part.parts:
            del self.groups[key]
            joined = _joined(sorted(group.values(), key=lambda p: p.number))
            if isinstance(joined, Found):  # a corrupt copy must not turn away a good one later
                self.done.add(key)
            yield joined

    def leftovers(self):
        """Yield an "incomplete" Unreadable for each record with parts still missing."""
        for group in sorted(self.groups.values(), key=lambda g: min(p.line for p in g.values())):
            parts = sorted(group.values(), key=lambda p: p.line)
            yield Unreadable(_lines(parts), f"record {parts[0].submission_id}: parts "
                             f"{_missing(group, parts[0].parts)} of {parts[0].parts} missing",
                             [p.raw for p in parts], "incomplete")
        self.groups.clear()


def _missing(group, parts):
    """Return e.g. "2, 5-99, 120": the gaps between the part numbers seen, in ranges.

    The cost follows the parts seen, not the parts a (forged) line claims.
    """
    seen = sorted(group)
    gaps = [(low, high) for low, high in zip([0] + seen, seen + [parts + 1]) if high - low > 1]
    shown = [_range(low + 1, high - 1) for low, high in gaps[:MAX_LISTED]]
    more = f", … ({len(gaps)} ranges)" if len(gaps) > MAX_LISTED else ""
    return ", ".join(shown) + more


def _range(first, last):
    return str(first) if first == last else f"{first}, {last}" if last == first + 1 else \
        f"{first}-{last}"


def _joined(parts):
    """Return the record the parts make, or Unreadable when they do not make one."""
    label, raw = _lines(parts), [p.raw for p in sorted(parts, key=lambda p: p.line)]
    text = "".join(p.data for p in parts)
    if sha256(text.encode("utf-8", "surrogatepass")).hexdigest() != parts[0].sha256:
        return Unreadable(label, f"record {parts[0].submission_id}: its {len(parts)} parts "
                          "joined do not match their sha256", raw)
    try:
        record = json.loads(text)
    except (ValueError, RecursionError) as error:
        return Unreadable(label, f"record {parts[0].submission_id}: parts joined are no JSON "
                          f"record ({type(error).__name__})", raw)
    if not isinstance(record, dict) or record.get("event") != RECORD_EVENT:
        return Unreadable(label, f"record {parts[0].submission_id}: parts joined are no "
                          f"{RECORD_EVENT} record", raw)
    return Found(label, record, raw)


def _lines(parts):
    """Return "12" or "12-40": where in the input these parts are."""
    numbers = [p.line for p in parts]
    low, high = min(numbers), max(numbers)
    return str(low) if low == high else f"{low}-{high}"
