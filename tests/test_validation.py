"""Server-side validation: typed values out, one clear message per bad field."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from werkzeug.datastructures import MultiDict

from collector.forms.spec import load_forms
from collector.forms.validation import validate_submission
from tests.helpers import valid_intake

INTAKE = load_forms("forms")["intake"]


def validate(**changes):
    return validate_submission(INTAKE, MultiDict(valid_intake(**changes)))


def test_valid_entry_becomes_typed_values():
    values, errors = validate(conditions=["diabetes", "asthma", "asthma"], weight_kg=" 72.5 ")
    assert errors == {}
    assert values == {
        "participant_id": "P0042", "site": "north",
        "visit_at": datetime(2026, 11, 21, 10, 30, tzinfo=ZoneInfo("Europe/London")),
        "date_of_birth": date(1990, 5, 1), "age_years": 36, "weight_kg": Decimal("72.5"),
        "smoker": False, "conditions": ["diabetes", "asthma"],  # form order, no duplicates
        "contact_email": "ra@example.org", "notes": "Line one\nLine two",
    }


def test_empty_optional_fields_are_null_and_empty_ticks_an_empty_list():
    values, errors = validate(weight_kg="", contact_email="  ", notes="", conditions=[])
    assert errors == {}
    assert values["weight_kg"] is None and values["contact_email"] is None
    assert values["notes"] is None and values["conditions"] == []


BAD_VALUES = [
    ("participant_id", "", "Enter a value."),
    ("participant_id", "P42", "Use the expected format: P followed by four digits, e.g. P0042."),
    ("participant_id", "P00421", "Use at most 5 characters (you used 6)."),
    ("participant_id", "P00\x0042", "Remove the invisible NUL character"),
    ("site", "", "Choose an option."),
    ("site", "east", "Choose one of the listed options."),
    ("visit_at", "yesterday", "Enter a date and time, like 2026-03-31 14:30."),
    ("visit_at", "2025-12-31T23:59", "Enter 2026-01-01 00:00 or later."),
    ("date_of_birth", "01/05/1990", "Enter a date as YYYY-MM-DD"),
    ("date_of_birth", "1990-02-30", "Enter a date as YYYY-MM-DD"),
    ("date_of_birth", "2011-01-01", "Enter 2010-12-31 or earlier."),
    ("age_years", "thirty", "Enter a whole number, like 42."),
    ("age_years", "36.5", "Enter a whole number, like 42."),
    ("age_years", "15", "Enter at least 16."),
    ("age_years", "121", "Enter at most 120."),
    ("age_years", "99999999999", "Enter a number between"),
    ("age_years", "9" * 1000, "Enter a whole number, like 42."),
    ("weight_kg", "NaN", "Enter a number, like 12.5."),
    ("weight_kg", "Infinity", "Enter a number, like 12.5."),
    ("weight_kg", "1e2", "Enter a number, like 12.5."),
    ("weight_kg", "72.55", "Use at most 1 decimal place."),
    ("weight_kg", "19.9", "Enter at least 20."),
    ("smoker", "", "Choose yes or no."),
    ("smoker", "maybe", "Choose yes or no."),
    ("conditions", ["asthma", "gout"], "Choose only from the listed options."),
    ("contact_email", "not-an-email", "Enter an email address"),
    ("contact_email", "a@b", "Enter an email address"),
    ("notes", "x" * 2001, "Use at most 2000 characters (you used 2001)."),
]


@pytest.mark.parametrize("name, raw, message", BAD_VALUES)
def test_bad_value_gets_a_message_on_its_field_only(name, raw, message):
    values, errors = validate(**{name: raw})
    assert list(errors) == [name]
    assert errors[name].startswith(message)


def test_every_error_is_reported_at_once():
    _values, errors = validate_submission(INTAKE, MultiDict())
    required = {f.name for f in INTAKE.fields if f.required}
    assert set(errors) == required


def test_datetime_with_offset_keeps_its_offset():
    values, _errors = validate(visit_at="2026-06-01T09:00:00+02:00")
    assert values["visit_at"] == datetime.fromisoformat("2026-06-01T07:00:00+00:00")
