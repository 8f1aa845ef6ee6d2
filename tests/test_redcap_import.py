"""Import REDCap data dictionaries: every mapping, every report line, hostile files. No database."""

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from collector.forms.spec import load_form
from collector.interchange.draft import InterchangeError
from collector.interchange.form_writer import check_text, settle
from collector.interchange.redcap_csv import COLUMNS, KEYS
from collector.interchange.redcap_import import read_redcap
from collector.interchange.run import import_file

DATA = Path(__file__).parent / "data" / "redcap"
HEADER = [title for _key, title in COLUMNS]


def write_dictionary(path, rows, header=HEADER, encoding="utf-8-sig"):
    """Write rows (dicts by key, or lists of cells) as a dictionary CSV; return the path."""
    with open(path, "w", encoding=encoding, newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        if header is not None:
            writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(key, "") for key in KEYS] if isinstance(row, dict) else row)
    return path


def row(variable, type_="text", label=None, form="visit", **cells):
    return {"variable": variable, "form": form, "type": type_,
            "label": label if label is not None else variable.replace("_", " ").title(), **cells}


def imported(path, form=None):
    """Return ({form name: {field name: field dict}}, drafts, report, texts)."""
    drafts, report = read_redcap(path, form)
    texts = [settle(draft, report) for draft in drafts]
    fields = {draft.name: {f["name"]: f for f in draft.fields} for draft in drafts}
    return fields, drafts, report, texts


def problems(report):
    """Return (where, column, message) for every item to review."""
    return [(e.where, p.column, p.message) for e in report.entries for p in e.problems] + \
        [("file", p.column, p.message) for p in report.general]


# The realistic dictionary: two instruments, 58 rows.

def test_cohort_imports_both_instruments_and_every_file_loads(tmp_path):
    fields, drafts, report, texts = imported(DATA / "cohort_study.csv")
    assert [d.name for d in drafts] == ["enrolment", "follow_up_visit"]
    assert sum(len(f) for f in fields.values()) >= 45
    used = {f["type"] for form in fields.values() for f in form.values()}
    assert used == {"text", "long_text", "email", "integer", "decimal", "date", "datetime",
                    "boolean", "choice", "multi_choice"}
    assert not [line for line in report.lines() if "left out" in line or "not translated" in line]
    for draft, text in zip(drafts, texts):
        assert check_text(draft.name, text) is None
        path = tmp_path / f"{draft.name}.toml"
        path.write_text(text, encoding="utf-8")
        assert load_form(path).fields[0].name == "record_id"


def test_cohort_mapping():
    fields, drafts, _report, _texts = imported(DATA / "cohort_study.csv")
    enrolment, visit = fields["enrolment"], fields["follow_up_visit"]
    assert drafts[0].title == "Enrolment" and drafts[1].title == "Follow up visit"
    assert drafts[0].description.startswith("Complete at the enrolment visit, with the participant présent")
    # The record id: required text, first in both forms, in each form's first section.
    for form, first_section in ((drafts[0], "consent_consentement"), (drafts[1], "visit")):
        assert form.fields[0] == {"section": first_section, "name": "record_id", "type": "text",
                                  "required": True, "label": "Participant ID",
                                  "hint": "Printed on the enrolment sticker, e.g. KB-0042"}
    assert [s["name"] for s in drafts[0].sections] == ["consent_consentement", "demographics",
                                                       "measurements", "medical_history"]
    assert drafts[0].sections[0]["intro"] == "Read the information sheet aloud before asking for consent."
    assert drafts[1].sections[1] == {"name": "symptoms_last_2_weeks", "title": "Symptoms (last 2 weeks)",
                                     "intro": "Ask about each symptom in the last 14 days."}
    assert enrolment["consent_date"] | {} == {
        "section": "consent_consentement", "name": "consent_date", "type": "date", "required": True,
        "label": "Date consent given", "min": date(2025, 1, 1), "constraint": ". <= today()",
        "constraint_message": "Must be on or before today."}
    assert enrolment["consent_given"]["type"] == "boolean"
    assert enrolment["consent_method"]["choices"] == [
        {"value": "1", "label": "Signature"}, {"value": "2", "label": "Thumbprint, with a witness"}]
    assert enrolment["witness_name"]["relevant"] == "${consent_given} = true() and ${consent_method} = '2'"
    assert enrolment["age_years"]["type"] == "integer"
    assert enrolment["age_years"]["calculation"] == (
        "int(if(${consent_date} - ${dob} < 0, -(${consent_date} - ${dob}), ${consent_date} - ${dob})"
        " div 365.2425)")
    assert enrolment["pregnant"]["relevant"] == "${sex} = '1' and ${age_years} >= 12 and ${age_years} <= 55"
    assert len(enrolment["ethnicity"]["choices"]) == 9
    assert enrolment["ethnicity"]["choices"][7] == {"value": "8", "label": "Mandé"}
    assert enrolment["email"]["type"] == "email"
    assert enrolment["phone"]["pattern"] == "\\(?[0-9]{3}\\)?[ .-]?[0-9]{3}[ .-]?[0-9]{4}"
    assert enrolment["height_cm"] | {} == {
        "section": "measurements", "name": "height_cm", "type": "decimal", "label": "Height (cm)",
        "places": 1, "min": Decimal("100"), "max": Decimal("230")}
    assert enrolment["bmi"]["type"] == "decimal"
    assert enrolment["bmi"]["calculation"] == (
        "round(${weight_kg} div (${height_cm} div 100 * (${height_cm} div 100)), 1)")
    assert enrolment["bmi_band"]["type"] == "integer"
    assert enrolment["conditions"]["type"] == "multi_choice" and enrolment["conditions"]["required"]
    assert enrolment["diabetes_dx_date"]["constraint"] == ". >= ${dob} and . <= today()"
    assert enrolment["diabetes_dx_date"]["constraint_message"] == (
        "Must be on or after Date of birth (date de naissance) and on or before today.")
    assert enrolment["years_with_diabetes"]["calculation"] == "(${consent_date} - ${diabetes_dx_date}) div 365.2425"
    assert enrolment["hiv_art"]["type"] == "boolean"
    assert enrolment["years_smoked"]["relevant"] == "(${smoking} = '1' or ${smoking} = '2') and ${age_years} > 15"
    assert enrolment["medications"]["type"] == "long_text"
    assert enrolment["notes"]["label"] == "Remarques / notes — anything else? 🙂"
    assert visit["blood_drawn_at"]["min"] == datetime(2025, 1, 1, 0, 0)
    assert visit["weight_fu_kg"]["places"] == 2
    assert visit["clinic_time"]["pattern"] == "([01][0-9]|2[0-3]):[0-5][0-9]"
    assert visit["visit_reason"]["relevant"] == "${visit_type} = '' or ${visit_type} != '1'"
    assert visit["symptom_count"]["type"] == "integer"
    assert visit["symptom_days"]["calculation"] == "coalesce(${fever_days}, 0) + coalesce(${cough_days}, 0)"
    assert visit["severe_flag"]["calculation"] == (
        "if(${symptom_count} >= 3 or (selected(${symptoms}, '1') and ${max_temp} >= 39), 1, 0)")
    assert visit["days_since_visit"]["type"] == "integer"
    assert visit["next_visit_due"]["constraint"] == ". >= today()"
    assert visit["went_well"]["relevant"] == "${satisfaction} = '4' or ${satisfaction} = '5'"


def test_cohort_report_says_what_each_row_became():
    _fields, _drafts, report, _texts = imported(DATA / "cohort_study.csv")
    lines = report.lines()
    assert "  row 2  record_id -> field record_id (text, required) in section consent_consentement" in lines
    assert "  row 3  enrol_intro -> form description" in lines
    assert "  row 4  consent_intro -> intro of section consent_consentement" in lines
    assert any(line.startswith("  row 10 age_years -> field age_years (integer, calculated)") for line in lines)
    assert lines[-1] == "58 rows read; 29 items to review (marked !)."


def test_documentation_example():
    fields, drafts, report, texts = imported(DATA / "docs_demographics.csv")
    form = fields["demographics"]
    assert form["study_id"]["required"] and form["study_id"]["type"] == "text"
    assert form["age"]["calculation"].startswith("int(if(today() - ${dob} < 0")
    assert form["bmi"]["calculation"] == "round(${weight} * 10000 div (${height} * ${height}), 1)"
    assert form["num_children"]["relevant"] == "${sex} = '0' and ${given_birth} = true()"
    assert form["gym_aerobics_same_day"]["relevant"] == "selected(${gym}, '0') and selected(${aerobics}, '0')"
    assert form["race"]["type"] == "choice" and len(form["race"]["choices"]) == 7
    assert [s["title"] for s in drafts[0].sections] == [
        "Consent Information", "Contact Information", "Lifestyle", "General Comments"]
    found = problems(report)
    assert ("row 4", "Identifier?", "marked as an identifier (PHI) in REDCap; form files have no such "
            "flag: protect this column when you export data") in found
    assert ("row 11", "Custom Alignment", "'LH': Custom Alignment is not used: the collector lays "
            "out every field the same way") in found
    assert all(check_text(d.name, t) is None for d, t in zip(drafts, texts))


def test_every_unsupported_construct_is_reported_with_its_row_and_column():
    _fields, drafts, report, _texts = imported(DATA / "unsupported.csv")
    expected = (DATA / "unsupported.report.txt").read_text(encoding="utf-8").splitlines()
    assert report.lines()[1:] == expected
    assert [d.name for d in drafts] == ["screening", "lab_results"]


# --form

def test_form_picks_one_instrument_and_still_copies_the_record_id():
    fields, drafts, report, _texts = imported(DATA / "cohort_study.csv", form="follow_up_visit")
    assert [d.name for d in drafts] == ["follow_up_visit"]
    assert list(fields["follow_up_visit"])[:2] == ["record_id", "visit_date"]
    assert report.entries[0].where == "row 2" and report.entries[1].where == "row 35"


def test_form_that_is_not_there_lists_the_instruments():
    with pytest.raises(InterchangeError, match="no instrument called 'baseline'; the Form Names are: "
                                               "enrolment, follow_up_visit"):
        read_redcap(DATA / "cohort_study.csv", form="baseline")


# Hostile and clumsy files.

def test_a_file_that_is_not_a_dictionary(tmp_path):
    path = write_dictionary(tmp_path / "people.csv", [["1", "Ann"]], header=["id", "name"])
    with pytest.raises(InterchangeError, match=r"people.csv: row 1: not a REDCap data dictionary: "
                                               r"the first column is 'id'"):
        read_redcap(path)


def test_a_workbook_saved_under_a_csv_name(tmp_path):
    path = tmp_path / "dictionary.csv"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)))
    with pytest.raises(InterchangeError, match="dictionary.csv: a workbook \\(.xlsx\\), not a CSV file"):
        read_redcap(path)


def test_moved_columns_are_named(tmp_path):
    header = HEADER[:]
    header[3], header[4] = header[4], header[3]
    path = write_dictionary(tmp_path / "d.csv", [row("record_id")], header=header)
    with pytest.raises(InterchangeError, match="row 1, column 4: expected 'Field Type', found 'Field Label'"):
        read_redcap(path)


def test_too_few_columns(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [], header=HEADER[:5])
    with pytest.raises(InterchangeError, match="it has 5 columns; REDCap writes 18"):
        read_redcap(path)


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"\xef\xbb\xbf \r\n\r\n", "the file is empty"),
    (("\ufeff" + ",".join(f'"{t}"' for t in HEADER) + "\r\n").encode(), "header but no field rows"),
])
def test_empty_files(tmp_path, content, message):
    path = tmp_path / "d.csv"
    path.write_bytes(content)
    with pytest.raises(InterchangeError, match=message):
        read_redcap(path)


def test_broken_quoting_names_the_row(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [row("record_id"), row("age")])
    with open(path, "a", encoding="utf-8", newline="") as out:
        out.write('weight,visit,,text,"Weight (kg,,,,,,,,,,,,,\r\n')
    with pytest.raises(InterchangeError, match=r"d.csv: row 4: the CSV quoting is broken"):
        read_redcap(path)


def test_windows_1252_is_read_and_said(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [row("record_id"), row("age", label="Âge du patient – années")],
                            encoding="cp1252")
    fields, _drafts, report, _texts = imported(path)
    assert fields["visit"]["age"]["label"] == "Âge du patient – années"
    assert ("file", "file", "not UTF-8: read as Windows-1252 (what Excel saves on Windows); check "
            "accented letters in the labels") in problems(report)


@pytest.mark.parametrize("encoding, bom, said", [
    ("utf-16-le", b"\xff\xfe", "UTF-16 little-endian"),
    ("utf-16-be", b"\xfe\xff", "UTF-16 big-endian"),
    ("utf-16-le", b"", "UTF-16 little-endian"),
    ("utf-16-be", b"", "UTF-16 big-endian"),
])
def test_utf16_is_decoded_and_said(tmp_path, encoding, bom, said):
    """Excel's "Unicode Text": UTF-16, with or without its byte-order mark."""
    path = write_dictionary(tmp_path / "d.csv", [row("record_id"), row("q", label="Возраст (лет) 🙂")],
                            encoding="utf-8")
    path.write_bytes(bom + path.read_text(encoding="utf-8").encode(encoding))
    fields, _drafts, report, _texts = imported(path)
    assert fields["visit"]["q"]["label"] == "Возраст (лет) 🙂"
    assert [p.message for p in report.general] == [
        f"{said} (Excel's \"Unicode Text\"): decoded as such"]


def test_nul_bytes_in_a_file_that_is_not_utf16(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [row("record_id"), row("q", label="before\x00after")],
                            encoding="utf-8")
    with pytest.raises(InterchangeError, match=r"d.csv: row 3: a NUL byte \(0x00\), and the file is "
                                               r"not UTF-16 text"):
        read_redcap(path)


def test_utf16_that_does_not_decode(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes(b"\xff\xfe" + "Variable".encode("utf-16-le") + b"\x00\xd8A\x00")
    with pytest.raises(InterchangeError, match=r"d.csv: starts as UTF-16 little-endian but does not "
                                               r"decode"):
        read_redcap(path)


@pytest.mark.parametrize("delimiter, said", [(";", "';' (Excel in a European locale)"),
                                             ("\t", "tabs (Excel's \"Unicode Text\")")])
def test_semicolons_or_tabs_between_columns(tmp_path, delimiter, said):
    path = tmp_path / "d.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
        writer.writerow(HEADER)
        for cells in (row("record_id"), row("pick", "radio", label="Pick; one", choices="1, Yes | 0, No"),
                      row("age", validation="integer", branching="[pick] = '1'")):
            writer.writerow([cells.get(key, "") for key in KEYS])
    fields, _drafts, report, _texts = imported(path)
    assert fields["visit"]["pick"]["label"] == "Pick; one"
    assert fields["visit"]["pick"]["choices"] == [{"value": "1", "label": "Yes"},
                                                  {"value": "0", "label": "No"}]
    assert fields["visit"]["age"]["relevant"] == "${pick} = '1'"
    assert [p.message for p in report.general] == [f"columns are separated by {said}: read as such"]


def test_utf16_with_tabs_as_excel_saves_unicode_text(tmp_path):
    path = tmp_path / "d.csv"
    lines = ["\t".join(HEADER), "\t".join(row("record_id").get(k, "") for k in KEYS),
             "\t".join(row("q", label="Возраст").get(k, "") for k in KEYS)]
    path.write_bytes("\ufeff".encode("utf-16-le") + "\r\n".join(lines).encode("utf-16-le"))
    fields, _drafts, report, _texts = imported(path)
    assert fields["visit"]["q"]["label"] == "Возраст"
    assert len(report.general) == 2


def test_utf8_without_bom(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [row("record_id"), row("név", label="Név ✓")],
                            encoding="utf-8")
    fields, _drafts, report, _texts = imported(path)
    assert fields["visit"]["nev"]["label"] == "Név ✓"
    assert not report.general


def test_older_sixteen_column_dictionary_and_extra_columns(tmp_path):
    old = write_dictionary(tmp_path / "old.csv", [[c for c in row("record_id").values()][:2] + [
        "", "text", "ID"]], header=HEADER[:16])
    _fields, _drafts, report, _texts = imported(old)
    assert "an older dictionary with 16 columns" in report.general[0].message
    wide = write_dictionary(tmp_path / "wide.csv", [[*[row("record_id").get(k, "") for k in KEYS], "x"]],
                            header=HEADER + ["Owner"])
    _fields, _drafts, report, _texts = imported(wide)
    assert "ignored: 'Owner'" in report.general[0].message


def test_duplicate_variables_are_renamed_and_logic_reads_the_first(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"), row("age", validation="integer"), row("age", validation="integer"),
        row("note", branching="[age] > 3")])
    fields, _drafts, report, _texts = imported(path)
    assert list(fields["visit"]) == ["record_id", "age", "age_2", "note"]
    assert fields["visit"]["note"]["relevant"] == "${age} > 3"
    assert ("row 4", "Variable / Field Name", "'age' is used by an earlier row too: renamed to "
            "'age_2'; logic naming [age] reads the first") in problems(report)


def test_logic_naming_an_unknown_field_is_reported_on_its_row(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"), row("age", validation="integer"), row("note", branching="[age] > 3 and [agee] = 1")])
    fields, _drafts, report, _texts = imported(path)
    assert "relevant" not in fields["visit"]["note"]
    assert ("row 4", "Branching Logic (Show field only if...)", "not translated: [agee] is not a "
            "field of this dictionary (at character 15); the field is always shown") in problems(report)


def test_names_that_are_not_column_names(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"), row("order", validation="integer"), row("user"), row("Âge du patient"),
        row("1st_visit", validation="date_ymd"), row("total", "calc", choices="[order] * 2")])
    fields, _drafts, report, texts = imported(path)
    assert list(fields["visit"]) == ["record_id", "order_field", "user_field", "age_du_patient",
                                     "q_1st_visit", "total"]
    assert fields["visit"]["total"]["calculation"] == "${order_field} * 2"
    assert ("row 3", "Variable / Field Name", "renamed to 'order_field' (column names are "
            "lower_snake_case ASCII, not a reserved word, at most 63 characters)") in problems(report)
    assert check_text("visit", texts[0]) is None


def test_odd_text_long_labels_nul_and_blank_rows(tmp_path):
    long_label = "Ω" + "x" * 4999
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"), row("quoted", label='He said "100% $$ sure" 🙂'),
        [""] * 18, row("long", label=long_label, note="n" * 5000),
        row("formula", label="=SUM(A1:A3)"),
        row("multi", label="first line\nsecond line"), row("after_multi")])
    fields, _drafts, report, texts = imported(path)
    form = fields["visit"]
    assert form["quoted"]["label"] == 'He said "100% $$ sure" 🙂'
    assert form["long"]["label"] == long_label and len(form["long"]["hint"]) == 5000
    assert form["formula"]["label"] == "=SUM(A1:A3)"
    assert form["multi"]["label"] == "first line\nsecond line"
    assert [e.where for e in report.entries][-2:] == ["row 7", "row 9"]  # the label spans two lines
    assert check_text("visit", texts[0]) is None


def test_numbers_from_a_spreadsheet_and_bad_bounds(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"), row("age", validation="integer", min="18.0", max="120"),
        row("big", validation="integer", min="99999999999"),
        row("upside", validation="number", min="10", max="1"),
        row("when", validation="date_ymd", min="31/12/2020")])
    fields, _drafts, report, _texts = imported(path)
    assert fields["visit"]["age"]["min"] == 18 and type(fields["visit"]["age"]["min"]) is int
    assert "min" not in fields["visit"]["big"]
    assert "min" not in fields["visit"]["upside"] and "max" not in fields["visit"]["upside"]
    found = problems(report)
    assert ("row 4", "Text Validation Min", "'99999999999' is not a valid integer bound and was not used") in found
    assert ("row 5", "Text Validation Min", "min '10' is above max '1'; both were left out") in found
    assert ("row 6", "Text Validation Min", "'31/12/2020' is not a valid date bound and was not used") in found


def test_choices_that_are_odd(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"),
        row("pick", "radio", choices=" 1 , One, or the first |2,Two| |1, Again | Three | , Nothing"),
        row("none", "dropdown", choices="")])
    fields, _drafts, report, _texts = imported(path)
    assert fields["visit"]["pick"]["choices"] == [
        {"value": "1", "label": "One, or the first"}, {"value": "2", "label": "Two"},
        {"value": "Three", "label": "Three"}]
    assert "none" not in fields["visit"]
    messages = [message for where, _column, message in problems(report) if where in ("row 3", "row 4")]
    assert messages == ["code '1' appears more than once; the second was left out",
                        "choice 'Three' has no 'code, label': 'Three' is used as both",
                        "choice ', Nothing' has no code and was left out",
                        "no choices could be read; the row was not imported"]


def test_logic_too_deep_or_too_long_is_reported_not_a_traceback(tmp_path):
    deep = "(" * 3000 + "[age]" + ")" * 3000 + " > 1"
    long_sum = " + ".join(["[age]"] * 5000)
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"), row("age", validation="integer"), row("deep", branching=deep),
        row("total", "calc", choices=long_sum), row("many", branching=" or ".join(["[age] = 1"] * 300))])
    fields, _drafts, report, texts = imported(path)
    assert fields["visit"]["deep"]["relevant"] == "${age} > 1"
    assert "calculation" not in fields["visit"]["total"]
    assert "relevant" not in fields["visit"]["many"]
    found = problems(report)
    assert ("row 5", "Choices, Calculations, OR Slider Labels", "not translated: nested too deeply to "
            "translate: split it into calculated fields (at character 1); imported as a number to "
            "type in") in found
    assert any(where == "row 6" and "left out" in message and "characters long" in message
               for where, _column, message in found)
    assert check_text("visit", texts[0]) is None


def test_an_instrument_with_nothing_importable(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [row("record_id"), row("scan", "file", form="uploads")])
    with pytest.raises(InterchangeError, match=r"instrument 'uploads' has no field that could be "
                                               r"imported \(row 3, Field Type: file: file uploads"):
        read_redcap(path)


def test_a_section_whose_rows_were_all_left_out(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"), row("pain", "slider", section="Pain"), row("age", section="About you")])
    _fields, drafts, report, texts = imported(path)
    assert [s["name"] for s in drafts[0].sections] == ["about_you"]
    assert drafts[0].fields[0]["section"] == "about_you"
    assert ("row 3", "Section Header", "section 'Pain' has no field that could be imported: left "
            "out") in problems(report)
    assert check_text("visit", texts[0]) is None


def test_form_names_that_are_not_table_names(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [row("record_id", form="User"), row("age", form="2nd visit")])
    _fields, drafts, report, _texts = imported(path)
    assert [d.name for d in drafts] == ["user_form", "form_2nd_visit"]
    assert [p.message for p in report.general] == [
        "instrument 'User' is written as form 'user_form' (form names are lower_snake_case table names)",
        "instrument '2nd visit' is written as form 'form_2nd_visit' (form names are lower_snake_case "
        "table names)"]


def test_rows_without_a_form_name_join_the_one_above(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [row("record_id"), row("age", form="")])
    fields, _drafts, report, _texts = imported(path)
    assert list(fields["visit"]) == ["record_id", "age"]
    assert report.general[0].message == "no Form Name: taken as 'visit' (the instrument above)"


# Through the runner, as `manage.py import` does it.

def test_import_file_writes_every_form_or_none(tmp_path):
    forms = tmp_path / "forms"
    report = import_file(DATA / "cohort_study.csv", forms, dry_run=True)
    assert not forms.exists() and report.written[0].startswith("would write")
    report = import_file(DATA / "cohort_study.csv", forms)
    assert sorted(p.name for p in forms.iterdir()) == ["enrolment.toml", "follow_up_visit.toml"]
    assert "(31 fields, 4 sections)" in report.written[0]
    with pytest.raises(InterchangeError, match="already exist"):
        import_file(DATA / "cohort_study.csv", forms)
    import_file(DATA / "cohort_study.csv", forms, force=True)
    assert load_form(forms / "follow_up_visit.toml").fields[0].name == "record_id"


def test_a_score_adding_radio_codes_becomes_a_whole_number_calculation(tmp_path):
    from werkzeug.datastructures import MultiDict

    from collector.forms.validation import validate_submission
    fields, drafts, report, texts = imported(DATA / "phq9_screen.csv")
    screen = fields["mood_screen"]
    assert screen["phq9_total"]["type"] == "integer"
    assert screen["phq9_total"]["calculation"] == " + ".join(f"number(${{phq9_{i}}})" for i in range(1, 10))
    assert screen["gad2_total"]["calculation"] == "number(${gad_1}) + number(${gad_2})"
    assert screen["weight_lb"]["calculation"] == "round(number(${weight_ticket}) * 2.20462, 1)"
    assert not [line for line in report.lines() if "not translated" in line or "left out" in line]
    path = tmp_path / "mood_screen.toml"
    path.write_text(texts[0], encoding="utf-8")
    spec = load_form(path)
    answers = {"participant_id": "P-001", "screen_date": "2026-03-02", "gad_1": "2", "gad_2": "1",
               "weight_ticket": "72.5", **{f"phq9_{i}": str(i % 4) for i in range(1, 10)}}
    values, errors = validate_submission(spec, MultiDict(answers), today=date(2026, 3, 2))
    assert list(errors) == ["safety_plan"]  # item 9 is 1: the safety plan is shown and required
    assert values["phq9_total"] == 1 + 2 + 3 + 0 + 1 + 2 + 3 + 0 + 1
    assert values["phq9_severity"] == 2 and values["phq9_mean"] == Decimal("1.44")
    assert values["gad2_total"] == 3 and values["gad2_positive"] == 1
    assert values["weight_lb"] == Decimal("159.8")
    values, _errors = validate_submission(spec, MultiDict({**answers, "weight_ticket": "72,5 kg"}),
                                          today=date(2026, 3, 2))
    assert values["weight_lb"] is None  # text that is not a number gives no weight, not an error


# HTML in labels: REDCap shows them as HTML, so only real tags are markup.

def test_less_than_and_greater_than_in_text_are_kept(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"),
        row("bp", "radio", label="Systolic pressure <120 or >140?", note="Enter if age <18 or >65",
            choices="1, <120 | 2, 120-140 | 3, >140 | 4, a<b>c", section="BP < 2 & > 1")])
    fields, drafts, report, _texts = imported(path)
    bp = fields["visit"]["bp"]
    assert bp["label"] == "Systolic pressure <120 or >140?"
    assert bp["hint"] == "Enter if age <18 or >65"
    assert [c["label"] for c in bp["choices"]] == ["<120", "120-140", ">140", "ac"]
    assert drafts[0].sections[0]["title"] == "BP < 2 & > 1"
    assert problems(report) == [("row 3", "Choices, Calculations, OR Slider Labels",
                                 "HTML tags were removed (REDCap shows them as formatting): <b>")]


def test_removed_tags_are_named_and_entities_decoded(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"),
        row("q", label='<span style="color:red">Type</span> &lt;b&gt;<br/>here<!-- x -->',
            note="AT&amp;T &amp; co &copy;")])
    fields, _drafts, report, _texts = imported(path)
    assert fields["visit"]["q"]["label"] == "Type <b>\nhere"
    assert fields["visit"]["q"]["hint"] == "AT&T & co ©"
    assert problems(report) == [("row 3", "Field Label", "HTML tags were removed (REDCap shows them "
                                 "as formatting): <span style=\"color:red\">, </span>, <br/>, "
                                 "<!-- x -->")]


# Text Validation Min/Max: a warning in REDCap unless @FORCE-MINMAX, a hard rule here.

SOFT = ("REDCap only warns when a value is outside Text Validation Min/Max (it is still saved); "
        "here a value outside is refused: loosen or remove the bound in the form file if such "
        "values must be kept (with @FORCE-MINMAX REDCap refuses them too)")


def test_soft_min_max_is_kept_as_a_rule_and_said(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"),
        row("sbp", label="Systolic BP", validation="integer", min="80", max="200"),
        row("dbp", label="Diastolic BP", validation="integer", min="40", max="120",
            annotation="@FORCE-MINMAX"),
        row("seen", validation="date_ymd", max="today"),
        row("seen_forced", validation="date_ymd", min="[seen]", annotation="@HIDDEN @FORCE-MINMAX"),
        row("low", validation="number", max="-1.5")])
    fields, _drafts, report, _texts = imported(path)
    form = fields["visit"]
    assert (form["sbp"]["min"], form["sbp"]["max"]) == (80, 200)
    assert (form["dbp"]["min"], form["dbp"]["max"]) == (40, 120)
    assert form["seen"]["constraint"] == ". <= today()"
    assert form["seen_forced"]["constraint"] == ". >= ${seen}"
    assert form["low"]["max"] == Decimal("-1.5")
    found = problems(report)
    assert ("row 3", "Text Validation Min", SOFT) in found
    assert ("row 5", "Text Validation Max", SOFT) in found
    assert ("row 7", "Text Validation Max", SOFT) in found
    assert not [p for p in found if p[0] == "row 4"]  # @FORCE-MINMAX: translated exactly
    assert [p[1:] for p in found if p[0] == "row 6" and "while ${seen} is empty" not in p[2]] == [
        ("Field Annotation", "action tag @HIDDEN is not supported: the field behaves as if it were "
         "not there")]


def test_force_minmax_without_bounds_and_bounds_not_used_say_nothing_soft(tmp_path):
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"), row("age", validation="integer", annotation="@FORCE-MINMAX"),
        row("name", min="1"), row("when", validation="datetime_ymd", min="now")])
    _fields, _drafts, report, _texts = imported(path)
    found = problems(report)
    assert not [p for p in found if p[0] == "row 3"]
    assert not [p for p in found if "only warns" in p[2]]


def test_text_ordered_against_a_number_reads_as_redcap_does_for_every_answer(tmp_path):
    """REDCap: a number in the text is compared as a number; a blank or other text is false."""
    from zoneinfo import ZoneInfo

    from collector.forms.expressions.evaluate import evaluate
    from collector.forms.expressions.grammar import parse
    from collector.forms.expressions.typecheck import FieldFacts, check
    path = write_dictionary(tmp_path / "d.csv", [
        row("record_id"), row("score_text"),
        row("high", branching="[score_text] > 5"), row("low", branching="[score_text] <= '5'"),
        row("flag", "calc", choices="if([score_text] < 5, 1, 0)")])
    fields, _drafts, report, texts = imported(path)
    visit = fields["visit"]
    assert visit["high"]["relevant"] == "number(${score_text}) > 5"
    assert visit["low"]["relevant"] == "number(${score_text}) <= 5"
    assert visit["flag"]["calculation"] == "if(number(${score_text}) < 5, 1, 0)"
    assert not [line for line in report.lines() if "not translated" in line]
    assert check_text("visit", texts[0]) is None
    facts = {"score_text": FieldFacts("text")}
    redcap = {"high": lambda n: n is not None and n > 5, "low": lambda n: n is not None and n <= 5,
              "flag": lambda n: 1 if n is not None and n < 5 else 0}
    for answer, number in ((None, None), ("7", 7), (" 5 ", 5), ("4.5", 4.5), ("abc", None)):
        for name, theirs in redcap.items():
            rule = visit[name].get("relevant") or visit[name]["calculation"]
            ours = evaluate(check(parse(rule), facts), {"score_text": answer}, ZoneInfo("UTC"))
            assert (ours is True if name != "flag" else ours) == theirs(number), (name, answer)
