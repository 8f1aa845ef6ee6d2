"""The database's logic CHECKs accept exactly the rows the server would store, and name the rule.

A form with every kind of logic (section and field relevance, required only
when shown, cross-field constraints, calculations of each type, today(),
a multi_choice) gets its table from create_all. Thousands of rows are drawn
from pools of answers (empties, boundaries, hidden fields holding values,
wrong calculations); for each, the server's logic (apply_logic) says whether
it is what the server would store, and PostgreSQL must agree: insert it or
refuse it, naming a rule of a field the server objected to.
"""

import random
import uuid
from datetime import date, datetime, timezone as tz
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from collector.db.checks import checks_of
from collector.db.migrate import create_all
from collector.forms.logic import apply_logic
from collector.forms.validation import check_typed
from collector.web.registry import load_registry

FORM = """title = "Logic probe"
timezone = "Pacific/Auckland"

[[sections]]
name = "main"
title = "Main"

[[sections]]
name = "extra"
title = "Extra: with consent"
relevant = "${consent}"

[[fields]]
section = "main"
name = "consent"
type = "boolean"
required = true

[[fields]]
section = "main"
name = "smoker"
type = "boolean"

[[fields]]
section = "main"
name = "cigs"
type = "integer"
required = true
relevant = "${smoker}"
min = 1
max = 200
constraint = ". <= ${cap}"
constraint_message = "More than the cap: it's 'cap' (50%: check)."

[[fields]]
section = "main"
name = "cap"
type = "integer"
min = 0

[[fields]]
section = "main"
name = "dob"
type = "date"
required = true
constraint = ". < today()"

[[fields]]
section = "main"
name = "visit"
type = "date"
required = true

[[fields]]
section = "main"
name = "age"
type = "integer"
min = 0
calculation = "years-between(${dob}, ${visit})"

[[fields]]
section = "main"
name = "adult"
type = "boolean"
calculation = "${age} >= 18"

[[fields]]
section = "main"
name = "weight"
type = "decimal"
places = 1

[[fields]]
section = "main"
name = "height"
type = "decimal"
places = 2

[[fields]]
section = "main"
name = "bmi"
type = "decimal"
places = 1
calculation = "${weight} div (${height} * ${height})"

[[fields]]
section = "main"
name = "site"
type = "choice"
choices = [{ value = "north", label = "North" }, { value = "other", label = "Other: say which" }]

[[fields]]
section = "main"
name = "site_other"
type = "text"
required = true
max_length = 20
relevant = "selected(${site}, 'other')"
constraint = "string-length(.) >= 2"

[[fields]]
section = "main"
name = "tag"
type = "text"
calculation = "if(${smoker}, concat('S-', ${site_other}), '')"

[[fields]]
section = "extra"
name = "symptoms"
type = "multi_choice"
required = true
choices = [{ value = "cough", label = "Cough" }, { value = "fever", label = "Fever" },
           { value = "none", label = "None of these" }]
constraint = "not(selected(., 'none')) or count-selected(.) = 1"

[[fields]]
section = "extra"
name = "aids"
type = "multi_choice"
choices = [{ value = "cane", label = "Cane" }, { value = "glasses", label = "Glasses" }]
constraint = "count-selected(.) >= 2"
constraint_message = "Tick both or none."

[[fields]]
section = "extra"
name = "days"
type = "integer"
calculation = "${visit} - ${dob}"

[[fields]]
section = "extra"
name = "seen_on"
type = "date"
calculation = "coalesce(${visit}, ${dob})"

[[fields]]
section = "extra"
name = "remarks"
type = "long_text"
relevant = "${site} != ''"
"""

# Answers to draw from; valid ones repeated so that about half the rows are ones the server stores.
INPUTS = {
    "consent": [True] * 6 + [False] * 3 + [None],
    "smoker": [None, True, False],
    "cigs": [None, 1, 20, 200] + [5] * 4,
    "cap": [None, 0, 10, 100],
    "dob": [None, date(2000, 2, 29), date(2026, 11, 22), date(2026, 11, 23)] + [date(1990, 5, 1)] * 8,
    "visit": [None, date(2018, 2, 28), date(1999, 1, 1)] + [date(2026, 11, 22)] * 8,
    "weight": [None, Decimal("72.5"), Decimal("0.5"), Decimal("-3.0")],
    "height": [None, Decimal("1.80"), Decimal("0.01"), Decimal("0"), Decimal("1.75")],
    "site": [None, "north", "other", "other"],
    "site_other": [None, "x", "'; --", "日本"] + ["Zoë Ünal"] * 6,
    "symptoms": [None, [], ["none"], ["cough", "none"]] + [["cough"], ["cough", "fever"]] * 4,
    "aids": [None, [], [], ["cane"], ["cane", "glasses"]],
    "remarks": [None, "Line one\nLine two: $$ 'quoted'"],
}
# Wrong values a calculated column might be given by hand or by a bug.
WRONG = {
    "age": [None, 0, 17, 18, 35, 36],
    "adult": [None, True, False],
    "bmi": [None, Decimal("22.4"), Decimal("0.1")],
    "tag": [None, "", "S-x", "S-"],
    "days": [None, 0, 1],
    "seen_on": [None, date(2026, 11, 22)],
}
# Auckland is UTC+13 in November: 10:59 UTC on the 22nd is 23:59 there, 11:00 is the 23rd.
SAVED = [datetime(2026, 11, 22, 10, 59, tzinfo=tz.utc), datetime(2026, 11, 22, 11, 0, tzinfo=tz.utc),
         datetime(2026, 11, 21, 12, 0, tzinfo=tz.utc)]


@pytest.fixture
def logic_form(tmp_path, engine):
    """The probe form's spec and table, created by create_all under a fresh name."""
    name = f"logic_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.toml").write_text(FORM)
    registry = load_registry(tmp_path)
    create_all(engine, registry)
    yield registry.specs[name], registry.tables[name]
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {name} CASCADE"))


def server_stores(spec, row, today):
    """Return (what the server would store for `row`'s answers, the fields it objects to)."""
    errors = {}
    stored = apply_logic(spec, dict(row), errors,
                         lambda field, value: check_typed(field, value, spec.timezone), today)
    return stored, set(errors)


def draw_rows(spec, count, seed):
    """Rows of answers; most as the server would store them, many bent in one way or another."""
    chooser = random.Random(seed)
    rows = []
    for _ in range(count):
        saved = chooser.choice(SAVED)
        today = saved.astimezone(spec.timezone).date()
        answers = {name: chooser.choice(pool) for name, pool in INPUTS.items()}
        row, _objections = server_stores(spec, answers, today)
        bend = chooser.random()
        if bend < 0.15:  # a hidden field keeps what was typed before it was hidden
            row.update({name: value for name, value in answers.items() if row[name] is None})
        elif bend < 0.3:  # a calculation stored wrong
            name = chooser.choice(list(WRONG))
            row[name] = chooser.choice(WRONG[name])
        elif bend < 0.4:  # an answer changed after the calculations were made
            name = chooser.choice(list(INPUTS))
            row[name] = chooser.choice(INPUTS[name])
        rows.append((row, saved, today))
    return rows


def test_checks_accept_exactly_what_the_server_stores(logic_form, engine):
    spec, table = logic_form
    reads = {check.name: check.reads for field in spec.fields for check in checks_of(spec, field)}
    verdicts = {"stored": 0, "refused": 0}
    refused_by = set()
    with engine.connect() as conn:
        for index, (row, saved, today) in enumerate(draw_rows(spec, 3000, seed=10)):
            stored, objections = server_stores(spec, row, today)
            wrong = {name for name in row if stored[name] != row[name] or
                     type(stored[name]) is not type(row[name])}
            server_takes_it = not objections and not wrong
            savepoint = conn.begin_nested()
            try:
                conn.execute(table.insert().values(
                    {**row, "submission_id": uuid.uuid4(), "form_version": "t", "submitted_at": saved}))
                savepoint.commit()
                refused = None
            except IntegrityError as error:
                savepoint.rollback()
                diag = error.orig.diag
                refused = reads.get(diag.constraint_name, {diag.column_name})
            assert (refused is None) == server_takes_it, (index, row, today, objections, wrong, refused)
            if refused is not None:
                # The rule named reads a field the server objected to, or would have stored otherwise
                # (a wrong age is named by adult's calculation when that is checked first).
                assert refused & (objections | wrong), (row, objections, wrong, diag.constraint_name)
                refused_by.add(diag.constraint_name or diag.column_name)
            verdicts["stored" if refused is None else "refused"] += 1
        conn.rollback()
    # Both outcomes are common, and most rules were seen refusing something.
    assert verdicts["stored"] > 500 and verdicts["refused"] > 500, verdicts
    rules = {name.rsplit("_", 2)[-2] for name in refused_by if name.startswith("ck_")}
    assert rules >= {"relevant", "required", "constraint", "calculation"}, refused_by
