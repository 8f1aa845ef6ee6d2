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
