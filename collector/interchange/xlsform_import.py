"""Read an XLSForm workbook into a draft form file and a report of every row.

The mapping is documented in docs/FORMS.md ("From XLSForm"). In short:
questions become fields, top-level groups become sections (nested groups are
flattened into them), notes become the form's description, a section's intro
or the next field's hint, and everything the collector cannot express is
reported with its row and column instead of being dropped.
"""

from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import re

from collector.forms import bounds
from collector.forms.expressions.grammar import ExpressionError, parse
from collector.forms.expressions.tree import NUMBER_TEXT
from collector.forms.expressions.typecheck import FieldFacts, check
from collector.interchange.draft import Draft, column_name, section_name, table_name, words
from collector.interchange.empty_answers import make_faithful
from collector.interchange.report import Report
from collector.interchange.xlsform_columns import (CHOICE_ROLES, SURVEY_ROLES, ColumnMap,
                                                   choose_language, reason_for)
from collector.interchange.xlsform_expressions import (NUMBER, TEXT, TIME_PATTERN, Untranslatable,
                                                       has_top_level_or, piped_references,
                                                       split_constraint, translate, unwrap)
from collector.interchange.xlsform_sheets import read_workbook
from collector.interchange.xlsform_types import read_type

YES = {"yes", "true", "true()"}
NO = {"no", "false", "false()"}
# Types an inferred calculation can give, and the field type it becomes.
INFERRED_TYPES = {"integer": "integer", "decimal": "decimal", "text": "text", "date": "date",
                  "datetime": "datetime", "boolean": "boolean"}
SETTINGS_READ = {"form_title", "form_id", "version", "default_language", "style"}
CALCULATE_SHOWN = "ODK keeps a calculate hidden; the collector shows it as a read-only field"


def read_xlsform(path, form=None):
    """Return ([Draft], Report) for the XLSForm workbook at `path`.

    `form` names the form file to write (default: the settings' form_id,
    else the file name); raises InterchangeError when the file is no XLSForm.
    """
    path = Path(path)
    book = read_workbook(path)
    report = Report(str(path))
    draft = _SurveyImport(path, book, report, form).run()
    _odk_opinion(path, report)
    return ([draft] if draft.fields else []), report


def _odk_opinion(path, report):
    """Add what ODK's own converter (pyxform) says of the workbook: its errors and warnings."""
    from pyxform.xls2xform import convert
    warnings = []
    try:
        convert(xlsform=str(path), warnings=warnings, validate=False)
    except Exception as error:  # noqa: BLE001 -- any refusal is worth reporting, none should stop us
        text = " ".join(str(error).split()) or type(error).__name__
        report.note("pyxform", f"ODK's converter refuses this workbook: {text[:500]}")
    for warning in warnings:
        report.note("pyxform", f"ODK's converter warns: {' '.join(str(warning).split())[:500]}")


@dataclass
class _Group:
    row: object
    name: str
    relevant: str | None
    section: str | None       # the section a top-level group became
    field_list: bool = False


@dataclass
class _Question:
    """A survey row that will become a field, found in the first pass."""
    row: object
    kind: object              # RowType
    name: str                 # its column name
    in_repeat: bool = False
    choices: list = field(default_factory=list)


class _SurveyImport:
    def __init__(self, path, book, report, form):
        self.path, self.book, self.report = path, book, report
        self.settings = book.settings[0] if book.settings else None
        self.setting = lambda key: self.settings.get(key, "").strip() if self.settings else ""
        language, why = choose_language(book.columns["survey"], self.setting("default_language"))
        self.language = language
        self.survey = ColumnMap(book.columns["survey"], SURVEY_ROLES, language)
        self.choice_columns = ColumnMap(book.columns["choices"], CHOICE_ROLES, language)
        name = table_name(form or self.setting("form_id") or path.stem)
        title = self.setting("form_title") or words(path.stem)
        self.draft = Draft(name=name, title=_clean(title))
        self.draft.header.append(f"Imported from {path.name} (XLSForm); labels in {why}.")
        self.entries = {}       # row number -> report entry (survey rows)
        self.renames = {}       # XLSForm name -> column name, for every imported question
        self.kinds = {}         # column name -> TEXT / NUMBER, where ODK reads answers as numbers
        self.lists = {}         # list name -> [{value, label}]
        self.section_names = set()
        self.used_lists = set()

    # --- the whole import -------------------------------------------------------------

    def run(self):
        self._read_settings()
        self._report_other_languages()
        self._read_choices()
        questions = self._first_pass()
        self._keep_translatable_calculations(questions)
        self._second_pass(questions)
        self._infer_calculated_types()
        self._drop_empty_sections()
        make_faithful(self.draft, "ODK", {key: self.survey.header_of.get(key, key)
                                          for key in ("relevant", "constraint", "calculation")})
        self._report_unused_lists()
        self._report_rows_never_read()
        self._report_merged_cells()
        for sheet in self.book.other_sheets:
            self.report.note(f"sheet {sheet}", "not an XLSForm sheet the collector reads; left out")
        return self.draft

    # --- settings, languages, choices -------------------------------------------------

    def _read_settings(self):
        for extra in self.book.settings[1:]:
            self.report.entry(extra.where, "").problem(
                "settings", "only the first settings row is read; this row was left out")
        if self.settings is None:
            return
        entry = self.report.entry(self.settings.where, self.setting("form_id"))
        entry.became = f"form {self.draft.name!r} titled {self.draft.title!r}"
        version = self.setting("version")
        if version:
            self.draft.header.append(f"XLSForm version {version}.")
            entry.problem("version", f"{version!r} is kept only as a comment: the collector "
                                     "versions each form by its content (form_version)")
        for header, value in self.settings.cells.items():
            if header.lower() not in SETTINGS_READ and value:
                entry.problem(header, "this setting has no equivalent; left out")
        style = self.setting("style")
        if style and style != "pages":
            entry.problem("style", f"style {style!r} has no equivalent (only 'pages' has); left out")

    def _report_other_languages(self):
        for sheet, columns in (("survey", self.survey), ("choices", self.choice_columns)):
            rows = getattr(self.book, sheet)
            for header in columns.other_languages:
                if any(row.get(header) for row in rows):
                    self.report.note(f"{sheet} column {header}",
                                     "another language: the collector shows one language, so "
                                     "this column was not imported")

    def _read_choices(self):
        if self.book.choices and "list_name" not in self.choice_columns.header_of:
            self.report.note("choices", "the choices sheet has no list_name column; no choice "
                                        "list was read")
            return
        for row in self.book.choices:
            list_name = self.choice_columns.value(row, "list_name").strip()
            value = self.choice_columns.value(row, "name").strip()
            entry = self.report.entry(row.where, value)
            self._report_formulas(row, entry)
            if not list_name:
                entry.problem("list_name", "no list name; this choice was left out")
                continue
            choices = self.lists.setdefault(list_name, [])
            if not value:
                entry.problem("name", f"no name (code); this choice of list {list_name} was left out")
                continue
            if "\x00" in value:
                entry.problem("name", "a NUL character was removed from the code")
                value = value.replace("\x00", "").strip() or "choice"
            if any(c["value"] == value for c in choices):
                entry.problem("name", f"code {value!r} appears twice in list {list_name}; the "
                                      "first one was kept")
                continue
            label = self._text(row, self.choice_columns.value(row, "label"), "label", entry) or value
            choices.append({"value": value, "label": label})
            entry.became = f"choice {value!r} of list {list_name}"
            for header, _value in self.choice_columns.leftovers(row):
                entry.problem(header, reason_for(header))

    # --- pass one: which rows become fields, under which names ------------------------

    def _first_pass(self):
        questions, repeats, taken = [], 0, set()
        for row in self.book.survey:
            kind = read_type(self.survey.value(row, "type"))
            if kind.kind == "begin_repeat":
                repeats += 1
            elif kind.kind == "end_repeat":
                repeats = max(0, repeats - 1)
            if kind.kind != "question" or repeats:
                continue
            raw = self.survey.value(row, "name").strip()
            if not raw or (kind.list_name and not self.lists.get(kind.list_name)):
                continue  # reported in the second pass
            name = column_name(raw, taken)
            self.renames.setdefault(raw, name)
            questions.append(_Question(row, kind, name))
            if self._reads_as_number(kind):
                self.kinds[name] = self._reads_as_number(kind)
        return {q.row.number: q for q in questions}

    def _reads_as_number(self, kind):
        """Return NUMBER for a number question, TEXT for an answer ODK converts to a number
        where one is needed (a text question, a select_one with a numeric code), else None."""
        if kind.field_type in ("integer", "decimal"):
            return NUMBER
        if kind.xlsform == "text" or kind.field_type == "choice" and any(
                re.fullmatch(NUMBER_TEXT, c["value"]) for c in self.lists[kind.list_name]):
            return TEXT
        return None

    def _keep_translatable_calculations(self, questions):
        """Forget calculates whose calculation cannot be translated, until none is left.

        A calculate without its calculation is nothing; forgetting it makes
        every rule that reads it report that it was not kept.
        """
        changed = True
        while changed:
            changed = False
            for number, question in list(questions.items()):
                if question.kind.field_type:
                    continue
                if self._translates(self.survey.value(question.row, "calculation")):
                    continue
                raw = self.survey.value(question.row, "name").strip()
                if self.renames.get(raw) == question.name:
                    del self.renames[raw]
                del questions[number]
                changed = True

    def _translates(self, text):
        try:
            return bool(text.strip()) and bool(translate(text, self.renames, "calculation",
                                                         self.kinds))
        except Untranslatable:
            return False

    # --- pass two: fields, sections, notes --------------------------------------------

    def _second_pass(self, questions):
        self.groups = []              # open groups, outermost first
        self.repeats = []             # open repeats' rows
        self.pending_notes = []       # notes waiting for the next field's hint
        self.has_groups = any(read_type(self.survey.value(r, "type")).kind == "begin_group"
                              for r in self.book.survey)
        self.loose_section = None     # the section of questions outside any group
        field_lists = []
        for row in self.book.survey:
            entry = self.report.entry(row.where, self.survey.value(row, "name").strip())
            self.entries[row.number] = entry
            self._report_formulas(row, entry)
            kind = read_type(self.survey.value(row, "type"))
            if self.repeats and kind.kind not in ("begin_repeat", "end_repeat"):
                entry.problem("type", f"inside the repeat that starts at survey row "
                                      f"{self.repeats[-1].number}: repeats are not supported; "
                                      "not imported")
                continue
            handler = getattr(self, f"_on_{kind.kind}")
            handler(row, kind, entry, questions)
            if kind.kind == "begin_group" and len(self.groups) == 1 and self.groups[0].section:
                field_lists.append(self.groups[0].field_list)
        for group in self.groups:
            self.entries[group.row.number].problem(
                "type", "this group is never closed with end group; it was closed at the end")
        for note_row, _text in self.pending_notes:
            self.entries[note_row.number].problem(
                "type", "a note after the last question has no question to go with; left out")
        self._set_pages(field_lists)

    def _on_empty(self, row, kind, entry, questions):
        entry.problem("type", "no type: this row was not imported")

    def _on_unknown(self, row, kind, entry, questions):
        entry.problem("type", f"{kind.reason}; not imported")

    def _on_unsupported(self, row, kind, entry, questions):
        entry.problem("type", f"{kind.xlsform}: {kind.reason}; not imported")

    def _on_begin_repeat(self, row, kind, entry, questions):
        if self.repeats:
            entry.problem("type", f"inside the repeat that starts at survey row "
                                  f"{self.repeats[-1].number}: not imported")
        else:
            entry.problem("type", "repeats are not supported: this repeat and every row inside "
                                  "it were not imported")
        self.repeats.append(row)

    def _on_end_repeat(self, row, kind, entry, questions):
        self._report_end_row_cells(row, entry, "end repeat")
        if not self.repeats:
            entry.problem("type", "end repeat without a begin repeat; ignored")
            return
        self.repeats.pop()
        entry.became = "end of a repeat (not imported)"

    def _on_begin_group(self, row, kind, entry, questions):
        raw = self.survey.value(row, "name").strip()
        relevant = self._expression(row, entry, "relevant", owner=None)
        appearance = self.survey.value(row, "appearance").strip()
        field_list = "field-list" in appearance.split()
        others = [a for a in appearance.split() if a != "field-list"]
        if others:
            entry.problem("appearance", f"{' '.join(others)!r} only changes how ODK shows the "
                                        "group; not used")
        self._report_group_columns(row, entry)
        if self.groups:
            outer = self.groups[0]
            entry.became = (f"part of section {outer.section} (nested groups are flattened into "
                            "their outermost group)")
            if relevant:
                entry.problem("relevant", "a nested group's relevant is combined with 'and' into "
                                          "the relevant of each of its fields")
            self.groups.append(_Group(row, raw, relevant, None, field_list))
            return
        name = section_name(raw or "section", self.section_names)
        label = self._label(row, entry)
        section = {"name": name, "title": label or words(raw or name)}
        if relevant:
            section["relevant"] = relevant
        self.draft.sections.append(section)
        self.draft.origins[name] = entry
        entry.became = f"section {name}" + (" (shown when its relevant holds)" if relevant else "")
        self.groups.append(_Group(row, raw, None, name, field_list))
        self.loose_section = None

    def _on_end_group(self, row, kind, entry, questions):
        self._report_end_row_cells(row, entry, "end group")
        if not self.groups:
            entry.problem("type", "end group without a begin group; ignored")
            return
        group = self.groups.pop()
        entry.became = f"end of group {group.name}"

    def _report_end_row_cells(self, row, entry, what):
        """Report every filled cell of an end row but its type: ODK reads nothing else there."""
        type_header = self.survey.header_of.get("type")
        for header, value in row.cells.items():
            if header != type_header and value.strip():
                entry.problem(header, f"not used on an {what} row; left out")

    def _on_note(self, row, kind, entry, questions):
        text = self._label(row, entry)
        hint = self._text(row, self.survey.value(row, "hint"), "hint", entry)
        text = "\n".join(part for part in (text, hint) if part)
        if self.survey.value(row, "relevant").strip():
            entry.problem("relevant", "a note cannot be hidden here (the collector has no note "
                                      "field); its relevant was lost")
        if self.survey.value(row, "calculation").strip():
            entry.problem("calculation", "a note that shows a calculated value is not supported; "
                                         "the calculation was left out")
        for part in ("required", "constraint", "constraint_message", "appearance", "read_only"):
            if self.survey.value(row, part).strip():
                entry.problem(self.survey.header_of.get(part, part), "not used on a note; left out")
        self._report_leftovers(row, entry)
        if not text:
            entry.problem("label", "an empty note; left out")
            return
        section = self._current_section()
        if not self.draft.fields and not self.groups and not self.draft.sections:
            self.draft.description = "\n".join(p for p in (self.draft.description, text) if p)
            entry.became = "the form's description"
        elif section and self.groups and not any(f.get("section") == section for f in self.draft.fields) \
                and not self.pending_notes:
            owner = next(s for s in self.draft.sections if s["name"] == section)
            owner["intro"] = "\n".join(p for p in (owner.get("intro", ""), text) if p)
            entry.became = f"the intro of section {section}"
        else:
            self.pending_notes.append((row, text))
            entry.became = "part of the next field's hint"

    def _on_question(self, row, kind, entry, questions):
        question = questions.get(row.number)
        raw = self.survey.value(row, "name").strip()
        if question is None:
            self._report_lost_question(row, kind, raw, entry)
            return
        name = question.name
        if name != raw:
            entry.problem("name", f"renamed {raw!r} to {name!r} (column names are lower_snake_case "
                                  "and not reserved words); references to it were rewritten")
        if self.renames.get(raw) != name:
            entry.problem("name", f"{raw!r} is used by an earlier question; this one is {name!r} "
                                  f"and references to {raw!r} mean the earlier one")
        field = {"name": name}
        section = self._section_for_field(entry)
        if section:
            field["section"] = section
        field["label"] = self._label(row, entry) or name.replace("_", " ").capitalize()
        field["type"] = kind.field_type
        self.draft.fields.append(field)
        self.draft.origins[name] = entry
        self._apply_type(row, kind, field, entry)
        self._apply_required(row, field, entry)
        self._apply_hint(row, field, entry)
        self._apply_logic(row, field, entry)
        self._report_leftovers(row, entry)
        entry.became = self._became(field)

    def _report_lost_question(self, row, kind, raw, entry):
        if not raw:
            entry.problem("name", "a question without a name; not imported")
        elif kind.list_name and kind.list_name not in self.lists:
            entry.problem("type", f"choice list {kind.list_name!r} is not on the choices sheet; "
                                  "not imported")
        elif kind.list_name:
            entry.problem("type", f"choice list {kind.list_name!r} has no usable choice; not imported")
        else:
            text = self.survey.value(row, "calculation").strip()
            if not text:
                entry.problem("calculation", "a calculate without a calculation; not imported")
                return
            try:
                translate(text, self.renames, "calculation")
            except Untranslatable as problem:
                entry.problem("calculation", f"{text!r}: {problem}; the calculate was not imported")

    # --- one field's keys ------------------------------------------------------------

    def _apply_type(self, row, kind, field, entry):
        appearance = self.survey.value(row, "appearance").split()
        if kind.field_type == "text" and "multiline" in appearance:
            field["type"] = "long_text"
            appearance.remove("multiline")
        if appearance:
            entry.problem("appearance", f"{' '.join(appearance)!r} only changes how ODK shows the "
                                        "question; not used")
        if kind.xlsform == "time":
            field["pattern"] = TIME_PATTERN
            entry.problem("type", "there is no time type here: a text field that takes HH:MM "
                                  "(24-hour) was made instead")
        if kind.list_name:
            field["choices"] = [dict(c) for c in self.lists[kind.list_name]]
            self.used_lists.add(kind.list_name)
        if kind.or_other:
            entry.problem("type", "or_other is not supported: no 'Other' choice or text box was "
                                  "added")

    def _apply_required(self, row, field, entry):
        value = self.survey.value(row, "required").strip()
        if not value or value.lower() in NO:
            return
        if value.lower() in YES:
            field["required"] = True
        else:
            entry.problem("required", f"required as an expression ({value!r}) is not supported: "
                                      "the field is optional; use relevant to ask it only when needed")

    def _apply_hint(self, row, field, entry):
        hint = self._text(row, self.survey.value(row, "hint"), "hint", entry)
        notes = [text for _row, text in self.pending_notes]
        for note_row, _text in self.pending_notes:
            self.entries[note_row.number].problem(
                "type", f"a note is not a field here: its text was put before the hint of "
                        f"{field['name']}")
        self.pending_notes = []
        hint = "\n".join(part for part in notes + [hint] if part)
        if hint:
            field["hint"] = hint

    def _apply_logic(self, row, field, entry):
        name = field["name"]
        parts = [group.relevant for group in self.groups[1:] if group.relevant]
        own = self._expression(row, entry, "relevant", owner=name)
        if own:
            parts.append(own)
        if parts:
            field["relevant"] = _and(parts)
        self._apply_constraint(row, field, entry)
        calculation = self._expression(row, entry, "calculation", owner=name)
        if calculation:
            if field["type"] in ("choice", "multi_choice"):
                entry.problem("calculation", "a calculated select has no equivalent here; the "
                                             "calculation was left out")
            else:
                field["calculation"] = calculation
                if field.pop("required", False):
                    entry.problem("required", "a calculated field cannot be required; required "
                                              "was left out")
                if not field["type"]:
                    entry.problem("type", CALCULATE_SHOWN)
        read_only = self.survey.value(row, "read_only").strip().lower()
        if read_only and read_only not in NO and not field.get("calculation"):
            entry.problem(self.survey.header_of["read_only"], reason_for("read_only"))

    def _apply_constraint(self, row, field, entry):
        text = self.survey.value(row, "constraint").strip()
        message = self._text(row, self.survey.value(row, "constraint_message"),
                             "constraint_message", entry)
        if not text:
            if message:
                entry.problem("constraint_message", "a message without a constraint; left out")
            return
        kind = field["type"] or "text"
        parts = split_constraint(text, kind, keep_bounds=bool(message))
        for problem in parts.problems:
            entry.problem("constraint", problem)
        if parts.email:
            if field["type"] == "text" and "pattern" not in field:
                field["type"] = "email"
            else:
                entry.problem("constraint", "the email check fits only a text question; left out")
        self._apply_rules(field, parts, entry)
        kept = []
        for offset, conjunct in parts.rest:
            try:
                kinds = {**self.kinds, ".": self.kinds.get(field["name"])}
                kept.append(translate(conjunct, self.renames, "constraint", kinds))
            except Untranslatable as problem:
                column = f" at column {offset + problem.column}" if problem.column else ""
                entry.problem("constraint", f"the rule {conjunct!r} was left out{column}: "
                                            f"{problem.problem}")
                self.draft.review(field["name"], f"constraint part {conjunct!r} was left out: "
                                                 f"{problem.problem}")
        if kept:
            field["constraint"] = unwrap(kept[0]) if len(kept) == 1 else " and ".join(kept)
            if message:
                field["constraint_message"] = message
        elif message:
            entry.problem("constraint_message", "not kept: no rule of the constraint is left to "
                                                "show it (a pattern or email check says its own)")

    def _apply_rules(self, field, parts, entry):
        """Move the bounds the constraint held into the field; put back any that do not fit."""
        rules = dict(parts.rules)
        if "pattern" in rules and "pattern" in field:
            entry.problem("constraint", f"a time already has its HH:MM pattern; regex "
                                        f"{rules.pop('pattern')!r} was left out")
        kind = field["type"]
        try:
            if "min" in rules or "max" in rules:
                fail = ValueError
                bounds.check_range(kind, _plain(rules.get("min")), _plain(rules.get("max")),
                                   fail, ZoneInfo("UTC"))
            if rules.get("min_length", 0) > rules.get("max_length", rules.get("min_length", 0)):
                raise ValueError
        except (ValueError, TypeError):
            for key in [k for k in rules if k in parts.taken]:
                parts.rest.append(parts.taken[key])
                del rules[key]
            parts.rest.sort()
        field.update(rules)

    # --- expressions and text -----------------------------------------------------

    def _expression(self, row, entry, key, owner):
        text = self.survey.value(row, key).strip()
        if not text:
            return None
        try:
            return translate(text, self.renames, key, self.kinds)
        except Untranslatable as problem:
            column = self.survey.header_of.get(key, key)
            at = f" at column {problem.column}" if problem.column else ""
            entry.problem(column, f"{text!r} was left out{at}: {problem.problem}")
            if owner:
                self.draft.review(owner, f"{key} {text!r} was left out: {problem.problem}")
            return None

    def _label(self, row, entry):
        return self._text(row, self.survey.value(row, "label"), "label", entry)

    def _text(self, row, value, column, entry):
        if "\x00" in value:
            entry.problem(column, "a NUL character (which PostgreSQL cannot store) was removed")
            value = value.replace("\x00", "")
        piped = piped_references(value)
        if piped:
            # ODK shows the answer there; the collector has no piping, so the text stays as
            # written (a renamed question keeps its old name: rewriting it would mean nothing).
            shown = ", ".join(f"'{reference}'" for reference in piped)
            verb = "is" if len(piped) == 1 else "are"
            entry.problem(column, f"piping is not supported: {shown} {verb} shown as written")
        return _clean(value)

    # --- sections --------------------------------------------------------------------

    def _current_section(self):
        return self.groups[0].section if self.groups else self.loose_section

    def _section_for_field(self, entry):
        if self.groups:
            return self.groups[0].section
        if not self.has_groups:
            return None
        if self.loose_section is None:
            self.loose_section = section_name("questions", self.section_names)
            number = sum(1 for s in self.draft.sections if s["name"].startswith("questions")) + 1
            self.draft.sections.append({"name": self.loose_section,
                                        "title": "Questions" if number == 1 else f"Questions ({number})"})
            entry.problem("type", f"outside any group in a form with groups: put in a section of "
                                  f"its own, {self.loose_section}, with the questions after it up "
                                  "to the next group")
        return self.loose_section

    def _set_pages(self, field_lists):
        pages = self.setting("style") == "pages" or (field_lists and all(field_lists))
        if pages and self.draft.sections:
            self.draft.section_pages = True
        elif any(field_lists):
            self.report.note("appearance", "only some groups are field-list: the collector shows "
                                           "every section on one page")

    def _drop_empty_sections(self):
        used = {f.get("section") for f in self.draft.fields}
        for section in list(self.draft.sections):
            if section["name"] not in used:
                self.draft.sections.remove(section)
                entry = self.draft.origins.pop(section["name"], None)
                if entry is not None:
                    entry.became = "not imported"
                    entry.problem("type", "no question of this group was imported; the section "
                                          "was left out")
        if not self.draft.sections:
            self.draft.section_pages = False

    # --- calculations without a type ---------------------------------------------------

    def _infer_calculated_types(self):
        pending = [f for f in self.draft.fields if not f["type"]]
        while pending:
            facts = {f["name"]: FieldFacts.of(f) for f in self.draft.fields if f["type"]}
            progress, failures = False, {}
            for calculated in pending:
                try:
                    tree = check(parse(calculated["calculation"]), facts)
                except ExpressionError as error:
                    failures[calculated["name"]] = error
                    continue
                calculated["type"] = INFERRED_TYPES[tree.type]
                self.draft.origins[calculated["name"]].became = self._became(calculated)
                progress = True
            pending = [f for f in pending if not f["type"]]
            if not progress:
                for calculated in pending:
                    self._drop_uninferred(calculated, failures[calculated["name"]])
                return

    def _drop_uninferred(self, field, error):
        entry = self.draft.origins.pop(field["name"])
        self.draft.fields.remove(field)
        self.draft.reviews.pop(field["name"], None)
        entry.became = "not imported"
        entry.problem("calculation", f"{field['calculation']!r}: its type could not be worked out "
                                     f"({error}); the calculate was not imported")

    def _report_rows_never_read(self):
        """Say where pyxform (and ODK) stopped reading: after 60 blank rows, nothing more is read."""
        for sheet, last in self.book.last_rows.items():
            rows = getattr(self.book, sheet)
            read = rows[-1].number if rows else 1
            if last > read:
                self.report.note(f"{sheet} sheet", f"rows after row {read} up to row {last} were "
                                                   "not read: ODK stops at 60 blank rows in a row")

    def _report_merged_cells(self):
        """Name each merged range on its first row: the rows below it read as empty there."""
        for cells in self.book.merged:
            lost = "row" if cells.rows > 1 else "column"
            message = f"merged cells {cells.cells}: only the first {lost} keeps the text"
            where = f"{cells.sheet} row {cells.row}"
            entry = next((e for e in self.report.entries if e.where == where), None)
            if entry is None:    # the header row, or a blank row
                self.report.note(f"{where}, {cells.column}", message)
            else:
                entry.problem(cells.column, message)

    def _report_unused_lists(self):
        for name in self.lists:
            if name not in self.used_lists:
                self.report.note(f"choices list {name}", "no imported question uses this list")

    # --- leftovers ---------------------------------------------------------------------

    def _report_leftovers(self, row, entry):
        for header, _value in self.survey.leftovers(row):
            entry.problem(header, reason_for(header))

    def _report_group_columns(self, row, entry):
        for part in ("required", "constraint", "calculation", "read_only"):
            if self.survey.value(row, part).strip():
                entry.problem(self.survey.header_of[part], "not used on a group; left out")
        for part in ("hint", "constraint_message"):
            if self.survey.value(row, part).strip():
                entry.problem(part, "not used on a group; left out")
        self._report_leftovers(row, entry)

    def _report_formulas(self, row, entry):
        for (sheet, number, header), formula in self.book.formulas.items():
            if sheet == row.sheet and number == row.number:
                value = row.get(header)
                kept = f"its stored result {value!r} was used" if value else \
                    "the file holds no result for it, so the cell was read as empty"
                entry.problem(header, f"a spreadsheet formula ({formula[:80]}): {kept}")

    def _became(self, field):
        kind = field["type"] or "calculated"
        details = ", required" if field.get("required") else ""
        details += ", calculated" if field.get("calculation") else ""
        where = f" in section {field['section']}" if field.get("section") else ""
        return f"field {field['name']} ({kind}{details}){where}"


def _and(parts):
    """Join relevant expressions with `and`, bracketing any that hold an `or`."""
    if len(parts) == 1:
        return parts[0]
    return " and ".join(f"({part})" if has_top_level_or(part) else part for part in parts)


def _clean(text):
    """Return text as a form file keeps it: trimmed, Windows line breaks as \\n."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def _plain(value):
    """Return a bound as bounds.check_range reads it (a Decimal as text)."""
    from decimal import Decimal
    return str(value) if isinstance(value, Decimal) else value
