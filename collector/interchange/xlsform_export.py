"""Write a form as an XLSForm workbook (survey, choices, settings) that ODK's pyxform accepts.

Rules XLSForm has no column for become constraint parts the importer reads
back as the same keys: min/max as `. >= 0`, lengths as `string-length(.)`,
places as `round(., 2) = .`, a pattern as `regex(., '^...$')` and the email
type as one fixed regex(). Sections become groups (field-list when each
section is a page), the description and intros become notes. What XLSForm
cannot say is listed in the Report, per field and key.
"""

import re
from datetime import date, datetime
from decimal import Decimal

import openpyxl

from collector.forms.spec_checks import EMAIL_MAX_LENGTH, default_key
from collector.interchange.draft import InterchangeError, column_name
from collector.interchange.empty_answers import emptiable_in_spec, source_shape
from collector.interchange.report import Report
from collector.interchange.xlsform_expressions import (EMAIL_REGEX, has_top_level_or,
                                                       piped_references, regex_from_pattern,
                                                       unwrap)

SURVEY_COLUMNS = ("type", "name", "label", "hint", "required", "relevant", "constraint",
                  "constraint_message", "calculation", "read_only", "appearance")
CHOICES_COLUMNS = ("list_name", "name", "label")
SETTINGS_COLUMNS = ("form_title", "form_id", "version", "style")
XLSFORM_TYPES = {"text": "text", "long_text": "text", "email": "text", "integer": "integer",
                 "decimal": "decimal", "date": "date", "datetime": "dateTime",
                 "choice": "select_one", "multi_choice": "select_multiple", "boolean": "calculate"}
BOOLEAN_LIST = "yes_no"
BOOLEAN_CHOICES = (("true", "Yes"), ("false", "No"))


def write_xlsform(spec, path):
    """Write `spec` (a loaded FormSpec) as an XLSForm workbook at `path`; return the Report."""
    report = Report(f"form {spec.name} ({spec.path.name}) as an XLSForm workbook")
    survey, choices = _Survey(spec, report).rows()
    settings = [{"form_title": spec.title, "form_id": spec.name, "version": spec.version,
                 "style": "pages" if spec.section_pages else ""}]
    _form_notes(spec, report)
    book = openpyxl.Workbook()
    book.remove(book.active)
    _sheet(book, "survey", SURVEY_COLUMNS, survey)
    _sheet(book, "choices", CHOICES_COLUMNS, choices)
    _sheet(book, "settings", SETTINGS_COLUMNS, settings)
    try:
        book.save(path)
    except OSError as error:
        raise InterchangeError(f"{path}: cannot be written: {error.strerror or error}") from None
    return report


def _sheet(book, title, columns, rows):
    sheet = book.create_sheet(title)
    sheet.append(list(columns))
    for row in rows:
        # A text cell that starts with '=' would be read as a formula: store it as plain text.
        cells = [row.get(column) or None for column in columns]
        sheet.append(cells)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"


def _form_notes(spec, report):
    if spec.access == "public":
        report.note("access", "XLSForm has no access setting: the form is public here, who can "
                              "fill it in ODK is set on the server")
    if spec.key != default_key(spec.fields):
        report.note("key", f"XLSForm has no key setting ({spec.key}): an import makes the first "
                           "field the key")
    if spec.timezone.key != "UTC":
        report.note("timezone", f"XLSForm has no time zone setting ({spec.timezone.key}): ODK reads "
                                "date-times in the phone's zone")


class _Survey:
    """Build the survey and choices rows of one form."""

    def __init__(self, spec, report):
        self.spec, self.report = spec, report
        self.taken = {f.name for f in spec.fields} | {s.name for s in spec.sections}
        self.booleans = {f.name for f in spec.fields if f.type == "boolean"}
        self.empty = emptiable_in_spec(spec)
        self.survey, self.choices = [], []
        # Each choice field has a list of its own name; the yes/no list must not take one.
        self.lists = {f.name: "field" for f in spec.fields if f.type in ("choice", "multi_choice")}

    def rows(self):
        if self.spec.description:
            self._piping("form", "description", self.spec.description)
            self._note("description", self.spec.description)
        by_section = {s.name: s for s in self.spec.sections}
        current = None
        for field in self.spec.fields:
            if field.section != current:
                if current is not None:
                    self.survey.append({"type": "end group"})
                current = field.section
                self._begin_group(by_section[current])
            self._field(field)
        if current is not None:
            self.survey.append({"type": "end group"})
        return self.survey, self.choices

    def _piping(self, entry, key, text):
        """Report each ${name} in shown text: ODK reads it as piping, the collector does not."""
        for reference in piped_references(text or ""):
            name = reference[2:-1].strip()
            if any(field.name == name for field in self.spec.fields):
                message = (f"'{reference}' is piping in ODK: it shows the answer of {name} "
                           "there, where the collector shows the text as written")
            else:
                message = (f"'{reference}' is piping in ODK, and {name} is no question of this "
                           "form: ODK refuses the workbook")
            self._report(entry, key, message)

    def _note(self, raw_name, text):
        self.survey.append({"type": "note", "name": column_name(raw_name, self.taken),
                            "label": text})

    def _begin_group(self, section):
        row = {"type": "begin group", "name": section.name, "label": section.title}
        if section.relevant:
            row["relevant"] = self._expression(section.relevant, f"section {section.name}",
                                               "relevant")
        if self.spec.section_pages:
            row["appearance"] = "field-list"
        self.survey.append(row)
        self._piping(f"section {section.name}", "title", section.title)
        self._piping(f"section {section.name}", "intro", section.intro)
        if section.intro:
            self._note(f"{section.name}_intro", section.intro)

    def _field(self, field):
        entry = self.report.entry(f"field {field.name}", field.name)
        kind = XLSFORM_TYPES[field.type]
        row = {"name": field.name, "label": field.label, "hint": field.hint}
        self._piping(entry, "label", field.label)
        self._piping(entry, "hint", field.hint)
        for choice in field.choices:
            self._piping(entry, "choices", choice.label)
        if field.type in ("choice", "multi_choice"):
            kind = f"{kind} {self._list(field)}"
        elif field.type == "boolean" and not field.calculation:
            kind = f"select_one {self._boolean_list()}"
        if field.type == "boolean":
            entry.problem("type", "XLSForm has no yes/no type: exported as "
                                  + ("a calculate" if field.calculation else
                                     f"select_one {BOOLEAN_LIST} (codes true/false)")
                                  + "; rules that read it compare it with 'true'")
        if field.type == "long_text":
            row["appearance"] = "multiline"
        if field.required:
            row["required"] = "yes"
        if field.relevant:
            row["relevant"] = self._expression(field.relevant, entry, "relevant")
        self._constraint(field, row, entry)
        if field.calculation:
            self._calculation(field, row, entry)
        row["type"] = kind
        entry.became = f"survey row {len(self.survey) + 2} ({kind})"
        self.survey.append(row)

    def _constraint(self, field, row, entry):
        parts = _rule_parts(field, entry)
        own = field.constraint.source if field.constraint else ""
        if own:
            own = self._expression(field.constraint, entry, "constraint", this=field.name)
            parts.append(f"({own})" if parts and has_top_level_or(own) else own)
        if not parts:
            return
        row["constraint"] = " and ".join(parts)
        message = field.constraint_message
        # The message the form loader makes up names the constraint as the file has it
        # (empty-answer guards included), not as it is exported.
        default = (f"Check this answer: it must satisfy {field.constraint.source}."
                   if field.constraint else None)
        if own and message and message != default:
            row["constraint_message"] = message
            self._piping(entry, "constraint_message", message)
            if len(parts) > 1:
                entry.problem("constraint_message", "min, max, lengths or pattern are part of the "
                                                    "constraint in XLSForm, so this message also "
                                                    "shows when they are broken")

    def _calculation(self, field, row, entry):
        source = field.calculation.source
        if "years-between(" in source:
            entry.problem("calculation", f"{source!r}: XLSForm has no years-between(); the "
                                         "calculation was left out (the field is typed in)")
            return
        row["calculation"] = self._expression(field.calculation, entry, "calculation")
        row["read_only"] = "yes"

    def _expression(self, expression, entry, key, this=None):
        """Return an Expression in XPath: yes/no fields are read as `${x} = 'true'` there.

        The guards an import wrote for empty answers come off (empty_answers.py);
        a rule ODK would read differently with an empty answer is reported.
        """
        source, difference = source_shape(expression, self.empty, key, this)
        if difference:
            self._report(entry, key, difference)
        original = source
        for name in self.booleans:
            source = re.sub(r"\$\{" + name + r"\}(?!\s*!?=\s*'')", f"(${{{name}}} = 'true')", source)
        if source != original:
            source = unwrap(source)   # `${smokes}` alone reads `${smokes} = 'true'`, no brackets
        if "years-between(" in source:
            self._report(entry, key, "XLSForm has no years-between(); check this rule in ODK")
        return source

    def _report(self, entry, key, message):
        if isinstance(entry, str):
            self.report.note(f"{entry} {key}", message)
        else:
            entry.problem(key, message)

    def _list(self, field):
        name = field.name
        for choice in field.choices:
            self.choices.append({"list_name": name, "name": choice.value, "label": choice.label})
        return name

    def _boolean_list(self):
        """Return the choice list yes/no fields use (named so no field's own list clashes)."""
        name = BOOLEAN_LIST
        while name in self.lists and self.lists[name] != "boolean":
            name += "_x"
        if name not in self.lists:
            self.lists[name] = "boolean"
            for value, label in BOOLEAN_CHOICES:
                self.choices.append({"list_name": name, "name": value, "label": label})
        return name


def _rule_parts(field, entry):
    """Return the constraint parts that say the field's min/max, lengths, places, pattern, email."""
    parts = []
    if field.type == "email":
        parts.append(f"regex(., '{EMAIL_REGEX}')")
    if field.pattern:
        regex = regex_from_pattern(field.pattern)
        if "'" in regex and '"' in regex:
            entry.problem("pattern", f"{field.pattern!r} holds both quote marks, which an XPath "
                                     "string cannot; left out")
        else:
            quote = '"' if "'" in regex else "'"
            parts.append(f"regex(., {quote}{regex}{quote})")
    for key, op in (("min", ">="), ("max", "<=")):
        value = getattr(field, key)
        if value is None:
            continue
        if isinstance(value, datetime):
            entry.problem(key, f"{value.isoformat()}: a date-time bound has no XLSForm form the "
                               "collector reads back; left out")
        else:
            parts.append(f". {op} {_literal(value)}")
    lengths = (("min_length", ">="), ("max_length", "<="))
    for key, op in lengths:
        value = getattr(field, key)
        if value and not (field.type == "email" and key == "max_length" and value == EMAIL_MAX_LENGTH):
            parts.append(f"string-length(.) {op} {value}")
    if field.places is not None:
        parts.append(f"round(., {field.places}) = .")
    return parts


def _literal(value):
    if isinstance(value, date):
        return f"date('{value.isoformat()}')"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
