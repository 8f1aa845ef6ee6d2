"""The heart of form logic: Python, PostgreSQL and Chromium accept and refuse exactly the same.

Many random submissions (empties, boundaries, hidden fields, DST date-times,
non-ASCII text) for two forms with logic go to three judges:
- Python: validate_submission, the server's authority;
- PostgreSQL: the CHECKs create_all derived, on the values Python would store,
  and on rows tampered the ways an attacker or a bug could (a hidden field
  holding a value, a calculation changed, a shown required field emptied);
- Chromium: static/form_logic.js running the page's compiled program on the
  same raw inputs: the same messages for the same fields, the same values.
(tests/test_browser_logic.py fills the real pages, with and without JavaScript.)
"""

import random
import re
import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import MultiDict

from collector.db.migrate import create_all
from collector.forms.conflicts import same_value
from collector.forms.expressions.evaluate import evaluate
from collector.forms.validation import check_field, validate_submission
from collector.interchange.run import import_file
from collector.web import logic_json
from collector.web.registry import load_registry
from tests.test_browser import browser  # noqa: F401
from tests.test_logic_agrees_with_server import logic_page, same  # noqa: F401 (a fixture)
from tests.xlsform_workbooks import build_workbook

HERE = Path(__file__).parent
FORMS = {"stress": HERE / "forms_logic" / "stress.toml",
         "followup": HERE.parent / "forms" / "followup.toml"}
# Instruments imported as `manage.py import` does: their translated logic must mean the
# same in all three places too. Form name -> (source, how to make the file a PI would have).
IMPORTED = {"household_health_2026": ("xlsform", HERE / "data" / "xlsform" / "household_health"),
            "enrolment": ("redcap", HERE / "data" / "redcap" / "cohort_study.csv"),
            "follow_up_visit": ("redcap", HERE / "data" / "redcap" / "cohort_study.csv")}
CASES = 400
# The REDCap enrolment's many independent rules refuse most random entries: more cases
# give it as many accepted entries to tamper with as the others have.
CASES_FOR = {"enrolment": 1200}
TODAY = date(2026, 11, 22)
# The row's submitted_at: what today() means inside PostgreSQL's CHECKs.
SAVED_AT = datetime(2026, 11, 22, 12, 0, tzinfo=ZoneInfo("Europe/London"))

TEXTS = ["", " ", "Zoë", "  padded  ", "痛風😀", "x" * 12, "Ωmega-ß", "a\u00a0b", "12345", "😀" * 12,
         "-3.5", " 0.25 ", "+007", "-0", "1e3", "1,5", ".5", "4.125"]  # for number()
LONG_TEXTS = ["", "ok", "line one\r\nline two", "😀😀😀😀😀😀", "Łódź, Zürich", " " * 3 + "trim me" + " " * 3,
              "x" * 40, "\u2003spaced\u2003", "done."]
DATETIMES = ["2026-03-29T00:59", "2026-03-29T01:00", "2026-03-29T01:30", "2026-03-29T02:00",
             "2026-03-29T02:10", "2026-10-25T00:59", "2026-10-25T01:00", "2026-10-25T01:30",
             "2026-10-25T01:59", "2026-10-25T02:00", "2026-06-01T12:00", "1999-12-31T23:59"]


# Values that fit the patterns imported forms have.
PATTERN_SAMPLES = ["0701234567", "555-123-4567", "(555) 123 4567", "12345", "12345-6789",
                   "09:30", "23:59", "00:00"]

FOLLOWUP_DATES = {
    "visit_date": lambda rng: TODAY - timedelta(days=rng.choice([0, 0, 1, 200, -1, rng.randint(0, 300)])),
    "date_of_birth": lambda rng: rng.choice([date(1980, 11, 21), date(2010, 11, 21), date(2010, 11, 22),
                                             date(1906, 11, 22), date(1906, 11, 23), date(2000, 2, 29),
                                             TODAY, date(rng.randint(1920, 2008), 6, 15)]),
    "diagnosed_on": lambda rng: rng.choice([TODAY, TODAY - timedelta(days=1), date(1980, 11, 21),
                                            date(2026, 3, 14), TODAY + timedelta(days=1),
                                            date(2000, 1, 1)]),
}


def raw_value(field, rng):
    """Return what a browser could send for `field`: valid for its own rules, random for logic."""
    if rng.random() < (0.05 if field.required else 0.25):
        return [] if field.type == "multi_choice" else ""
    kind = field.type
    if field.pattern == "P[0-9]{4}":  # the follow-up form's participant ID
        return f"P{rng.randint(0, 9999):04d}"
    if field.pattern:  # imported forms: phone numbers, postcodes, clock times
        fitting = [text for text in PATTERN_SAMPLES if re.fullmatch(field.pattern, text)]
        # pattern is no database rule (docs/FORMS.md), so only values that fit it or none.
        return rng.choice(fitting + [""])
    if kind == "email":
        return rng.choice(["ama.mensah@example.org", "zoë@exämple.de", "a@b.co"])
    if kind in ("integer", "decimal"):
        low = int(field.min) if field.min is not None else -50
        high = int(field.max) if field.max is not None else 50
        picks = [low, high, 0, 1, -1, 2, 3, rng.randint(low, high), rng.randint(-3, 3)]
        number = Decimal(max(low, min(high, rng.choice(picks))))
        if kind == "decimal" and rng.random() < 0.5 and (field.places or 0) > 0:
            number += Decimal(rng.choice(["0.5", "-0.25", "0.01", "0.99", "-0.1"]))
            number = max(Decimal(low), min(Decimal(high), number))
            number = number.quantize(Decimal(1).scaleb(-field.places), rounding="ROUND_DOWN")
        return rng.choice(["", " "]) + str(number) if rng.random() < 0.1 else str(number)
    if kind == "boolean":
        return rng.choice(["true", "false"])
    if kind == "choice":
        return rng.choice(field.choice_values)
    if kind == "multi_choice":
        return rng.sample(field.choice_values, rng.randint(0, len(field.choice_values)))
    if field.name in FOLLOWUP_DATES:  # realistic visits: most rules hold, some break at the edges
        return FOLLOWUP_DATES[field.name](rng).isoformat()
    if kind == "date":
        low = field.min or date(1990, 1, 1)
        high = min(field.max or date(2030, 12, 31), date(2030, 12, 31))
        anchor = rng.choice([low, high, TODAY, TODAY + timedelta(days=1), date(2000, 2, 29),
                             date(2001, 2, 28), date(2026, 3, 1)])
        day = anchor + timedelta(days=rng.choice([0, 0, 1, -1, 29, -30, 365, -366, rng.randint(-9000, 9000)]))
        return max(low, min(high, day)).isoformat()
    if kind == "datetime":
        return rng.choice([moment for moment in DATETIMES if fits(field, moment)] or [""])
    texts = LONG_TEXTS if kind == "long_text" else TEXTS
    choice = rng.choice(texts)
    return choice if not field.max_length or len(choice.strip()) <= field.max_length else choice[:1]


def fits(field, raw):
    """Whether `raw` keeps the field's own rules (its bounds), whatever the logic says."""
    try:
        check_field(field, raw, ZoneInfo("UTC"), required=False)
        return True
    except ValueError:
        return False


def random_cases(spec, seed, count=CASES):
    """Return `count` raw submissions, also sending junk for calculated fields."""
    rng = random.Random(seed)
    cases = []
    for _ in range(count):
        raw = {field.name: raw_value(field, rng) for field in spec.fields}
        for field in spec.fields:
            if field.calculation is not None and rng.random() < 0.5:
                raw[field.name] = rng.choice(["999", "junk", "-1"])
        cases.append(raw)
    return cases


def as_form(raw):
    data = MultiDict()
    for name, value in raw.items():
        for item in value if isinstance(value, list) else [value]:
            data.add(name, item)
    return data


def python_judge(spec, raw):
    return validate_submission(spec, as_form(raw), today=TODAY)


def stored_as_raw(spec, values):
    """Return what a browser would send to reproduce a row of typed values."""
    raw = {}
    for field in spec.fields:
        value = values.get(field.name)
        if value is None:
            raw[field.name] = [] if field.type == "multi_choice" else ""
        elif isinstance(value, bool):
            raw[field.name] = "true" if value else "false"
        elif isinstance(value, list):
            raw[field.name] = value
        elif isinstance(value, Decimal):
            raw[field.name] = format(value, "f")
        else:
            raw[field.name] = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return raw


def python_accepts_row(spec, row):
    """Whether the server would store exactly this row: no errors, and nothing recomputed."""
    values, errors = python_judge(spec, stored_as_raw(spec, row))
    return not errors and all(same_value(values[f.name], row[f.name]) for f in spec.fields)


def tampered(spec, values, rng):
    """Yield rows breaking the logic in one way each: every one must be refused by both."""
    for field in spec.fields:
        name, value = field.name, values[field.name]
        hidden = field.shown is not None and evaluate(field.shown, values, spec.timezone, TODAY) is not True
        if hidden and field.calculation is None:
            try:
                forced = check_field(field, raw_value(field, rng), spec.timezone, required=False)
            except ValueError:
                forced = None
            if forced not in (None, []):
                yield name, "hidden field holds a value", {**values, name: forced}
        if field.calculation is not None and value is not None:
            changed = (not value) if isinstance(value, bool) else value + 1 \
                if isinstance(value, (int, Decimal)) else value + "!" if isinstance(value, str) else None
            if changed is not None:
                yield name, "calculation changed", {**values, name: changed}
        if field.required and not hidden and value not in (None, []):
            yield name, "shown required field emptied", {**values, name: None}


@pytest.fixture(scope="module")
def logic_tables(engine, tmp_path_factory):
    """The two logic forms' tables, created by create_all as a deploy would."""
    directory = tmp_path_factory.mktemp("logic_forms")
    for name, path in FORMS.items():
        (directory / f"{name}.toml").write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    for source in sorted({source for _, source in IMPORTED.values()}):
        if source.is_dir():  # an XLSForm kept as text: the workbook a PI would have
            source = build_workbook(source, tmp_path_factory.mktemp("workbook") / f"{source.name}.xlsx")
        import_file(source, directory)
    with engine.begin() as conn:
        for name in [*FORMS, *IMPORTED]:
            conn.execute(text(f"DROP TABLE IF EXISTS {name} CASCADE"))
    registry = load_registry(directory)
    create_all(engine, registry)
    yield registry
    with engine.begin() as conn:
        for name in [*FORMS, *IMPORTED]:
            conn.execute(text(f"TRUNCATE {name}"))


def database_accepts(conn, table, spec, values):
    """Insert one row in a savepoint; return None if stored, else the refusing constraint
    (or, for any other refusal such as an overflow, PostgreSQL's first line)."""
    row = {"submission_id": uuid.uuid4(), "form_version": spec.version, "submitted_at": SAVED_AT,
           **values}
    try:
        with conn.begin_nested():
            conn.execute(insert(table).values(row))
        return None
    except DBAPIError as error:
        return getattr(error.orig.diag, "constraint_name", None) or str(error.orig).splitlines()[0]


@pytest.mark.slow
@pytest.mark.parametrize("form", [*sorted(FORMS), *IMPORTED])
def test_python_postgresql_and_chromium_accept_and_refuse_the_same(form, logic_tables, engine,
                                                                   logic_page, report):
    spec, table = logic_tables.specs[form], logic_tables.tables[form]
    cases = random_cases(spec, seed=form, count=CASES_FOR.get(form, CASES))
    in_browser = logic_page.evaluate(logic_json.program(spec), cases, today=TODAY.isoformat())
    rng = random.Random(f"tamper-{form}")
    disagreements, counts = [], {"accepted": 0, "refused": 0, "tampered": 0}
    with engine.connect() as conn, conn.begin():
        for raw, browser_said in zip(cases, in_browser):
            values, errors = python_judge(spec, raw)
            refused_by = database_accepts(conn, table, spec, values)
            counts["refused" if errors else "accepted"] += 1
            if bool(errors) != (refused_by is not None):
                disagreements.append(("PostgreSQL", raw, errors, refused_by))
            if browser_said["errors"] != errors:
                disagreements.append(("Chromium errors", raw, errors, browser_said["errors"]))
            wrong = [name for name in values if not same(browser_said["values"][name], values[name])]
            if wrong:
                disagreements.append(("Chromium values", raw, {n: (values[n], browser_said["values"][n])
                                                               for n in wrong}))
            if errors:
                continue
            for name, how, row in tampered(spec, values, rng):
                counts["tampered"] += 1
                refused_by = database_accepts(conn, table, spec, row)
                python_says = python_accepts_row(spec, row)
                if python_says or refused_by is None:
                    disagreements.append((how, name, row, refused_by, python_says))
        conn.rollback()
    assert counts["accepted"] > CASES // 10 and counts["refused"] > CASES // 10, counts
    assert not disagreements, (len(disagreements), disagreements[:3])
    report(f"differential {form}: {counts['accepted']} accepted and {counts['refused']} refused "
           f"submissions, {counts['tampered']} tampered rows: Python, PostgreSQL and Chromium "
           "agreed on every one")
