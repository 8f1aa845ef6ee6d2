"""Write a form as a REDCap data dictionary (one instrument), reporting what REDCap cannot hold.

The layout mirrors what the importer reads (redcap_import.py), so importing
the written dictionary gives the same form file back: the record id first,
section headers on the first row of each section (after the record id),
section intros and the form description as descriptive rows, and our
expressions written in REDCap's syntax by redcap_logic_export.py.
"""

import html
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from collector.forms.expressions.tree import Call, Compare, Literal, Logic, Ref
from collector.forms.spec_checks import default_key
from collector.interchange.draft import InterchangeError, words
from collector.interchange.empty_answers import emptiable_in_spec, source_tree
from collector.interchange.redcap_csv import write_dictionary
from collector.interchange.redcap_fields import PATTERNS
from collector.interchange.redcap_import import FORCE_MINMAX, bound_message, bound_phrase
from collector.interchange.redcap_logic import number_text
from collector.interchange.redcap_logic_export import CannotExport, to_redcap
from collector.interchange.report import Report

VALIDATION_BY_PATTERN = {pattern: name for name, pattern in PATTERNS.items()}
VALIDATION_BY_TYPE = {"integer": "integer", "date": "date_ymd", "datetime": "datetime_ymd",
                      "email": "email"}
# REDCap's number_Ndp validations go up to 4 places.
MAX_REDCAP_PLACES = 4
MAX_RADIO_OPTIONS = 7  # above this our form shows a drop-down, so the export says dropdown
EMAIL_DEFAULT_LENGTH = 254
# REDCap checks numbers against Min/Max in floating point: about this many digits count.
REDCAP_DIGITS = 15
# Cells REDCap shows as HTML: &, < and > are escaped so they show as typed.
HTML_CELLS = ("label", "note", "section")


def write_redcap(spec, path):
    """Write `spec` as a REDCap data dictionary at `path`; return the Report."""
    report = Report(f"{spec.path} -> {path} (REDCap data dictionary)")
    rows = _Rows(spec, report).build()
    try:
        write_dictionary(Path(path), rows)
    except OSError as error:
        raise InterchangeError(f"{path}: cannot be written: {error.strerror or error}") from None
    return report


class _Rows:
    def __init__(self, spec, report):
        self.spec, self.report = spec, report
        self.fields = spec.fields_by_name
        self.sections = {section.name: section for section in spec.sections}
        self.taken = set(self.fields)
        self.started = set()    # sections whose header has been written
        self.rows = []
        self.empty = emptiable_in_spec(spec)

    def build(self):
        spec = self.spec
        if spec.title != words(spec.name):
            self.report.note("title", f"{spec.title!r} is not kept: REDCap names an instrument by "
                                      f"its Form Name ({spec.name}), read back as "
                                      f"{words(spec.name)!r}")
        fields = list(spec.fields)
        record = self._record_id(fields[0])
        if record is None:
            fields_left = fields
            self._add({"variable": self._unused("record_id"), "type": "text",
                       "label": "Record ID"})
            self.report.note("record id", "the first field is not a required text field, so a "
                                          "record_id row was added first (REDCap's record id)")
        else:
            fields_left = fields[1:]
        if spec.description:
            self._add({"variable": self._unused(f"{spec.name}_description"),
                       "type": "descriptive", "label": spec.description})
        if spec.timezone.key != "UTC":
            self.report.note("timezone", f"{spec.timezone.key!r} is not kept: REDCap has no form "
                                         "time zone; date-time bounds are written as local times "
                                         "there, and an import reads them in UTC")
        if spec.key != default_key(spec.fields):
            self.report.note("key", f"{spec.key!r} is not kept: REDCap finds records by the "
                                    "record id, and an import makes the first field the key")
        if spec.section_pages:
            self.report.note("section_pages", "not kept: REDCap shows an instrument on one page "
                                              "(surveys can page by section in REDCap's settings)")
        for field in fields_left:
            self._field(field)
        return self.rows

    def _record_id(self, first):
        """Write the first field as the record id when it can be one; return it or None."""
        if first.type != "text" or not first.required or first.calculation or first.relevant:
            return None
        entry = self.report.entry("row", first.name)
        row = {"variable": first.name, "type": "text", "label": first.label, "note": first.hint}
        for key in ("pattern", "min_length", "max_length", "constraint"):
            if getattr(first, key):
                entry.problem(key, "not kept: REDCap's record id takes no validation here")
        section = self.sections.get(first.section)
        if section is not None:
            alone = [f for f in self.spec.fields if f.section == section.name] == [first]
            if alone:  # nothing else of the section can carry its header
                row["section"] = section.title
                if section.intro:
                    entry.problem("intro", f"section {section.name}'s intro will read back as the "
                                           "form description (the section holds only the record id)")
                self.started.add(section.name)
            self._section_relevant(section, entry)
        entry.became = "the record id (first row)"
        self._add(row, entry)
        return first

    def _field(self, field):
        entry = self.report.entry("row", field.name)
        row = {"variable": field.name, "label": field.label, "note": field.hint,
               "required": "y" if field.required else ""}
        section = self.sections.get(field.section)
        if section is not None and section.name not in self.started:
            self.started.add(section.name)
            if section.intro:
                self._add({"variable": self._unused(f"{section.name}_intro"),
                           "type": "descriptive", "label": section.intro,
                           "section": section.title})
            else:
                row["section"] = section.title
        self._type(field, row, entry)
        self._branching(field, section, row, entry)
        entry.became = f"{row['type']} field" + (f" ({row['validation']})"
                                                 if row.get("validation") else "")
        self._add(row, entry)

    def _type(self, field, row, entry):
        kind = field.type
        if field.calculation is not None:
            self._calculation(field, row, entry)
            return
        if kind in ("choice", "multi_choice"):
            row["type"] = "checkbox" if kind == "multi_choice" else (
                "radio" if len(field.choices) <= MAX_RADIO_OPTIONS else "dropdown")
            row["choices"] = " | ".join(f"{c.value}, {as_html(c.label)}" for c in field.choices)
            self._check_codes(field, entry)
        elif kind == "boolean":
            row["type"] = "yesno"
        elif kind == "long_text":
            row["type"] = "notes"
        else:
            row["type"] = "text"
            row["validation"] = VALIDATION_BY_TYPE.get(kind, "")
        if kind == "decimal":
            row["validation"] = self._number_validation(field, entry)
        if kind == "text" and field.pattern:
            validation = VALIDATION_BY_PATTERN.get(field.pattern)
            if validation:
                row["validation"] = validation
            else:
                entry.problem("pattern", f"{field.pattern!r} not kept: REDCap validates with its "
                                         "own list of formats, not patterns")
        self._lengths(field, entry)
        self._bounds(field, row, entry)

    def _calculation(self, field, row, entry):
        row["type"] = "calc"
        if field.type not in ("integer", "decimal"):
            row["type"] = "text"
            entry.problem("calculation", f"{field.calculation.source!r} left out: REDCap "
                                         "calculations give numbers only; exported as a text field")
            return
        try:
            equation = to_redcap(self._bare(field.calculation, "calculation", entry), self.fields)
        except CannotExport as problem:
            row["type"] = "text"
            row["validation"] = "integer" if field.type == "integer" else "number"
            entry.problem("calculation", f"{field.calculation.source!r} left out: {problem}; "
                                         "exported as a number to type in")
            return
        if field.places is not None:
            equation = f"round({equation}, {field.places})"
            entry.problem("places", f"written as round(..., {field.places}) around the equation")
        row["choices"] = equation
        for key in ("min", "max"):
            if getattr(field, key) is not None:
                entry.problem(key, "not kept: REDCap calculated fields have no range check")

    def _number_validation(self, field, entry):
        if field.places is None:
            return "number"
        if 1 <= field.places <= MAX_REDCAP_PLACES:
            return f"number_{field.places}dp"
        entry.problem("places", f"{field.places} decimal places not kept: REDCap's number "
                                f"validations have 1 to {MAX_REDCAP_PLACES} places")
        return "number"

    def _lengths(self, field, entry):
        for key in ("min_length", "max_length"):
            value = getattr(field, key)
            if value and not (field.type == "email" and key == "max_length"
                              and value == EMAIL_DEFAULT_LENGTH):
                entry.problem(key, f"{value} not kept: REDCap has no length limits")

    def _check_codes(self, field, entry):
        for choice in field.choices:
            if "|" in choice.value or "," in choice.value or "|" in choice.label:
                entry.problem("choices", f"code {choice.value!r} or its label holds ',' or '|', "
                                         "which REDCap's choice list uses to separate codes: "
                                         "check the choices column")

    def _bounds(self, field, row, entry):
        self._bound_cells(field, row, entry)
        if row.get("min") or row.get("max"):
            row["annotation"] = FORCE_MINMAX  # else REDCap only warns; ours refuse
        for key in ("min", "max"):
            if _significant_digits(row.get(key, "")) > REDCAP_DIGITS:
                entry.problem(key, f"{row[key]} has more than {REDCAP_DIGITS} significant digits: "
                                   "REDCap compares a value with Min/Max as a floating-point "
                                   f"number, so it checks only about the first {REDCAP_DIGITS}")

    def _bound_cells(self, field, row, entry):
        for key in ("min", "max"):
            value = getattr(field, key)
            if value is not None:
                row[key] = self._bound_text(value)
        if field.constraint is None:
            return
        bounds = self._constraint_bounds(field)
        if bounds is None or any(row.get(key) for key, _text, _words in bounds):
            entry.problem("constraint", f"{field.constraint.source!r} left out: REDCap checks an "
                                        "answer only against a min and a max (a number, a date, "
                                        "today, now or another field)")
            return
        for key, text, _words in bounds:
            row[key] = text
        expected = bound_message([bound_phrase(field.type, key, words_) for key, _t, words_ in bounds])
        if field.constraint_message and field.constraint_message != expected:
            entry.problem("constraint_message", f"{field.constraint_message!r} not kept: REDCap "
                                                "shows its own out-of-range message")

    def _constraint_bounds(self, field):
        """Return [(min|max, text, words)] when the constraint is `. >= X and . <= Y`."""
        parts, node = [], field.constraint.tree
        while isinstance(node, Logic) and node.op == "and":
            parts.append(node.right)
            node = node.left
        parts.append(node)
        bounds = []
        for part in reversed(parts):
            if not (isinstance(part, Compare) and part.op in (">=", "<=")
                    and isinstance(part.left, Ref) and part.left.name == field.name):
                return None
            key = "min" if part.op == ">=" else "max"
            target = part.right
            if isinstance(target, Call) and target.name == "today" and field.type == "date":
                bounds.append((key, "today", "today"))
            elif isinstance(target, Ref) and target.name != field.name:
                other = self.fields[target.name]
                bounds.append((key, f"[{target.name}]", other.label or words(other.name)))
            elif isinstance(target, Literal) and not isinstance(target.value, (bool, str)):
                text = self._bound_text(target.value)
                bounds.append((key, text, text))
            else:
                return None
        keys = [key for key, _t, _w in bounds]
        return bounds if len(set(keys)) == len(keys) else None

    def _bound_text(self, value):
        if isinstance(value, datetime):
            local = value.astimezone(self.spec.timezone).replace(tzinfo=None)
            return local.isoformat(sep=" ", timespec="seconds" if local.second else "minutes")
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if isinstance(value, Decimal):
            return format(value, "f")  # every digit as written, trailing zeros too
        return number_text(value)

    def _branching(self, field, section, row, entry):
        parts = []
        if section is not None and section.relevant is not None:
            parts.append(section.relevant)
            entry.problem("section relevant", f"section {section.name}'s relevant "
                                              f"{section.relevant.source!r} is written on each of "
                                              "its fields (REDCap sections have no skip logic)")
        if field.relevant is not None:
            parts.append(field.relevant)
        texts = []
        for expression in parts:
            try:
                texts.append(to_redcap(self._bare(expression, "relevant", entry), self.fields))
            except CannotExport as problem:
                entry.problem("relevant", f"{expression.source!r} left out: {problem}; the field "
                                          "is always shown in REDCap")
                return
        if len(texts) == 2:
            texts = [f"({texts[0]}) and ({texts[1]})"]
        if texts:
            row["branching"] = texts[0]

    def _bare(self, expression, key, entry):
        """Return the tree to write: the guards an import wrote for blanks come off."""
        tree, difference = source_tree(expression, self.empty, key)
        if difference:
            entry.problem(key, difference)
        return tree

    def _section_relevant(self, section, entry):
        if section.relevant is not None:
            entry.problem("section relevant", f"section {section.name}'s relevant is not applied "
                                              "to the record id (REDCap always shows it)")

    def _add(self, row, entry=None):
        if entry is not None:  # the header is row 1, as a spreadsheet shows it
            entry.where = f"row {len(self.rows) + 2}"
        row = {key: as_html(value) if key in HTML_CELLS else value for key, value in row.items()}
        self.rows.append({"form": self.spec.name, **{k: v for k, v in row.items() if v}})

    def _unused(self, name):
        candidate, number = name, 1
        while candidate in self.taken:
            number += 1
            candidate = f"{name}_{number}"
        self.taken.add(candidate)
        return candidate


def as_html(text):
    """Return text as REDCap should hold it to show it as typed (it renders labels as HTML)."""
    return html.escape(text, quote=False) if text else text


def _significant_digits(text):
    """Return how many significant digits a number written as text has (0 if not a number)."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        return 0
    digits = number.as_tuple().digits
    return len("".join(map(str, digits)).lstrip("0")) if number.is_finite() else 0
