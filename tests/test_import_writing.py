"""How an import writes form files, whatever the format: every file loads, all files or none,
readable by the web app, rules our checks refuse dropped and reported on their row, and a
clear line (not a traceback) where the tools are not installed."""

import csv
import os
import stat
import sys
from pathlib import Path

import pytest

from collector.forms.spec import load_form
from collector.interchange.draft import Draft, InterchangeError, table_name
from collector.interchange.form_writer import settle
from collector.interchange.report import Report
from collector.interchange.run import export_form, import_file
from tests.processes import PROJECT_ROOT, process_environment

HEADER = ("Variable / Field Name,Form Name,Section Header,Field Type,Field Label,"
          '"Choices, Calculations, OR Slider Labels",Field Note,Text Validation Type OR Show Slider Number,'
          "Text Validation Min,Text Validation Max,Identifier?,Branching Logic (Show field only if...),"
          "Required Field?,Custom Alignment,Question Number (surveys only),Matrix Group Name,"
          "Matrix Ranking?,Field Annotation")


def dictionary(path, *rows):
    """Write a REDCap data dictionary: each row is (variable, form, type, label, choices, logic)."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER + "\r\n")
        for variable, form, kind, label, choices, logic in rows:
            csv.writer(out).writerow([variable, form, "", kind, label, choices, "", "", "", "", "",
                                      logic, "", "", "", "", "", ""])
    return path


LONG_LABEL = ("Strongly agree — « tout à fait d'accord », \"完全同意\", 'sí': the respondent has no "
              "doubt at all, even when asked twice, and says so without being prompted 😀")


def test_a_choice_label_of_any_length_stays_with_its_field(tmp_path):
    source = dictionary(tmp_path / "likert.csv",
                        ("record_id", "attitudes", "text", "Record ID", "", ""),
                        ("agree", "attitudes", "radio", "Do you agree?",
                         f"1, {LONG_LABEL} | 2, Disagree | 3, {LONG_LABEL * 3}", ""))
    import_file(source, tmp_path / "forms")
    field = load_form(tmp_path / "forms" / "attitudes.toml").field("agree")
    assert [choice.label for choice in field.choices] == [LONG_LABEL, "Disagree", LONG_LABEL * 3]


def test_a_rule_our_checks_refuse_is_dropped_on_its_row_and_marked_in_the_file(tmp_path):
    draft = Draft(name="visits", title="Visits")
    draft.fields = [{"name": "a", "label": "A", "type": "text", "relevant": "${b} = 'x'"},
                    {"name": "b", "label": "B", "type": "text", "relevant": "${a} = 'y'"},
                    {"name": "c", "label": "C", "type": "integer", "constraint": ". > ${nowhere}"}]
    report = Report("visits.csv")
    for where, field in zip(("row 3", "row 4", "row 5"), "abc"):
        draft.origins[field] = report.entry(where, field)
    text = settle(draft, report)
    path = tmp_path / "visits.toml"
    path.write_text(text, encoding="utf-8")
    spec = load_form(path)  # loads: the cycle and the unknown field are gone, nothing else
    assert spec.field("b").relevant.source == "${a} = 'y'" and spec.field("a").relevant is None
    assert spec.field("c").constraint is None
    problems = {entry.where: [p.column for p in entry.problems] for entry in report.entries}
    assert problems == {"row 3": ["relevant"], "row 4": [], "row 5": ["constraint"]}
    assert "# REVIEW: relevant \"${b} = 'x'\" was left out: its relevant or calculation" in text
    assert "depends on itself: ${a} → ${b} → ${a}" in report.entries[0].problems[0].message
    assert report.entries[2].problems[0].message.startswith(
        "constraint '. > ${nowhere}' was left out: ${nowhere} is not a field of this form")


def test_a_cycle_in_branching_logic_does_not_stop_the_import(tmp_path):
    source = dictionary(tmp_path / "cycle.csv",
                        ("record_id", "f", "text", "ID", "", ""),
                        ("a", "f", "text", "A", "", "[b] = 'x'"),
                        ("b", "f", "text", "B", "", "[a] = 'y'"))
    report = import_file(source, tmp_path / "forms")
    assert load_form(tmp_path / "forms" / "f.toml").field("b").relevant is not None
    assert any(p.column == "relevant" for e in report.entries for p in e.problems if e.name == "a")


@pytest.mark.parametrize("raw, name", [("pg_followup", "form_pg_followup"), ("codebook", "codebook_form"),
                                       ("Visit 1 — Baseline", "visit_1_baseline"), ("2024", "form_2024"),
                                       ("x_labelled", "x_labelled_form")])
def test_a_source_name_becomes_a_name_a_table_can_take(raw, name):
    assert table_name(raw) == name


def test_an_instrument_called_pg_something_is_imported_under_a_name_it_can_have(tmp_path):
    source = dictionary(tmp_path / "pg.csv", ("record_id", "pg_followup", "text", "ID", "", ""))
    import_file(source, tmp_path / "forms")
    assert [p.name for p in (tmp_path / "forms").iterdir()] == ["form_pg_followup.toml"]


def two_instruments(tmp_path):
    return dictionary(tmp_path / "two.csv", ("record_id", "alpha", "text", "ID", "", ""),
                      ("a1", "alpha", "text", "A1", "", ""), ("b1", "beta", "text", "B1", "", ""))


def test_when_one_form_cannot_be_written_none_is(tmp_path):
    forms = tmp_path / "forms"
    (forms / "beta.toml").mkdir(parents=True)  # in the way of the second instrument
    with pytest.raises(InterchangeError, match="beta.toml exists and is not a file"):
        import_file(two_instruments(tmp_path), forms, force=True)
    assert sorted(p.name for p in forms.iterdir()) == ["beta.toml"]


def test_a_disk_that_fills_up_halfway_leaves_no_form_and_no_stray_file(tmp_path, monkeypatch):
    import errno
    import tempfile
    forms, real_mkstemp, calls = tmp_path / "forms", tempfile.mkstemp, []

    def full_disk_on_the_second_file(*args, **kwargs):  # the fault: ENOSPC while staging beta
        calls.append(kwargs.get("prefix"))
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_mkstemp(*args, **kwargs)

    import_file(two_instruments(tmp_path), forms, dry_run=True)  # the checks pass first
    monkeypatch.setattr(tempfile, "mkstemp", full_disk_on_the_second_file)
    with pytest.raises(InterchangeError, match="No space left on device.*nothing was written"):
        import_file(two_instruments(tmp_path), forms)
    assert calls == [".alpha.", ".beta."] and list(forms.iterdir()) == []


def test_written_form_files_are_readable_as_any_new_file_and_keep_an_old_files_mode(tmp_path):
    forms = tmp_path / "forms"
    old_mask = os.umask(0o022)
    try:
        import_file(two_instruments(tmp_path), forms)
        assert stat.S_IMODE((forms / "alpha.toml").stat().st_mode) == 0o644
        (forms / "beta.toml").chmod(0o640)
        import_file(two_instruments(tmp_path), forms, force=True)
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE((forms / "alpha.toml").stat().st_mode) == 0o644
    assert stat.S_IMODE((forms / "beta.toml").stat().st_mode) == 0o640
    assert not [p for p in forms.iterdir() if p.name.startswith(".")]  # no staged file left


@pytest.mark.parametrize("option, name", [("xlsform", "out.csv"), ("redcap", "out.xlsx"),
                                          ("redcap", "missing_folder/out.csv")])
def test_an_export_to_a_wrong_name_or_folder_is_one_line_naming_the_file(tmp_path, option, name):
    spec = load_form(PROJECT_ROOT / "forms" / "followup.toml")
    with pytest.raises(InterchangeError) as refused:
        export_form(spec, **{option: str(tmp_path / name)})
    assert str(tmp_path / name) in str(refused.value) and ".partial" not in str(refused.value)
    assert not (tmp_path / name).exists()


BLOCK_TOOLS = """
import runpy, sys
for name in ("tomli_w", "openpyxl", "pyxform", "xlrd", "defusedxml", "et_xmlfile"):
    sys.modules[name] = None  # as on Heroku: requirements-tools.txt is not installed
sys.argv = ["manage.py"] + sys.argv[1:]
runpy.run_path("manage.py", run_name="__main__")
"""


@pytest.mark.parametrize("args", [("import", "tests/data/redcap/cohort_study.csv", "--dry-run"),
                                  ("export-form", "intake", "--xlsform", "/tmp/never-written.xlsx")])
def test_without_the_tools_installed_the_commands_say_what_to_install(args, tmp_path):
    import subprocess
    result = subprocess.run([sys.executable, "-c", BLOCK_TOOLS, *args], capture_output=True, text=True,
                            cwd=PROJECT_ROOT, env=process_environment(FORMS_DIR=str(PROJECT_ROOT / "forms")),
                            timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "pip install -r requirements-tools.txt" in result.stderr
    assert not Path("/tmp/never-written.xlsx").exists()


def test_a_redcap_export_needs_no_tools_at_all(tmp_path):
    import subprocess
    target = tmp_path / "intake.csv"
    result = subprocess.run([sys.executable, "-c", BLOCK_TOOLS, "export-form", "intake", "--redcap", str(target)],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
                            env=process_environment(FORMS_DIR=str(PROJECT_ROOT / "forms")))
    assert result.returncode == 0, result.stderr
    assert target.read_bytes().startswith(b"\xef\xbb\xbfVariable / Field Name,Form Name,")


@pytest.mark.parametrize("content, says", [
    # Office keeps an encrypted .xlsx in an OLE file's EncryptedPackage stream.
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600) + "EncryptedPackage".encode("utf-16-le"),
     "a password-protected workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "an old-style .xls workbook"),
    (b"PK\x03\x04 not really a zip", "not a readable .xlsx"),
    (b"", "empty"),
])
def test_a_file_that_is_no_instrument_is_one_line_and_nothing_written(tmp_path, content, says):
    source = tmp_path / "instrument.xlsx"
    source.write_bytes(content)
    with pytest.raises(InterchangeError) as refused:
        import_file(source, tmp_path / "forms")
    assert str(source) in str(refused.value) and says in str(refused.value)
    assert not (tmp_path / "forms").exists()
