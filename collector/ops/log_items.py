"""What reading a log yields: whole records, parts of records, and lines it cannot read."""

from dataclasses import dataclass, field


@dataclass
class Found:
    """A whole failed-write record, the line(s) it came from, and their raw text."""
    line: str
    record: dict
    raw: list = field(default_factory=list)
    chunks: int = 1                # > 1: rejoined from pieces Heroku's log router cut


@dataclass
class Unreadable:
    """Lines that carry a failed-write record replay cannot read, and why."""
    line: str
    reason: str
    raw: list = field(default_factory=list)
    status: str = "unreadable"     # or "incomplete": parts missing at the end of the input


@dataclass(frozen=True)
class Part:
    """One checked part line of a record too long for one line."""
    line: int
    submission_id: str
    sha256: str
    number: int
    parts: int
    data: str
    raw: str
