"""form_logic.js in Chromium gives the server's answer (validation.validate_submission) on random entries.

The lead's differential test adds PostgreSQL; this one checks the browser's
interpreter against the server's own code, field by field: what is shown, the
value stored and every message.
"""

import random
from datetime import date, datetime, timezone as tz
from decimal import Decimal

import pytest
from werkzeug.datastructures import MultiDict

from collector.forms.spec import load_form
from collector.forms.validation import validate_submission
from collector.web import logic_json
from tests.logic_js import open_logic
from tests.processes import PROJECT_ROOT
from tests.test_browser import browser  # noqa: F401

pytestmark = pytest.mark.slow
TODAY = date(2026, 11, 21)

HOUSEHOLD = """
title = "Household"
timezone = "America/Sao_Paulo"
section_pages = true

[[sections]]
name = "start"
title = "Start"

[[sections]]
name = "people"
title = "People"
relevant = "${consent}"

[[fields]]
section = "start"
name = "consent"
type = "boolean"
required = true

[[fields]]
section = "start"
name = "started_at"
type = "datetime"
required = true
min = 2018-01-01T00:00:00

[[fields]]
section = "start"
name = "ended_at"
type = "datetime"
constraint = ". > ${started_at}"
constraint_message = "The end must be after the start."

[[fields]]
section = "people"
name = "adults"
type = "integer"
required = true
min = 0
max = 30

[[fields]]
section = "people"
name = "children"
type = "integer"
min = 0
constraint = ". <= ${adults} * 4"

[[fields]]
section = "people"
name = "household_size"
type = "integer"
calculation = "coalesce(${adults}, 0) + coalesce(${children}, 0)"
max = 40

[[fields]]
section = "people"
name = "share"
type = "decimal"
places = 3
calculation = "1 div ${household_size}"

[[fields]]
section = "people"
name = "languages"
type = "multi_choice"
choices = [{ value = "en", label = "English" }, { value = "pt", label = "Português" },
           { value = "other", label = "Other" }]

[[fields]]
section = "people"
name = "languages_other"
type = "text"
required = true
relevant = "selected(${languages}, 'other') and count-selected(${languages}) <= 2"

[[fields]]
section = "people"
name = "respondent"
type = "text"
max_length = 10
constraint = "string-length(.) >= 2 or . = 'X'"

[[fields]]
section = "people"
name = "summary"
type = "text"
max_length = 12
calculation = "concat(${respondent}, ' / ', ${languages_other})"

[[fields]]
section = "people"
name = "born"
type = "date"
constraint = "years-between(., today()) >= 18 and . - date('1900-01-01') > 0"

[[fields]]
section = "people"
name = "weight"
type = "decimal"
places = 2
relevant = "${born} != '' and not(${adults} = 0)"

[[fields]]
section = "people"
name = "rest"
type = "decimal"
calculation = "round(-${weight} mod 7, 1)"
min = -5
"""

RAW = {
    "boolean": ["", "true", "false", " true ", "yes"],
    "integer": ["", "0", "1", "4", "30", "31", "-1", "+7", " 12\u00a0", "1.5", "abc", "2147483648", "\ufeff3"],
    "decimal": ["", "72.5", "72.55", "72.555", "0", "-3.25", ".5", "1e3", "1000000", "-0.00"],
    "date": ["", "2000-02-29", "2008-11-21", "2008-11-22", "1899-12-31", "2026-11-21", "2030-01-01",
             "2026-02-30"],
    "datetime": ["", "2018-11-04T00:30", "2018-11-03T23:59", "2019-02-16T23:30", "2019-02-17T00:10",
                 "2026-01-01T10:00", "2017-12-31T23:00", "2017-12-31T23:00-02:00", "2026-13-01T00:00"],
    "text": ["", "Ana", "X", " Ωμέγα ", "😀" * 11, "a\x00b", "João da Silva", "\u3000"],
    "long_text": ["", "Line\r\nline", "ΑΒΓ" * 700],
    "email": ["", "ra@example.org", "not an email"],
}


def raw_for(field, rng):
    if field.type == "multi_choice":
        return rng.sample(list(field.choice_values) + ["", "bogus"], rng.randrange(0, 4))
    if field.type == "choice":
        return rng.choice(["", "bogus", *field.choice_values])
    if field.type == "text" and field.pattern:
        return rng.choice(["", "P0042", "p0042", "P00421"])
    return rng.choice(RAW[field.type])


def as_browser_writes(value):
    if value is None or isinstance(value, (str, list)):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(tz.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value  # numbers: compared by value below


def same(js, py):
    if isinstance(py, (int, Decimal)) and not isinstance(py, bool) and js is not None:
        return Decimal(js) == py
    return js == as_browser_writes(py)


def agree(logic_page, spec, count, seed, extra=()):
    rng = random.Random(seed)
    cases = [*extra] + [{f.name: raw_for(f, rng) for f in spec.fields} for _ in range(count)]
    program = logic_json.program(spec)
    results = logic_page.evaluate(program, cases, today=TODAY.isoformat())
    differences = []
    for case, result in zip(cases, results):
        formdata = MultiDict([(name, item) for name, raw in case.items()
                              for item in (raw if isinstance(raw, list) else [raw])])
        values, errors = validate_submission(spec, formdata, today=TODAY)
        if result["errors"] != errors:
            differences.append(("errors", case, result["errors"], errors))
        for name, value in values.items():
            if not same(result["values"][name], value):
                differences.append(("value", name, case, result["values"][name], value))
            if value is not None and not result["shown"][name]:   # the server kept what the browser hid
                differences.append(("shown", name, case))
    assert differences == [], (len(differences), differences[:3])
    return results


@pytest.fixture(scope="module")
def logic_page(browser):  # noqa: F811
    context, logic_page = open_logic(browser)
    yield logic_page
    context.close()


def test_the_followup_form(logic_page):
    spec = load_form(PROJECT_ROOT / "forms" / "followup.toml")
    valid = {"participant_id": "P0042", "visit_date": "2026-11-20", "date_of_birth": "1990-05-01",
             "height_cm": "172.5", "weight_kg": "70.1", "smokes": "true", "cigarettes_per_day": "5",
             "new_diagnosis": "other", "diagnosis_other": "Gicht (Ärztin: Dr. Ñúñez)",
             "diagnosed_on": "2026-10-01", "age_at_visit": "3", "bmi": "sent anyway"}
    results = agree(logic_page, spec, 1500, seed=1, extra=[valid, valid | {"smokes": "false"}])
    assert results[0]["errors"] == results[1]["errors"] == {}
    assert results[0]["values"]["age_at_visit"] == "36" and results[0]["values"]["bmi"] == "23.6"
    assert results[1]["values"]["cigarettes_per_day"] is None
    assert {k for r in results for k in r["kinds"].values()} == {"value", "calculation", "constraint"}


def test_a_household_form_with_every_function(logic_page, tmp_path):
    path = tmp_path / "household.toml"
    path.write_text(HOUSEHOLD)
    spec = load_form(path)
    results = agree(logic_page, spec, 3000, seed=2)
    kinds = {k for r in results for k in r["kinds"].values()}
    assert kinds == {"value", "calculation", "constraint"}
    assert any(r["shown"]["languages_other"] for r in results)
    assert any(not r["sections"]["people"] for r in results) and any(r["sections"]["people"] for r in results)


def test_the_differential_tests_stress_form(logic_page):
    spec = load_form(PROJECT_ROOT / "tests" / "forms_logic" / "stress.toml")
    results = agree(logic_page, spec, 3000, seed=3)
    assert {k for r in results for k in r["kinds"].values()} >= {"value", "constraint"}
