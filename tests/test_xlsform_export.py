"""XLSForm export: workbooks ODK's pyxform accepts, and the round trip import -> export -> import."""

from pathlib import Path

import openpyxl
import pytest
from pyxform.xls2xform import convert

from collector.forms.spec import load_form
from collector.interchange.draft import InterchangeError
from collector.interchange.run import export_form, import_file
from collector.interchange.xlsform_expressions import EMAIL_REGEX
from collector.interchange.xlsform_export import write_xlsform
from xlsform_workbooks import DATA, build_workbook

REPO = Path(__file__).parent.parent
INSTRUMENTS = sorted(p.name for p in DATA.iterdir() if p.is_dir())


def non_comment_lines(path):
    return [line for line in Path(path).read_text(encoding="utf-8").splitlines()
            if not line.startswith("#")]


def sheet_rows(path, title):
    """Return a sheet's rows as dicts keyed by its header."""
    sheet = openpyxl.load_workbook(path)[title]
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def survey_row(path, name):
    return next(row for row in sheet_rows(path, "survey") if row["name"] == name)


def odk_accepts(path):
    """Convert the workbook with pyxform, as ODK would; return its warnings."""
    warnings = []
    convert(xlsform=str(path), warnings=warnings, validate=False)
    return warnings


def write_form(tmp_path, text, name="exported"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return load_form(path)


@pytest.mark.parametrize("instrument", INSTRUMENTS)
def test_round_trip_gives_the_same_form_file(tmp_path, instrument):
    source = build_workbook(DATA / instrument, tmp_path / f"{instrument}.xlsx")
    import_file(source, tmp_path / "first", form="instrument")
    first = tmp_path / "first" / "instrument.toml"
    exported = tmp_path / "exported.xlsx"
    export_form(load_form(first), xlsform=exported)
    assert odk_accepts(exported) == []
    import_file(exported, tmp_path / "second", form="instrument")
    assert non_comment_lines(tmp_path / "second" / "instrument.toml") == non_comment_lines(first)


def test_instruments_include_the_realistic_docs_and_unsupported_ones():
    assert {"household_health", "docs_basic", "docs_calculations", "docs_names_languages",
            "unsupported"} <= set(INSTRUMENTS)


@pytest.mark.parametrize("form", ["forms/followup.toml", "forms/intake.toml",
                                  "tests/forms_logic/stress.toml"])
def test_the_repository_forms_export_to_workbooks_odk_accepts(tmp_path, form):
    spec = load_form(REPO / form)
    report = write_xlsform(spec, tmp_path / "out.xlsx")
    odk_accepts(tmp_path / "out.xlsx")
    reimported = import_file(tmp_path / "out.xlsx", tmp_path / "forms", form="again")
    assert load_form(tmp_path / "forms" / "again.toml").title == spec.title
    assert report.lines() and reimported.lines()


def test_followup_reports_what_xlsform_cannot_say(tmp_path):
    report = write_xlsform(load_form(REPO / "forms/followup.toml"), tmp_path / "out.xlsx")
    general = {(p.column, p.message.split(":")[0]) for p in report.general}
    assert ("timezone", "XLSForm has no time zone setting (Europe/London)") in general
    by_field = {(e.name, p.column): p.message for e in report.entries for p in e.problems}
    assert "years-between" in by_field[("age_at_visit", "calculation")]
    assert "no yes/no type" in by_field[("smokes", "type")]
    assert "calculation" not in survey_row(tmp_path / "out.xlsx", "age_at_visit") or \
        survey_row(tmp_path / "out.xlsx", "age_at_visit")["calculation"] is None
    assert survey_row(tmp_path / "out.xlsx", "cigarettes_per_day")["relevant"] == "${smokes} = 'true'"
    assert survey_row(tmp_path / "out.xlsx", "smokes")["type"] == "select_one yes_no"


FULL_FORM = '''
title = "Everything exported"
description = "Read this first."
access = "public"
section_pages = true

[[sections]]
name = "one"
title = "One"
intro = "First page."

[[sections]]
name = "two"
title = "Two"
relevant = "${age} >= 18"

[[fields]]
section = "one"
name = "age"
type = "integer"
required = true
min = 0
max = 120

[[fields]]
section = "one"
name = "email"
type = "email"

[[fields]]
section = "one"
name = "code"
type = "text"
pattern = "A|B[0-9]"
min_length = 1
max_length = 3
constraint = "${code} != 'B0'"
constraint_message = "Not B0."

[[fields]]
section = "one"
name = "story"
type = "long_text"
label = "=A1+1 is a label, not a formula"

[[fields]]
section = "two"
name = "weight"
type = "decimal"
places = 1
min = 0.5

[[fields]]
section = "two"
name = "seen"
type = "datetime"
min = 2026-01-01T09:00:00

[[fields]]
section = "two"
name = "visit"
type = "date"
min = 2026-01-01
constraint = ". <= today()"

[[fields]]
section = "two"
name = "pets"
type = "multi_choice"
choices = [{ value = "cat", label = "Cat" }, { value = "dog", label = "Dog" }]

[[fields]]
section = "two"
name = "adult"
type = "boolean"
calculation = "${age} >= 18"
'''


@pytest.fixture
def full(tmp_path):
    spec = write_form(tmp_path, FULL_FORM)
    path = tmp_path / "full.xlsx"
    report = write_xlsform(spec, path)
    return spec, path, report


def test_export_maps_each_key_to_xlsform(full):
    _spec, path, _report = full
    assert odk_accepts(path) == []
    rows = sheet_rows(path, "survey")
    assert [(r["type"], r["name"]) for r in rows] == [
        ("note", "description"), ("begin group", "one"), ("note", "one_intro"),
        ("integer", "age"), ("text", "email"), ("text", "code"), ("text", "story"),
        ("end group", None), ("begin group", "two"), ("decimal", "weight"),
        ("dateTime", "seen"), ("date", "visit"), ("select_multiple pets", "pets"),
        ("calculate", "adult"), ("end group", None)]
    assert survey_row(path, "one")["appearance"] == "field-list"
    assert survey_row(path, "two")["relevant"] == "${age} >= 18"
    assert survey_row(path, "age")["constraint"] == ". >= 0 and . <= 120"
    assert survey_row(path, "age")["required"] == "yes"
    assert survey_row(path, "email")["constraint"] == f"regex(., '{EMAIL_REGEX}')"
    code = survey_row(path, "code")
    assert code["constraint"] == ("regex(., '^(?:A|B[0-9])$') and string-length(.) >= 1 and "
                                  "string-length(.) <= 3 and ${code} != 'B0'")
    assert code["constraint_message"] == "Not B0."
    assert survey_row(path, "story")["appearance"] == "multiline"
    assert survey_row(path, "story")["label"] == "=A1+1 is a label, not a formula"
    assert survey_row(path, "weight")["constraint"] == ". >= 0.5 and round(., 1) = ."
    assert survey_row(path, "visit")["constraint"] == ". >= date('2026-01-01') and . <= today()"
    assert survey_row(path, "visit")["constraint_message"] is None   # our default is not copied
    assert survey_row(path, "adult")["calculation"] == "${age} >= 18"
    assert survey_row(path, "adult")["read_only"] == "yes"
    choices = [(r["list_name"], r["name"], r["label"]) for r in sheet_rows(path, "choices")]
    assert choices == [("pets", "cat", "Cat"), ("pets", "dog", "Dog")]
    [settings] = sheet_rows(path, "settings")
    assert (settings["form_title"], settings["form_id"], settings["style"]) == (
        "Everything exported", "exported", "pages")


def test_export_reports_what_it_cannot_say(full):
    _spec, _path, report = full
    general = {p.column for p in report.general}
    assert general == {"access"}
    by_field = {(e.name, p.column) for e in report.entries for p in e.problems}
    assert by_field == {("code", "constraint_message"), ("seen", "min"), ("adult", "type")}


def test_exported_rules_import_back_as_the_same_keys(full, tmp_path):
    _spec, path, _report = full
    import_file(path, tmp_path / "back", form="back")
    spec = load_form(tmp_path / "back" / "back.toml")
    assert spec.field("email").type == "email"
    assert (spec.field("age").min, spec.field("age").max) == (0, 120)
    code = spec.field("code")
    # A constraint with a message of its own keeps its bounds, so the message still shows for
    # them (the export reported that they now share it); the pattern always comes back.
    assert code.pattern == "A|B[0-9]"
    assert code.constraint.source == ("string-length(.) >= 1 and string-length(.) <= 3 and "
                                      "${code} != 'B0'")
    assert code.constraint_message == "Not B0."
    assert spec.field("weight").places == 1 and str(spec.field("weight").min) == "0.5"
    assert spec.field("story").type == "long_text"
    assert spec.field("adult").type == "boolean"
    assert spec.description == "Read this first."
    assert spec.sections[0].intro == "First page."
    assert spec.section_pages is True


def test_export_refuses_to_overwrite_and_writes_nothing_partial(full, tmp_path):
    spec, path, _report = full
    with pytest.raises(InterchangeError, match="already exists"):
        export_form(spec, xlsform=path)
    target = tmp_path / "new.xlsx"
    report = export_form(spec, xlsform=target)
    assert target.exists() and not list(tmp_path.glob(".*.partial"))
    assert report.written == [f"wrote {target}"]


def test_a_boolean_field_becomes_a_yes_no_select_and_rules_compare_with_true(tmp_path):
    spec = write_form(tmp_path, '''
title = "Yes no"

[[fields]]
name = "yes_no"
type = "choice"
choices = [{ value = "a", label = "A" }]

[[fields]]
name = "smoker"
type = "boolean"

[[fields]]
name = "packs"
type = "integer"
relevant = "${smoker} and not(${smoker} = '')"
''')
    path = tmp_path / "yn.xlsx"
    write_xlsform(spec, path)
    assert odk_accepts(path) == []
    assert survey_row(path, "smoker")["type"] == "select_one yes_no_x"
    assert survey_row(path, "packs")["relevant"] == "(${smoker} = 'true') and not(${smoker} = '')"
    lists = {(r["list_name"], r["name"]) for r in sheet_rows(path, "choices")}
    assert lists == {("yes_no", "a"), ("yes_no_x", "true"), ("yes_no_x", "false")}


def test_a_select_one_read_as_a_number_exports_with_number_and_reads_back_unwrapped(tmp_path):
    source = build_workbook(DATA / "docs_calculations", tmp_path / "basket.xlsx")
    import_file(source, tmp_path / "first")
    spec = load_form(tmp_path / "first" / "basket.toml")
    assert spec.field("service_score").calculation.source == "number(${service}) * 20"
    assert spec.field("service_score").type == "integer"
    assert spec.field("tip_given").relevant.source == "number(${service}) >= 4"
    exported = tmp_path / "basket_out.xlsx"
    export_form(spec, xlsform=exported)
    assert odk_accepts(exported) == []
    assert survey_row(exported, "service_score")["calculation"] == "number(${service}) * 20"
    assert survey_row(exported, "tip_given")["relevant"] == "number(${service}) >= 4"
    import_file(exported, tmp_path / "second", form="basket")
    again = load_form(tmp_path / "second" / "basket.toml")
    assert again.field("service_score").calculation.source == "number(${service}) * 20"
    assert again.field("tip_given").relevant.source == "number(${service}) >= 4"


def test_a_guarded_constraint_without_a_message_round_trips_without_one(tmp_path):
    from xlsform_workbooks import workbook_from_rows
    source = workbook_from_rows(tmp_path / "guarded.xlsx", survey=[
        ["type", "name", "label", "constraint"], ["integer", "n", "N", ""],
        ["integer", "d", "D", ". > ${n}"]])
    import_file(source, tmp_path / "first")
    first = tmp_path / "first" / "guarded.toml"
    spec = load_form(first)
    assert spec.field("d").constraint.source == "${n} != '' and . > ${n}"
    exported = tmp_path / "out.xlsx"
    export_form(spec, xlsform=exported)
    assert survey_row(exported, "d")["constraint_message"] is None
    import_file(exported, tmp_path / "second", form="guarded")
    assert non_comment_lines(tmp_path / "second" / "guarded.toml") == non_comment_lines(first)


def test_text_that_odk_would_read_as_piping_is_reported_on_export(tmp_path):
    spec = write_form(tmp_path, '''
title = "Piping"
description = "Costs $5 or ${price}."

[[fields]]
name = "child"
label = "Child"
type = "text"

[[fields]]
name = "age"
label = "How old is ${child}?"
hint = "Not ${nobody}"
type = "integer"
''')
    report = write_xlsform(spec, tmp_path / "out.xlsx")
    lines = "\n".join(report.lines())
    assert ("field age, label: '${child}' is piping in ODK: it shows the answer of child there, "
            "where the collector shows the text as written") in lines
    assert "field age, hint: '${nobody}' is piping in ODK, and nobody is no question of this " \
           "form: ODK refuses the workbook" in lines
    assert "description: '${price}' is piping in ODK" in lines
