"""Read a REDCap data dictionary (CSV) into one Draft per instrument, with a per-row report.

The mapping is documented in docs/FORMS.md ("From REDCap"). In short: each
instrument (Form Name) becomes a form; the dictionary's first variable, the
record id, becomes a required text field first in every form, so each
form's rows carry the participant key; Section Header rows start sections;
descriptive rows become section intros, the form description or hints;
branching logic and calculations are translated by redcap_logic.py.
"""

from pathlib import Path

from collector.forms.expressions.grammar import ExpressionError, parse
from collector.forms.expressions.typecheck import FieldFacts, check
from collector.interchange.draft import (Draft, InterchangeError, column_name, section_name,
                                         table_name, words)
from collector.interchange.empty_answers import make_faithful
from collector.interchange.redcap_csv import KEYS, TITLES, read_dictionary
from collector.interchange.redcap_fields import action_tags, clean_text, field_from_row
from collector.interchange.redcap_logic import FieldInfo, Untranslatable, translate
from collector.interchange.report import Entry, Report

# REDCap's Min/Max warn unless the annotation has this tag; ours always refuse.
FORCE_MINMAX = "@FORCE-MINMAX"
SOFT_BOUNDS = ("REDCap only warns when a value is outside Text Validation Min/Max (it is still "
               "saved); here a value outside is refused: loosen or remove the bound in the form "
               "file if such values must be kept (with @FORCE-MINMAX REDCap refuses them too)")
# Cells that carry REDCap layout only: reported, never translated.
LAYOUT_ONLY = {
    "alignment": "Custom Alignment is not used: the collector lays out every field the same way",
    "question_number": "Question Number is not used: survey question numbers are not shown",
    "matrix_ranking": "Matrix Ranking is not supported (no ranking matrices here)",
}


def read_redcap(path, form=None):
    """Return (drafts, report) for the dictionary at `path`; `form` picks one instrument."""
    path = Path(path)
    dictionary = read_dictionary(path)
    report = Report(f"{path} (REDCap data dictionary)")
    for column, message in dictionary.notes:
        report.note(column, message)
    rows = dictionary.rows
    if not rows:
        raise InterchangeError(f"{path}: the dictionary has a header but no field rows")
    instruments = _instruments(rows, report)
    chosen = _choose(instruments, form, path)
    record_row = rows[0]
    entries = {row.line: (report.entry(f"row {row.line}", row["variable"])
                          if row is record_row or row.cells["form"] in chosen
                          else Entry(f"row {row.line}", row["variable"]))
               for row in rows}
    for name in chosen:
        if table_name(name) != name:
            report.note("Form Name", f"instrument {name!r} is written as form {table_name(name)!r} "
                                     "(form names are lower_snake_case table names)")
    plan = _plan(rows, instruments, entries, record_row)
    drafts = [_Instrument(path, name, instruments[name], plan, entries, record_row).build()
              for name in chosen]
    return drafts, report


def _instruments(rows, report):
    """Return {form name: [rows]} in order; a row without a Form Name joins the one above."""
    instruments, previous = {}, None
    for row in rows:
        name = row["form"]
        if not name:
            name = previous or "form"
            report.note(f"row {row.line}", f"no Form Name: taken as {name!r} (the instrument above)")
            row.cells["form"] = name
        if name in instruments and name != previous:
            report.note(f"row {row.line}", f"instrument {name!r} continues here after other "
                                           "instruments; its rows were joined")
        instruments.setdefault(name, []).append(row)
        previous = name
    return instruments


def _choose(instruments, form, path):
    if form is None:
        return list(instruments)
    matches = [name for name in instruments if name == form or table_name(name) == table_name(form)]
    if not matches:
        raise InterchangeError(f"{path}: no instrument called {form!r}; the Form Names are: "
                               + ", ".join(instruments))
    return matches[:1]


class _Plan:
    """What pass one decided for every row: its field (or None), names and facts."""

    def __init__(self):
        self.fields = {}        # line -> field dict without section/logic, or None
        self.used = {}          # line -> keys of cells translated
        self.infos = {}         # REDCap variable -> FieldInfo (first of a name wins)
        self.facts = {}         # form name -> {our name: FieldFacts}
        self.record = None      # the record id field dict


def _plan(rows, instruments, entries, record_row):
    """Read every row's field and give it a name in its instrument; collect what logic needs."""
    plan = _Plan()
    taken = {name: set() for name in instruments}
    record_name = None
    for row in rows:
        entry, used = entries[row.line], set()
        if row is record_row:
            field = _record_field(row, entry, used)
        else:
            field = field_from_row(row, entry, used)
        plan.fields[row.line], plan.used[row.line] = field, used
        if field is None:
            continue
        variable = row["variable"]
        if not variable:
            entry.problem(TITLES["variable"], "no variable name: the row was not imported")
            plan.fields[row.line] = None
            continue
        if row is record_row:
            record_name = column_name(variable, set())
            for names in taken.values():
                names.add(record_name)
            field["name"] = record_name
        else:
            field["name"] = column_name(variable, taken[row["form"]])
        _report_rename(variable, field["name"], plan.infos, entry)
        # Written even when REDCap's is blank, so an export and import give it back unchanged.
        field.setdefault("label", field["name"].replace("_", " ").capitalize())
        if variable not in plan.infos:
            plan.infos[variable] = FieldInfo(
                field["name"], field["type"], tuple(c["value"] for c in field.get("choices", ())),
                "" if row is record_row else row["form"], field.get("label", ""))
    for name, form_rows in instruments.items():
        facts = {record_name: FieldFacts("text")} if record_name else {}
        for row in form_rows:
            field = plan.fields.get(row.line)
            if field is not None:
                facts[field["name"]] = FieldFacts.of(field)
        plan.facts[name] = facts
    plan.record = plan.fields.get(record_row.line)
    return plan


def _record_field(row, entry, used):
    """The record id: a required text field whatever REDCap's row says."""
    used.update(("variable", "form", "type", "label", "note"))
    field = {"type": "text", "required": True}
    if row["label"]:
        field["label"] = clean_text(row["label"], entry, TITLES["label"])
    if row["note"]:
        field["hint"] = clean_text(row["note"], entry, TITLES["note"])
    if row["type"].lower() != "text":
        entry.problem(TITLES["type"], f"the record id is a {row['type']!r} field in REDCap; it "
                                      "becomes a required text field (the participant key)")
    return field


def _report_rename(variable, name, infos, entry):
    if variable in infos:
        entry.problem(TITLES["variable"], f"{variable!r} is used by an earlier row too: renamed to "
                                          f"{name!r}; logic naming [{variable}] reads the first")
    elif name != variable:
        entry.problem(TITLES["variable"], f"renamed to {name!r} (column names are lower_snake_case "
                                          "ASCII, not a reserved word, at most 63 characters)")


class _Instrument:
    """Build one instrument's Draft from its rows and pass one's plan."""

    def __init__(self, path, name, rows, plan, entries, record_row):
        self.path, self.form, self.rows, self.plan = path, name, rows, plan
        self.entries, self.record_row = entries, record_row
        self.draft = Draft(name=table_name(name), title=words(name))
        self.draft.header = [f"Imported from {path.name} (REDCap data dictionary), "
                             f"instrument {name!r}."]
        self.has_headers = any(row["section"] for row in rows)
        self.section = None
        self.section_names = set()
        self.fresh = False
        self.waiting_record = None
        self.pending = []          # (entry, text) of descriptive rows waiting for a field

    def build(self):
        for row in self.rows:
            self._row(row, self.entries[row.line])
        for entry, _text in self.pending:
            entry.problem(TITLES["label"], "descriptive text with no field after it in its "
                                           "instrument: not imported")
            entry.became = "not imported"
        # The first instrument may be the record id alone; a later one needs a field of its own.
        has_fields = self.draft.fields if self.record_row in self.rows else self._has_own_fields()
        if not has_fields:
            first = next((f"{self.entries[row.line].where}, {problem.column}: {problem.message}"
                          for row in self.rows for problem in self.entries[row.line].problems), "")
            raise InterchangeError(f"{self.path}: instrument {self.form!r} has no field that could "
                                   f"be imported" + (f" ({first})" if first else ""))
        if self.draft.sections:
            self._place_record_id(self.draft.sections[0])
        self._drop_empty_sections()
        if self.record_row not in self.rows and self.plan.record is not None:
            self._copy_record_id()
        # REDCap checks Min/Max itself; a bound field left blank is reported, not rewritten.
        make_faithful(self.draft, "REDCap", {"relevant": TITLES["branching"],
                                             "calculation": TITLES["choices"],
                                             "constraint": f"{TITLES['min']} / {TITLES['max']}"},
                      constraints=False)
        return self.draft

    def _drop_empty_sections(self):
        """A header whose rows were all left out would be an empty section: leave it out too."""
        used = {field.get("section") for field in self.draft.fields}
        for section in [s for s in self.draft.sections if s["name"] not in used]:
            self.draft.sections.remove(section)
            entry = self.draft.origins.pop(section["name"], None)
            if entry is not None:
                entry.problem(TITLES["section"], f"section {section['title']!r} has no field that "
                                                 "could be imported: left out"
                                                 + (" with its intro" if section.get("intro") else ""))

    def _row(self, row, entry):
        used = self.plan.used[row.line]
        if row["section"]:
            used.add("section")
            self._start_section(row["section"], entry)
        field = self.plan.fields[row.line]
        if row["type"].lower() == "descriptive":
            used.update(("type", "variable", "form", "label"))
            self._descriptive(row, entry)
        elif field is not None:
            self._field(dict(field), row, entry, used)
        self._report_rest(row, entry, used)

    def _start_section(self, header, entry):
        title = clean_text(header, entry, TITLES["section"]) or words(self.form)
        self._add_section(title)
        self.fresh = True  # a descriptive row right here is the section's intro
        self.draft.origins[self.section["name"]] = entry

    def _add_section(self, title):
        self.section = {"name": section_name(title, self.section_names), "title": title}
        self.draft.sections.append(self.section)

    def _place_record_id(self, section):
        """The record id joins the first section that gets a field."""
        if self.waiting_record is not None:
            self.waiting_record["section"] = section["name"]
            self.entries[self.record_row.line].became = describe(self.waiting_record)
            self.waiting_record = None

    def _descriptive(self, row, entry):
        text = clean_text(row["label"], entry, TITLES["label"])
        if not text:
            entry.became = "nothing (descriptive text is empty)"
            return
        if self.fresh:
            self.section["intro"] = text
            entry.became = f"intro of section {self.section['name']}"
        elif not self._has_own_fields() and not self.draft.description:
            self.draft.description = text
            entry.became = "form description"
        else:
            self.pending.append((entry, text))
        self.fresh = False

    def _has_own_fields(self):
        record = self.plan.record and self.plan.record["name"]
        return any(f["name"] != record for f in self.draft.fields)

    def _field(self, field, row, entry, used):
        self.fresh = False
        if row is self.record_row and self.has_headers and self.section is None:
            self.waiting_record = field  # placed with the first section, whichever that is
        elif self.has_headers:
            if self.section is None:
                self._add_section(self.draft.title)
                entry.problem(TITLES["section"], f"this field comes before the instrument's first "
                                                 f"section header: put in a section titled "
                                                 f"{self.draft.title!r}")
            field["section"] = self.section["name"]
            self._place_record_id(self.section)
        if self.pending:
            texts = [text for _entry, text in self.pending] + [field.get("hint", "")]
            field["hint"] = "\n\n".join(text for text in texts if text)
            for hint_entry, _text in self.pending:
                hint_entry.became = f"hint of field {field['name']}"
                hint_entry.problem(TITLES["label"], f"descriptive text shown as the hint of the "
                                                    f"next field, {field['name']}")
            self.pending = []
        self._logic(field, row, entry, used)
        self.draft.fields.append(field)
        self.draft.origins[field["name"]] = entry
        entry.became = describe(field)

    def _logic(self, field, row, entry, used):
        kind = row["type"].lower()
        if row["branching"]:
            used.add("branching")
            text = self._translate(row["branching"], entry, TITLES["branching"], True,
                                   "the field is always shown")
            if text:
                field["relevant"] = text
        if kind == "calc":
            used.add("choices")
            self._calculation(field, row, entry)
        rules = field.pop("_bound_rules", ())
        bounds = [key for key in ("min", "max") if key in field]
        if rules:
            bounds += self._bound_constraint(field, rules, entry)
        if bounds and FORCE_MINMAX not in action_tags(row["annotation"]):
            entry.problem(TITLES[min(bounds, key=("min", "max").index)], SOFT_BOUNDS)
        if row["matrix_group"]:
            used.add("matrix_group")
            entry.problem(TITLES["matrix_group"], f"matrix group {row['matrix_group']!r}: imported "
                                                  "as a plain field; the matrix layout is lost")

    def _translate(self, source, entry, column, condition, fallback):
        try:
            translation = translate(source, self.plan.infos, self.form, condition)
        except Untranslatable as problem:
            entry.problem(column, f"not translated: {problem}; {fallback}")
            return None
        for note in translation.notes:
            entry.problem(column, f"approximated: {note}")
        return translation.text

    def _calculation(self, field, row, entry):
        column = TITLES["choices"]
        if field.pop("required", False):
            entry.problem(TITLES["required"], "a calculated field cannot be required here; "
                                              "require the fields it reads instead")
        if not row["choices"]:
            entry.problem(column, "a calc field without an equation: imported as a number to type")
            return
        text = self._translate(row["choices"], entry, column, False,
                               "imported as a number to type in")
        if text is None:
            return
        try:
            tree = check(parse(text), self.plan.facts[self.form])
        except ExpressionError as problem:
            entry.problem(column, f"not translated: {text!r}: {problem}; imported as a number to "
                                  "type in")
            return
        if tree.type not in ("integer", "decimal"):
            entry.problem(column, f"not translated: the calculation gives {tree.type}, REDCap "
                                  "calculations give numbers; imported as a number to type in")
            return
        field["type"] = tree.type
        field["calculation"] = text

    def _bound_constraint(self, field, rules, entry):
        """Write today/[field] bounds as the constraint; return the keys (min, max) it holds."""
        parts, phrases, keys = [], [], []
        for key, raw in rules:
            column = TITLES[key]
            target = self._bound_target(field, raw, entry, column)
            if target is None:
                continue
            operator = ">=" if key == "min" else "<="
            parts.append(f". {operator} {target[0]}")
            phrases.append(bound_phrase(field["type"], key, target[1]))
            keys.append(key)
        if parts:
            field["constraint"] = " and ".join(parts)
            field["constraint_message"] = bound_message(phrases)
        return keys

    def _bound_target(self, field, raw, entry, column):
        """Return (expression, words) for today / [field] as a bound, or None (reported)."""
        kind = field["type"]
        if raw.lower() == "today":
            if kind == "date":
                return "today()", "today"
            entry.problem(column, f"{raw!r} as a bound is translated for date fields only")
            return None
        if raw.lower() == "now":
            entry.problem(column, f"{raw!r} as a bound is not translated: our expressions have no "
                                  "current date-time (use a date field and 'today')")
            return None
        variable = raw[1:-1].strip()
        info = self.plan.infos.get(variable)
        same_form = info is not None and info.form in ("", self.form)
        numbers = {kind, info.type if info else ""} <= {"integer", "decimal"}
        if not same_form or not (info.type == kind or numbers):
            why = ("is not a field of this instrument" if not same_form
                   else f"is a {info.type} field, this is a {kind} field")
            entry.problem(column, f"{raw!r} as a bound is not translated: [{variable}] {why}")
            return None
        return f"${{{info.name}}}", info.label or words(info.name)

    def _report_rest(self, row, entry, used):
        """Report every non-empty cell nothing above translated (the generic rule)."""
        for key in KEYS:
            value = row[key]
            if not value or key in used:
                continue
            column = TITLES[key]
            if key in LAYOUT_ONLY:
                entry.problem(column, f"{value!r}: {LAYOUT_ONLY[key]}")
            elif key == "identifier":
                entry.problem(column, "marked as an identifier (PHI) in REDCap; form files have no "
                                      "such flag: protect this column when you export data")
            elif key == "annotation":
                self._annotation(value, entry)
            elif row is self.record_row and key in ("validation", "min", "max"):
                entry.problem(column, f"{value!r} not kept: the record id is a plain required "
                                      "text field here")
            else:
                entry.problem(column, f"{value[:200]!r} was not translated (not used for a "
                                      f"{row['type'] or 'blank'} row)")

    @staticmethod
    def _annotation(value, entry):
        column = TITLES["annotation"]
        # @FORCE-MINMAX makes REDCap refuse values outside Min/Max, as our min/max do.
        tags = [tag for tag in action_tags(value) if tag != FORCE_MINMAX]
        if not tags and FORCE_MINMAX in value:
            return
        if len(tags) == 1:
            entry.problem(column, f"action tag {tags[0]} is not supported: the field behaves "
                                  "as if it were not there")
        elif tags:
            entry.problem(column, f"action tags {', '.join(tags)} are not supported: the field "
                                  "behaves as if they were not there")
        else:
            entry.problem(column, f"annotation {value[:200]!r} is not kept")

    def _copy_record_id(self):
        record = {key: value for key, value in self.plan.record.items() if key != "section"}
        if self.draft.sections:
            record["section"] = self.draft.sections[0]["name"]
        self.draft.fields.insert(0, record)
        entry = self.entries[self.record_row.line]
        entry.problem(TITLES["form"], f"the record id is also the first field of form "
                                      f"{self.draft.name}, so its rows carry the participant key")
        self.draft.origins.setdefault(record["name"], entry)


def bound_phrase(kind, key, target_words):
    """Say a min/max bound in words for the constraint message."""
    if kind in ("date", "datetime"):
        return f"{'on or after' if key == 'min' else 'on or before'} {target_words}"
    return f"{'at least' if key == 'min' else 'at most'} {target_words}"


def bound_message(phrases):
    """The constraint message an imported today/[field] bound gets."""
    return "Must be " + " and ".join(phrases) + "."


def describe(field):
    """Say what a row became: field age (integer, required) in section visit."""
    traits = [field["type"]]
    if field.get("required"):
        traits.append("required")
    if field.get("calculation"):
        traits.append("calculated")
    if field.get("relevant"):
        traits.append("with skip logic")
    where = f" in section {field['section']}" if field.get("section") else ""
    return f"field {field['name']} ({', '.join(traits)}){where}"
