"""A form's key field: declared once, checked like every setting, searched, reported on export."""

import pytest

from collector.forms.spec import load_form
from collector.interchange.redcap_export import write_redcap
from collector.interchange.xlsform_export import write_xlsform
from collector.web.chart import build_chart
from tests.processes import run_manage

NOTE = '[[fields]]\nname = "note"\ntype = "long_text"\n'
TAGS = '[[fields]]\nname = "tags"\ntype = "multi_choice"\nchoices = [{ value = "a" }]\n'
CODE = '[[fields]]\nname = "code"\ntype = "text"\nrequired = true\n'
BOX = '[[fields]]\nname = "box"\ntype = "integer"\n'
FLAG = '[[fields]]\nname = "flag"\ntype = "boolean"\n'


def write(tmp_path, body, name="visit"):
    path = tmp_path / f"{name}.toml"
    path.write_text('title = "Visit"\n' + body)
    return path


@pytest.mark.parametrize("body, key", [
    (CODE + BOX, "code"),                 # the first field
    (NOTE + TAGS + FLAG + BOX, "box"),    # the first field that can be a key
    (FLAG + NOTE, None),                  # none can: no search box, no key index
    ('key = "box"\n' + CODE + BOX, "box"),
])
def test_the_key_defaults_to_the_first_field_that_can_be_one(tmp_path, body, key):
    assert load_form(write(tmp_path, body)).key == key


@pytest.mark.parametrize("body, expected", [
    ('key = "participant"\n' + CODE, "visit.toml: key 'participant' is not one of the form's fields"),
    ('key = "cod"\n' + CODE, "key 'cod' is not one of the form's fields (did you mean 'code'?)"),
    ('key = "note"\n' + CODE + NOTE, "key 'note' is a long_text field, which cannot be searched by "
                                     "one value: the key must be a text, email, integer, decimal, "
                                     "date, choice field"),
    ('key = "tags"\n' + CODE + TAGS, "key 'tags' is a multi_choice field"),
    ('key = "flag"\n' + CODE + FLAG, "key 'flag' is a boolean field"),
    ('key = 3\n' + CODE, "key 3 is not one of the form's fields"),
    ('kee = "code"\n' + CODE, "'kee' is not a form setting (did you mean 'key'?)"),
])
def test_a_bad_key_is_one_line_naming_file_and_problem(tmp_path, body, expected):
    write(tmp_path, body)
    result = run_manage("check", FORMS_DIR=str(tmp_path))
    assert result.returncode == 1 and expected in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_check_shows_the_key(tmp_path):
    write(tmp_path, 'key = "box"\n' + CODE + BOX)
    result = run_manage("check", FORMS_DIR=str(tmp_path))
    assert result.returncode == 0 and "key=box" in result.stdout, result.stderr


def test_export_reports_a_key_the_format_cannot_carry(tmp_path):
    spec = load_form(write(tmp_path, 'key = "box"\n' + CODE + BOX))
    redcap = write_redcap(spec, tmp_path / "visit.csv")
    xlsform = write_xlsform(spec, tmp_path / "visit.xlsx")
    assert ("key", "'box' is not kept: REDCap finds records by the record id, and an import "
                   "makes the first field the key") in [(p.column, p.message) for p in redcap.general]
    assert ("key", "XLSForm has no key setting (box): an import makes the first field the key") in \
        [(p.column, p.message) for p in xlsform.general]
    default = load_form(write(tmp_path, CODE + BOX, name="plain"))
    assert "key" not in [p.column for p in write_redcap(default, tmp_path / "p.csv").general]
    assert "key" not in [p.column for p in write_xlsform(default, tmp_path / "p.xlsx").general]


def test_the_chart_has_room_for_todays_label():
    from datetime import date
    today = date(2026, 11, 22)
    chart = build_chart([(today, "Zoë Müller", 4)], today)
    x, label = chart.day_labels[-1]
    assert label == "11-22"
    # 10 px text: each character is at most about 6.5 px wide, half on each side of x.
    assert x + len(label) * 6.5 / 2 <= chart.width
    assert all(bar.x + bar.width <= chart.right for bar in chart.bars)
