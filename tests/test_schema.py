"""The typed table, read back from PostgreSQL's own catalog."""

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError


def catalog(engine, sql, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).all()


def test_columns_have_postgres_types_and_not_null(app, engine):
    rows = catalog(engine, """
        SELECT column_name, data_type, udt_name, is_nullable FROM information_schema.columns
        WHERE table_name = 'intake' ORDER BY ordinal_position""")
    assert [tuple(r) for r in rows] == [
        ("id", "bigint", "int8", "NO"),
        ("submission_id", "uuid", "uuid", "NO"),
        ("submitted_at", "timestamp with time zone", "timestamptz", "NO"),
        ("entered_by", "text", "text", "YES"),
        ("form_version", "text", "text", "NO"),
        ("review_status", "text", "text", "NO"),
        ("participant_id", "text", "text", "NO"),
        ("site", "text", "text", "NO"),
        ("visit_at", "timestamp with time zone", "timestamptz", "NO"),
        ("date_of_birth", "date", "date", "NO"),
        ("age_years", "integer", "int4", "NO"),
        ("weight_kg", "numeric", "numeric", "YES"),
        ("smoker", "boolean", "bool", "NO"),
        ("conditions", "ARRAY", "_text", "YES"),
        ("contact_email", "text", "text", "YES"),
        ("notes", "text", "text", "YES"),
    ]


def test_identity_default_and_unique_submission_id(app, engine):
    (identity,) = catalog(engine, """SELECT is_identity, identity_generation FROM
        information_schema.columns WHERE table_name = 'intake' AND column_name = 'id'""")
    assert tuple(identity) == ("YES", "ALWAYS")
    (default,) = catalog(engine, """SELECT column_default FROM information_schema.columns
        WHERE table_name = 'intake' AND column_name = 'submitted_at'""")
    assert default[0] == "now()"
    uniques = catalog(engine, """SELECT pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = 'intake'::regclass AND contype = 'u'""")
    assert [u[0] for u in uniques] == ["UNIQUE (submission_id)"]


def test_checks_cover_ranges_lengths_places_and_choices(app, engine):
    checks = {row[0]: row[1] for row in catalog(engine, """
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = 'intake'::regclass AND contype = 'c'""")}
    by_rule = {name.rsplit("_", 1)[0]: sql for name, sql in checks.items()}
    assert "age_years >= 16" in by_rule["ck_intake_age_years_range"]
    assert "age_years <= 120" in by_rule["ck_intake_age_years_range"]
    assert "'2010-12-31'::date" in by_rule["ck_intake_date_of_birth_range"]
    assert "char_length(participant_id) <= 5" in by_rule["ck_intake_participant_id_length"]
    assert "scale(weight_kg) <= 1" in by_rule["ck_intake_weight_kg_places"]
    assert "'mobile'::text" in by_rule["ck_intake_site_choice"]
    assert "<@" in by_rule["ck_intake_conditions_choice"]
    assert "char_length(notes) <= 2000" in by_rule["ck_intake_notes_length"]


def test_comments_make_a_codebook(app, engine):
    (table_comment,) = catalog(engine, "SELECT obj_description('intake'::regclass, 'pg_class')")
    assert table_comment[0].startswith("Participant intake. Complete at the participant's")
    comments = dict(catalog(engine, """
        SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a
        WHERE a.attrelid = 'intake'::regclass AND a.attnum > 0 AND NOT a.attisdropped"""))
    assert all(comments.values()), "every column has a comment"
    assert comments["participant_id"].startswith("Participant ID - P followed by four digits")
    assert "Choices: north = North clinic; south = South clinic; mobile = Mobile unit" in comments["site"]
    assert "min 16, max 120" in comments["age_years"]


BAD_ROWS = [
    {"age_years": 200},
    {"site": "east"},
    {"weight_kg": "72.55"},
    {"conditions": ["asthma", "gout"]},
    {"participant_id": "P000042"},
    {"date_of_birth": "1850-01-01"},
    {"contact_email": "nobody"},
]


@pytest.mark.parametrize("change", BAD_ROWS)
def test_database_refuses_what_the_form_forbids_even_without_the_app(app, engine, change):
    row = {"participant_id": "P0001", "site": "north", "visit_at": "2026-05-01T10:00:00Z",
           "date_of_birth": "1990-01-01", "age_years": 30, "smoker": True,
           "submission_id": str(uuid.uuid4()), "form_version": "test"} | change
    columns = ", ".join(row)
    insert = text(f"INSERT INTO intake ({columns}) VALUES ({', '.join(':' + c for c in row)})")
    with pytest.raises(IntegrityError, match="violates check constraint"):
        with engine.begin() as conn:
            conn.execute(insert, row)


# --- form logic: the follow-up form ------------------------------------------------------------

def followup_row(**change):
    return {"participant_id": "P0001", "visit_date": "2026-05-01", "date_of_birth": "1990-01-01",
            "age_at_visit": 36, "smokes": False, "new_diagnosis": "none",
            "submission_id": str(uuid.uuid4()), "form_version": "test",
            "submitted_at": "2026-05-01T10:00:00Z"} | change


def insert_followup(engine, row):
    columns = ", ".join(row)
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO followup ({columns}) VALUES "
                          f"({', '.join(':' + c for c in row)})"), row)


def test_a_required_field_that_can_be_hidden_is_nullable(app, engine):
    nullable = dict(catalog(engine, """SELECT column_name, is_nullable FROM information_schema.columns
        WHERE table_name = 'followup'"""))
    assert nullable["smokes"] == "NO"  # required and always shown
    assert nullable["cigarettes_per_day"] == "YES"  # required only while shown
    assert nullable["diagnosed_on"] == "YES"


def test_comments_say_when_shown_the_rule_and_the_calculation(app, engine):
    comments = dict(catalog(engine, """
        SELECT a.attname, col_description(a.attrelid, a.attnum) FROM pg_attribute a
        WHERE a.attrelid = 'followup'::regclass AND a.attnum > 0 AND NOT a.attisdropped"""))
    assert "Required when shown integer" in comments["cigarettes_per_day"]
    assert "Shown only when: ${smokes}" in comments["cigarettes_per_day"]
    assert ("Rule: . <= 52 (At most one attempt a week: enter 52 or fewer.)"
            in comments["quit_attempts"])
    assert "Calculated: years-between(${date_of_birth}, ${visit_date})" in comments["age_at_visit"]


def test_codebook_lists_logic_after_the_old_columns(app, engine):
    with engine.connect() as conn:
        result = conn.execute(text("SELECT * FROM codebook WHERE form = 'followup' ORDER BY position"))
        assert list(result.keys()) == ["form", "form_title", "position", "field", "label", "type",
                                       "required", "hint", "rules", "choices", "section",
                                       "relevant", "constraint_rule", "constraint_message",
                                       "calculation"]
        rows = {row["field"]: row for row in result.mappings()}
    assert rows["cigarettes_per_day"]["relevant"] == "${smokes}"
    assert rows["cigarettes_per_day"]["section"] == "smoking"
    assert rows["quit_attempts"]["constraint_rule"] == ". <= 52"
    assert rows["quit_attempts"]["constraint_message"].startswith("At most one attempt a week")
    assert rows["bmi"]["calculation"].startswith("${weight_kg} div")
    assert rows["notes"]["relevant"] == rows["notes"]["calculation"] == ""


LOGIC_REFUSALS = [
    ({"cigarettes_per_day": 10}, "cigarettes_per_day_relevant"),           # hidden, yet a value
    ({"smokes": True}, "cigarettes_per_day_required"),                     # shown, no value
    ({"smokes": True, "cigarettes_per_day": 5, "quit_attempts": 60}, "quit_attempts_constraint"),
    ({"new_diagnosis": "diabetes", "diagnosed_on": "1989-12-31"}, "diagnosed_on_constraint"),
    ({"visit_date": "2026-05-02"}, "visit_date_constraint"),               # after the day it was saved
    ({"age_at_visit": 35}, "age_at_visit_calculation"),
    ({"age_at_visit": None}, "age_at_visit_calculation"),
    ({"height_cm": "180.0", "weight_kg": "72.5", "bmi": "22.3"}, "bmi_calculation"),
    ({"new_diagnosis": "other"}, "diagnosed_on_required"),
    ({"new_diagnosis": "diabetes", "diagnosed_on": "2026-05-01", "diagnosis_other": "Gout"},
     "diagnosis_other_relevant"),
]


@pytest.mark.parametrize("change, rule", LOGIC_REFUSALS)
def test_the_database_refuses_what_the_logic_forbids_and_names_field_and_rule(app, engine, change, rule):
    insert_followup(engine, followup_row())  # the unchanged row is fine
    with pytest.raises(IntegrityError, match=f'violates check constraint "ck_followup_{rule}_'):
        insert_followup(engine, followup_row(**change))


def test_the_database_takes_rows_the_logic_allows(app, engine):
    insert_followup(engine, followup_row(smokes=True, cigarettes_per_day=5, quit_attempts=52))
    insert_followup(engine, followup_row(height_cm="180.0", weight_kg="72.5", bmi="22.4"))
    insert_followup(engine, followup_row(new_diagnosis="other", diagnosis_other="Gout",
                                         diagnosed_on="1990-01-01"))
    insert_followup(engine, followup_row(visit_date="2026-05-01", submitted_at="2026-04-30T23:30:00Z"))
