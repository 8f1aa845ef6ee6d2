"""Form files: every rule a bad file can break stops loading with file, field and rule named."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from collector.forms.spec import load_form, load_forms
from collector.forms.spec_checks import SpecError

LONG_NAME = "a" + "x" * 63  # 64 characters: PostgreSQL would truncate it
GOOD_FIELD = '[[fields]]\nname = "age"\ntype = "integer"\n'


def write_form(tmp_path, body, stem="visit", header='title = "Visit"\n'):
    path = tmp_path / f"{stem}.toml"
    path.write_text(header + body)
    return path


def load_error(tmp_path, body, **kwargs):
    with pytest.raises(SpecError) as caught:
        load_form(write_form(tmp_path, body, **kwargs))
    return str(caught.value)


def test_example_form_loads_with_every_type_but_one():
    spec = load_forms("forms")["intake"]
    types = {field.type for field in spec.fields}
    assert len(spec.fields) >= 8 and len(types) >= 9
    assert spec.access == "invite" and spec.timezone.key == "Europe/London"


def test_defaults_and_typed_bounds(tmp_path):
    spec = load_form(write_form(tmp_path, """
[[fields]]
name = "visit_day"
type = "date"
min = 2026-01-01
max = "2026-12-31"
[[fields]]
name = "dose"
type = "decimal"
min = 0.5
max = "10"
[[fields]]
name = "seen_at"
type = "datetime"
min = 2026-01-01T08:00:00
[[fields]]
name = "email"
type = "email"
"""))
    assert spec.access == "invite" and spec.timezone.key == "UTC"
    day, dose, seen, email = spec.fields
    assert day.label == "Visit day" and not day.required
    assert (day.min, day.max) == (date(2026, 1, 1), date(2026, 12, 31))
    assert (dose.min, dose.max) == (Decimal("0.5"), Decimal("10"))
    assert seen.min == datetime.fromisoformat("2026-01-01T08:00:00+00:00")
    assert email.max_length == 254
    assert len(spec.version) == 12


BAD_FIELDS = [
    ('name = "age"\ntype = "number"', "age", "type must be one of"),
    ('name = "Age"\ntype = "integer"', "Age", "lower_snake_case"),
    ('name = "2nd_visit"\ntype = "integer"', "2nd_visit", "lower_snake_case"),
    (f'name = "{LONG_NAME}"\ntype = "integer"', LONG_NAME, "at most 63"),
    ('name = "select"\ntype = "integer"', "select", "reserved word"),
    ('name = "submission_id"\ntype = "text"', "submission_id", "reserved for the collector"),
    ('name = "csrf_token"\ntype = "text"', "csrf_token", "reserved for the collector"),
    ('type = "integer"', "#1", "has no name"),
    ('name = "age"\ntype = "integer"\nmin = 10\nmax = 5', "age", "min (10) is greater than max (5)"),
    ('name = "age"\ntype = "integer"\nmin = 1.5', "age", "min 1.5 is not a valid integer bound"),
    ('name = "age"\ntype = "integer"\nmax = 3000000000', "age", "max 3000000000 is not a valid"),
    ('name = "day"\ntype = "date"\nmin = "31/12/2026"', "day", "is not a valid date bound"),
    ('name = "day"\ntype = "date"\nmin = 2026-02-01\nmax = 2026-01-01', "day", "greater than max"),
    ('name = "at"\ntype = "datetime"\nmin = "tomorrow"', "at", "not a valid datetime bound"),
    ('name = "w"\ntype = "decimal"\nmin = "heavy"', "w", "not a valid decimal bound"),
    ('name = "w"\ntype = "decimal"\nplaces = -1', "w", "places must be a whole number"),
    ('name = "w"\ntype = "decimal"\nplaces = 99', "w", "places must be a whole number"),
    ('name = "code"\ntype = "text"\nmax_length = 0', "code", "max_length must be a whole number"),
    ('name = "code"\ntype = "text"\nmin_length = 5\nmax_length = 2', "code", "min_length (5) is greater"),
    ('name = "code"\ntype = "text"\npattern = "P[0-9"', "code", "not a valid regular expression"),
    ('name = "code"\ntype = "text"\nrequried = true', "code", "did you mean 'required'"),
    ('name = "code"\ntype = "text"\nmin = 1', "code", "'min' is not a rule for a text field"),
    ('name = "age"\ntype = "integer"\nmax_length = 3', "age", "not a rule for a integer field"),
    ('name = "smoker"\ntype = "boolean"\nchoices = []', "smoker", "not a rule for a boolean field"),
    ('name = "site"\ntype = "choice"', "site", "choices is empty"),
    ('name = "site"\ntype = "choice"\nchoices = []', "site", "choices is empty"),
    ('name = "site"\ntype = "multi_choice"\nchoices = ["a", "b"]', "site", "each choice must be"),
    ('name = "site"\ntype = "choice"\nchoices = [{ value = 1, label = "One" }]', "site",
     'write value = "1"'),
    ('name = "site"\ntype = "choice"\nchoices = [{ value = "a" }, { value = "a" }]', "site",
     "choice value 'a' appears more than once"),
    ('name = "site"\ntype = "choice"\nchoices = [{ value = "a", colour = "red" }]', "site",
     "each choice must be"),
    ('name = "age"\ntype = "integer"\nrequired = "yes"', "age", "required must be true or false"),
    ('name = "age"\ntype = "integer"\nlabel = 5', "age", "label must be a string"),
]


@pytest.mark.parametrize("body, field, problem", BAD_FIELDS)
def test_bad_field_is_refused_with_file_field_and_rule(tmp_path, body, field, problem):
    message = load_error(tmp_path, "[[fields]]\n" + body + "\n")
    assert message.startswith(f"{tmp_path / 'visit.toml'}: field {field!r}")
    assert problem in message


def test_duplicate_field_is_refused(tmp_path):
    message = load_error(tmp_path, GOOD_FIELD + GOOD_FIELD)
    assert message.endswith("field 'age': is declared more than once")


BAD_FORMS = [
    ({"header": ""}, "title is missing"),
    ({"header": 'title = "  "\n'}, "title must be a non-empty string"),
    ({"header": 'title = "V"\naccess = "everyone"\n'}, "access must be one of invite, public"),
    ({"header": 'title = "V"\ntimezone = "Mars/Olympus"\n'}, "timezone 'Mars/Olympus' is not a known"),
    ({"header": 'title = "V"\ntitel = "x"\n'}, "'titel' is not a form setting (did you mean 'title'?)"),
    ({"header": 'title = "V"\n', "stem": "Visit-Log"}, "the file name becomes the table name"),
    ({"header": 'title = "V"\n', "stem": "order"}, "reserved word"),
    ({"header": 'title = "V"\n', "stem": "codebook"}, "reserved for the collector's own tables"),
    ({"header": 'title = "V"\n', "stem": "visit_labelled"}, "reserved for the collector's own"),
    ({"header": 'title = "V"\nfields = []\n', "body": ""}, "no fields"),
    ({"header": 'title = "V"\n', "body": ""}, "no fields"),
    ({"header": 'title = "V"\nfields = ["age"]\n', "body": ""}, "field '#1': each field must be"),
    ({"header": 'title = "V\n'}, "not a valid TOML file"),
]


@pytest.mark.parametrize("kwargs, problem", BAD_FORMS)
def test_bad_form_settings_are_refused_with_file_and_rule(tmp_path, kwargs, problem):
    body = kwargs.pop("body", GOOD_FIELD)
    message = load_error(tmp_path, body, **kwargs)
    assert message.startswith(str(tmp_path))
    assert problem in message


def test_empty_forms_directory_is_refused(tmp_path):
    with pytest.raises(SpecError, match="no form files"):
        load_forms(tmp_path)


def test_one_bad_file_stops_the_whole_set(tmp_path):
    write_form(tmp_path, GOOD_FIELD, stem="good")
    write_form(tmp_path, '[[fields]]\nname = "x"\ntype = "integer"\nmin = 3\nmax = 1\n', stem="bad")
    with pytest.raises(SpecError, match=r"bad\.toml: field 'x': min \(3\) is greater than max \(1\)"):
        load_forms(tmp_path)
