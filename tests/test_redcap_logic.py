"""REDCap branching logic and calculations <-> our expressions: every construct, both ways."""

import pytest

from collector.forms.expressions.grammar import parse
from collector.forms.expressions.typecheck import FieldFacts, check
from collector.forms.spec import Choice, Field
from collector.interchange.redcap_logic import FieldInfo, Untranslatable, translate
from collector.interchange.redcap_logic_export import CannotExport, to_redcap

# A small instrument "visit" (and one field on another instrument, "lab").
FIELDS = {
    "age": FieldInfo("age", "integer", form="visit"),
    "weight": FieldInfo("weight", "decimal", form="visit"),
    "height": FieldInfo("height", "decimal", form="visit"),
    "dob": FieldInfo("dob", "date", form="visit"),
    "visit_date": FieldInfo("visit_date", "date", form="visit"),
    "seen_at": FieldInfo("seen_at", "datetime", form="visit"),
    "sex": FieldInfo("sex", "choice", ("1", "2"), form="visit"),
    "pain": FieldInfo("pain", "choice", ("0", "1", "2", "3", "4", "5"), form="visit"),
    "site": FieldInfo("site", "choice", ("north", "south"), form="visit"),
    "grade": FieldInfo("grade", "choice", ("1", "2", "3", "na"), form="visit"),
    "meds": FieldInfo("meds", "multi_choice", ("1", "2", "99"), form="visit"),
    "smoker": FieldInfo("smoker", "boolean", form="visit"),
    "initials": FieldInfo("initials", "text", form="visit"),
    "order": FieldInfo("order_field", "integer", form="visit"),  # renamed on import
    "record_id": FieldInfo("record_id", "text", form=""),        # on every instrument
    "hb": FieldInfo("hb", "decimal", form="lab"),
}


def ours(source, condition=True):
    return translate(source, FIELDS, "visit", condition).text


@pytest.mark.parametrize("source, expected", [
    # Comparisons and the literal each side needs.
    ("[age] >= 18", "${age} >= 18"),
    ("[age] >= '18'", "${age} >= 18"),
    ("[age] <> 5", "${age} != 5"),
    ("[age] != 5", "${age} != 5"),
    ("[age] == 5", "${age} = 5"),
    ("18 <= [age]", "${age} >= 18"),
    ("[weight] > '72.50'", "${weight} > 72.5"),
    ("[weight] < .5", "${weight} < 0.5"),
    ("[sex] = 1", "${sex} = '1'"),
    ("[sex] = '2'", "${sex} = '2'"),
    ("[sex] <> \"1\"", "${sex} != '1'"),
    ("[site] = 'north'", "${site} = 'north'"),
    ("[pain] > 3", "${pain} = '4' or ${pain} = '5'"),
    ("[pain] <= 0", "${pain} = '0'"),
    ("[smoker] = '1'", "${smoker} = true()"),
    ("[smoker] = 0", "${smoker} = false()"),
    ("[smoker] <> '1'", "${smoker} != true()"),
    ("[smoker]", "${smoker} = true()"),
    ("[dob] < '2000-01-31'", "${dob} < date('2000-01-31')"),
    ("[initials] = 5", "${initials} = '5'"),
    # Ordered against a number, REDCap compares a text or radio field as a number.
    ("[initials] > 5", "number(${initials}) > 5"),
    ("[initials] <= '2.5'", "number(${initials}) <= 2.5"),
    ("3 < [initials]", "number(${initials}) > 3"),
    ("[initials] > -1", "number(${initials}) > -1"),
    ("[initials] >= [age]", "number(${initials}) >= ${age}"),
    ("[weight] < [initials]", "${weight} < number(${initials})"),
    ("[sex] >= [age]", "number(${sex}) >= ${age}"),
    ("[grade] > 1", "number(${grade}) > 1"),
    ("[initials] = \"O'Neil\"", "${initials} = \"O'Neil\""),
    ("[order] = 1", "${order_field} = 1"),
    ("[record_id] <> ''", "${record_id} != ''"),
    # Checkboxes.
    ("[meds(2)] = '1'", "selected(${meds}, '2')"),
    ("[meds(2)] = 1", "selected(${meds}, '2')"),
    ("[meds(99)] = '0'", "not(selected(${meds}, '99'))"),
    ("[meds(99)] <> '1'", "not(selected(${meds}, '99'))"),
    ("'1' = [meds(1)]", "selected(${meds}, '1')"),
    ("[meds(1)]", "selected(${meds}, '1')"),
    # Blank.
    ("[age] = ''", "${age} = ''"),
    ("[initials] <> \"\"", "${initials} != ''"),
    ("isblankormissingcode([age])", "${age} = ''"),
    # and / or in any case, brackets kept only where they matter.
    ("[age] > 1 AND [sex] = '1'", "${age} > 1 and ${sex} = '1'"),
    ("[age] > 1 Or [sex] = '1'", "${age} > 1 or ${sex} = '1'"),
    ("([age] > 1 or [sex] = '1') and [smoker] = '1'",
     "(${age} > 1 or ${sex} = '1') and ${smoker} = true()"),
    ("[age] > 1 or [sex] = '1' and [smoker] = '1'",
     "${age} > 1 or (${sex} = '1' and ${smoker} = true())"),
    ("(([age] > 1))", "${age} > 1"),
    ("[age] > 1 and ([meds(1)] = '1' or ([meds(2)] = '1' and [weight] > 80))",
     "${age} > 1 and (selected(${meds}, '1') or (selected(${meds}, '2') and ${weight} > 80))"),
    # datediff in branching logic.
    ("datediff([dob], 'today', 'y') >= 18",
     "if(today() - ${dob} < 0, -(today() - ${dob}), today() - ${dob}) div 365.2425 >= 18"),
    ("datediff([dob], [visit_date], 'd', true) > 30", "${visit_date} - ${dob} > 30"),
    ("if([sex] = '1', [age], 0) > 12", "if(${sex} = '1', ${age}, 0) > 12"),
])
def test_branching_logic(source, expected):
    assert ours(source) == expected
    check(parse(expected), _facts())  # what we write is always valid in our language


@pytest.mark.parametrize("source, expected", [
    ("[weight] / ([height] * [height])", "${weight} div (${height} * ${height})"),
    ("[weight]/([height]^2)", "${weight} div (${height} * ${height})"),
    ("[height]^3", "${height} * ${height} * ${height}"),
    ("([weight]+1)^2", "(${weight} + 1) * (${weight} + 1)"),
    ("[age] - ([weight] - 1)", "${age} - (${weight} - 1)"),
    ("-[age] + -3", "-${age} + -3"),
    # Unary minus binds looser than ^, as in PHP and JavaScript's Math.pow: -x^2 is -(x^2).
    ("-[weight]^2", "-(${weight} * ${weight})"),
    ("-2^2", "-(2 * 2)"),
    ("(-[weight])^2", "-${weight} * -${weight}"),
    ("3 * -[weight]^2", "3 * -(${weight} * ${weight})"),
    ("[weight]^2 * -1", "${weight} * ${weight} * -1"),
    ("--[weight]^3", "--(${weight} * ${weight} * ${weight})"),
    ("round([weight] * 2.20462, 1)", "round(${weight} * 2.20462, 1)"),
    ("round([weight])", "round(${weight}, 0)"),
    ("rounddown([weight], 0)", "if(${weight} < int(${weight}), int(${weight}) - 1, int(${weight}))"),
    ("roundup([weight], 0)", "if(${weight} > int(${weight}), int(${weight}) + 1, int(${weight}))"),
    ("rounddown([weight], 2)",
     "if(${weight} * 100 < int(${weight} * 100), int(${weight} * 100) - 1, int(${weight} * 100)) div 100"),
    ("abs([weight] - [height])", "if(${weight} - ${height} < 0, -(${weight} - ${height}), ${weight} - ${height})"),
    ("rounddown(abs([weight]), 0)", "int(if(${weight} < 0, -${weight}, ${weight}))"),
    ("sum([age], [weight])", "coalesce(${age}, 0) + coalesce(${weight}, 0)"),
    ("if([age] > 5, 1, 0)", "if(${age} > 5, 1, 0)"),
    ("[meds(1)] + [meds(2)]", "if(selected(${meds}, '1'), 1, 0) + if(selected(${meds}, '2'), 1, 0)"),
    ("[smoker] * 2", "if(${smoker} = true(), 1, 0) * 2"),
    # Radio codes and text used as numbers: number(), whole when every code is.
    ("[pain] + [sex]", "number(${pain}) + number(${sex})"),
    ("sum([pain], [sex])", "coalesce(number(${pain}), 0) + coalesce(number(${sex}), 0)"),
    ("[initials] * 2", "number(${initials}) * 2"),
    ("-[pain]", "-number(${pain})"),
    ("round([pain] / 2, 1)", "round(number(${pain}) div 2, 1)"),
    # datediff: every unit, signed or not, with 'today' and a date, the old dateformat argument.
    ("datediff([dob], [visit_date], 'd')",
     "if(${visit_date} - ${dob} < 0, -(${visit_date} - ${dob}), ${visit_date} - ${dob})"),
    ("datediff([dob], [visit_date], 'd', true)", "${visit_date} - ${dob}"),
    ("datediff([dob], [visit_date], 'd', 'ymd', true)", "${visit_date} - ${dob}"),
    ("datediff([dob], [visit_date], 'y', 'mdy', false)",
     "if(${visit_date} - ${dob} < 0, -(${visit_date} - ${dob}), ${visit_date} - ${dob}) div 365.2425"),
    ("datediff([dob], [visit_date], 'M', true)", "(${visit_date} - ${dob}) div 30.44"),
    ("datediff([dob], '2026-01-01', 'h', true)", "(date('2026-01-01') - ${dob}) * 24"),
    ("datediff('today', [dob], 'm', true)", "(${dob} - today()) * 1440"),
    ("datediff([dob], [visit_date], 's', true)", "(${visit_date} - ${dob}) * 86400"),
    ("rounddown(datediff([dob], 'today', 'y'), 0)",
     "int(if(today() - ${dob} < 0, -(today() - ${dob}), today() - ${dob}) div 365.2425)"),
])
def test_calculations(source, expected):
    assert ours(source, condition=False) == expected
    check(parse(expected), _facts())


@pytest.mark.parametrize("source, problem, at", [
    ("[event-name] = 'visit_1_arm_1'", "smart variable", 1),
    ("[user-name] = 'ra1'", "smart variable", 1),
    ("[record-name] <> ''", "smart variable", 1),
    ("[baseline_arm_1][age] > 3", "another event", 1),
    ("[age][2] > 3", "repeating instrument", 1),
    ("[sex:label] = 'Female'", "':label' modifier", 1),
    ("[age] > 1 and [hb] > 10", "on instrument 'lab'", 15),
    ("[nope] = 1", "[nope] is not a field of this dictionary", 1),
    ("mean([age], [weight]) > 3", "function mean()", 1),
    ("sqrt([age])", "function sqrt()", 1),
    ("[age]^0.5", "whole power", 7),
    ("[meds] = '1'", "checkbox field", 1),
    ("[meds(7)] = '1'", "'7' is not one of [meds]'s codes", 1),
    ("[sex(1)] = '1'", "only after a checkbox field", 1),
    ("[meds(1)] = '2'", "compare it with '1' (ticked) or '0'", 11),
    ("[sex] = 3", "'3' is not one of ${sex}'s codes", 9),
    ("[site] > 1", "codes, not numbers", 8),
    ("[pain] > 9", "never true", 8),
    ("[age] > 'old'", "not a number", 9),
    ("[dob] > '01/02/2000'", "'YYYY-MM-DD'", 9),
    ("[seen_at] > '2026-01-01 10:00'", "date-time", 13),
    ("[initials] > 'M'", "only with = or <>", 12),
    ("[initials] > [record_id]", "only with = or <>", 12),
    ("[smoker] > 0", "yes/no field", 10),
    ("[age] < ''", "blank", 7),
    ("[age] > 1 and", "ends too early", 14),
    ("[age] > (3", "ends too early", 11),
    ("[age] >> 3", "unexpected", 8),
    ("[age] = 3 # comment", "not understood at '#'", 11),
    ("[site] + 1 > 2", "codes are not numbers (north, south)", 1),
    ("datediff([seen_at], 'now', 'h')", "date-time", 10),
    ("datediff([dob], 'now', 'd')", "'now' is a date-time", 17),
    ("datediff([dob], [visit_date], 'w')", "unit", 31),
    ("datediff([age], [dob], 'd')", "not a date field", 10),
    ("if([age] > 1, 1, '')", "blank", 18),
    ("if([age] > 1, 'a', 1)", "one type", 1),
    ("[age]", "is not a condition", 1),
    ("today", "bare word", 1),
    ("round([age], [weight])", "places", 14),
])
def test_untranslatable_says_why_and_where(source, problem, at):
    condition = not source.startswith(("mean", "sqrt", "datediff([seen", "datediff([dob], 'now'",
                                       "datediff([dob], [visit", "datediff([age]", "if(",
                                       "round(", "[age]^"))
    with pytest.raises(Untranslatable) as raised:
        ours(source, condition)
    assert problem in raised.value.problem
    assert raised.value.at == at


def test_a_score_of_radio_codes_is_a_whole_number():
    score = ours("[pain] + [sex] * 2", condition=False)
    assert check(parse(score), _facts()).type == "integer"
    assert ours("[sex] + 1 > 2") == "number(${sex}) + 1 > 2"
    assert check(parse(ours("[initials] + 1", condition=False)), _facts()).type == "decimal"


def test_approximations_are_noted():
    assert "blanks count as 0" in translate("sum([age])", FIELDS, "visit", False).notes[0]
    assert "missing-data codes" in translate("isblankormissingcode([age])", FIELDS, "visit",
                                              True).notes[0]
    assert "counts as 1 (yes)" in translate("[smoker] + 1", FIELDS, "visit", False).notes[0]
    assert translate("[age] > 1", FIELDS, "visit", True).notes == []


# Our expressions -> REDCap, and back to the same text (what the round trip relies on).

SPEC_FIELDS = {
    "age": Field("age", "integer", "Age"), "weight": Field("weight", "decimal", "Weight"),
    "height": Field("height", "decimal", "Height"), "dob": Field("dob", "date", "DOB"),
    "visit_date": Field("visit_date", "date", "Visit"),
    "sex": Field("sex", "choice", "Sex", choices=(Choice("1", "F"), Choice("2", "M"))),
    "pain": Field("pain", "choice", "Pain", choices=tuple(Choice(str(n), str(n)) for n in range(6))),
    "site": Field("site", "choice", "Site", choices=(Choice("north", "N"), Choice("south", "S"))),
    "grade": Field("grade", "choice", "Grade",
                   choices=tuple(Choice(code, code) for code in ("1", "2", "3", "na"))),
    "meds": Field("meds", "multi_choice", "Meds",
                  choices=(Choice("1", "A"), Choice("2", "B"), Choice("99", "None"))),
    "smoker": Field("smoker", "boolean", "Smoker"), "initials": Field("initials", "text", "I"),
    "order_field": Field("order_field", "integer", "Order"), "record_id": Field("record_id", "text", "ID"),
    "seen_at": Field("seen_at", "datetime", "Seen"),
}


def _facts():
    return {name: FieldFacts(f.type, f.choice_values) for name, f in SPEC_FIELDS.items()}


def redcap(text):
    return to_redcap(check(parse(text), _facts()), SPEC_FIELDS)


@pytest.mark.parametrize("text, expected", [
    ("${age} >= 18", "[age] >= 18"),
    ("${age} != 5", "[age] <> 5"),
    ("${sex} = '1'", "[sex] = '1'"),
    ("${smoker} = true()", "[smoker] = '1'"),
    ("${smoker} != true()", "[smoker] <> '1'"),
    ("${smoker} = false()", "[smoker] = '0'"),
    ("${smoker}", "[smoker] = '1'"),
    ("not(${smoker})", "[smoker] = '0'"),
    ("selected(${meds}, '2')", "[meds(2)] = '1'"),
    ("not(selected(${meds}, '2'))", "[meds(2)] = '0'"),
    ("selected(${sex}, '2')", "[sex] = '2'"),
    ("not(selected(${sex}, '2'))", "[sex] <> '2'"),
    ("not(${age} > 3 and ${sex} = '1')", "[age] <= 3 or [sex] <> '1'"),
    ("not(${age} = '')", "[age] <> ''"),
    ("${meds} = ''", "[meds(1)] = '0' and [meds(2)] = '0' and [meds(99)] = '0'"),
    ("${meds} != ''", "[meds(1)] = '1' or [meds(2)] = '1' or [meds(99)] = '1'"),
    ("${dob} < date('2000-01-31')", "[dob] < '2000-01-31'"),
    ("${age} > 1 or ${sex} = '1' and ${smoker}", "[age] > 1 or ([sex] = '1' and [smoker] = '1')"),
    ("(${age} > 1 or ${sex} = '1') and ${smoker}", "([age] > 1 or [sex] = '1') and [smoker] = '1'"),
    ("${weight} div (${height} * ${height})", "[weight] / ([height] * [height])"),
    ("count-selected(${meds}) > 1", "([meds(1)] + [meds(2)] + [meds(99)]) > 1"),
    ("${visit_date} - ${dob} > 30", "datediff([dob], [visit_date], 'd', 'ymd', true) > 30"),
    ("int(${weight})", "if([weight] < 0, roundup([weight], 0), rounddown([weight], 0))"),
    ("if(${smoker}, 1, 0)", "if([smoker] = '1', 1, 0)"),
    ("number(${pain}) + number(${sex}) * 2", "[pain] + [sex] * 2"),
    ("number(${initials}) > 3", "[initials] > 3"),
    ("number(${age}) + 1", "[age] + 1"),
])
def test_export(text, expected):
    assert redcap(text) == expected


@pytest.mark.parametrize("text, problem", [
    ("${age} mod 2 = 0", "mod"),
    ("years-between(${dob}, ${visit_date}) > 18", "years-between()"),
    ("string-length(${initials}) > 2", "string-length()"),
    ("concat(${initials}, 'x') = 'ax'", "concat()"),
    ("coalesce(${age}, 1) > 2", "coalesce()"),
    ("today() > ${dob}", "today()"),
])
def test_export_refuses_what_redcap_cannot_say(text, problem):
    tree = check(parse(text), _facts())
    with pytest.raises(CannotExport) as raised:
        to_redcap(tree, SPEC_FIELDS)
    assert problem in str(raised.value)


@pytest.mark.parametrize("source", [
    "-[age]^2 < -10",
    "[age] >= 18 and ([sex] = '1' or [meds(99)] = '0')",
    "datediff([dob], 'today', 'y') >= 18",
    "datediff([dob], [visit_date], 'M', true) < 6",
    "[pain] > 3",
    "[smoker] <> '1' and [initials] <> ''",
    "[pain] + [sex] >= 4",
    "[initials] > 5 and [grade] < '3'",
    "[initials] >= [age] or [sex] < [weight]",
])
def test_branching_round_trip(source):
    first = ours(source)
    back = redcap(first)
    assert ours(back) == first


@pytest.mark.parametrize("source", [
    "rounddown(datediff([dob], 'today', 'y'), 0)",
    "rounddown(datediff([dob], [visit_date], 'y', true), 0)",
    "roundup([weight] / 3, 2)",
    "rounddown([weight] / 3, 1)",
    "rounddown(abs([weight]), 2)",
    "round([weight]/(([height]/100)^2), 1)",
    "sum([age], [weight], [height])",
    "abs([weight] - [height])",
    "datediff([dob], [visit_date], 'h')",
    "datediff([dob], '2026-01-31', 's', true)",
    "[meds(1)] + [meds(2)] * 2",
    "-[weight]^2",
    "(-[weight])^2 - -[height]^3",
    "if([smoker] = '1', [age] - 1, -[weight])",
    "[pain] + [sex] + [pain] * 2",
    "sum([pain], [sex]) / 2",
    "round([initials] * 2.5, 1)",
])
def test_calculation_round_trip(source):
    first = ours(source, condition=False)
    back = redcap(first)
    assert ours(back, condition=False) == first, back
