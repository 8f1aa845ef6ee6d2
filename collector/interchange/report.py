"""Say, per source row, what it became and everything that could not be translated.

The PI reviews an imported form from this report: every construct that was
left out or changed names its row (as the spreadsheet shows it), its column
and why. Nothing is dropped without a line here.
"""

from dataclasses import dataclass, field


@dataclass
class Problem:
    """One thing that was not translated, or translated only approximately."""
    column: str
    message: str


@dataclass
class Entry:
    """One source row: where it is, its name there, and what it became."""
    where: str                  # "row 12" (REDCap) or "survey row 12" (XLSForm)
    name: str                   # the row's variable / question name in the source
    became: str = "not imported"
    problems: list = field(default_factory=list)

    def problem(self, column, message):
        """Record that `column` of this row was not (fully) translated."""
        self.problems.append(Problem(column, message))


@dataclass
class Report:
    """Everything one import or export did, in source order."""
    source: str
    entries: list = field(default_factory=list)
    general: list = field(default_factory=list)   # Problems that belong to no single row
    written: list = field(default_factory=list)   # what was (or would be) written
    counting: str = "rows read"                    # what the entries are, for the last line

    def entry(self, where, name):
        """Start and return the entry for one source row."""
        self.entries.append(Entry(where, name))
        return self.entries[-1]

    def note(self, column, message):
        """Record a problem that belongs to the file rather than a row."""
        self.general.append(Problem(column, message))

    @property
    def problem_count(self):
        """How many items the PI should review."""
        return len(self.general) + sum(len(e.problems) for e in self.entries)

    def lines(self):
        """Return the report as text lines, one row per source row."""
        lines = [self.source]
        for problem in self.general:
            lines.append(f"  ! {problem.column}: {problem.message}")
        width = max((len(e.where) for e in self.entries), default=0)
        for entry in self.entries:
            name = f" {entry.name}" if entry.name else ""
            lines.append(f"  {entry.where:<{width}}{name} -> {entry.became}")
            for problem in entry.problems:
                lines.append(f"  {'':<{width}}   ! {entry.where}, {problem.column}: {problem.message}")
        lines.extend(f"  {line}" for line in self.written)
        count = self.problem_count
        lines.append(f"{len(self.entries)} {self.counting}; "
                     + (f"{count} item{'s' if count != 1 else ''} to review (marked !)."
                        if count else "everything was translated."))
        return lines
