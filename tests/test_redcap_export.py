"""Export forms as REDCap data dictionaries, and the round trip import -> export -> import."""

import csv
from pathlib import Path

import pytest

from collector.forms.spec import load_form
from collector.interchange.draft import InterchangeError
from collector.interchange.form_writer import settle
from collector.interchange.redcap_csv import COLUMNS
from collector.interchange.redcap_export import write_redcap
from collector.interchange.redcap_import import read_redcap
from collector.interchange.run import export_form, import_file

DATA = Path(__file__).parent / "data" / "redcap"
FORMS = Path(__file__).parent.parent / "forms"
DICTIONARIES = ["cohort_study.csv", "docs_demographics.csv", "unsupported.csv", "phq9_screen.csv"]


def form_lines(text):
    return [line for line in text.splitlines() if not line.startswith("#")]


def import_texts(path):
    drafts, report = read_redcap(path)
    return {draft.name: settle(draft, report) for draft in drafts}, report


def rows_of(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def problems(report):
    return [(e.name, p.column, p.message) for e in report.entries for p in e.problems] + \
        [("", p.column, p.message) for p in report.general]


@pytest.mark.parametrize("dictionary", DICTIONARIES)
def test_round_trip_gives_the_same_form_file(dictionary, tmp_path):
    first, _report = import_texts(DATA / dictionary)
    for name, text in first.items():
        form_file = tmp_path / f"{name}.toml"
        form_file.write_text(text, encoding="utf-8")
        exported = tmp_path / f"{name}.csv"
        export_report = export_form(load_form(form_file), redcap=exported)
        assert export_report.written == [f"wrote {exported}"]
        again, report = import_texts(exported)
        assert list(again) == [name]
        assert form_lines(again[name]) == form_lines(text)
        assert "left out" not in "\n".join(report.lines())


def test_round_trip_through_the_runner(tmp_path):
    forms = tmp_path / "forms"
    import_file(DATA / "cohort_study.csv", forms)
    for name in ("enrolment", "follow_up_visit"):
        export_form(load_form(forms / f"{name}.toml"), redcap=tmp_path / f"{name}.csv")
        import_file(tmp_path / f"{name}.csv", tmp_path / "again")
        assert form_lines((tmp_path / "again" / f"{name}.toml").read_text()) == \
            form_lines((forms / f"{name}.toml").read_text())


def test_the_file_is_what_redcap_writes(tmp_path):
    first, _report = import_texts(DATA / "cohort_study.csv")
    (tmp_path / "enrolment.toml").write_text(first["enrolment"], encoding="utf-8")
    target = tmp_path / "out.csv"
    write_redcap(load_form(tmp_path / "enrolment.toml"), target)
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfVariable / Field Name,Form Name,Section Header,Field Type,")
    assert raw.count(b"\r\n") == raw.count(b"\n")
    with open(target, encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0] == [title for _key, title in COLUMNS]
    assert {len(line) for line in table} == {18}
    rows = {r["Variable / Field Name"]: r for r in rows_of(target)}
    assert list(rows)[:4] == ["record_id", "enrolment_description", "consent_consentement_intro",
                              "consent_date"]
    assert rows["consent_consentement_intro"]["Section Header"] == "Consent / Consentement"
    assert rows["consent_date"]["Text Validation Max"] == "today"
    assert rows["age_years"]["Choices, Calculations, OR Slider Labels"] == \
        "rounddown(datediff([dob], [consent_date], 'y'), 0)"
    assert rows["diabetes_dx_date"]["Text Validation Min"] == "[dob]"
    assert rows["on_insulin"]["Branching Logic (Show field only if...)"] == \
        "[conditions(1)] = '1' and datediff([diabetes_dx_date], 'today', 'M') > 6"
    assert rows["ethnicity"]["Field Type"] == "dropdown" and rows["sex"]["Field Type"] == "radio"
    assert rows["phone"]["Text Validation Type OR Show Slider Number"] == "phone"


def test_exporting_our_own_follow_up_form_reports_what_redcap_lacks(tmp_path):
    spec = load_form(FORMS / "followup.toml")
    report = write_redcap(spec, tmp_path / "followup.csv")
    found = problems(report)
    assert ("", "title", "'Follow-up visit' is not kept: REDCap names an instrument by its Form "
            "Name (followup), read back as 'Followup'") in found
    assert ("participant_id", "pattern", "not kept: REDCap's record id takes no validation here") in found
    assert ("date_of_birth", "constraint", "'. < ${visit_date}' left out: REDCap checks an answer "
            "only against a min and a max (a number, a date, today, now or another field)") in found
    assert ("age_at_visit", "calculation", "'years-between(${date_of_birth}, ${visit_date})' left "
            "out: years-between() has no REDCap equivalent; exported as a number to type in") in found
    assert ("bmi", "places", "written as round(..., 1) around the equation") in found
    assert ("notes", "max_length", "2000 not kept: REDCap has no length limits") in found
    assert ("", "timezone", "'Europe/London' is not kept: REDCap has no form time zone; date-time "
            "bounds are written as local times there, and an import reads them in UTC") in found
    rows = {r["Variable / Field Name"]: r for r in rows_of(tmp_path / "followup.csv")}
    assert rows["quit_attempts"]["Text Validation Max"] == "52"          # `. <= 52` is a max
    assert rows["diagnosed_on"]["Text Validation Min"] == "[date_of_birth]"
    assert rows["cigarettes_per_day"]["Branching Logic (Show field only if...)"] == "[smokes] = '1'"
    # Whatever was written imports again and loads with nothing dropped.
    texts, again = import_texts(tmp_path / "followup.csv")
    assert "left out" not in "\n".join(again.lines())
    assert "calculation = \"round(${weight_kg} div" in texts["followup"]


def test_exporting_intake(tmp_path):
    report = write_redcap(load_form(FORMS / "intake.toml"), tmp_path / "intake.csv")
    rows = {r["Variable / Field Name"]: r for r in rows_of(tmp_path / "intake.csv")}
    assert rows["visit_at"]["Text Validation Min"] == "2026-01-01 00:00"
    assert rows["conditions"]["Field Type"] == "checkbox"
    assert ("participant_id", "max_length", "not kept: REDCap's record id takes no validation "
            "here") in problems(report)
    import_texts(tmp_path / "intake.csv")


def form_file(tmp_path, text, name="visit"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return load_form(path)


def test_a_record_id_row_is_added_when_the_first_field_cannot_be_one(tmp_path):
    spec = form_file(tmp_path, 'title = "Visit"\n[[fields]]\nname = "age"\ntype = "integer"\n'
                               '[[fields]]\nname = "record_id"\ntype = "text"\n')
    report = write_redcap(spec, tmp_path / "visit.csv")
    assert [r["Variable / Field Name"] for r in rows_of(tmp_path / "visit.csv")] == \
        ["record_id_2", "age", "record_id"]
    assert ("", "record id", "the first field is not a required text field, so a record_id row was "
            "added first (REDCap's record id)") in problems(report)


def test_what_redcap_cannot_hold_is_reported_and_left_out(tmp_path):
    spec = form_file(tmp_path, '''title = "Visit"
section_pages = true

[[sections]]
name = "start"
title = "Start"
relevant = "today() > date('2000-01-01')"

[[sections]]
name = "main"
title = "Main"
relevant = "${consent}"

[[fields]]
section = "start"
name = "pid"
type = "text"
required = true

[[fields]]
section = "start"
name = "consent"
type = "boolean"

[[fields]]
section = "main"
name = "count"
type = "integer"
constraint = ". mod 2 = 0"
constraint_message = "Even numbers only."

[[fields]]
section = "main"
name = "code"
type = "text"
pattern = "Z[0-9]+"
min_length = 2

[[fields]]
section = "main"
name = "half"
type = "decimal"
places = 6
relevant = "${count} mod 2 = 1"

[[fields]]
section = "main"
name = "label"
type = "text"
calculation = "concat(${code}, '!')"

[[fields]]
section = "main"
name = "pair"
type = "choice"
choices = [{ value = "a,b", label = "A | B" }]
''')
    report = write_redcap(spec, tmp_path / "visit.csv")
    found = problems(report)
    assert ("", "section_pages", "not kept: REDCap shows an instrument on one page (surveys can "
            "page by section in REDCap's settings)") in found
    assert ("pid", "section relevant", "section start's relevant is not applied to the record id "
            "(REDCap always shows it)") in found
    assert ("count", "constraint", "'. mod 2 = 0' left out: REDCap checks an answer only against a "
            "min and a max (a number, a date, today, now or another field)") in found
    assert ("code", "pattern", "'Z[0-9]+' not kept: REDCap validates with its own list of formats, "
            "not patterns") in found
    assert ("code", "min_length", "2 not kept: REDCap has no length limits") in found
    assert ("half", "places", "6 decimal places not kept: REDCap's number validations have 1 to 4 "
            "places") in found
    assert ("half", "relevant", "'${count} mod 2 = 1' left out: mod has no REDCap equivalent; the "
            "field is always shown in REDCap") in found
    assert ("label", "calculation", "\"concat(${code}, '!')\" left out: REDCap calculations give "
            "numbers only; exported as a text field") in found
    assert any(name == "pair" and column == "choices" for name, column, _m in found)
    rows = {r["Variable / Field Name"]: r for r in rows_of(tmp_path / "visit.csv")}
    assert ("consent", "relevant", "\"today() > date('2000-01-01')\" left out: today() has no "
            "REDCap equivalent; the field is always shown in REDCap") in found
    assert rows["count"]["Branching Logic (Show field only if...)"] == "[consent] = '1'"
    assert rows["pid"]["Section Header"] == "" and rows["consent"]["Section Header"] == "Start"
    assert rows["count"]["Section Header"] == "Main"


def test_export_refuses_to_overwrite(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("keep me")
    with pytest.raises(InterchangeError, match="already exists"):
        export_form(load_form(FORMS / "intake.toml"), redcap=target)
    assert target.read_text() == "keep me"


def test_text_that_looks_like_html_comes_back_the_same(tmp_path):
    """REDCap renders labels as HTML: the export escapes &, < and > so REDCap shows them as typed."""
    source = tmp_path / "f.csv"
    source.write_text(",".join(f'"{title}"' for _key, title in COLUMNS) + "\r\n"
                      "record_id,f,A &lt;b&gt; section,text,ID &amp; key,,,,,,,,,,,,,\r\n"
                      "q1,f,,text,Type &lt;b&gt; here,,Use &lt;i&gt; for x,,,,,,,,,,,\r\n"
                      'q2,f,,radio,Pick <120 or >140,"1, &lt;5&gt; | 2, AT&amp;T | 3, <7",,,,,,,,,,,,\r\n',
                      encoding="utf-8")
    first, _report = import_texts(source)
    assert 'label = "Type <b> here"' in first["f"] and '{ value = "1", label = "<5>" }' in first["f"]
    form_file = tmp_path / "f.toml"
    form_file.write_text(first["f"], encoding="utf-8")
    exported = tmp_path / "out.csv"
    export_form(load_form(form_file), redcap=exported)
    rows = rows_of(exported)
    assert rows[0]["Field Label"] == "ID &amp; key"
    assert rows[1]["Section Header"] == "A &lt;b&gt; section"  # on the first field after the id
    assert rows[1]["Field Label"] == "Type &lt;b&gt; here"
    assert rows[1]["Field Note"] == "Use &lt;i&gt; for x"
    assert rows[2]["Choices, Calculations, OR Slider Labels"] == "1, &lt;5&gt; | 2, AT&amp;T | 3, &lt;7"
    again, report = import_texts(exported)
    assert form_lines(again["f"]) == form_lines(first["f"])
    assert not [line for line in report.lines() if "HTML" in line]


def test_min_and_max_are_written_with_force_minmax(tmp_path):
    """Our min/max refuse a value; REDCap's only warn unless the field has @FORCE-MINMAX."""
    first, _report = import_texts(DATA / "cohort_study.csv")
    (tmp_path / "enrolment.toml").write_text(first["enrolment"], encoding="utf-8")
    target = tmp_path / "out.csv"
    write_redcap(load_form(tmp_path / "enrolment.toml"), target)
    rows = {r["Variable / Field Name"]: r for r in rows_of(target)}
    for name in ("height_cm", "consent_date", "diabetes_dx_date"):
        assert rows[name]["Field Annotation"] == "@FORCE-MINMAX"
    assert rows["sex"]["Field Annotation"] == rows["bmi"]["Field Annotation"] == ""
    again, report = import_texts(target)
    assert form_lines(again["enrolment"]) == form_lines(first["enrolment"])
    assert not [line for line in report.lines() if "only warns" in line or "@FORCE" in line]


def test_decimal_bounds_keep_every_digit(tmp_path):
    source = tmp_path / "f.csv"
    source.write_text(",".join(f'"{title}"' for _key, title in COLUMNS) + "\r\n"
                      "record_id,f,,text,ID,,,,,,,,,,,,,\r\n"
                      "w,f,,text,W,,,number,0.12345678901234567890,99999999999999999999.5,,,,,,,,\r\n"
                      "v,f,,text,V,,,number_2dp,-72.50,1.10,,,,,,,,\r\n",
                      encoding="utf-8")
    first, _report = import_texts(source)
    form_file = tmp_path / "f.toml"
    form_file.write_text(first["f"], encoding="utf-8")
    exported = tmp_path / "out.csv"
    report = export_form(load_form(form_file), redcap=exported)
    rows = {r["Variable / Field Name"]: r for r in rows_of(exported)}
    assert (rows["w"]["Text Validation Min"], rows["w"]["Text Validation Max"]) == (
        "0.12345678901234567890", "99999999999999999999.5")
    assert (rows["v"]["Text Validation Min"], rows["v"]["Text Validation Max"]) == ("-72.5", "1.1")
    again, _report = import_texts(exported)
    assert form_lines(again["f"]) == form_lines(first["f"])
    assert [p for p in problems(report) if p[0] == "w"] == [
        ("w", "min", "0.12345678901234567890 has more than 15 significant digits: REDCap compares "
         "a value with Min/Max as a floating-point number, so it checks only about the first 15"),
        ("w", "max", "99999999999999999999.5 has more than 15 significant digits: REDCap compares "
         "a value with Min/Max as a floating-point number, so it checks only about the first 15")]
    assert not [p for p in problems(report) if p[0] == "v"]
