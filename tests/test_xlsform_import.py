"""XLSForm import: every mapping, every report line, and hostile workbooks (no database)."""

import zipfile
from pathlib import Path

import openpyxl
import pytest

from collector.forms.spec import load_form
from collector.interchange.draft import InterchangeError
from collector.interchange.form_writer import settle
from collector.interchange.run import import_file
from collector.interchange.xlsform_expressions import EMAIL_REGEX, TIME_PATTERN
from collector.interchange.xlsform_import import read_xlsform
from xlsform_workbooks import DATA, build_workbook, workbook_from_rows

SURVEY_HEADER = ["type", "name", "label", "hint", "required", "relevant", "constraint",
                 "constraint_message", "calculation", "appearance"]


def q(type_, name="", label="", hint="", required="", relevant="", constraint="", message="",
      calculation="", appearance=""):
    """One survey row in SURVEY_HEADER's order."""
    return [type_, name, label, hint, required, relevant, constraint, message, calculation,
            appearance]


YES_NO = [["list_name", "name", "label"], ["yn", "yes", "Yes"], ["yn", "no", "No"]]


def survey_import(tmp_path, rows, choices=YES_NO, settings=None, name="form.xlsx", header=None):
    """Import a workbook of these survey rows; return (draft, report, settled text)."""
    sheets = {"survey": [header or SURVEY_HEADER] + rows, "choices": choices}
    if settings:
        sheets["settings"] = settings
    path = workbook_from_rows(tmp_path / name, **sheets)
    drafts, report = read_xlsform(path)
    text = settle(drafts[0], report)
    return drafts[0], report, text


def problems(report):
    """Return every reported item as (where, column, message)."""
    found = [("file", p.column, p.message) for p in report.general]
    found += [(e.where, p.column, p.message) for e in report.entries for p in e.problems]
    return found


def problem_at(report, where, column):
    """Return the messages reported for one row and column."""
    return [m for w, c, m in problems(report) if w == where and c == column]


def entry(report, where):
    return next(e for e in report.entries if e.where == where)


def loaded(tmp_path, draft, text):
    path = tmp_path / "forms" / f"{draft.name}.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return load_form(path)


# --- the realistic instrument -------------------------------------------------------------

@pytest.fixture(scope="module")
def household(tmp_path_factory):
    folder = tmp_path_factory.mktemp("household")
    workbook = build_workbook(DATA / "household_health", folder / "household.xlsx")
    drafts, report = read_xlsform(workbook)
    logic_before = _logic_keys(drafts[0])
    text = settle(drafts[0], report)
    path = folder / f"{drafts[0].name}.toml"
    path.write_text(text, encoding="utf-8")
    return drafts[0], report, logic_before, load_form(path)


def _logic_keys(draft):
    return sorted((f["name"], key) for f in draft.fields for key in ("relevant", "constraint",
                                                                       "calculation") if key in f)


def test_household_survey_is_big_enough_and_loads_with_every_rule(household):
    draft, report, logic_before, spec = household
    rows = (DATA / "household_health" / "survey.tsv").read_text(encoding="utf-8").splitlines()
    assert len(rows) - 1 >= 40
    assert _logic_keys(draft) == logic_before   # settle dropped nothing
    assert not any("was left out" in m for _w, _c, m in problems(report))
    assert spec.name == "household_health_2026"
    assert spec.title == "Enquête santé des ménages — Household health survey"
    assert len(spec.fields) == 32 and len(spec.sections) == 6
    assert spec.section_pages is True


def test_household_survey_imports_the_default_language_and_reports_the_other(household):
    _draft, report, _before, spec = household
    assert spec.field("respondent_name").label == "Name of the respondent"
    assert spec.field("respondent_name").hint == "As written on their ID card"
    assert spec.field("sex").choices[0].label == "Female"
    assert spec.field("age_years").constraint_message == "Respondents are 15 to 110 years old."
    notes = {c for w, c, m in problems(report) if w == "file" and "another language" in m}
    assert notes == {"survey column label::Français (fr)", "survey column hint::Français (fr)",
                     "survey column constraint_message::Français (fr)",
                     "choices column label::Français (fr)"}


def test_household_survey_maps_notes_groups_and_rules(household):
    _draft, report, _before, spec = household
    assert spec.description.startswith("This survey asks about the household's health")
    sections = {s.name: s for s in spec.sections}
    assert sections["consent_page"].intro == "Read the consent statement aloud before asking."
    assert sections["household"].relevant.source == "${consent} = 'yes'"
    assert sections["child_health"].relevant.source == "${consent} = 'yes' and ${hh_children} > 0"
    # The nested 'dwelling' group is flattened; its relevant is on each of its fields.
    assert spec.field("roof_material").section == "household"
    assert spec.field("roof_material").relevant.source == "${hh_size} > 1"
    assert spec.field("rooms").relevant.source == "${hh_size} > 1"
    assert spec.field("has_card").hint == "Ask to see the vaccination card."
    assert spec.field("phone").pattern == "[0-9]{9,10}"
    assert spec.field("monthly_income").min == 0 and spec.field("monthly_income").constraint is None
    assert spec.field("child_weight").min == 1 and spec.field("child_weight").max == 30
    assert spec.field("hh_children").constraint.source == (
        ". >= 0 and (${hh_size} != '' and . <= ${hh_size})")   # ODK refuses while hh_size is empty
    assert spec.field("interviewer_comments").type == "long_text"
    assert spec.field("ended_at").type == "datetime" and spec.field("ended_at").required
    assert spec.field("assets").type == "multi_choice"
    types = {name: spec.field(name).type for name in ("hh_adults", "income_per_person",
                                                      "child_bmi", "interview_code", "vulnerable")}
    assert types == {"hh_adults": "integer", "income_per_person": "decimal",
                     "child_bmi": "decimal", "interview_code": "text", "vulnerable": "text"}
    assert entry(report, "survey row 19").became == "field hh_adults (integer, calculated) in section household"


def test_household_survey_reports_only_what_needs_review(household):
    _draft, report, _before, _spec = household
    rows = {(w, c) for w, c, _m in problems(report) if w != "file"}
    assert rows == {("settings row 2", "version"), ("survey row 19", "type"),
                    ("survey row 21", "type"), ("survey row 23", "relevant"),
                    ("survey row 41", "type"), ("survey row 46", "type"),
                    ("survey row 51", "type"), ("survey row 52", "type")}


# --- types, columns, settings ---------------------------------------------------------------

def test_each_xlsform_type_becomes_its_field_type(tmp_path):
    draft, report, _text = survey_import(tmp_path, [
        q("text", "a", "A"), q("text", "b", "B", appearance="multiline"), q("integer", "c", "C"),
        q("decimal", "d", "D"), q("date", "e", "E"), q("dateTime", "f", "F"),
        q("select_one yn", "g", "G"), q("select_multiple yn", "h", "H"), q("time", "i", "I")])
    assert [(f["name"], f["type"]) for f in draft.fields] == [
        ("a", "text"), ("b", "long_text"), ("c", "integer"), ("d", "decimal"), ("e", "date"),
        ("f", "datetime"), ("g", "choice"), ("h", "multi_choice"), ("i", "text")]
    assert draft.field("g")["choices"] == [{"value": "yes", "label": "Yes"},
                                           {"value": "no", "label": "No"}]
    assert draft.field("i")["pattern"] == TIME_PATTERN
    assert "no time type" in problem_at(report, "survey row 10", "type")[0]


@pytest.mark.parametrize("value, required", [("yes", True), ("true", True), ("TRUE()", True),
                                             ("true()", True), ("Yes", True), ("no", False),
                                             ("false()", False), ("", False)])
def test_required_values(tmp_path, value, required):
    draft, report, _text = survey_import(tmp_path, [q("text", "a", "A", required=value)])
    assert draft.field("a").get("required", False) is required
    assert not problems(report) or all(c != "required" for _w, c, _m in problems(report))


def test_required_as_an_expression_is_reported(tmp_path):
    draft, report, _text = survey_import(tmp_path, [
        q("integer", "a", "A"), q("text", "b", "B", required="${a} > 1")])
    assert "required" not in draft.field("b")
    assert "required as an expression" in problem_at(report, "survey row 3", "required")[0]


def test_settings_give_title_and_name_and_form_overrides(tmp_path):
    settings = [["form_title", "form_id", "version"], ["Clinic intake", "Clinic-Intake 2", "7"]]
    draft, report, text = survey_import(tmp_path, [q("text", "a", "A")], settings=settings)
    assert (draft.name, draft.title) == ("clinic_intake_2", "Clinic intake")
    assert "# XLSForm version 7." in text
    path = workbook_from_rows(tmp_path / "My Survey.xlsx", survey=[SURVEY_HEADER, q("text", "a", "A")])
    assert read_xlsform(path)[0][0].name == "my_survey"
    assert read_xlsform(path)[0][0].title == "My Survey"
    assert read_xlsform(path, form="visit")[0][0].name == "visit"
    assert read_xlsform(path, form="user")[0][0].name == "user_form"


def test_default_language_setting_chooses_the_label_column(tmp_path):
    header = ["type", "name", "label::English (en)", "label::Français (fr)", "hint::Français (fr)"]
    rows = [["text", "a", "Name", "Nom", "En lettres"]]
    settings = [["default_language"], ["Français (fr)"]]
    draft, report, _text = survey_import(tmp_path, rows, settings=settings, header=header)
    assert draft.field("a")["label"] == "Nom" and draft.field("a")["hint"] == "En lettres"
    assert [c for w, c, _m in problems(report) if "another language" in _m] == [
        "survey column label::English (en)"]


def test_missing_label_becomes_the_name_in_words(tmp_path):
    draft, _report, _text = survey_import(tmp_path, [q("text", "visit_place")])
    assert draft.field("visit_place")["label"] == "Visit place"


def test_choice_rows_report_duplicates_missing_codes_and_other_columns(tmp_path):
    choices = [["list_name", "name", "label", "image"], ["yn", "yes", "Yes", "yes.png"],
               ["yn", "yes", "Again"], ["yn", "", "No code"], ["", "x", "No list"],
               ["yn", 1.0, ""], ["spare", "a", "A"]]
    draft, report, _text = survey_import(tmp_path, [q("select_one yn", "a", "A")], choices=choices)
    assert draft.field("a")["choices"] == [{"value": "yes", "label": "Yes"},
                                           {"value": "1", "label": "1"}]
    assert problem_at(report, "choices row 2", "image")
    assert "appears twice" in problem_at(report, "choices row 3", "name")[0]
    assert "no name" in problem_at(report, "choices row 4", "name")[0]
    assert "no list name" in problem_at(report, "choices row 5", "list_name")[0]
    assert ("file", "choices list spare", "no imported question uses this list") in problems(report)


# --- notes --------------------------------------------------------------------------------

def test_notes_become_description_intro_and_hint(tmp_path):
    draft, report, _text = survey_import(tmp_path, [
        q("note", "welcome", "Welcome."), q("note", "more", "Twenty minutes."),
        q("begin group", "g1", "Part one"), q("note", "g1_intro", "About you."),
        q("text", "a", "A", hint="As on the card"), q("note", "careful", "Careful now.",
                                                        relevant="${a} != ''"),
        q("text", "b", "B"), q("end group"), q("note", "trailing", "Thank you.")])
    assert draft.description == "Welcome.\nTwenty minutes."
    assert draft.sections[0]["intro"] == "About you."
    assert draft.field("a")["hint"] == "As on the card"
    assert draft.field("b")["hint"] == "Careful now."
    assert "put before the hint of b" in problem_at(report, "survey row 7", "type")[0]
    assert "its relevant was lost" in problem_at(report, "survey row 7", "relevant")[0]
    assert "no question to go with" in problem_at(report, "survey row 10", "type")[0]


def test_piping_in_labels_hints_notes_and_messages_is_reported_and_kept_as_written(tmp_path):
    draft, report, _text = survey_import(tmp_path, [
        q("text", "child", "Child name"),
        q("integer", "Q1.Age", "How old is ${child}?", hint="Age of ${child} in years",
          constraint=". < 18", message="${child} is a child: under 18"),
        q("note", "n", "Thanks, ${child} (${Q1.Age}) is recorded"),
        q("text", "x", "X")],
        choices=[["list_name", "name", "label"], ["yn", "yes", "Yes, ${child}"], ["yn", "no", "No"]])
    piped = "piping is not supported: '${child}' is shown as written"
    assert problem_at(report, "survey row 3", "label") == [piped]
    assert problem_at(report, "survey row 3", "hint") == [piped]
    assert problem_at(report, "survey row 3", "constraint_message") == [piped]
    # A renamed question is still reported by the name the workbook gives it, never rewritten.
    assert problem_at(report, "survey row 4", "label") == [
        "piping is not supported: '${child}', '${Q1.Age}' are shown as written"]
    assert problem_at(report, "choices row 2", "label") == [
        "piping is not supported: '${child}' is shown as written"]
    assert draft.field("q1_age")["label"] == "How old is ${child}?"
    assert draft.field("x")["hint"] == "Thanks, ${child} (${Q1.Age}) is recorded"
    assert draft.field("q1_age")["constraint_message"] == "${child} is a child: under 18"
    assert not problem_at(report, "survey row 2", "label")


# --- groups -------------------------------------------------------------------------------

def test_nested_groups_are_flattened_and_their_relevant_combined(tmp_path):
    draft, report, text = survey_import(tmp_path, [
        q("integer", "age", "Age"),
        q("begin group", "outer", "Outer", relevant="${age} > 1"),
        q("begin group", "inner", "Inner", relevant="${age} > 5 or ${age} = 0"),
        q("begin group", "innermost", "", relevant="${age} < 90"),
        q("integer", "x", "X", relevant="${age} != 50"),
        q("end group"), q("end group"), q("text", "y", "Y"), q("end group")])
    assert [s["name"] for s in draft.sections] == ["questions", "outer"]
    assert draft.sections[1]["relevant"] == "${age} > 1"
    assert draft.field("x")["relevant"] == (
        "(${age} > 5 or ${age} = 0) and ${age} < 90 and (${age} = '' or ${age} != 50)")
    assert "relevant" not in draft.field("y")
    assert "combined with 'and'" in problem_at(report, "survey row 4", "relevant")[0]
    assert "section of its own" in problem_at(report, "survey row 2", "type")[0]
    assert draft.field("age")["section"] == "questions"


def test_field_list_on_every_group_or_style_pages_makes_pages(tmp_path):
    rows = [q("begin group", "g1", "G1", appearance="field-list"), q("text", "a", "A"),
            q("end group"), q("begin group", "g2", "G2", appearance="field-list"),
            q("text", "b", "B"), q("end group")]
    assert survey_import(tmp_path, rows)[0].section_pages is True
    rows[3] = q("begin group", "g2", "G2")
    draft, report, _text = survey_import(tmp_path, rows, name="two.xlsx")
    assert draft.section_pages is False
    assert any("only some groups are field-list" in m for _w, _c, m in problems(report))
    draft, _report, _text = survey_import(tmp_path, rows, settings=[["style"], ["pages"]],
                                          name="three.xlsx")
    assert draft.section_pages is True


def test_group_without_imported_questions_and_unbalanced_groups(tmp_path):
    draft, report, _text = survey_import(tmp_path, [
        q("end group"), q("begin group", "empty", "Empty"), q("geopoint", "where", "Where"),
        q("end group"), q("begin group", "open", "Open"), q("text", "a", "A")])
    assert [s["name"] for s in draft.sections] == ["open"]
    assert "without a begin group" in problem_at(report, "survey row 2", "type")[0]
    assert "section was left out" in problem_at(report, "survey row 3", "type")[0]
    assert "never closed" in problem_at(report, "survey row 6", "type")[0]


def test_cells_on_end_group_and_end_repeat_rows_are_reported_not_lost(tmp_path):
    header = SURVEY_HEADER + ["label::Français (fr)"]
    _draft, report, _text = survey_import(tmp_path, [
        q("begin group", "g1", "Group one"), q("integer", "a", "A"),
        q("end group", "g1", "End label lost", hint="End hint lost", relevant="${a} > 3",
          constraint=". > 1") + ["Fin"],
        q("begin repeat", "r", "R"), q("text", "b", "B"),
        q("end repeat", "", "Repeat end label", relevant="${a} > 1"),
        q("begin group", "g2", "Two"), q("text", "c", "C"), q("end group")], header=header)
    lost = "not used on an end group row; left out"
    assert {c: m for w, c, m in problems(report) if w == "survey row 4"} == {
        "name": lost, "label": lost, "hint": lost, "relevant": lost, "constraint": lost,
        "label::Français (fr)": lost}
    assert {c: m for w, c, m in problems(report) if w == "survey row 7"} == {
        "label": "not used on an end repeat row; left out",
        "relevant": "not used on an end repeat row; left out"}
    assert not [c for w, c, _m in problems(report) if w == "survey row 10"]


# --- names and references -----------------------------------------------------------------

def test_names_are_renamed_and_references_rewritten(tmp_path):
    draft, report, text = survey_import(tmp_path, [
        q("integer", "Q1.Age", "Age"), q("text", "first-name", "First"),
        q("select_one yn", "user", "User?", relevant="${Q1.Age} >= 18"),
        q("text", "order", "Order", relevant="${user} = 'yes' and ${first-name} != ''"),
        q("text", "Prénom Usuel", "Usual name"), q("text", "first_name", "Duplicate after renaming"),
        q("text", "order", "Same name twice"), q("integer", "id", "Id")])
    assert [f["name"] for f in draft.fields] == ["q1_age", "first_name", "user_field",
                                                 "order_field", "prenom_usuel", "first_name_2",
                                                 "order_field_2", "id_field"]
    assert draft.field("user_field")["relevant"] == "${q1_age} >= 18"
    assert draft.field("order_field")["relevant"] == "${user_field} = 'yes' and ${first_name} != ''"
    assert "renamed 'Q1.Age' to 'q1_age'" in problem_at(report, "survey row 2", "name")[0]
    assert any("used by an earlier question" in m for m in problem_at(report, "survey row 8", "name"))
    assert text


# --- expressions ----------------------------------------------------------------------------

@pytest.mark.parametrize("relevant, column, what", [
    ("regex(${a}, '[0-9]')", 1, "regex()"),
    ("format-date(${d}, '%Y') = '2026'", 1, "format-date()"),
    ("jr:choice-name(${a}, '${a}') = 'x'", 1, "jr:choice-name()"),
    ("${d} < now()", 8, "now()"),
    ("position(..) > 1", 1, "position()"),
    ("once(${a}) = 'x'", 1, "once()"),
    ("pulldata('f', 'c', 'k', ${a}) = 'x'", 1, "pulldata()"),
    (". = 'x'", 1, "'.' (this question)"),
    ("/data/a = 'x'", 1, "XPath paths"),
    ("${a} = 'x' and ../a = 'y'", 16, "relative paths"),
    ("${gone} = 'x'", 1, "${gone} is not a question"),
    ("${a} = 'x' or", 14, "our expression language cannot read it"),
])
def test_what_our_language_lacks_is_reported_with_row_and_column(tmp_path, relevant, column, what):
    draft, report, _text = survey_import(tmp_path, [
        q("text", "a", "A"), q("date", "d", "D"), q("text", "b", "B", relevant=relevant)])
    assert "relevant" not in draft.field("b")
    [message] = problem_at(report, "survey row 4", "relevant")
    assert what in message and f"at column {column}" in message
    assert draft.reviews["b"]


def test_expressions_we_share_are_kept(tmp_path):
    rows = [q("integer", "n", "N"), q("select_multiple yn", "m", "M"), q("date", "d", "D"),
            q("text", "t", "T", relevant="not(selected(${m}, 'yes')) and count-selected(${m}) < 2 "
                                         "and string-length(concat('a', 'b')) = 2 and "
                                         "${d} >= date('2026-01-01') and ${n} mod 2 = 0 and "
                                         "int(${n} div 3) = 1 and round(${n}, 1) > 0 and "
                                         "coalesce(${n}, 0) = if(true(), 1, 0) and ${d} <= today() and "
                                         "number(concat('1', '2')) = 12"),
            q("integer", "multi", "Multi-line", relevant="${n} > 1\nand ${n} < 9")]
    draft, report, _text = survey_import(tmp_path, rows)
    assert draft.field("t")["relevant"].startswith("not(selected(${m}, 'yes'))")
    assert draft.field("multi")["relevant"] == "${n} > 1 and ${n} < 9"
    assert not problems(report)


SCORES = [["list_name", "name", "label"], ["score", "0", "Never"], ["score", "1", "Sometimes"],
          ["score", "3", "Always"], ["half", "0.5", "Half"], ["half", "1", "One"],
          ["yn", "yes", "Yes"], ["yn", "no", "No"]]


@pytest.mark.parametrize("expression, translated", [
    ("${a} * 2", "number(${a}) * 2"),
    ("${a} + ${b}", "number(${a}) + number(${b})"),
    ("-${a} + ${n}", "-number(${a}) + ${n}"),
    ("round(${h}, 1)", "round(number(${h}), 1)"),
    ("int(${h} div 2)", "int(number(${h}) div 2)"),
    ("if(${a} > 1, 'high', 'low')", "if(number(${a}) > 1, 'high', 'low')"),
    ("if(${a} = 3, 'top', ${a})", "if(number(${a}) = 3, 'top', ${a})"),
    ("number(${a}) * 3", "number(${a}) * 3"),                       # never wrapped twice
    ("concat(${a}, '!')", "concat(${a}, '!')"),                     # no number needed
    ("if(${a} = '3', 'top', 'not')", "if(${a} = '3', 'top', 'not')"),
    ("string-length(${t}) * ${t}", "string-length(${t}) * number(${t})"),
])
def test_a_select_one_or_text_where_odk_needs_a_number_is_read_with_number(tmp_path, expression,
                                                                             translated):
    draft, report, _text = survey_import(tmp_path, [
        q("select_one score", "a", "A"), q("select_one score", "b", "B"),
        q("select_one half", "h", "H"), q("integer", "n", "N"), q("text", "t", "T"),
        q("calculate", "c", calculation=expression)], choices=SCORES)
    assert draft.field("c")["calculation"] == translated
    assert not problem_at(report, "survey row 7", "calculation")


def test_number_wrapping_in_relevant_and_constraint_keeps_odk_s_meaning(tmp_path):
    draft, report, text = survey_import(tmp_path, [
        q("select_one score", "a", "A", required="yes"), q("integer", "n", "N", required="yes"),
        q("text", "x", "X", relevant="${a} >= 1 and ${a} != ${n}"),
        q("select_one score", "b", "B", constraint=". <= ${n}"),
        q("select_one yn", "y", "Y"), q("integer", "z", "Z", relevant="${y} + 1 > 1")],
        choices=SCORES)
    assert draft.field("x")["relevant"] == "number(${a}) >= 1 and number(${a}) != ${n}"
    assert draft.field("b")["constraint"] == "number(.) <= ${n}"
    loaded(tmp_path, draft, text)
    # A select_one none of whose codes is a number is not wrapped: our type check refuses it.
    assert "relevant" not in draft.field("z")
    assert problem_at(report, "survey row 7", "relevant")


# --- constraints ----------------------------------------------------------------------------

@pytest.mark.parametrize("type_, constraint, message, keys", [
    ("text", "regex(., '^P[0-9]{4}$')", "", {"pattern": "P[0-9]{4}"}),
    ("text", "regex(., '[0-9]')", "", {"pattern": ".*[0-9].*"}),
    ("text", "regex(., '^ab|cd$')", "", {"pattern": ".*(?:^ab|cd$).*"}),
    ("text", "regex(., '^(?:ab|cd)$')", "", {"pattern": "ab|cd"}),
    ("text", f"regex(., '{EMAIL_REGEX}')", "", {"type": "email"}),
    ("text", "string-length(.) >= 2 and string-length(.) <= 9", "",
     {"min_length": 2, "max_length": 9}),
    ("integer", ". >= -5 and . <= 5", "", {"min": "-5", "max": "5"}),
    ("integer", ". >= -5 and . <= 5", "Between -5 and 5.",
     {"constraint": ". >= -5 and . <= 5", "constraint_message": "Between -5 and 5."}),
    ("integer", ". >= 9 and . <= 5", "", {"constraint": ". >= 9 and . <= 5"}),
    ("integer", ". >= 1.5", "", {"constraint": ". >= 1.5"}),
    ("decimal", "round(., 2) = . and . >= 0.5", "", {"places": 2, "min": "0.5"}),
    ("date", ". >= date('2020-01-01') and . <= today()", "",
     {"min": "2020-01-01", "constraint": ". <= today()"}),
    ("integer", ". > 0 or . = -1", "", {"constraint": ". > 0 or . = -1"}),
    ("text", "regex(., '^[A-Z]+$') and string-length(.) <= 3", "Capitals, at most 3.",
     {"pattern": "[A-Z]+", "constraint": "string-length(.) <= 3",
      "constraint_message": "Capitals, at most 3."}),
])
def test_constraints_split_into_the_keys_our_forms_use(tmp_path, type_, constraint, message, keys):
    draft, report, text = survey_import(tmp_path, [
        q(type_, "a", "A", constraint=constraint, message=message)])
    field = draft.field("a")
    got = {key: str(field[key]) if key in ("min", "max") and key in field else field.get(key)
           for key in keys}
    assert got == keys
    for key in {"constraint", "constraint_message", "pattern", "min", "max"} - set(keys):
        assert key not in field
    assert not any("was left out" in m for _w, _c, m in problems(report))


def test_constraint_parts_our_language_lacks_are_left_out_one_by_one(tmp_path):
    draft, report, _text = survey_import(tmp_path, [
        q("integer", "a", "A", constraint=". >= 0 and . != 7 and . = count(${b})",
          message="Zero or more, not 7."), q("text", "b", "B")])
    assert draft.field("a")["constraint"] == ". >= 0 and . != 7"
    assert draft.field("a")["constraint_message"] == "Zero or more, not 7."
    [message] = problem_at(report, "survey row 2", "constraint")
    assert "count()" in message and "at column 27" in message


def test_regex_that_fits_nowhere_and_a_lonely_message_are_reported(tmp_path):
    draft, report, _text = survey_import(tmp_path, [
        q("integer", "a", "A", constraint="regex(., '^[0-9]$')"),
        q("text", "b", "B", message="A message with no rule"),
        q("text", "c", "C", constraint="regex(., '^[A-Z]$')", message="Capitals only.")])
    assert "no equivalent here" in problem_at(report, "survey row 2", "constraint")[0]
    assert "without a constraint" in problem_at(report, "survey row 3", "constraint_message")[0]
    assert "not kept" in problem_at(report, "survey row 4", "constraint_message")[0]
    assert draft.field("c")["pattern"] == "[A-Z]"


# --- calculations -------------------------------------------------------------------------

def test_calculate_types_are_inferred_in_dependency_order(tmp_path):
    draft, report, text = survey_import(tmp_path, [
        q("calculate", "doubled", calculation="${half} * 2"),
        q("calculate", "half", calculation="${n} div 2"),
        q("integer", "n", "N"), q("date", "d", "D"),
        q("calculate", "count", calculation="${n} + 1"),
        q("calculate", "words", calculation="concat('n', ${label})"),
        q("text", "label", "Label"),
        q("calculate", "adult", calculation="${n} >= 18"),
        q("calculate", "when", calculation="coalesce(${d}, today())"),  # a reserved word
        q("integer", "typed", "Typed", required="yes", calculation="${n} * 3"),
        q("select_one yn", "picked", "Picked", calculation="'yes'"),
        q("calculate", "bad", calculation="${n} + 'x'"),
        q("calculate", "empty")])
    types = {f["name"]: f["type"] for f in draft.fields}
    assert types == {"doubled": "decimal", "half": "decimal", "n": "integer", "d": "date",
                     "count": "integer", "words": "text", "label": "text", "adult": "boolean",
                     "when_field": "date", "typed": "integer", "picked": "choice"}
    assert "required" not in draft.field("typed")
    assert "cannot be required" in problem_at(report, "survey row 11", "required")[0]
    assert "calculation" not in draft.field("picked")
    assert problem_at(report, "survey row 12", "calculation")
    assert "could not be worked out" in problem_at(report, "survey row 13", "calculation")[0]
    assert "without a calculation" in problem_at(report, "survey row 14", "calculation")[0]
    assert "read-only" in problem_at(report, "survey row 2", "type")[0]
    assert text


def test_a_calculate_that_cannot_be_translated_takes_its_readers_rules_with_it(tmp_path):
    draft, report, _text = survey_import(tmp_path, [
        q("calculate", "started", calculation="now()"),
        q("calculate", "copy", calculation="${started}"),
        q("text", "a", "A", relevant="${copy} != ''")])
    assert [f["name"] for f in draft.fields] == ["a"]
    assert "now()" in problem_at(report, "survey row 2", "calculation")[0]
    assert "${started} is not a question" in problem_at(report, "survey row 3", "calculation")[0]
    assert "${copy} is not a question" in problem_at(report, "survey row 4", "relevant")[0]


# --- the everything-unsupported workbook --------------------------------------------------

UNSUPPORTED = {
    ("settings row 2", "instance_name"), ("settings row 2", "submission_url"),
    ("choices row 2", "filter"), ("choices row 3", "filter"), ("choices row 3", "image"),
    ("choices row 4", "name"), ("choices row 5", "name"),
    ("survey row 2", "type"), ("survey row 3", "type"), ("survey row 4", "type"),
    ("survey row 5", "type"), ("survey row 6", "type"), ("survey row 8", "type"),
    ("survey row 9", "type"), ("survey row 10", "type"), ("survey row 11", "type"),
    ("survey row 12", "type"), ("survey row 13", "type"), ("survey row 14", "type"),
    ("survey row 15", "type"), ("survey row 16", "type"), ("survey row 17", "type"),
    ("survey row 18", "type"), ("survey row 19", "type"), ("survey row 20", "type"),
    ("survey row 21", "type"), ("survey row 22", "choice_filter"),
    ("survey row 22", "parameters"), ("survey row 23", "default"),
    ("survey row 24", "read_only"), ("survey row 25", "required_message"),
    ("survey row 26", "image"), ("survey row 26", "media::audio"),
    ("survey row 27", "required"), ("survey row 28", "relevant"), ("survey row 29", "relevant"),
    ("survey row 30", "relevant"), ("survey row 31", "calculation"),
    ("survey row 32", "calculation"), ("survey row 33", "calculation"),
    ("survey row 34", "calculation"), ("survey row 35", "calculation"),
    ("survey row 36", "relevant"), ("survey row 37", "relevant"), ("survey row 38", "type"),
    ("survey row 39", "relevant"), ("survey row 39", "type"), ("survey row 41", "type"),
    ("survey row 42", "notes_for_translators"), ("survey row 43", "type"),
    ("survey row 44", "type"), ("survey row 45", "type"), ("survey row 47", "constraint"),
    ("survey row 48", "name"), ("survey row 49", "type"), ("survey row 50", "type"),
    ("survey row 51", "label"),
}


@pytest.fixture(scope="module")
def unsupported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("unsupported")
    workbook = build_workbook(DATA / "unsupported", folder / "unsupported.xlsx")
    report = import_file(workbook, folder / "forms")
    return report, load_form(folder / "forms" / "unsupported.toml")


def test_every_unsupported_construct_is_reported_on_its_row_and_column(unsupported):
    report, _spec = unsupported
    assert {(w, c) for w, c, _m in problems(report) if w != "file"} == UNSUPPORTED
    files = {c for w, c, _m in problems(report) if w == "file"}
    assert files == {"choices list unused_list", "pyxform"}


@pytest.mark.parametrize("where, column, words", [
    ("survey row 2", "type", "the collector records submitted_at and entered_by itself"),
    ("survey row 8", "type", "geopoint"), ("survey row 9", "type", "geotrace"),
    ("survey row 10", "type", "geoshape"), ("survey row 11", "type", "images"),
    ("survey row 15", "type", "barcodes"), ("survey row 16", "type", "sliders"),
    ("survey row 17", "type", "ranking"), ("survey row 18", "type", "acknowledge"),
    ("survey row 20", "type", "from a file"), ("survey row 21", "type", "or_other"),
    ("survey row 22", "choice_filter", "choice filters"),
    ("survey row 22", "parameters", "parameters"), ("survey row 23", "default", "default"),
    ("survey row 24", "read_only", "read-only"),
    ("survey row 25", "required_message", "required"),
    ("survey row 26", "image", "media"), ("survey row 26", "media::audio", "media"),
    ("survey row 33", "calculation", "position()"),
    ("survey row 43", "type", "repeats are not supported"),
    ("survey row 44", "type", "inside the repeat that starts at survey row 43"),
    ("survey row 51", "label", "spreadsheet formula"),
])
def test_unsupported_report_lines_say_why(unsupported, where, column, words):
    report, _spec = unsupported
    assert any(words in m for m in problem_at(report, where, column)), problem_at(report, where, column)


def test_unsupported_workbook_still_writes_the_fields_it_can(unsupported):
    report, spec = unsupported
    names = [f.name for f in spec.fields]
    assert names[:3] == ["village", "main_crop", "second_crop"]
    assert "member_name" not in names and "location" not in names
    assert any(line.startswith("56 rows read; 59 items") for line in report.lines()), report.lines()[-1]


# --- hostile workbooks --------------------------------------------------------------------

def _refused(tmp_path, path, *words):
    forms = tmp_path / "forms_out"
    with pytest.raises(InterchangeError) as caught:
        import_file(path, forms)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    for word in words:
        assert word in message
    assert not forms.exists() or not list(forms.iterdir())
    return message


def test_an_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    _refused(tmp_path, path, "the file is empty")


def test_a_text_file_called_xlsx_is_refused(tmp_path):
    path = tmp_path / "notes.xlsx"
    path.write_text("type,name,label\ntext,a,A\n")
    _refused(tmp_path, path, "not a readable .xlsx workbook")


def test_a_workbook_without_a_survey_sheet_is_refused(tmp_path):
    path = workbook_from_rows(tmp_path / "budget.xlsx", Costs=[["item", "price"], ["pen", 2]],
                              Totals=[["sum"], [2]])
    _refused(tmp_path, path, "no 'survey' sheet", "Costs, Totals")


def test_a_single_sheet_that_is_no_survey_is_refused(tmp_path):
    path = workbook_from_rows(tmp_path / "budget.xlsx", Costs=[["item", "price"], ["pen", 2]])
    _refused(tmp_path, path, "row 1: no 'type' column")


@pytest.mark.parametrize("header, words", [
    (["name", "label"], "no 'type' column"),
    (["type", "label"], "no 'name' column"),
    (["type", "name", "type"], "Duplicate column header"),
])
def test_wrong_columns_are_refused(tmp_path, header, words):
    path = workbook_from_rows(tmp_path / "wrong.xlsx", survey=[header, ["text", "a", "b"]])
    _refused(tmp_path, path, words)


def test_a_survey_with_only_a_header_is_refused(tmp_path):
    path = workbook_from_rows(tmp_path / "header.xlsx", survey=[SURVEY_HEADER, [], []])
    _refused(tmp_path, path, "no questions")


def test_a_number_as_a_header_is_refused_without_a_traceback(tmp_path):
    path = workbook_from_rows(tmp_path / "numbers.xlsx", survey=[["type", "name", 3], ["text", "a", 1]])
    _refused(tmp_path, path, "not a readable .xlsx workbook")


def test_a_survey_of_only_unsupported_rows_writes_nothing(tmp_path):
    path = workbook_from_rows(tmp_path / "meta.xlsx", survey=[
        ["type", "name"], ["start", "start"], ["end", "end"]])
    _refused(tmp_path, path, "no form to import", "metadata")


def test_a_workbook_with_a_nul_character_is_refused_or_cleaned(tmp_path):
    path = workbook_from_rows(tmp_path / "nul.xlsx", survey=[SURVEY_HEADER, q("text", "a", "NULMARK")])
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item).replace(b"NULMARK", b"A&#0;B")
            target.writestr(item, data)
    try:
        report = import_file(damaged, tmp_path / "forms")
    except InterchangeError as error:
        assert "\n" not in str(error) and str(damaged) in str(error)
    else:
        assert "\x00" not in (tmp_path / "forms" / "damaged.toml").read_text()
        assert report


def test_blank_rows_keep_the_row_numbers_the_spreadsheet_shows(tmp_path):
    draft, report, _text = survey_import(tmp_path, [
        [], q("text", "a", "A"), [], [], q("geopoint", "g", "G")])
    assert entry(report, "survey row 3").became.startswith("field a")
    assert problem_at(report, "survey row 6", "type")


def test_hostile_text_survives_into_a_file_that_loads(tmp_path):
    long_label = "Très long libellé " * 1800   # 32,400 characters; a cell holds 32,767
    rows = [q("text", "quotes", 'He said "yes" and \'no\' — 100% $$ ${x} 🙂', hint="a\\b \\n"),
            q("text", "long", long_label),
            q("integer", "Número de visitas", "Visits", constraint=". >= 1.0"),
            q("select_one yn", "emoji_choice", "🙂 or 🙁?")]
    choices = [["list_name", "name", "label"], ["yn", "🙂", "Happy \"face\""], ["yn", "sad face", "Sad"]]
    draft, report, text = survey_import(tmp_path, rows, choices=choices)
    spec = loaded(tmp_path, draft, text)
    assert spec.field("quotes").label == 'He said "yes" and \'no\' — 100% $$ ${x} 🙂'
    assert spec.field("long").label == long_label.strip()
    assert spec.field("numero_de_visitas").min == 1
    assert spec.field("emoji_choice").choice_values == ("🙂", "sad face")


def test_numbers_typed_as_numbers_read_like_excel_shows_them(tmp_path):
    path = tmp_path / "numbers.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label", "required", "constraint"])
    sheet.append(["select_one codes", "coded", 2024.0, True, None])
    sheet.append(["integer", "n", "N", False, ". <= 10"])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    choices.append(["codes", 1.0, 1.5])
    choices.append(["codes", 2, "Two"])
    book.save(path)
    drafts, report = read_xlsform(path)
    field = drafts[0].field("coded")
    assert field["label"] == "2024" and field["required"] is True
    assert field["choices"] == [{"value": "1", "label": "1.5"}, {"value": "2", "label": "Two"}]
    assert drafts[0].field("n")["max"] == 10 and "required" not in drafts[0].field("n")


def test_merged_cells_are_reported_with_their_row_and_range(tmp_path):
    path = tmp_path / "merged.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "survey"
    sheet.append(["type", "name", "label", "hint"])
    sheet.append(["integer", "a", "Age of the person", None])
    sheet.append(["integer", "b", None, None])
    sheet.append(["select_one yn", "c", "Agrees?", "Wide hint"])
    sheet.merge_cells("C2:C3")
    sheet.merge_cells("D4:E4")
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    choices.append(["yn", "yes", "Yes"])
    choices.append(["yn", "no", "No"])
    choices.merge_cells("A2:A3")
    book.save(path)
    drafts, report = read_xlsform(path)
    assert problem_at(report, "survey row 2", "label") == [
        "merged cells C2:C3: only the first row keeps the text"]
    assert problem_at(report, "survey row 4", "hint") == [
        "merged cells D4:E4: only the first column keeps the text"]
    assert problem_at(report, "choices row 2", "list_name") == [
        "merged cells A2:A3: only the first row keeps the text"]
    assert drafts[0].field("a")["label"] == "Age of the person"
    assert drafts[0].field("b")["label"] == "B"


def test_a_workbook_without_merged_cells_reports_none(tmp_path):
    path = workbook_from_rows(tmp_path / "plain.xlsx", survey=[SURVEY_HEADER, q("text", "a", "A")])
    _drafts, report = read_xlsform(path)
    assert not any("merged" in m for _w, _c, m in problems(report))


def test_an_existing_form_file_is_not_overwritten(tmp_path):
    path = build_workbook(DATA / "docs_basic", tmp_path / "basic.xlsx")
    forms = tmp_path / "forms"
    import_file(path, forms)
    before = (forms / "basic.toml").read_text()
    with pytest.raises(InterchangeError, match="already exists"):
        import_file(path, forms)
    assert (forms / "basic.toml").read_text() == before


def test_odk_converter_errors_are_reported(tmp_path):
    _draft, report, _text = survey_import(tmp_path, [
        q("text", "a", "A"), q("begin group", "g", "G"), q("text", "b", "B")])
    assert any(c == "pyxform" and "refuses" in m for _w, c, m in problems(report))


def test_other_sheets_are_reported(tmp_path):
    path = workbook_from_rows(tmp_path / "extra.xlsx", survey=[SURVEY_HEADER, q("text", "a", "A")],
                              notes=[["anything"], ["here"]])
    _drafts, report = read_xlsform(path)
    assert ("file", "sheet notes", "not an XLSForm sheet the collector reads; left out") in problems(report)


def test_docs_instruments_import_and_load(tmp_path):
    for folder in ("docs_basic", "docs_calculations", "docs_names_languages"):
        path = build_workbook(DATA / folder, tmp_path / f"{folder}.xlsx")
        report = import_file(path, tmp_path / "forms")
        assert not any("was left out" in m for _w, _c, m in problems(report)), folder
    names = sorted(p.stem for p in (tmp_path / "forms").glob("*.toml"))
    assert names == ["basket", "docs_basic", "encuesta_servicio"]
    assert Path(tmp_path / "forms" / "encuesta_servicio.toml").read_text().count("[[fields]]") == 6


# --- the expression helpers ---------------------------------------------------------------

@pytest.mark.parametrize("text, parts", [
    (". >= 1 and . <= 9", [(0, ". >= 1"), (11, ". <= 9")]),
    ("${band} = 'rock and roll' and ${and-x} > 1", [(0, "${band} = 'rock and roll'"),
                                                     (30, "${and-x} > 1")]),
    ("(. > 1 and . < 5) and . != 3", [(0, "(. > 1 and . < 5)"), (22, ". != 3")]),
    ("${a} = 1 or ${b} = 2 and ${c} = 3", [(0, "${a} = 1 or ${b} = 2 and ${c} = 3")]),
    ("  ", []),
])
def test_conjuncts_split_only_at_top_level_and(text, parts):
    from collector.interchange.xlsform_expressions import conjuncts
    assert conjuncts(text) == parts


@pytest.mark.parametrize("text, unwrapped", [
    ("(a or b)", "a or b"), ("(a) and (b)", "(a) and (b)"), ("((a))", "(a)"),
    ("(')' = x)", "')' = x"), ("a", "a")])
def test_unwrap_removes_only_brackets_around_everything(text, unwrapped):
    from collector.interchange.xlsform_expressions import unwrap
    assert unwrap(text) == unwrapped


@pytest.mark.parametrize("pattern", ["P[0-9]{4}", "A|B", "(?:ab)+c", "x\\$", "[a|b]c", "(a|b)|c"])
def test_a_pattern_survives_regex_and_back(pattern):
    from collector.interchange.xlsform_expressions import pattern_from_regex, regex_from_pattern
    assert pattern_from_regex(regex_from_pattern(pattern)) == pattern


def test_rows_after_a_long_blank_stretch_are_reported_not_silently_lost(tmp_path):
    rows = [q("text", "a", "A")] + [[]] * 70 + [q("text", "far", "Far away")]
    draft, report, _text = survey_import(tmp_path, rows)
    assert [f["name"] for f in draft.fields] == ["a"]
    assert ("file", "survey sheet", "rows after row 2 up to row 73 were not read: ODK stops at "
            "60 blank rows in a row") in problems(report)
