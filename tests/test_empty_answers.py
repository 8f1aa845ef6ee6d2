"""Empty answers: imported logic gives the outcome ODK and REDCap give, and exports back.

A tiny reference evaluator of the sources' two-valued semantics (an empty
answer is '' or NaN; a comparison with it is false, `!=` true; two empty
fields are equal) is checked against our evaluator on the rewritten tree, for
every combination of empty and answered inputs.
"""

import itertools
from datetime import date
from zoneinfo import ZoneInfo

import pytest

from collector.forms.expressions.evaluate import evaluate
from collector.forms.expressions.grammar import parse
from collector.forms.expressions.tree import Arith, Compare, IsEmpty, Literal, Logic, Negate, Ref, walk
from collector.forms.expressions.typecheck import FieldFacts, check
from collector.forms.spec import load_form
from collector.interchange.empty_answers import (EXACT, FALSE, TRUE, VALUE, faithful, plain,
                                                 to_source)
from collector.interchange.run import export_form, import_file
from tests.test_redcap_import import imported, row, write_dictionary
from tests.test_xlsform_import import q, survey_import

NAN = object()   # ODK's number('') and anything computed from it
FACTS = {"water": FieldFacts("choice", ("piped", "well", "river")), "age": FieldFacts("integer"),
         "kids": FieldFacts("integer"), "size": FieldFacts("integer"), "name": FieldFacts("text"),
         "alias": FieldFacts("text"), "visit": FieldFacts("date"), "yn": FieldFacts("boolean"),
         "sym": FieldFacts("multi_choice", ("1", "2")), "ok": FieldFacts("integer")}
# Values each field takes in the tables: None is empty.
VALUES = {"water": [None, "piped", "well"], "age": [None, 0, 18, 40], "kids": [None, 2, 18],
          "size": [None, 2, 5], "name": [None, "Ana", "Bo"], "alias": [None, "Ana"],
          "visit": [None, date(2025, 1, 1)], "yn": [None, True, False],
          "sym": [[], ["1"], ["1", "2"]], "ok": [3]}
EMPTY = frozenset(VALUES) - {"ok"}   # every field but `ok` (required, always shown) can be empty


def source_value(node, values):
    """Evaluate `node` as ODK/REDCap do: two-valued, empty answers are ''."""
    if isinstance(node, Literal):
        return node.value
    if isinstance(node, Ref):
        return values.get(node.name)
    if isinstance(node, IsEmpty):
        value = source_value(node.operand, values)
        return (value in (None, NAN) or value == []) != node.negated
    if isinstance(node, Negate):
        value = source_value(node.operand, values)
        return NAN if value in (None, NAN) else -value
    if isinstance(node, Arith):
        left, right = source_value(node.left, values), source_value(node.right, values)
        if left in (None, NAN) or right in (None, NAN):
            return NAN
        return {"+": lambda: left + right, "-": lambda: left - right,
                "*": lambda: left * right}[node.op]()
    if isinstance(node, Compare):
        left, right = source_value(node.left, values), source_value(node.right, values)
        if left is None and right is None and isinstance(node.left, Ref) \
                and isinstance(node.right, Ref):
            return node.op == "="   # '' = '' is true; ordering reads NaN: false
        if left in (None, NAN) or right in (None, NAN):
            return node.op == "!="
        return {"=": left == right, "!=": left != right, "<": left < right,
                "<=": left <= right, ">": left > right, ">=": left >= right}[node.op]
    if isinstance(node, Logic):
        left, right = (bool(source_value(side, values)) for side in (node.left, node.right))
        return (left and right) if node.op == "and" else (left or right)
    if node.name == "not":
        return not source_value(node.args[0], values)
    if node.name == "if":
        chosen = node.args[1] if source_value(node.args[0], values) else node.args[2]
        return source_value(chosen, values)
    if node.name == "selected":
        value = source_value(node.args[0], values) or []
        return node.args[1].value in value
    raise AssertionError(f"the reference evaluator does not know {node}")


def outcome(key, value):
    """Return what a rule's value does: shown, passes, or the value itself."""
    if key == "relevant":
        return value is True
    if key == "constraint":
        return value is not False
    return None if value is NAN else value


def combinations(tree):
    names = sorted({n.name for n in walk(tree) if isinstance(n, Ref)})
    for chosen in itertools.product(*(VALUES[name] for name in names)):
        yield dict(zip(names, chosen))


MODES = {"relevant": TRUE, "constraint": FALSE, "calculation": VALUE}
CASES = [
    # (key, source expression, our rewritten expression)
    ("relevant", "${water} != 'piped'", "${water} = '' or ${water} != 'piped'"),
    ("relevant", "${water} = 'piped'", "${water} = 'piped'"),
    ("relevant", "${age} > 18", "${age} > 18"),
    ("relevant", "not(${age} > 18)", "not(${age} != '' and ${age} > 18)"),
    ("relevant", "not(${water} != 'piped')", "not(${water} != 'piped')"),
    ("relevant", "${age} >= 18 and ${name} != 'Ana'",
     "${age} >= 18 and (${name} = '' or ${name} != 'Ana')"),
    ("relevant", "${water} != 'piped' or ${age} < 5",
     "${water} = '' or ${water} != 'piped' or ${age} < 5"),
    ("relevant", "${name} = ${alias}",
     "(${name} = '' and ${alias} = '') or (${name} != '' and ${alias} != '' and ${name} = ${alias})"),
    ("relevant", "${name} != ${alias}",
     "(${name} != '' or ${alias} != '') and (${name} = '' or ${alias} = '' or ${name} != ${alias})"),
    ("relevant", "${age} + ${kids} != 20",
     "${age} = '' or ${kids} = '' or ${age} + ${kids} != 20"),
    ("relevant", "${ok} != 3", "${ok} != 3"),                 # never empty: left alone
    ("relevant", "${age} = ''", "${age} = ''"),
    ("relevant", "not(selected(${sym}, '1'))", "not(selected(${sym}, '1'))"),
    ("relevant", "${yn} = true()", "${yn} = true()"),
    ("relevant", "${yn} != true()", "${yn} = '' or ${yn} != true()"),
    ("relevant", "not(${yn})", "not(${yn} != '' and ${yn})"),
    ("relevant", "if(${water} != 'piped', ${age} > 3, false())",
     "if(${water} = '' or ${water} != 'piped', ${age} > 3, false())"),
    ("relevant", "${visit} < date('2025-06-01')", "${visit} < date('2025-06-01')"),
    ("constraint", ". <= ${size}", "${size} != '' and . <= ${size}"),
    ("constraint", ". != ${size}", ". != ${size}"),
    ("constraint", ". >= 0 and . <= ${size}", ". >= 0 and (${size} != '' and . <= ${size})"),
    ("constraint", "not(. = ${size})", "not(. = ${size})"),   # ODK: not(false) passes; ours too
    ("constraint", ". < ${size} or ${water} = 'piped'",
     "(${size} != '' and . < ${size}) or (${water} != '' and ${water} = 'piped')"),
    ("calculation", "if(${water} != 'piped', 1, 0)", "if(${water} = '' or ${water} != 'piped', 1, 0)"),
    ("calculation", "if(${age} > 18, 1, 0)", "if(${age} > 18, 1, 0)"),
    ("calculation", "${age} >= 18", "${age} != '' and ${age} >= 18"),
    ("calculation", "${water} != 'well'", "${water} = '' or ${water} != 'well'"),
    ("calculation", "${age} * 2 + ${kids}", "${age} * 2 + ${kids}"),
    ("calculation", "if(not(${name} = 'Ana'), ${age}, -${kids})",
     "if(not(${name} != '' and ${name} = 'Ana'), ${age}, -${kids})"),
]


@pytest.mark.parametrize("key, source, expected", CASES, ids=[c[1] for c in CASES])
def test_the_rewrite_gives_the_source_outcome_for_every_empty_and_answered_input(
        key, source, expected):
    this = "kids" if key == "constraint" else None
    tree = check(parse(source), FACTS, this)
    empty = EMPTY - {this}
    rewritten = faithful(tree, empty, MODES[key])
    assert to_source(rewritten, this) == expected
    for values in combinations(tree):
        if this:
            values[this] = 18   # a constraint is checked only on an answer
        ours = evaluate(rewritten, values, ZoneInfo("UTC"))
        theirs = source_value(tree, values)
        assert outcome(key, ours) == outcome(key, theirs), (source, values, ours, theirs)


@pytest.mark.parametrize("key, source, expected", CASES, ids=[c[1] for c in CASES])
def test_the_printed_rewrite_reads_back_the_same_and_the_exporter_gets_the_source_back(
        key, source, expected):
    this = "kids" if key == "constraint" else None
    tree = check(parse(source), FACTS, this)
    empty = EMPTY - {this}
    rewritten = faithful(tree, empty, MODES[key])
    assert check(parse(to_source(rewritten, this)), FACTS, this) == rewritten
    assert plain(rewritten, empty) == tree
    assert faithful(tree, frozenset(), MODES[key]) == tree   # nothing can be empty: no change


def test_a_user_written_guard_is_kept_and_survives_the_round_trip():
    tree = check(parse("${water} = '' or ${water} != 'piped'"), FACTS)
    rewritten = faithful(tree, EMPTY, TRUE)
    assert plain(rewritten, EMPTY) == tree
    for values in combinations(tree):
        assert (evaluate(rewritten, values, ZoneInfo("UTC")) is True) == source_value(tree, values)


def test_exact_mode_never_leaves_a_comparison_unknown():
    tree = check(parse("${age} > 18 and ${name} != 'Ana' or not(${water} = 'well')"), FACTS)
    rewritten = faithful(tree, EMPTY, EXACT)
    for values in combinations(tree):
        assert evaluate(rewritten, values, ZoneInfo("UTC")) == source_value(tree, values)


# Through the importers and exporters.

def test_odk_relevant_with_not_equal_shows_the_question_while_the_source_is_empty(tmp_path):
    draft, report, text = survey_import(tmp_path, [
        q("select_one yn", "water", "Piped water?"),
        q("integer", "minutes", "Minutes", relevant="${water} != 'yes'"),
        q("integer", "hh_size", "Household size", required="yes"),
        q("integer", "kids", "Children", relevant="not(${hh_size} > 1)",
          constraint=". <= ${minutes}", message="No more than the minutes"),
        q("integer", "adults", "Adults", constraint=". <= ${hh_size}")])
    assert draft.field("minutes")["relevant"] == "${water} = '' or ${water} != 'yes'"
    assert draft.field("kids")["relevant"] == "not(${hh_size} > 1)"   # hh_size is required
    assert draft.field("kids")["constraint"] == "${minutes} != '' and . <= ${minutes}"
    assert draft.field("adults")["constraint"] == ". <= ${hh_size}"
    assert "${water} = '' or ${water} != 'yes'" in text


def test_odk_division_by_a_field_in_a_comparison_is_reported(tmp_path):
    _draft, report, _text = survey_import(tmp_path, [
        q("integer", "weight", "Weight"), q("integer", "height", "Height"),
        q("text", "note", "Note", relevant="${weight} div ${height} > 2")])
    messages = [p.message for e in report.entries for p in e.problems if p.column == "relevant"]
    assert any("dividing by 0" in m for m in messages)


def test_redcap_not_equal_shows_the_field_while_the_radio_is_blank(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"), row("sex", "radio", choices="1, Male | 2, Female"),
        row("pregnant", "yesno", branching="[sex] <> '1'"),
        row("weeks", "text", validation="integer", branching="[pregnant] = '1' and [sex] <> '1'"),
        row("score", "calc", choices="if([sex] <> '1', 1, 0)"),
        row("visit_date", "text", validation="date_ymd"),
        row("next_date", "text", validation="date_ymd", min="[visit_date]")])
    fields, _drafts, report, _texts = imported(path)
    visit = fields["visit"]
    assert visit["pregnant"]["relevant"] == "${sex} = '' or ${sex} != '1'"
    assert visit["weeks"]["relevant"] == "${pregnant} = true() and (${sex} = '' or ${sex} != '1')"
    assert visit["score"]["calculation"] == "if(${sex} = '' or ${sex} != '1', 1, 0)"
    assert visit["next_date"]["constraint"] == ". >= ${visit_date}"   # REDCap's own check: kept
    kept = [p.message for e in report.entries for p in e.problems if "kept as it is" in p.message]
    assert len(kept) == 1 and "${visit_date}" in kept[0]


@pytest.mark.parametrize("fmt", ["xlsform", "redcap"])
def test_round_trip_writes_the_source_shape_back(tmp_path, fmt):
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"), row("sex", "radio", choices="1, Male | 2, Female"),
        row("pregnant", "yesno", branching="[sex] <> '1'"),
        row("score", "calc", choices="if([sex] <> '1', 1, 0)")])
    import_file(path, tmp_path / "first")
    first = tmp_path / "first" / "visit.toml"
    out = tmp_path / ("out.xlsx" if fmt == "xlsform" else "out.csv")
    report = export_form(load_form(first), **{fmt: out})
    assert not any("read differently" in p.message for e in report.entries for p in e.problems)
    if fmt == "redcap":
        written = out.read_text(encoding="utf-8-sig")
        assert "[sex] <> '1'" in written and "[sex] = ''" not in written
        import_file(out, tmp_path / "second")
        second = tmp_path / "second" / "visit.toml"
        strip = lambda p: [line for line in p.read_text().splitlines() if not line.startswith("#")]
        assert strip(second) == strip(first)


def test_exporting_a_native_rule_reports_where_odk_and_redcap_differ(tmp_path):
    form = tmp_path / "native.toml"
    form.write_text('title = "Native"\n\n'
                    '[[fields]]\nname = "water"\nlabel = "Water"\ntype = "text"\n\n'
                    '[[fields]]\nname = "minutes"\nlabel = "Minutes"\ntype = "integer"\n'
                    'relevant = "${water} != \'piped\'"\n')
    spec = load_form(form)
    for fmt, out in (("xlsform", tmp_path / "n.xlsx"), ("redcap", tmp_path / "n.csv")):
        report = export_form(spec, **{fmt: out})
        found = [p.message for e in report.entries for p in e.problems if "read differently" in p.message]
        assert len(found) == 1 and "${water}" in found[0]
        assert "${water} = '' or ${water} != 'piped'" in found[0]
