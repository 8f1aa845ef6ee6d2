"""The expression language: parsing, type checking at load time, and the Python reference semantics."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from collector.forms.expressions.evaluate import evaluate
from collector.forms.expressions.grammar import ExpressionError, parse
from collector.forms.expressions.typecheck import FieldFacts, check
from collector.forms.spec import load_form
from collector.forms.spec_checks import SpecError

LONDON = ZoneInfo("Europe/London")
FIELDS = {
    "age": FieldFacts("integer"), "weight": FieldFacts("decimal"), "height": FieldFacts("decimal"),
    "dob": FieldFacts("date"), "visit": FieldFacts("date"), "seen_at": FieldFacts("datetime"),
    "left_at": FieldFacts("datetime"), "smoker": FieldFacts("boolean"),
    "name": FieldFacts("text"), "note": FieldFacts("long_text"),
    "site": FieldFacts("choice", ("north", "south", "other")),
    "tags": FieldFacts("multi_choice", ("a", "b", "c")),
    "phq1": FieldFacts("choice", ("0", "1", "2", "3")), "phq2": FieldFacts("choice", ("0", "1", "2", "3")),
    "dose": FieldFacts("choice", ("0.5", "1", "2.5")), "scale": FieldFacts("choice", ("-1", "+1", "07")),
}


def value(text, this=None, today=date(2026, 11, 22), **values):
    return evaluate(check(parse(text), FIELDS, this), values, LONDON, today)


@pytest.mark.parametrize("text, values, expected", [
    # Exact decimal arithmetic, never floating point.
    ("0.1 + 0.2 = 0.3", {}, True),
    ("${weight} div (${height} * ${height})", {"weight": Decimal("72.5"), "height": Decimal("1.8")},
     Decimal("22.3765432098")),
    ("1 div 3", {}, Decimal("0.3333333333")),
    ("-1 div 3", {}, Decimal("-0.3333333333")),  # cut toward zero, not floored
    ("2 div 3", {}, Decimal("0.6666666666")),
    ("-7 mod 2", {}, -1), ("7 mod -2", {}, 1), ("-7.5 mod 2", {}, Decimal("-1.5")),
    ("${age} * ${age} * ${age}", {"age": 2_000_000_000}, 8 * 10**27),  # no int4 overflow
    ("int(-7.9)", {}, -7), ("round(2.45, 1)", {}, Decimal("2.5")), ("round(-2.45, 1)", {}, Decimal("-2.5")),
    # Empty answers: arithmetic empty, comparisons unknown, Kleene logic.
    ("${age} + 1", {}, None), ("${age} > 3", {}, None),
    ("${age} > 3 or true()", {}, True), ("${age} > 3 and false()", {}, False),
    ("${age} > 3 and true()", {}, None), ("not(${age} > 3)", {}, None),
    ("5 div 0", {}, None), ("5 mod 0", {}, None), ("${age} div ${age}", {"age": 0}, None),
    ("${age} = ''", {}, True), ("${age} != ''", {}, False), ("${age} != ''", {"age": 0}, True),
    ("${tags} = ''", {"tags": []}, True), ("${tags} != ''", {"tags": ["b"]}, True),
    ("if(${age} > 3, 'old', 'young')", {}, "young"),  # unknown takes the else branch
    ("coalesce(${age}, ${weight}, 7)", {"weight": Decimal("1.5")}, Decimal("1.5")),
    # Choices and text.
    ("selected(${tags}, 'b')", {"tags": ["a", "b"]}, True),
    ("selected(${tags}, 'c')", {}, False), ("count-selected(${tags})", {}, 0),
    ("count-selected(${tags})", {"tags": ["a", "c"]}, 2),
    ("selected(${site}, 'other')", {"site": "other"}, True), ("selected(${site}, 'other')", {}, False),
    ("${site} = 'north'", {"site": "south"}, False),
    ("string-length(${name})", {"name": "Zoë 😀 Łódź"}, 10), ("string-length(${name})", {}, 0),
    ("concat(${name}, '-', ${note})", {"name": "Ωmega"}, "Ωmega-"), ("concat(${name}, ${note})", {}, None),
    # number(): text to an exact number; anything that is not plainly a number is empty.
    ("number(${phq1}) + number(${phq2})", {"phq1": "2", "phq2": "3"}, 5),
    ("number(${phq1}) + number(${phq2})", {"phq1": "2"}, None),
    ("coalesce(number(${phq1}), 0) + coalesce(number(${phq2}), 0)", {"phq2": "3"}, 3),
    ("number(${scale})", {"scale": "07"}, 7), ("number(${scale})", {"scale": "+1"}, 1),
    ("number(${dose}) * 2", {"dose": "2.5"}, Decimal("5.0")),
    ("number(${name})", {"name": "12.50"}, Decimal("12.50")),
    ("number(${name})", {"name": "-0.0"}, Decimal("0.0")),
    ("number(' 42 ')", {}, Decimal(42)), ("number('+3.25')", {}, Decimal("3.25")),
    ("number(${name})", {"name": "1e3"}, None), ("number(${name})", {"name": "1,5"}, None),
    ("number(${name})", {"name": ".5"}, None), ("number(${name})", {"name": "5."}, None),
    ("number(${name})", {"name": "١٢"}, None),  # Arabic-Indic digits are not our digits
    ("number(${name})", {"name": "12\t"}, None), ("number(${name})", {"name": "NaN"}, None),
    ("number(${name})", {"name": "Infinity"}, None), ("number(${name})", {"name": "0x1F"}, None),
    ("number(${name})", {"name": "9" * 40}, Decimal("9" * 40)),
    ("number(${name})", {"name": "9" * 41}, None),  # longer than any typed number may be
    ("number('')", {}, None), ("number(' ')", {}, None), ("number(${name})", {}, None),
    ("number(concat(${name}, '5'))", {"name": "1"}, Decimal(15)),
    ("number(${age})", {"age": 7}, 7), ("number(${weight})", {"weight": Decimal("1.5")}, Decimal("1.5")),
    ("number(${name}) > 3", {"name": "10"}, True), ("number(${name}) > 3", {"name": "ten"}, None),
    # Dates, ages, today, date-times.
    ("${visit} - ${dob}", {"visit": date(2026, 3, 1), "dob": date(2026, 2, 1)}, 28),
    ("years-between(${dob}, ${visit})", {"dob": date(2000, 2, 29), "visit": date(2001, 2, 28)}, 0),
    ("years-between(${dob}, ${visit})", {"dob": date(2000, 2, 29), "visit": date(2001, 3, 1)}, 1),
    ("years-between(${dob}, ${visit})", {"dob": date(2001, 6, 1), "visit": date(2000, 1, 1)}, -2),
    ("today() = date('2026-11-22')", {}, True),
    ("${seen_at} < ${left_at}", {"seen_at": datetime(2026, 10, 25, 1, 30, tzinfo=LONDON),
                                 "left_at": datetime(2026, 10, 25, 1, 10, fold=1, tzinfo=LONDON)}, True),
    # In the spring gap 01:30 does not exist: read as GMT (fold=0), it is after 02:10 BST.
    ("${seen_at} < ${left_at}", {"seen_at": datetime(2026, 3, 29, 1, 30, tzinfo=LONDON),
                                 "left_at": datetime(2026, 3, 29, 2, 10, tzinfo=LONDON)}, False),
])
def test_reference_semantics(text, values, expected):
    result = value(text, **values)
    assert result == expected and type(result) in (type(expected), int if expected is None else type(expected)) \
        or (result is None and expected is None)


@pytest.mark.parametrize("text, kind", [
    ("number(${phq1})", "integer"),       # every code a whole number: sums fit integer fields
    ("number(${phq1}) + number(${phq2})", "integer"),
    ("number(${scale})", "integer"),      # signs and leading zeros are still whole
    ("number(${dose})", "decimal"),       # a code with a fraction
    ("number(${site})", "decimal"),       # codes that are not numbers at all
    ("number(${name})", "decimal"), ("number(${note})", "decimal"), ("number('3')", "decimal"),
    ("number(if(true(), ${phq1}, ${phq2}))", "decimal"),  # only a choice field itself is known
    ("number(${age})", "integer"), ("number(${weight})", "decimal"), ("number(2)", "integer"),
])
def test_number_gives_a_whole_number_only_for_choices_coded_in_whole_numbers(text, kind):
    assert check(parse(text), FIELDS).type == kind


def test_number_of_this_choice_in_a_constraint():
    assert value("number(.) <= 2", this="phq1", phq1="3") is False


def test_dot_is_the_field_the_constraint_belongs_to():
    assert value(". >= ${dob}", this="visit", visit=date(2026, 1, 1), dob=date(1990, 1, 1)) is True


@pytest.mark.parametrize("text, problem, column", [
    ("${age} + ", "ends too early", 9),
    ("$age > 3", "a field reference is written ${name}, with braces", 1),
    ("'abc = 3", "a string is not closed", 1),
    ("1 < 2 < 3", "unexpected '<'", 7),
    ("${agee} > 3", "${agee} is not a field of this form (did you mean ${age}?)", 1),
    ("${dob} > 3", "cannot compare a date with a whole number", 8),
    ("${name} < 'b'", "text can be compared only with = or != (not <)", 9),
    ("${site} = 'west'", "'west' is not a choice of ${site} (choices: north, south, other)", 11),
    ("selected(${tags}, 'z')", "'z' is not a choice of ${tags}", 19),
    ("${tags} > 1", "${tags} is a multi_choice field: use selected", 1),
    ("${smoker} + 1", "'+' needs numbers on both sides, not a yes/no value", 1),
    ("${dob} + 1", "only date - date is allowed with dates", 1),
    ("sum(${age})", "sum() is not a function", 1),
    ("string-lenght(${name})", "did you mean string-length()?", 1),
    ("if(${age}, 1, 2)", "if() needs a yes/no condition first, not a whole number", 4),
    ("if(${smoker}, 1, 'x')", "if() needs its two results of one type", 1),
    ("number(${dob})", "number() needs text or a number, not a date", 8),
    ("number(${smoker})", "number() needs text or a number, not a yes/no value", 8),
    ("number(${tags})", "${tags} is a multi_choice field", 8),
    ("number(${name}, 2)", "number() takes 1 argument, not 2", 1),
    ("number(${phq1}) = 'x'", "cannot compare a whole number with text", 17),
    ("round(${weight}, ${age})", "round() needs a whole number of places from 0 to 15", 1),
    ("concat(${age})", "concat() joins text only", 8),
    (". > 3", "'.' (this field) can be used only in a constraint", 1),
    ("date('2026-02-30') < ${dob}", "date('2026-02-30') is not a date", 1),
    ("not(" * 70 + "true()" + ")" * 70, "nested 71 deep; the limit is 60", None),
])
def test_mistakes_are_refused_with_what_and_where(text, problem, column):
    with pytest.raises(ExpressionError) as caught:
        check(parse(text), FIELDS)
    assert problem in caught.value.problem and caught.value.column == column


def write_form(tmp_path, body, name="visit"):
    path = tmp_path / f"{name}.toml"
    path.write_text('title = "Logic"\n' + body, encoding="utf-8")
    return path


BASE = """
[[fields]]
name = "smoker"
type = "boolean"
required = true

[[fields]]
name = "per_day"
type = "integer"
"""


@pytest.mark.parametrize("extra, message", [
    ('relevant = "${smokr}"',
     "visit.toml: field 'per_day': relevant '${smokr}': ${smokr} is not a field of this form "
     "(did you mean ${smoker}?) (at column 1)"),
    ('relevant = "${smoker} + 1"', "'+' needs numbers on both sides, not a yes/no value (at column 1)"),
    ('relevant = "${per_day}"', "relevant '${per_day}' gives a whole number; it must give a yes/no"),
    ('calculation = "${smoker}"', "calculation '${smoker}' gives a yes/no value; it must give a whole number"),
    ('calculation = "${per_day} + 1"', "field 'per_day': its relevant or calculation (or its "
                                       "section's relevant) depends on itself: ${per_day} → ${per_day}"),
    ('constraint_message = "Too many"', "constraint_message needs a constraint"),
    ('constraint = ". > 0"\nrequired = true\ncalculation = "2"', "a calculated field cannot be required"),
    ('relevant = 3', "relevant must be an expression in a string"),
    ('relevnt = "${smoker}"', "'relevnt' is not a rule for a integer field (did you mean 'relevant'?)"),
    ('section = "a"', "section 'a' is not declared"),
])
def test_bad_logic_in_a_form_file_is_one_clear_line(tmp_path, extra, message):
    with pytest.raises(SpecError) as caught:
        load_form(write_form(tmp_path, BASE + extra + "\n"))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_cycle_through_two_fields_names_both(tmp_path):
    body = BASE + 'relevant = "${total} > 0"\n' + """
[[fields]]
name = "total"
type = "integer"
calculation = "coalesce(${per_day}, 0) * 7"
"""
    with pytest.raises(SpecError, match=r"depends on itself: \$\{per_day\} → \$\{total\} → \$\{per_day\}"):
        load_form(write_form(tmp_path, body))


def test_sections_must_hold_every_field_in_order(tmp_path):
    sections = '[[sections]]\nname = "a"\ntitle = "A"\n[[sections]]\nname = "b"\ntitle = "B"\n'
    body = sections + BASE.replace('required = true', 'required = true\nsection = "b"') \
        + 'section = "a"\n'
    with pytest.raises(SpecError, match="'per_day' is in section 'a' but comes after fields of section 'b'"):
        load_form(write_form(tmp_path, body))
    with pytest.raises(SpecError, match="'per_day' has no section"):
        load_form(write_form(tmp_path, sections + BASE.replace('required = true',
                                                               'required = true\nsection = "a"')))
    with pytest.raises(SpecError, match="section_pages = true needs"):
        load_form(write_form(tmp_path, "section_pages = true\n" + BASE))


def test_a_section_relevant_applies_to_each_of_its_fields(tmp_path):
    body = ('[[sections]]\nname = "a"\ntitle = "A"\n[[sections]]\nname = "b"\ntitle = "B"\n'
            'relevant = "${smoker}"\n' + BASE.replace('required = true', 'required = true\nsection = "a"')
            + 'section = "b"\nrelevant = "${smoker} != \'\'"\n')
    spec = load_form(write_form(tmp_path, body))
    per_day = spec.field("per_day")
    assert per_day.shown.op == "and" and spec.order == ("smoker", "per_day")
    assert evaluate(per_day.shown, {"smoker": False}, LONDON) is False
    assert evaluate(per_day.shown, {"smoker": True}, LONDON) is True


def test_the_shipped_follow_up_form_loads_with_its_logic():
    spec = load_form("forms/followup.toml")
    assert spec.section_pages and [s.name for s in spec.sections] == ["visit", "body", "smoking", "diagnosis"]
    assert spec.field("bmi").calculation and spec.field("cigarettes_per_day").shown
    assert spec.field("diagnosis_other").relevant.source == "selected(${new_diagnosis}, 'other')"


def test_manage_check_prints_one_line_for_bad_logic(tmp_path):
    from tests.processes import run_manage
    write_form(tmp_path, BASE + 'constraint = ". < ${smoker}"\n')
    result = run_manage("check", FORMS_DIR=str(tmp_path))
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (f"Error: {tmp_path}/visit.toml: field 'per_day': constraint "
                             "'. < ${smoker}': cannot compare a whole number with a yes/no value "
                             "(at column 3)\n")
    write_form(tmp_path, BASE + 'relevant = "${smoker}"\nconstraint = ". <= 80"\n')
    result = run_manage("check", FORMS_DIR=str(tmp_path))
    assert result.returncode == 0
    assert "shown when: ${smoker}" in result.stdout and "rule: . <= 80" in result.stdout


def test_a_chain_of_two_thousand_calculations_loads_in_dependency_order(tmp_path):
    # Each field is calculated from the next one: the order must reverse the file's.
    count = 2000
    body = "".join(f'[[fields]]\nname = "f{i}"\ntype = "integer"\ncalculation = "${{f{i + 1}}} + 1"\n'
                   for i in range(count)) + f'[[fields]]\nname = "f{count}"\ntype = "integer"\n'
    spec = load_form(write_form(tmp_path, body))
    assert spec.order[0] == f"f{count}" and spec.order[-1] == "f0"


SCORE_FORM = """
[[fields]]
name = "{name}"
type = "{type}"
{choices}

[[fields]]
name = "total"
type = "integer"
calculation = "number(${{{name}}}) * 2"
"""


def test_an_integer_total_of_number_needs_a_choice_coded_in_whole_numbers(tmp_path):
    codes = 'choices = [{ value = "0", label = "No" }, { value = "3", label = "Often" }]'
    spec = load_form(write_form(tmp_path, SCORE_FORM.format(name="phq1", type="choice", choices=codes)))
    assert spec.field("total").calculation.tree.type == "integer"
    halves = codes.replace('"3"', '"1.5"')
    with pytest.raises(SpecError, match=r"gives a number; it must give a whole number"):
        load_form(write_form(tmp_path, SCORE_FORM.format(name="phq1", type="choice", choices=halves)))
    with pytest.raises(SpecError, match=r"gives a number; it must give a whole number"):
        load_form(write_form(tmp_path, SCORE_FORM.format(name="typed", type="text", choices="")))
