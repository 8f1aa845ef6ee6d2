"""Expressions compiled to SQL give, in real PostgreSQL, exactly what docs/FORMS.md says.

Trees are built by hand (as the type checker would leave them) and run
against rows of a real table holding every type, empties, zero divisors,
negatives, boundaries and non-ASCII text.
"""

import random
import uuid
from datetime import date, datetime, timezone as tz
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import (ARRAY, BigInteger, Boolean, Column, Date, DateTime, Identity, Integer,
                        MetaData, Numeric, Table, Text)

from collector.db.logic_sql import to_sql
from collector.db.sqltext import ddl
from collector.forms.expressions.evaluate import evaluate
from collector.forms.expressions.grammar import parse
from collector.forms.expressions.tree import (Arith, Call, Compare, IsEmpty, Literal, Logic,
                                              Negate, Ref)
from collector.forms.expressions.typecheck import FieldFacts, check as typecheck

# The probe table's columns and the expression type of each.
TYPES = {"n": "integer", "m": "integer", "x": "decimal", "y": "decimal", "t": "text",
         "u": "text", "c": "text", "s": "text", "d": "date", "e": "date", "at": "datetime", "flag": "boolean",
         "other": "boolean", "picks": "multi"}
LONDON = ZoneInfo("Europe/London")
T, F, U = True, False, None


# --- building checked trees by hand --------------------------------------------------------

def ref(name):
    return Ref(name, type=TYPES[name])


def lit(value):
    kind = {bool: "boolean", int: "integer", Decimal: "decimal", str: "text", date: "date"}
    return Literal(value, type=kind[type(value)])


def num(text):
    return lit(Decimal(text)) if "." in text or "E" in text else lit(int(text))


def arith(op, left, right):
    if left.type == "date":
        kind = "integer"
    elif op == "div" or "decimal" in (left.type, right.type):
        kind = "decimal"
    else:
        kind = "integer"
    return Arith(op, left, right, type=kind)


def compare(op, left, right):
    return Compare(op, left, right, type="boolean")


def logic(op, left, right):
    return Logic(op, left, right, type="boolean")


def call(name, *args, type):
    return Call(name, tuple(args), type=type)


def empty(node, negated=False):
    return IsEmpty(node, negated, type="boolean")


def neg(node):
    return Negate(node, type=node.type)


# --- the probe table -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def probe(engine):
    """A table with one column of every type; return (engine, table)."""
    metadata = MetaData()
    table = Table(f"logic_probe_{uuid.uuid4().hex[:8]}", metadata,
                  Column("id", BigInteger, Identity(), primary_key=True),
                  Column("n", Integer), Column("m", Integer), Column("x", Numeric),
                  Column("y", Numeric), Column("t", Text), Column("u", Text), Column("c", Text),
                  Column("s", Text), Column("d", Date),
                  Column("e", Date), Column("at", DateTime(timezone=True)), Column("flag", Boolean),
                  Column("other", Boolean), Column("picks", ARRAY(Text)),
                  Column("submitted_at", DateTime(timezone=True)))
    metadata.create_all(engine)
    yield engine, table
    metadata.drop_all(engine)


def run(probe, node, rows, timezone=LONDON):
    """Insert `rows`; return the compiled expression's value for each, in order."""
    engine, table = probe
    sql = to_sql(node, timezone)
    with engine.begin() as conn:
        ids = [conn.execute(table.insert().values(row).returning(table.c.id)).scalar()
               for row in rows]
        found = dict(conn.execute(ddl(f"SELECT id, {sql} FROM {table.name} "
                                      f"WHERE id IN ({', '.join(map(str, ids))})")).all())
        conn.execute(table.delete())
    return [found[i] for i in ids]


def check(probe, node, cases, timezone=LONDON):
    """Assert `node` gives each case's expected value on that case's row."""
    rows = [row for row, _expected in cases]
    got = run(probe, node, rows, timezone)
    for (row, expected), value in zip(cases, got):
        assert value == expected and type(value) is type(expected), (row, expected, value)


# --- numbers: exact, no int4 overflow, div and mod ------------------------------------------

def test_integers_are_numeric_so_products_never_overflow(probe):
    check(probe, arith("*", ref("n"), ref("m")), [
        ({"n": 2147483647, "m": 2147483647}, Decimal("4611686014132420609")),
        ({"n": -2147483648, "m": 2}, Decimal("-4294967296")),
        ({"n": 3, "m": None}, None),
    ])
    check(probe, arith("+", ref("n"), num("1")), [({"n": 2147483647}, Decimal(2147483648))])
    check(probe, arith("+", ref("n"), lit(2**53 + 1)), [({"n": 0}, Decimal(2**53 + 1))])  # no float
    check(probe, neg(ref("n")), [({"n": -2147483648}, Decimal(2147483648)), ({"n": None}, None)])


def test_decimals_are_exact(probe):
    check(probe, compare("=", arith("+", num("0.1"), num("0.2")), num("0.3")), [({}, True)])
    check(probe, arith("-", ref("x"), ref("y")), [
        ({"x": Decimal("0.1"), "y": Decimal("0.3")}, Decimal("-0.2")),
        ({"x": Decimal("123456789012345678901234567890.5"), "y": Decimal("0.5")},
         Decimal("123456789012345678901234567890.0")),
        ({"x": None, "y": Decimal("1")}, None),
    ])
    check(probe, arith("*", ref("x"), num("1E+2")), [({"x": Decimal("1.5")}, Decimal("150.0"))])


def test_div_keeps_ten_places_cut_toward_zero(probe):
    check(probe, arith("div", ref("n"), ref("m")), [
        ({"n": 7, "m": 2}, Decimal("3.5")),
        ({"n": -7, "m": 2}, Decimal("-3.5")),
        ({"n": 1, "m": 3}, Decimal("0.3333333333")),
        ({"n": 2, "m": 3}, Decimal("0.6666666666")),     # cut, not rounded to …67
        ({"n": -2, "m": 3}, Decimal("-0.6666666666")),   # toward zero, not floor
        ({"n": 2, "m": -3}, Decimal("-0.6666666666")),
        ({"n": 0, "m": -5}, Decimal(0)),
        ({"n": 5, "m": 0}, None),
        ({"n": None, "m": 2}, None),
        ({"n": 2, "m": None}, None),
        ({"n": 2147483647, "m": 1}, Decimal(2147483647)),
    ])
    check(probe, arith("div", ref("x"), ref("y")), [
        ({"x": Decimal("1"), "y": Decimal("0.3")}, Decimal("3.3333333333")),
        ({"x": Decimal("0.00000000001"), "y": Decimal("1")}, Decimal(0)),  # below 10 places
        ({"x": Decimal("-0.00000000019"), "y": Decimal("0.1")}, Decimal("-0.0000000019")),
        ({"x": Decimal("72.5"), "y": Decimal("0.0")}, None),
        ({"x": Decimal("1E+30"), "y": Decimal("7")}, Decimal("142857142857142857142857142857.1428571428")),
    ])


def test_mod_has_the_sign_of_the_dividend_and_mod_zero_is_empty(probe):
    check(probe, arith("mod", ref("n"), ref("m")), [
        ({"n": 7, "m": 2}, Decimal(1)),
        ({"n": -7, "m": 2}, Decimal(-1)),
        ({"n": 7, "m": -2}, Decimal(1)),
        ({"n": -7, "m": -2}, Decimal(-1)),
        ({"n": 6, "m": 3}, Decimal(0)),
        ({"n": 6, "m": 0}, None),
        ({"n": None, "m": 3}, None),
    ])
    check(probe, arith("mod", ref("x"), ref("y")), [
        ({"x": Decimal("5.5"), "y": Decimal("2")}, Decimal("1.5")),
        ({"x": Decimal("-5.5"), "y": Decimal("2")}, Decimal("-1.5")),
        ({"x": Decimal("5.5"), "y": Decimal("0.00")}, None),
    ])


def test_date_minus_date_is_whole_days(probe):
    check(probe, arith("-", ref("e"), ref("d")), [
        ({"d": date(2024, 2, 28), "e": date(2024, 3, 1)}, Decimal(2)),   # leap year
        ({"d": date(2023, 2, 28), "e": date(2023, 3, 1)}, Decimal(1)),
        ({"d": date(2026, 1, 1), "e": date(2025, 12, 31)}, Decimal(-1)),
        ({"d": date(1, 1, 1), "e": date(9999, 12, 31)}, Decimal(3652058)),
        ({"d": None, "e": date(2026, 1, 1)}, None),
    ])
    # A number of days compares and computes like any number.
    check(probe, compare(">", arith("-", ref("e"), ref("d")), num("30")), [
        ({"d": date(2026, 1, 1), "e": date(2026, 2, 1)}, True),
        ({"d": date(2026, 1, 1), "e": date(2026, 1, 31)}, False),
        ({"d": None, "e": date(2026, 1, 31)}, None),
    ])


def test_int_cuts_toward_zero_and_round_goes_half_away_from_zero(probe):
    check(probe, call("int", ref("x"), type="integer"), [
        ({"x": Decimal("2.7")}, Decimal(2)), ({"x": Decimal("-2.7")}, Decimal(-2)),
        ({"x": Decimal("-0.5")}, Decimal(0)), ({"x": None}, None),
    ])
    check(probe, call("round", ref("x"), lit(0), type="decimal"), [
        ({"x": Decimal("2.5")}, Decimal(3)), ({"x": Decimal("-2.5")}, Decimal(-3)),
        ({"x": Decimal("3.5")}, Decimal(4)), ({"x": Decimal("2.4999999999")}, Decimal(2)),
        ({"x": None}, None),
    ])
    check(probe, call("round", ref("x"), lit(2), type="decimal"), [
        ({"x": Decimal("0.125")}, Decimal("0.13")), ({"x": Decimal("-0.125")}, Decimal("-0.13")),
        ({"x": Decimal("0.135")}, Decimal("0.14")), ({"x": Decimal("1")}, Decimal("1.00")),
    ])
    # BMI as a form would write it: weight div (height * height), rounded to 1 place.
    bmi = call("round", arith("div", ref("x"), arith("*", ref("y"), ref("y"))), lit(1), type="decimal")
    check(probe, bmi, [
        ({"x": Decimal("72.5"), "y": Decimal("1.80")}, Decimal("22.4")),
        ({"x": Decimal("50"), "y": Decimal("2")}, Decimal("12.5")),
        ({"x": Decimal("72.5"), "y": Decimal("0")}, None),
        ({"x": None, "y": Decimal("1.8")}, None),
    ])


# --- comparisons and three-valued logic ---------------------------------------------------------

def test_comparisons_with_an_empty_side_are_unknown(probe):
    for op, expected in (("=", F), ("!=", T), ("<", T), ("<=", T), (">", F), (">=", F)):
        check(probe, compare(op, ref("n"), ref("x")), [
            ({"n": 1, "x": Decimal("1.5")}, expected),
            ({"n": None, "x": Decimal("1.5")}, None),
            ({"n": 1, "x": None}, None),
        ])
    check(probe, compare("=", ref("n"), ref("x")), [({"n": 2, "x": Decimal("2.000")}, True)])
    check(probe, compare("<", ref("d"), ref("e")), [
        ({"d": date(2026, 1, 1), "e": date(2026, 1, 2)}, True), ({"d": None, "e": date(2026, 1, 2)}, None)])
    check(probe, compare("=", ref("t"), lit("Zoë")), [
        ({"t": "Zoë"}, True), ({"t": "Zoe\u0308"}, False),  # decomposed ë is other text
        ({"t": "zoë"}, False), ({"t": None}, None)])
    check(probe, compare("!=", ref("flag"), ref("other")), [
        ({"flag": True, "other": False}, True), ({"flag": True, "other": None}, None)])
    check(probe, compare(">=", ref("at"), Literal(datetime(2026, 3, 29, 1, 0, tzinfo=tz.utc), type="datetime")), [
        ({"at": datetime(2026, 3, 29, 2, 0, tzinfo=LONDON)}, True),  # 01:00 UTC: BST began
        ({"at": datetime(2026, 3, 29, 0, 59, tzinfo=tz.utc)}, False),
    ])


TRUTH = (True, False, None)


def kleene_and(a, b):
    return False if False in (a, b) else None if None in (a, b) else True


def kleene_or(a, b):
    return True if True in (a, b) else None if None in (a, b) else False


@pytest.mark.parametrize("op, truth", [("and", kleene_and), ("or", kleene_or)])
def test_and_or_are_three_valued(probe, op, truth):
    cases = [({"flag": a, "other": b}, truth(a, b)) for a in TRUTH for b in TRUTH]
    check(probe, logic(op, ref("flag"), ref("other")), cases)


def test_not_of_unknown_is_unknown(probe):
    check(probe, call("not", ref("flag"), type="boolean"),
          [({"flag": True}, False), ({"flag": False}, True), ({"flag": None}, None)])


def test_if_takes_else_when_the_condition_is_unknown(probe):
    node = call("if", compare(">", ref("n"), num("0")), lit("positive"), lit("not positive"), type="text")
    check(probe, node, [({"n": 5}, "positive"), ({"n": 0}, "not positive"),
                        ({"n": None}, "not positive")])
    numbers = call("if", ref("flag"), ref("n"), ref("x"), type="decimal")
    check(probe, numbers, [({"flag": True, "n": 3, "x": Decimal("1.5")}, Decimal(3)),
                           ({"flag": None, "n": 3, "x": Decimal("1.5")}, Decimal("1.5")),
                           ({"flag": True, "n": None, "x": Decimal("1.5")}, None)])


# --- empties: never unknown where the language says so ------------------------------------------

def test_is_empty_is_never_unknown(probe):
    check(probe, empty(ref("t")), [({"t": None}, True), ({"t": "x"}, False), ({"t": " "}, False),
                                   ({"t": ""}, True)])  # '' as a calculation may store it
    check(probe, empty(ref("t"), negated=True), [({"t": None}, False), ({"t": "x"}, True),
                                                 ({"t": ""}, False)])
    check(probe, empty(ref("n")), [({"n": None}, True), ({"n": 0}, False)])
    check(probe, empty(ref("d"), negated=True), [({"d": None}, False), ({"d": date(2026, 1, 1)}, True)])
    check(probe, empty(arith("div", ref("n"), ref("m"))), [({"n": 1, "m": 0}, True), ({"n": 1, "m": 2}, False)])


def test_a_multi_choice_with_no_ticks_is_empty(probe):
    check(probe, empty(ref("picks")), [({"picks": None}, True), ({"picks": []}, True),
                                      ({"picks": ["a"]}, False)])
    check(probe, empty(ref("picks"), negated=True), [({"picks": None}, False), ({"picks": []}, False),
                                                    ({"picks": ["a", "b"]}, True)])


def test_selected_of_an_empty_answer_is_false(probe):
    odd = "o'brien: 50%"
    check(probe, call("selected", ref("picks"), lit("asthma"), type="boolean"), [
        ({"picks": ["asthma", "gout"]}, True), ({"picks": ["gout"]}, False),
        ({"picks": []}, False), ({"picks": None}, False), ({"picks": ["Asthma"]}, False),
        ({"picks": [None, "gout"]}, False)])
    check(probe, call("selected", ref("picks"), lit(odd), type="boolean"), [
        ({"picks": [odd]}, True), ({"picks": ["o'brien"]}, False)])
    check(probe, call("selected", ref("t"), lit("café"), type="boolean"), [
        ({"t": "café"}, True), ({"t": "cafe"}, False), ({"t": None}, False)])


def test_count_selected_and_string_length_of_empty_are_zero(probe):
    check(probe, call("count-selected", ref("picks"), type="integer"), [
        ({"picks": None}, Decimal(0)), ({"picks": []}, Decimal(0)), ({"picks": ["a", "b", "c"]}, Decimal(3))])
    check(probe, call("string-length", ref("t"), type="integer"), [
        ({"t": None}, Decimal(0)), ({"t": "Zoë"}, Decimal(3)), ({"t": "😀👍🏽"}, Decimal(3)),
        ({"t": "e\u0301"}, Decimal(2)), ({"t": "日本語"}, Decimal(3)), ({"t": "a\nb"}, Decimal(3))])


def test_concat_skips_empties_and_joining_only_empties_is_empty(probe):
    node = call("concat", ref("t"), lit(" – "), ref("u"), type="text")
    check(probe, node, [({"t": "Ünal", "u": "北京"}, "Ünal – 北京"), ({"t": None, "u": "x"}, " – x"),
                        ({"t": None, "u": None}, " – ")])
    check(probe, call("concat", ref("t"), ref("u"), type="text"), [
        ({"t": None, "u": None}, None), ({"t": "a", "u": None}, "a"), ({"t": "'; --", "u": "%s"}, "'; --%s")])
    check(probe, call("concat", lit(""), type="text"), [({}, None)])


def test_coalesce_takes_the_first_non_empty_value(probe):
    check(probe, call("coalesce", ref("n"), ref("x"), num("0"), type="decimal"), [
        ({"n": 4, "x": Decimal("1.5")}, Decimal(4)), ({"n": None, "x": Decimal("1.5")}, Decimal("1.5")),
        ({"n": None, "x": None}, Decimal(0))])
    check(probe, call("coalesce", ref("t"), ref("u"), type="text"), [
        ({"t": None, "u": "ß"}, "ß"), ({"t": None, "u": None}, None)])


NUMBER_TEXTS = [
    ("3", Decimal("3")), ("-12.50", Decimal("-12.50")), ("+0.125", Decimal("0.125")),
    ("  42  ", Decimal("42")), ("007", Decimal("7")), ("-0", Decimal("0")), ("-0.00", Decimal("0.00")),
    ("9" * 40, Decimal("9" * 40)), ("0." + "1" * 38, Decimal("0." + "1" * 38)),
    ("9" * 41, None), ("1e3", None), ("1E3", None), ("1,5", None), (".5", None), ("5.", None),
    ("", None), (" ", None), ("+", None), ("-.5", None), ("1 000", None), ("12\t", None),
    ("\n12", None), ("12\n", None), ("NaN", None), ("Infinity", None), ("١٢", None),
    ("１２", None), ("0x10", None), ("1_000", None), ("'; --", None), ("--1", None), (None, None),
]


def test_number_reads_plain_decimal_text_and_anything_else_is_empty_never_an_error(probe):
    node = call("number", ref("t"), type="decimal")
    got = run(probe, node, [{"t": text} for text, _ in NUMBER_TEXTS])
    for (text, expected), value in zip(NUMBER_TEXTS, got):
        assert value == expected and (value is None or str(value) == str(expected)), (text, value)
        assert evaluate(node, {"t": text}, LONDON) == expected, text
    # A constant that is not a number is folded away, not cast at planning time.
    for text in ("abc", "1e3", "", " "):
        check(probe, call("number", lit(text), type="decimal"), [({}, None)])
    check(probe, call("number", lit(" 2.50 "), type="decimal"), [({}, Decimal("2.50"))])
    # A number is returned as it is.
    check(probe, call("number", ref("n"), type="integer"), [({"n": 5}, Decimal(5)), ({"n": None}, None)])


def test_a_score_adds_choice_codes_and_compares_as_a_number(probe):
    score = arith("+", call("number", ref("s"), type="integer"), call("number", ref("c"), type="decimal"))
    check(probe, score, [({"s": "3", "c": "yes"}, None), ({"s": "3", "c": None}, None),
                         ({"s": "2", "c": "1.5"}, Decimal("3.5")), ({"s": None, "c": "1"}, None)])
    check(probe, compare(">=", call("number", ref("s"), type="integer"), num("2")), [
        ({"s": "10"}, True), ({"s": "1"}, False), ({"s": None}, None)])


# --- dates: ages and today ---------------------------------------------------------------------------

def test_years_between_counts_whole_years_with_floor(probe):
    node = call("years-between", ref("d"), ref("e"), type="integer")
    check(probe, node, [
        ({"d": date(1990, 5, 1), "e": date(2026, 4, 30)}, Decimal(35)),
        ({"d": date(1990, 5, 1), "e": date(2026, 5, 1)}, Decimal(36)),
        ({"d": date(2000, 2, 29), "e": date(2001, 2, 28)}, Decimal(0)),   # a leapling's birthday
        ({"d": date(2000, 2, 29), "e": date(2001, 3, 1)}, Decimal(1)),
        ({"d": date(2000, 2, 29), "e": date(2004, 2, 29)}, Decimal(4)),
        ({"d": date(2026, 1, 1), "e": date(2026, 1, 1)}, Decimal(0)),
        ({"d": date(2000, 6, 1), "e": date(1999, 7, 1)}, Decimal(-1)),    # floor when negative
        ({"d": date(2000, 6, 1), "e": date(1999, 5, 1)}, Decimal(-2)),
        ({"d": date(2000, 6, 1), "e": date(1999, 6, 1)}, Decimal(-1)),
        ({"d": date(1, 1, 1), "e": date(9999, 12, 31)}, Decimal(9998)),
        ({"d": None, "e": date(2026, 1, 1)}, None),
        ({"d": date(2026, 1, 1), "e": None}, None),
    ])


def test_today_is_the_day_the_row_was_saved_in_the_forms_zone(probe):
    node = call("today", type="date")
    late = datetime(2026, 3, 1, 23, 30, tzinfo=tz.utc)
    summer = datetime(2026, 7, 1, 23, 30, tzinfo=tz.utc)
    check(probe, node, [({"submitted_at": late}, date(2026, 3, 1)),
                        ({"submitted_at": summer}, date(2026, 7, 2))], timezone=LONDON)
    check(probe, node, [({"submitted_at": late}, date(2026, 3, 2))], timezone=ZoneInfo("Pacific/Auckland"))
    check(probe, node, [({"submitted_at": late}, date(2026, 3, 1))], timezone="America/Los_Angeles")
    age = call("years-between", ref("d"), node, type="integer")
    check(probe, age, [({"d": date(2000, 3, 2), "submitted_at": late}, Decimal(26))],
          timezone="Pacific/Auckland")


# --- the SQL text itself ----------------------------------------------------------------------------

def test_literals_are_quoted_and_keep_their_exact_value():
    assert to_sql(lit("it's: $$ \\ %"), "UTC") == "('it''s: $$ \\ %'::text)"
    assert to_sql(lit(Decimal("1E+2")), "UTC") == "(100::numeric)"
    assert to_sql(lit(52), "UTC") == "(52::numeric)"
    assert to_sql(lit(12345678901234567890123), "UTC") == "(12345678901234567890123::numeric)"
    assert to_sql(lit(Decimal("-0.0000001")), "UTC") == "(-0.0000001::numeric)"
    assert to_sql(lit(date(2026, 1, 31)), "UTC") == "('2026-01-31'::date)"
    assert to_sql(call("today", type="date"), "Europe/London") == \
        "((submitted_at AT TIME ZONE 'Europe/London')::date)"


def test_an_unknown_node_is_refused_not_guessed():
    with pytest.raises(ValueError, match="function"):
        to_sql(call("random", type="decimal"), "UTC")
    with pytest.raises(ValueError, match="literal"):
        to_sql(Literal(object(), type="text"), "UTC")


# --- the reference: SQL gives what evaluate() gives, on many rows -------------------------------

FIELD_FACTS = {"n": FieldFacts("integer"), "m": FieldFacts("integer"), "x": FieldFacts("decimal"),
               "y": FieldFacts("decimal"), "t": FieldFacts("text"), "u": FieldFacts("long_text"),
               "c": FieldFacts("choice", ("yes", "no", "maybe")),
               "s": FieldFacts("choice", ("0", "1", "2", "3", "-1", "+2", "010")), "d": FieldFacts("date"),
               "e": FieldFacts("date"), "at": FieldFacts("datetime"), "flag": FieldFacts("boolean"),
               "other": FieldFacts("boolean"),
               "picks": FieldFacts("multi_choice", ("a", "b", "c", "it's: 50%"))}

EXPRESSIONS = [
    # numbers
    "${n} + ${m}", "${n} * ${m}", "${n} - ${x}", "${x} * ${y}", "-${n}", "-${x} + 1.5",
    "${n} div ${m}", "${x} div ${y}", "${n} div 3", "1 div ${x}", "${n} mod ${m}", "${x} mod ${y}",
    "${x} mod 0.7", "${e} - ${d}", "(${e} - ${d}) div 7", "(${e} - ${d}) mod 7",
    "0.1 + 0.2 = 0.3", "${n} * 12345678901234567890 + ${x}",
    # comparisons and logic
    "${n} > ${m}", "${x} <= ${y}", "${n} = ${x}", "${n} != ${x} - 1", "${t} = ${u}",
    "${t} != 'Zoë'", "${c} = 'yes'", "${d} < ${e}", "${d} >= date('2001-03-01')",
    "${at} > ${at}", "${flag} = ${other}", "${flag} != true()", "${flag} and ${other}",
    "${flag} or not(${other})", "not(${n} > 0) or ${x} < 0", "${n} > 0 and ${x} > 0 or ${flag}",
    # empties
    "${t} = ''", "${t} != ''", "${picks} = ''", "${picks} != ''", "${n} = ''", "${d} != ''",
    "${at} = ''", "${flag} = ''", "concat(${t}, ${u}) = ''", "if(${flag}, ${t}, '') = ''",
    # choices and text
    "selected(${picks}, 'a')", 'selected(${picks}, "it\'s: 50%")', "selected(${c}, 'no')",
    "count-selected(${picks})", "count-selected(${picks}) >= 2", "string-length(${t})",
    "string-length(concat(${t}, ${u}))", "concat(${t}, ' – ', ${u})", "concat(${t}, ${u})",
    "concat(${c})",
    # functions
    "coalesce(${n}, ${x}, 0)", "coalesce(${t}, ${u})", "coalesce(${d}, ${e})",
    "coalesce(${at}, ${at})", "if(${flag}, ${n}, ${x})", "if(${n} > ${m}, 'big', '')",
    "if(${flag}, ${d}, ${e})", "int(${x})", "int(${n} div ${m})", "round(${x}, 2)",
    "round(${x} div ${y}, 1)", "round(${n}, 0)", "round(-${x}, 15)",
    "round(${x} div (${y} * ${y}), 1)",
    # dates
    "years-between(${d}, ${e})", "years-between(${d}, today())", "today() - ${d}",
    "${d} <= today()", "years-between(${e}, ${d}) < 0",
    # text to numbers
    "number(${s})", "number(${s}) + number(${s}) * 3", "coalesce(number(${s}), 0) + ${n}",
    "number(${s}) >= 2", "number(${t})", "number(${u}) + ${x}", "number(${c})",
    "number(concat(${s}, ${t}))", "number(concat(${t}, '.', ${s}))", "number(${n}) + number(${x})",
    "int(number(${t}) div 3)", "number(' -12.5 ')", "number('abc')", "number(${t}) = ''",
]

INTEGERS = [None, 0, 1, -1, 2, 3, -7, 7, 52, 100, 2147483647, -2147483648]
DECIMALS = [None, Decimal("0"), Decimal("0.0"), Decimal("1.5"), Decimal("-2.5"), Decimal("0.125"),
            Decimal("-0.125"), Decimal("72.5"), Decimal("1.80"), Decimal("0.1"), Decimal("0.3"),
            Decimal("0.35"), Decimal("-0.0000000001"), Decimal("99999999999.9999999999"),
            Decimal("123456789012345678901234567890"), Decimal("2.5"), Decimal("-1")]
TEXTS = [None, "Zoë", "Zoe\u0308", "a", "A", "o'brien", "日本語", "😀👍🏽", " ", "x" * 300, "",
         "'; DROP TABLE t; --", "%s %(x)s", ":name", "\\", "line\nbreak", "yes",
         "12", " -3.50 ", "0.1", "+7", "-0", "1e3", "1,5", ".5", "3", "9" * 40, "9" * 41, "١٢"]
CODES = [None, "yes", "no", "maybe"]
SCORES = [None, "0", "1", "2", "3", "-1", "+2", "010"]
DATES = [None, date(2000, 2, 29), date(2001, 2, 28), date(2001, 3, 1), date(1, 1, 1),
         date(9999, 12, 31), date(2026, 3, 1), date(2026, 3, 2), date(1990, 5, 1), date(2026, 11, 22),
         date(1999, 12, 31)]
MOMENTS = [None, datetime(2026, 3, 29, 0, 59, tzinfo=tz.utc), datetime(2026, 3, 29, 1, 0, tzinfo=tz.utc),
           datetime(1, 1, 2, tzinfo=tz.utc), datetime(9999, 12, 30, tzinfo=tz.utc)]
TRUTHS = [None, True, False]
PICKS = [None, [], ["a"], ["a", "b"], ["b", "c"], ["a", "b", "c", "it's: 50%"], ["it's: 50%"]]
SAVED = [datetime(2026, 3, 1, 23, 30, tzinfo=tz.utc), datetime(2026, 7, 1, 12, 0, tzinfo=tz.utc),
         datetime(2026, 11, 21, 11, 0, tzinfo=tz.utc), datetime(2000, 2, 28, 11, 30, tzinfo=tz.utc)]
POOLS = {"n": INTEGERS, "m": INTEGERS, "x": DECIMALS, "y": DECIMALS, "t": TEXTS, "u": TEXTS,
         "c": CODES, "s": SCORES, "d": DATES, "e": DATES, "at": MOMENTS, "flag": TRUTHS, "other": TRUTHS,
         "picks": PICKS, "submitted_at": SAVED}


def random_rows(count, seed):
    """Rows drawn from the pools: every empty, zero, sign and boundary meets every other."""
    chooser = random.Random(seed)
    return [{name: chooser.choice(pool) for name, pool in POOLS.items()} for _ in range(count)]


def same(kind, expected, got):
    if expected is None or got is None:
        return expected is got
    if kind in ("integer", "decimal"):
        return Decimal(expected) == got and isinstance(got, Decimal)
    return type(expected) is type(got) and expected == got


@pytest.mark.parametrize("zone", ["Europe/London", "Pacific/Kiritimati"])
def test_sql_gives_what_the_python_reference_gives(probe, zone):
    engine, table = probe
    timezone = ZoneInfo(zone)
    rows = random_rows(500, seed=zone)
    with engine.begin() as conn:
        ids = [conn.execute(table.insert().values(row).returning(table.c.id)).scalar() for row in rows]
    try:
        checked = 0
        for source in EXPRESSIONS:
            tree = typecheck(parse(source), FIELD_FACTS)
            with engine.connect() as conn:
                found = dict(conn.execute(ddl(f"SELECT id, {to_sql(tree, timezone)} "
                                              f"FROM {table.name}")).all())
            for row_id, row in zip(ids, rows):
                today = row["submitted_at"].astimezone(timezone).date()
                expected = evaluate(tree, row, timezone, today=today)
                assert same(tree.type, expected, found[row_id]), (source, row, expected, found[row_id])
                if "number(" in source and isinstance(expected, Decimal):  # the same scale too
                    assert str(expected) == str(found[row_id]), (source, row, expected, found[row_id])
                checked += 1
        assert checked == len(EXPRESSIONS) * len(rows)
    finally:
        with engine.begin() as conn:
            conn.execute(table.delete())
