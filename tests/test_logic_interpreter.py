"""static/form_logic.js in a real Chromium: exact numbers, empty answers, text, dates and date-times.

Each test sends many cases in one round trip and compares with what Python
(the server's parsers and zoneinfo, Decimal) says.
"""

import random
from datetime import date, datetime, timedelta, timezone as tz
from decimal import ROUND_HALF_UP, Decimal, localcontext
from zoneinfo import ZoneInfo

import pytest

from collector.forms import messages, values as parse
from collector.forms.expressions.evaluate import evaluate
from collector.forms.expressions.tree import Negate
from collector.forms.validation import check_field
from collector.web.logic_json import encode
from tests.logic_js import (arith, build, calc, call, compare, empty, field, lit, logic, open_logic,
                            ref)
from tests.test_browser import browser  # noqa: F401

pytestmark = pytest.mark.slow

A, B = field("a", "decimal"), field("b", "decimal")
I, J = field("i", "integer"), field("j", "integer")
P, Q = field("p", "boolean"), field("q", "boolean")
TXT, TXT2 = field("s", "text"), field("u", "text")


@pytest.fixture(scope="module")
def logic_page(browser):  # noqa: F811
    context, logic_page = open_logic(browser)
    yield logic_page
    context.close()


def decimal_ref(name="a"):
    return ref(name, "decimal")


def exact(op, a, b):
    """What the language means by `a op b` on exact decimals (None is empty)."""
    with localcontext() as ctx:
        ctx.prec = 2000
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if b == 0:
            return None
        if op == "mod":
            return a % b   # Decimal's % keeps the sign of the dividend
        quotient = (a / b).quantize(Decimal(1).scaleb(-10), rounding="ROUND_DOWN")
        return quotient


def same_number(js, py):
    return (js is None and py is None) or (js is not None and py is not None and Decimal(js) == py)


def test_arithmetic_is_exact_on_random_decimals(logic_page):
    rng = random.Random(10)

    def number():
        digits = rng.choice([1, 2, 5, 12, 20, 30])
        whole = str(rng.randrange(10 ** digits))
        places = rng.choice([0, 0, 1, 2, 3, 9, 15])
        text = whole + ("." + "".join(rng.choice("0123456789") for _ in range(places)) if places else "")
        text = rng.choice(["", "-", "+"]) + text
        return text[:parse.MAX_NUMBER_CHARS]

    for op in ("+", "-", "*", "div", "mod"):
        program = calc("decimal", arith(op, decimal_ref("a"), decimal_ref("b"), "decimal"), [A, B])
        cases = [{"a": number(), "b": rng.choice([number(), "0", "-0.000", "1", "3", "7.0"])}
                 for _ in range(300)]
        got = logic_page.outs(program, cases)
        for case, value in zip(cases, got):
            expected = exact(op, Decimal(case["a"]), Decimal(case["b"]))
            assert same_number(value, expected), (op, case, value, expected)
            if expected is not None and op != "div":   # the scale is the one PostgreSQL keeps too
                assert len(value.partition(".")[2]) == max(-expected.as_tuple().exponent, 0), (op, case)


@pytest.mark.parametrize("op, a, b, expected", [
    ("+", "0.1", "0.2", "0.3"),
    ("+", "1.50", "1", "2.50"),
    ("*", "1.1", "1.1", "1.21"),
    ("-", "0.3", "0.1", "0.2"),
    ("div", "1", "3", "0.3333333333"),
    ("div", "2", "3", "0.6666666666"),            # cut, not rounded
    ("div", "-2", "3", "-0.6666666666"),          # toward zero
    ("div", "1", "1.0000000000000000000000000001", "0.9999999999"),  # past 28 digits: still cut
    ("div", "10", "4", "2.5000000000"),
    ("div", "1", "0", None),
    ("div", "0", "-5", "0.0000000000"),
    ("mod", "7", "-2", "1"),                      # the sign of the dividend
    ("mod", "-7", "2", "-1"),
    ("mod", "-7.5", "2", "-1.5"),
    ("mod", "7", "2.00", "1.00"),
    ("mod", "5", "0", None),
    ("*", "99999999999999999999.99999999999999999", "99999999999999999999.99999999999999999",
     # (10^20 - 10^-17)^2 = 10^40 - 2000 + 10^-34, every digit kept
     "9999999999999999999999999999999999998000.0000000000000000000000000000000001"),
])
def test_arithmetic_cases(logic_page, op, a, b, expected):
    program = calc("decimal", arith(op, decimal_ref("a"), decimal_ref("b"), "decimal"), [A, B])
    assert logic_page.outs(program, [{"a": a, "b": b}]) == [expected]


def test_integer_arithmetic_stays_whole_and_mod_follows_the_dividend(logic_page):
    cases = [(7, 2), (-7, 2), (7, -2), (-7, -2), (0, 5), (2147483647, 1), (-2147483648, -1)]
    for op, fn in {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
                   "mod": lambda x, y: int(Decimal(x) % Decimal(y))}.items():
        program = calc("decimal", arith(op, ref("i", "integer"), ref("j", "integer"), "integer"), [I, J])
        got = logic_page.outs(program, [{"i": str(x), "j": str(y)} for x, y in cases])
        assert got == [str(fn(x, y)) for x, y in cases], op


def test_int_and_round(logic_page):
    def rounded(places):
        return {"calculation": call("round", "decimal", decimal_ref(), lit(places, "integer"))}
    program = build([(A, None, {}),
                     (field("t", "integer"), None, {"calculation": call("int", "integer", decimal_ref())}),
                     (field("r2", "decimal"), None, rounded(2)), (field("r0", "decimal"), None, rounded(0))])
    inputs = ["1.005", "-1.005", "0.125", "2.5", "-2.5", "-3.7", "3.9999", "1.2", "0", "-0.004", ""]
    results = logic_page.evaluate(program, [{"a": a} for a in inputs])
    for a, result in zip(inputs, results):
        v = result["values"]
        if not a:
            assert (v["t"], v["r2"], v["r0"]) == (None, None, None)
            continue
        d = Decimal(a)
        assert v["t"] == str(int(d)), a
        assert v["r2"] == str(d.quantize(Decimal("0.01"), ROUND_HALF_UP)).replace("-0.00", "0.00"), a
        assert Decimal(v["r0"]) == d.quantize(Decimal("1"), ROUND_HALF_UP), a
    # A scale below the places is padded, as round(1.2, 3) is 1.200 in Python and PostgreSQL.
    program = calc("decimal", call("round", "decimal", decimal_ref(), lit(3, "integer")), [A])
    assert logic_page.outs(program, [{"a": "1.2"}]) == ["1.200"]


def test_a_calculated_decimal_is_stored_with_its_places_half_away_from_zero(logic_page):
    program = calc("decimal", arith("div", decimal_ref("a"), decimal_ref("b"), "decimal"), [A, B], places=1)
    cases = [{"a": "1", "b": "3"}, {"a": "1", "b": "4"}, {"a": "-1", "b": "4"}, {"a": "72.5", "b": "3.0625"},
             {"a": "1", "b": "0"}]
    assert logic_page.outs(program, cases) == ["0.3", "0.3", "-0.3", "23.7", None]


def test_a_calculated_value_outside_its_rules_is_an_error_on_it(logic_page):
    program = calc("decimal", arith("*", decimal_ref("a"), decimal_ref("b"), "decimal"), [A, B],
                   places=1, min=Decimal("10"), max=Decimal("50"))
    results = logic_page.evaluate(program, [{"a": "400", "b": "1"}, {"a": "5", "b": "1"}, {"a": "20", "b": "1"}])
    assert [r["errors"].get("out") for r in results] == [
        messages.calculated(Decimal("400.0"), "Enter at most 50."),
        messages.calculated(Decimal("5.0"), "Enter at least 10."), None]
    assert [r["kinds"].get("out") for r in results] == ["calculation", "calculation", None]
    assert results[0]["values"]["out"] == "400.0"
    program = calc("integer", arith("*", ref("i", "integer"), ref("j", "integer"), "integer"), [I, J])
    result = logic_page.evaluate(program, [{"i": "100000", "j": "100000"}])[0]
    out_of_range = messages.out_of_int_range(parse.INT_MIN, parse.INT_MAX)
    assert result["errors"] == {"out": messages.calculated(10 ** 10, out_of_range)}
    program = calc("text", call("concat", "text", ref("s", "text"), ref("u", "text")), [TXT, TXT2], max_length=3)
    result = logic_page.evaluate(program, [{"s": "Ζω", "u": "ή😀"}])[0]
    assert result["errors"] == {"out": messages.calculated("Ζωή😀", "Use at most 3 characters (you used 4).")}
    # A calculated text keeps the field's pattern too (validation.check_typed), whatever "$&" it holds.
    program = calc("text", call("concat", "text", ref("s", "text"), ref("u", "text")), [TXT, TXT2],
                   pattern="[A-Z]+", hint="capitals {value} $&")
    results = logic_page.evaluate(program, [{"s": "AB", "u": "C"}, {"s": "a$&", "u": "{problem}"}])
    assert [r["errors"] for r in results] == [
        {}, {"out": messages.calculated("a$&{problem}", "Use the expected format: capitals {value} $&.")}]


KLEENE = [True, False, None]


def raw_bool(value):
    return {True: "true", False: "false", None: ""}[value]


def kleene_and(a, b):
    return False if False in (a, b) else True if (a, b) == (True, True) else None


def kleene_or(a, b):
    return True if True in (a, b) else False if (a, b) == (False, False) else None


def test_and_or_not_are_three_valued(logic_page):
    p, q = ref("p", "boolean"), ref("q", "boolean")
    cases = [{"p": raw_bool(x), "q": raw_bool(y)} for x in KLEENE for y in KLEENE]
    for node, fn in [(logic("and", p, q), kleene_and), (logic("or", p, q), kleene_or),
                     (call("not", "boolean", p), lambda x, _y: None if x is None else not x)]:
        got = logic_page.outs(calc("boolean", node, [P, Q]), cases)
        assert got == [raw_bool(fn(x, y)) or None for x in KLEENE for y in KLEENE], node


def test_empty_answers(logic_page):
    multi = field("m", "multi_choice", choices=["x", "y", "z"])
    choice = field("c", "choice", choices=["x", "y"])
    program = build([(I, None, {}), (multi, None, {}), (choice, None, {}), (TXT, None, {})] + [
        (field(name, type), None, {"calculation": node}) for name, type, node in [
            ("gt", "boolean", compare(">", ref("i", "integer"), lit(3, "integer"))),
            ("eq", "boolean", compare("=", ref("i", "integer"), ref("i", "integer"))),
            ("plus", "integer", arith("+", ref("i", "integer"), lit(1, "integer"), "integer")),
            ("neg", "integer", Negate(ref("i", "integer"), type="integer")),
            ("is_empty", "boolean", empty(ref("i", "integer"))),
            ("answered", "boolean", empty(ref("i", "integer"), negated=True)),
            ("m_empty", "boolean", empty(ref("m", "multi"))),
            ("sel_y", "boolean", call("selected", "boolean", ref("m", "multi"), lit("y", "text"))),
            ("c_sel", "boolean", call("selected", "boolean", ref("c", "text"), lit("x", "text"))),
            ("count", "integer", call("count-selected", "integer", ref("m", "multi"))),
            ("length", "integer", call("string-length", "integer", ref("s", "text"))),
            ("joined", "text", call("concat", "text", ref("s", "text"), lit("-", "text"), ref("c", "text"))),
            ("first", "integer", call("coalesce", "integer", ref("i", "integer"), lit(7, "integer"))),
            ("branch", "integer", call("if", "integer", compare(">", ref("i", "integer"), lit(3, "integer")),
                                       lit(1, "integer"), lit(2, "integer"))),
        ]])
    blank, filled = logic_page.evaluate(program, [{"m": []}, {"i": "5", "m": ["y", "x"], "c": "x", "s": "  Ωμέγα "}])
    assert blank["values"] == {"i": None, "m": [], "c": None, "s": None, "gt": None, "eq": None, "plus": None,
                               "neg": None, "is_empty": "true", "answered": "false", "m_empty": "true",
                               "sel_y": "false", "c_sel": "false", "count": "0", "length": "0", "joined": "-",
                               "first": "7", "branch": "2"}
    assert filled["values"] == {"i": "5", "m": ["x", "y"], "c": "x", "s": "Ωμέγα", "gt": "true", "eq": "true",
                                "plus": "6", "neg": "-5", "is_empty": "false", "answered": "true",
                                "m_empty": "false", "sel_y": "true", "c_sel": "true", "count": "2",
                                "length": "5", "joined": "Ωμέγα-x", "first": "5", "branch": "1"}
    assert blank["errors"] == filled["errors"] == {}
    # concat of nothing at all is empty, not ''.
    program = calc("text", call("concat", "text", ref("s", "text"), ref("u", "text")), [TXT, TXT2])
    assert logic_page.outs(program, [{}, {"s": " ", "u": "\u3000"}]) == [None, None]


def test_string_length_counts_code_points_like_python(logic_page):
    program = calc("integer", call("string-length", "integer", ref("s", "text")), [TXT])
    texts = ["👩‍🔬", "é", "e\u0301", "😀", "  x  ", "\u00a0x\u3000", "\ufeffx", "𝔘𝔫𝔦", "中文字", "a\r\nb", "\x1cx\x85"]
    assert logic_page.outs(program, [{"s": s} for s in texts]) == [
        str(len(s.replace("\r\n", "\n").strip())) for s in texts]


def test_text_is_trimmed_exactly_as_the_server_trims_it(logic_page):
    ints, decimals, text = field("i", "integer"), field("a", "decimal", places=2), field("s", "text", max_length=3)
    program = build([(ints, None, {}), (decimals, None, {}), (text, None, {})])
    samples = ["+042", " 7\u00a0", "\x1c7\x1f", "\ufeff7", "\u200b7", "2147483647", "2147483648", "-2147483648",
               "1.0", "٣", "1.", ".5", "1e5", "-0.00", "1.500", "0" * 41, "\u20287\u2029", "7\x00", "\t\n\v\f\r7"]
    samples += ["😀😀😀", "😀😀😀😀", "a\r\nb", " \u0085 ", "ab\x00"]
    results = logic_page.evaluate(program, [{"i": s, "a": s, "s": s} for s in samples])
    for sample, result in zip(samples, results):
        for f in (ints, decimals, text):
            try:
                expected, error = check_field(f, sample, ZoneInfo("UTC")), None
            except ValueError as refused:
                expected, error = None, str(refused)
            got = result["values"][f.name]
            assert result["errors"].get(f.name) == error, (f.name, sample)
            if f.type == "text":
                assert got == expected, (f.name, sample)
            else:
                assert same_number(got, expected), (f.name, sample, got)


NUMBER_SAMPLES = ["3", "-12.50", "+0.125", "007", "-0", "-0.00", "9" * 40, "9" * 41, "0." + "1" * 38,
                  "1e3", "1E3", "1,5", ".5", "5.", "+", "-.5", "1 000", "NaN", "Infinity", "١٢", "１２",
                  "0x10", "1_000", "--1", "12345678901234567890.123456789", "Zoë", "😀1", "1\n2"]


def test_number_reads_text_exactly_as_python_does(logic_page):
    text_number = call("number", "decimal", ref("s", "text"))
    padded = call("number", "decimal", call("concat", "text", lit("  ", "text"), ref("s", "text"),
                                            lit(" ", "text")))
    tabbed = call("number", "decimal", call("concat", "text", ref("s", "text"), lit("\t", "text")))
    program = build([(TXT, None, {})] + [(field(name, "decimal"), None, {"calculation": node})
                                         for name, node in [("plain", text_number), ("padded", padded),
                                                            ("tabbed", tabbed)]])
    results = logic_page.evaluate(program, [{"s": sample} for sample in NUMBER_SAMPLES + [""]])
    for sample, result in zip(NUMBER_SAMPLES + [""], results):
        stored = check_field(TXT, sample, ZoneInfo("UTC"))
        for name, node in (("plain", text_number), ("padded", padded), ("tabbed", tabbed)):
            expected = evaluate(node, {"s": stored}, ZoneInfo("UTC"))
            got = result["values"][name]
            assert got == (None if expected is None else format(expected, "f")), (name, sample, got)
    assert [r["values"]["padded"] for r in results[:3]] == ["3", "-12.50", "0.125"]
    # A megabyte of spaces inside a long text is read in linear time (and is no number).
    spaces = field("w", "long_text")
    program = calc("decimal", call("number", "decimal", call("concat", "text", lit("1", "text"), ref("w", "text"),
                                                                  lit("x", "text"))), [spaces])
    assert logic_page.outs(program, [{"w": "a" + " " * 1_000_000 + "b"}]) == [None]


def test_a_score_adds_choice_codes_as_whole_numbers(logic_page):
    codes = ["0", "1", "2", "3", "-1", "+2", "010"]
    first, second = field("c", "choice", choices=codes), field("d", "choice", choices=codes)
    total = arith("+", call("number", "integer", ref("c", "text")), call("number", "integer", ref("d", "text")),
                  "integer")
    program = calc("integer", total, [first, second], max=10)
    cases = [{"c": a, "d": b} for a in codes + [""] for b in codes]
    for case, result in zip(cases, logic_page.evaluate(program, cases)):
        expected = None if not case["c"] else int(case["c"]) + int(case["d"])
        assert result["values"]["out"] == (None if expected is None else str(expected)), case
        assert ("out" in result["errors"]) == (expected is not None and expected > 10), case


def test_email_and_pattern_and_choices(logic_page):
    email = field("e", "email", max_length=254)
    code = field("pid", "text", pattern="P[0-9]{4}", hint="P and four digits")
    site = field("site", "choice", choices=["north", "south"])
    ticks = field("ticks", "multi_choice", choices=["x", "y"], required=True)
    program = build([(email, None, {}), (code, None, {}), (site, None, {}), (ticks, None, {})])
    cases = [{"e": "a b@c.d", "pid": "P0042", "site": " north ", "ticks": [" y", "x", "x"]},
             {"e": "a\u00a0b@c.d", "pid": "p0042", "site": "east", "ticks": []},
             {"e": "a\ufeffb@c.d", "pid": "P00421", "site": "", "ticks": ["x", "w"]},
             {"e": "ra@example.org", "pid": "", "ticks": ["", " "]}]
    for case, result in zip(cases, logic_page.evaluate(program, cases)):
        for f in (email, code, site, ticks):
            raw = case.get(f.name, [] if f.type == "multi_choice" else "")
            try:
                expected, error = check_field(f, raw, ZoneInfo("UTC")), None
            except ValueError as refused:
                expected, error = None, str(refused)
            assert (result["values"][f.name], result["errors"].get(f.name)) == (expected, error), (f.name, raw)


def test_dates_and_years_between(logic_page):
    dob, visit = field("dob", "date"), field("visit", "date")
    program = build([(dob, None, {}), (visit, None, {}),
                     (field("age", "integer"), None, {"calculation": call(
                         "years-between", "integer", ref("dob", "date"), ref("visit", "date"))}),
                     (field("days", "integer"), None, {"calculation": arith(
                         "-", ref("visit", "date"), ref("dob", "date"), "integer")})])
    pairs = [("2000-02-29", "2026-02-28"), ("2000-02-29", "2026-03-01"), ("2026-03-01", "2000-02-29"),
             ("1990-05-01", "2026-05-01"), ("1990-05-01", "2026-04-30"), ("0001-01-01", "9999-12-31"),
             ("2026-12-31", "2026-01-01"), ("1582-10-04", "1582-10-15")]
    results = logic_page.evaluate(program, [{"dob": a, "visit": b} for a, b in pairs])
    for (a, b), result in zip(pairs, results):
        a, b = date.fromisoformat(a), date.fromisoformat(b)
        years = (b.year - a.year) - (1 if (b.month, b.day) < (a.month, a.day) else 0)
        assert result["values"]["age"] == str(years)
        assert result["values"]["days"] == str((b - a).days)
    bad = ["2026-02-29", "0000-01-01", "2026-1-01", "2026-13-01", "2026-04-31", " 2024-02-29 "]
    results = logic_page.evaluate(program, [{"dob": s} for s in bad])
    assert [r["errors"].get("dob") for r in results] == [messages.DATE] * 5 + [None]
    assert results[-1]["values"]["dob"] == "2024-02-29"


def test_today_is_the_date_in_the_forms_timezone(logic_page):
    program_for = lambda zone: calc("date", call("today", "date"), [], zone=zone)  # noqa: E731
    assert logic_page.outs(program_for("UTC"), [{}], today="2026-01-31") == ["2026-01-31"]
    assert program_for("Pacific/Niue")["zone"]["changes"]          # today() reads the server's offsets
    for zone in ("Pacific/Kiritimati", "Pacific/Niue", "Europe/London", "America/Sao_Paulo"):
        before = datetime.now(ZoneInfo(zone)).date().isoformat()
        got = logic_page.outs(program_for(zone), [{}])[0]
        after = datetime.now(ZoneInfo(zone)).date().isoformat()
        assert got in (before, after), zone


# Zone: the years compared. The program carries the server's offsets for 1900-2100, so
# the browser agrees even where Chromium's own data differs (its ICU and Debian's tzdata
# 2025b put Dublin's change of October 1925 at different instants, and ICU keeps
# Casablanca at +00:00 from 2026-09-20 on).
ZONES = {"Europe/London": (1890, 2045), "America/Sao_Paulo": (1890, 2045),
         "America/New_York": (1890, 2045), "Australia/Lord_Howe": (1890, 2045),
         "Pacific/Apia": (1890, 2045), "Pacific/Chatham": (1890, 2045), "Asia/Kolkata": (1890, 2045),
         "Europe/Dublin": (1900, 2045), "Africa/Casablanca": (1900, 2100)}


def transitions(zone, start=1890, end=2045):
    """Yield (instant, offset before, offset after) of each change of `zone`'s UTC offset."""
    info = ZoneInfo(zone)
    moment = datetime(start, 1, 1, tzinfo=tz.utc)
    previous = moment.astimezone(info).utcoffset()
    step = timedelta(days=1)
    while moment.year < end:
        later = moment + step
        offset = later.astimezone(info).utcoffset()
        if offset != previous:
            low, high = moment, later     # bisect to the second
            while high - low > timedelta(seconds=1):
                mid = low + (high - low) / 2
                mid = mid.replace(microsecond=0)
                if mid.astimezone(info).utcoffset() == previous:
                    low = mid
                else:
                    high = mid
            yield high, previous, offset
            previous = offset
        moment = later


def wall_times_around(instant, before, after):
    """Wall times just before, inside and just after the gap or fold a change makes."""
    low, high = instant + min(before, after), instant + max(before, after)
    for wall in (low - timedelta(seconds=1), low, low + (high - low) / 2, high - timedelta(seconds=1),
                 high, high + timedelta(minutes=30)):
        yield wall.replace(tzinfo=None, microsecond=0)


def test_datetimes_read_in_the_zone_as_python_reads_them_in_gaps_and_folds(logic_page):
    for zone, (start, end) in ZONES.items():
        moment = field("at", "datetime")
        program = build([(moment, None, {})], zone=zone)
        walls = [w for change in transitions(zone, start, end) for w in wall_times_around(*change)]
        if zone != "Africa/Casablanca":   # past 1900-2100, where Chromium's own data must agree
            walls += [datetime(1800, 6, 1, 12), datetime(2100, 3, 28, 1, 30), datetime(2100, 10, 31, 1, 30),
                      datetime(1, 1, 2, 0, 0), datetime(1, 1, 1, 23, 0), datetime(9999, 12, 29, 23, 59, 59)]
        texts = [w.isoformat(timespec="seconds") for w in walls]
        results = logic_page.evaluate(program, [{"at": text} for text in texts])
        mismatches = []
        for text, result in zip(texts, results):
            try:
                expected = parse.parse_datetime(text, ZoneInfo(zone)).astimezone(tz.utc).isoformat()
            except ValueError:
                expected = None
            if result["values"]["at"] != expected:
                mismatches.append((text, result["values"]["at"], expected))
        assert len(texts) > 20 and mismatches == [], (zone, mismatches[:5], len(mismatches))


def test_datetime_text_forms_and_the_storable_window(logic_page):
    program = build([(field("at", "datetime"), None, {})], zone="Europe/London")
    texts = ["2026-03-29T01:30", "2026-10-25T01:30", "2026-10-25 01:30:00.5", "2026-01-01T00:00+05:60",
             "2026-01-01T00:00+23:60", "2026-01-01T00:00-23:59", "2026-01-01T24:00", "2026-01-01T00:60",
             "2026-01-01T00:00:60", "2026-01-01T00:00Z", "2026-01-01T00:00:00.1234567", "0001-01-01T00:00Z",
             "0001-01-02T00:00Z", "0001-01-02T00:00", "9999-12-30T00:00Z", "9999-12-30T00:00:00.000001Z",
             "9999-12-30T00:00:00.000001+00:01", " 2026-06-01T12:00\u3000", "2026-06-01T12:00:00.000000"]
    results = logic_page.evaluate(program, [{"at": s} for s in texts])
    for text, result in zip(texts, results):
        try:
            expected, error = parse.parse_datetime(text, ZoneInfo("Europe/London")), None
            expected = expected.astimezone(tz.utc).isoformat()
        except ValueError as refused:
            expected, error = None, str(refused)
        assert (result["values"]["at"], result["errors"].get("at")) == (expected, error), text
    for zone, text in [("Pacific/Kiritimati", "9999-12-30T00:00"), ("Pacific/Niue", "9999-12-30T00:00")]:
        result = logic_page.evaluate(build([(field("at", "datetime"), None, {})], zone=zone), [{"at": text}])[0]
        try:
            expected = parse.parse_datetime(text, ZoneInfo(zone)).astimezone(tz.utc).isoformat()
        except ValueError:
            expected = None
        assert result["values"]["at"] == expected, zone


def test_datetimes_compare_as_instants_across_a_fold(logic_page):
    start, end = field("start", "datetime"), field("end", "datetime")
    later = compare(">", ref("end", "datetime"), ref("start", "datetime"))
    program = build([(start, None, {}), (end, None, {"constraint": later, "constraint_message": "End after start."})],
                    zone="Europe/London")
    cases = [{"start": "2026-10-25T01:30", "end": "2026-10-25T01:15"},   # 00:30Z then 00:15Z (both BST)
             {"start": "2026-10-25T00:59", "end": "2026-10-25T01:00"},
             {"start": "2026-03-29T01:30", "end": "2026-03-29T02:15"}]   # 01:30 is in the gap: 01:30Z = 02:30 BST
    assert [r["errors"] for r in logic_page.evaluate(program, cases)] == [
        {"end": "End after start."}, {}, {"end": "End after start."}]


def test_datetime_bounds_are_instants(logic_page):
    bounded = field("at", "datetime", min=datetime(2026, 3, 29, 1, 0, tzinfo=tz.utc),
                    max=datetime(2026, 10, 25, 1, 0, tzinfo=tz.utc))
    program = build([(bounded, None, {})], zone="Europe/London")
    texts = ["2026-03-29T00:59", "2026-03-29T01:30", "2026-03-29T02:00", "2026-10-25T01:59", "2026-10-25T02:00"]
    results = logic_page.evaluate(program, [{"at": s} for s in texts])
    for text, result in zip(texts, results):
        try:
            check_field(bounded, text, ZoneInfo("Europe/London"))
            error = None
        except ValueError as refused:
            error = str(refused)
        assert result["errors"].get("at") == error, text


def test_relevance_hides_clears_and_lifts_required(logic_page):
    smoker = field("smoker", "boolean", required=True)
    cigs = field("cigs", "integer", required=True, min=1)
    is_smoker = compare("=", ref("smoker", "boolean"), lit(True, "boolean"))
    at_most = compare("<=", ref("cigs", "integer"), lit(200, "integer"))
    limit = field("limit", "integer")
    under_limit = compare("<=", ref("cigs", "integer"), ref("limit", "integer"))
    program = build([(smoker, None, {}), (limit, None, {}),
                     (cigs, is_smoker, {"constraint": logic("and", at_most, under_limit),
                                        "constraint_message": "Enter at most 200 a day."})])
    cases = [{}, {"smoker": "true"}, {"smoker": "false", "cigs": "20"}, {"smoker": "true", "cigs": "250"},
             {"smoker": "true", "cigs": "20"}, {"smoker": "true", "cigs": "20", "limit": "10"},
             {"smoker": "true", "cigs": "abc"}, {"smoker": "true", "cigs": "0"}, {"smoker": "yes", "cigs": "5"}]
    got = [(r["shown"]["cigs"], r["values"]["cigs"], r["errors"].get("cigs"), r["kinds"].get("cigs"))
           for r in logic_page.evaluate(program, cases)]
    assert got == [
        (False, None, None, None),                     # unknown relevance hides; required lifted
        (True, None, "Enter a value.", "value"),
        (False, None, None, None),                     # hidden: whatever was sent is dropped
        (True, "250", "Enter at most 200 a day.", "constraint"),
        (True, "20", None, None),                      # limit empty: the rule is unknown, so it passes
        (True, "20", "Enter at most 200 a day.", "constraint"),
        (True, None, messages.WHOLE_NUMBER, "value"),  # its own check first; no constraint on nothing
        (True, None, "Enter at least 1.", "value"),
        (False, None, None, None)]                     # smoker refused: empty, so cigs is hidden
    assert logic_page.evaluate(program, [{"smoker": "yes"}])[0]["errors"] == {"smoker": "Choose yes or no."}


def test_calculations_chain_in_evaluation_order_and_sections_show(logic_page):
    weight, height = field("weight", "decimal"), field("height", "decimal")
    bmi = field("bmi", "decimal", places=1)
    band = field("band", "text")
    h = ref("height", "decimal")
    bmi_tree = arith("div", ref("weight", "decimal"), arith("*", h, h, "decimal"), "decimal")
    band_tree = call("if", "text", compare(">=", ref("bmi", "decimal"), lit(Decimal("25.0"), "decimal")),
                     lit("high", "text"), lit("ok", "text"))
    consent = field("consent", "boolean")
    sections = [{"name": "body", "shown_when": encode(compare("=", ref("consent", "boolean"), lit(True, "boolean")))},
                {"name": "end", "shown_when": None}]
    program = build([(consent, None, {}), (weight, None, {}), (height, None, {}),
                     (bmi, None, {"calculation": bmi_tree}), (band, None, {"calculation": band_tree})],
                    sections=sections)
    results = logic_page.evaluate(program, [
        {"consent": "true", "weight": "72.5", "height": "1.70", "bmi": "999", "band": "sent anyway"},
        {"consent": "true", "weight": "100", "height": "1.9"},
        {"consent": "false", "weight": "72.5"}])
    assert [(r["values"]["bmi"], r["values"]["band"]) for r in results] == [
        ("25.1", "high"), ("27.7", "high"), (None, "ok")]   # unknown takes the else
    assert [r["sections"] for r in results] == [{"body": True, "end": True}] * 2 + [{"body": False, "end": True}]
