"""create_all: creates, extends, loosens safely, and reports drift with SQL; never loses data."""

import uuid

import pytest
from sqlalchemy import inspect, text

from collector.db.migrate import create_all
from collector.web.registry import load_registry
from tests.processes import run_manage

AGE = '[[fields]]\nname = "age"\ntype = "integer"\nrequired = true\nmin = 0\nmax = 120\n'
SITE = '[[fields]]\nname = "site"\ntype = "text"\n'
WEIGHT = '[[fields]]\nname = "weight"\ntype = "decimal"\nrequired = true\n'


@pytest.fixture
def form(tmp_path, engine):
    """A throwaway form (unique table name) whose file each test rewrites."""
    name = f"mig_{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.toml"

    def sync(*fields):
        path.write_text('title = "Migration test"\n' + "".join(fields))
        return [str(change) for change in create_all(engine, load_registry(tmp_path))]

    sync.name = name
    yield sync
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {name} CASCADE"))


def insert(engine, table, **values):
    values = {"submission_id": str(uuid.uuid4()), "form_version": "t", **values}
    names = ", ".join(values)
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {table} ({names}) VALUES "
                          f"({', '.join(':' + n for n in values)})"), values)


def columns(engine, table):
    return {c["name"]: c for c in inspect(engine).get_columns(table)}


def test_creates_once_and_is_idempotent(form, engine):
    assert form(AGE, SITE) == [f"{form.name}: created table with 2 fields"]
    assert form(AGE, SITE) == []
    assert set(columns(engine, form.name)) >= {"age", "site", "submission_id"}


def test_new_required_field_on_an_empty_table_is_not_null(form, engine):
    form(AGE)
    assert form(AGE, WEIGHT) == [f"{form.name}: added column weight (NUMERIC)"]
    assert columns(engine, form.name)["weight"]["nullable"] is False


def test_new_required_field_on_a_table_with_rows_is_nullable_and_says_how_to_require_it(form, engine):
    form(AGE)
    insert(engine, form.name, age=30)
    (change,) = form(AGE, WEIGHT)
    assert "added column weight (NUMERIC) as nullable because the table has rows" in change
    assert f"ALTER TABLE {form.name} ALTER COLUMN weight SET NOT NULL;" in change
    assert columns(engine, form.name)["weight"]["nullable"] is True


def test_removed_field_is_kept_reported_and_no_longer_blocks_inserts(form, engine):
    form(AGE, SITE)
    insert(engine, form.name, age=30, site="north")
    changes = form(SITE)
    assert any("column age is not in the form file: dropped NOT NULL" in c for c in changes)
    assert any("DRIFT column age is not in the form file any more; its data is kept" in c
               and f"ALTER TABLE {form.name} DROP COLUMN age;" in c for c in changes)
    insert(engine, form.name, site="south")  # would fail if age stayed NOT NULL
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT age FROM {form.name} ORDER BY id")).scalars().all() == [30, None]


def test_retyped_field_is_reported_with_sql_and_left_alone(form, engine):
    form(AGE)
    changes = form(AGE.replace('"integer"', '"text"').replace("min = 0\nmax = 120\n", ""))
    assert any("DRIFT column age is INTEGER in the database but TEXT in the form file" in c
               and f"ALTER TABLE {form.name} ALTER COLUMN age TYPE TEXT USING age::TEXT;" in c
               for c in changes)
    assert str(columns(engine, form.name)["age"]["type"]) == "INTEGER"


def test_changed_rule_replaces_the_check_for_new_rows_only(form, engine):
    form(AGE)
    insert(engine, form.name, age=100)
    changes = form(AGE.replace("max = 120", "max = 90"))
    assert any("dropped check" in c for c in changes)
    added = next(c for c in changes if "added check" in c)
    assert "existing rows were not checked" in added and "VALIDATE CONSTRAINT" in added
    with pytest.raises(Exception, match="violates check constraint"):
        insert(engine, form.name, age=95)
    insert(engine, form.name, age=90)


def test_field_made_optional_drops_not_null_and_required_again_is_drift(form, engine):
    form(AGE)
    changes = form(AGE.replace("required = true\n", ""))
    assert changes == [f"{form.name}: column age is optional now (dropped NOT NULL)"]
    assert any("DRIFT column age is required in the form file" in c for c in form(AGE))


def test_cli_create_all_reports_and_bad_form_stops_it_with_one_line(tmp_path, database_url, engine):
    name = f"cli_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.toml").write_text('title = "CLI"\n' + AGE)
    first = run_manage("create_all", DATABASE_URL=database_url, FORMS_DIR=str(tmp_path))
    second = run_manage("create_all", DATABASE_URL=database_url, FORMS_DIR=str(tmp_path))
    assert first.returncode == 0 and f"{name}: created table with 1 fields" in first.stdout
    assert second.returncode == 0 and second.stdout == "All tables match the form files.\n"
    bad = tmp_path / "bad_form.toml"
    bad.write_text('title = "Bad"\n' + AGE.replace("max = 120", "max = -1"))
    refused = run_manage("create_all", DATABASE_URL=database_url, FORMS_DIR=str(tmp_path))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == f"Error: {bad}: field 'age': min (0) is greater than max (-1)"
    assert not inspect(engine).has_table("bad_form")
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {name} CASCADE"))


def test_cli_create_all_says_when_the_database_is_unreachable(tmp_path):
    from tests.helpers import free_port
    result = run_manage("create_all", DATABASE_URL=f"postgres://x@127.0.0.1:{free_port()}/x")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: cannot reach the database: connection to server at")


# --- form logic -------------------------------------------------------------------------------

SMOKER = '[[fields]]\nname = "smoker"\ntype = "boolean"\nrequired = true\n'
CIGS = '[[fields]]\nname = "cigs"\ntype = "integer"\nrequired = true\n'
HIDDEN_CIGS = CIGS + 'relevant = "${smoker}"\n'
CAPPED_CIGS = CIGS + 'constraint = ". <= 40"\nconstraint_message = "At most 40: it\'s a cap."\n'
DOUBLE = '[[fields]]\nname = "double"\ntype = "integer"\ncalculation = "${cigs} * 2"\n'


def sql_of(change):
    """Return the SQL lines a change prints under its message."""
    return [line.strip() for line in change.splitlines()[1:]]


def check_names(engine, table):
    return {c["name"] for c in inspect(engine).get_check_constraints(table)}


def test_logic_checks_on_a_table_with_rows_are_drift_with_sql_finding_the_rows_they_refuse(form, engine):
    form(SMOKER, CIGS)
    insert(engine, form.name, smoker=False, cigs=10)  # entered before cigs could be hidden
    insert(engine, form.name, smoker=True, cigs=5)
    changes = form(SMOKER, HIDDEN_CIGS)
    assert f"{form.name}: column cigs is required only while shown now (dropped NOT NULL; a check " \
           "asks for it while shown)" in changes
    relevant = next(c for c in changes if "_cigs_relevant_" in c)
    assert f"{form.name}: DRIFT added check ck_{form.name}_cigs_relevant_" in relevant
    assert "existing rows were not checked" in relevant
    find, validate = sql_of(relevant)
    with engine.connect() as conn:
        assert conn.execute(text(find)).scalars().all() == [1]
    with pytest.raises(Exception, match=f'"ck_{form.name}_cigs_relevant_.*" .* is violated by some row'):
        with engine.begin() as conn:
            conn.execute(text(validate))
    with pytest.raises(Exception, match=f'violates check constraint "ck_{form.name}_cigs_relevant_'):
        insert(engine, form.name, smoker=False, cigs=3)
    with pytest.raises(Exception, match=f'violates check constraint "ck_{form.name}_cigs_required_'):
        insert(engine, form.name, smoker=True)
    insert(engine, form.name, smoker=False)  # hidden, so it may be empty now
    # Without the relevant again: its checks go, and requiring the column is drift.
    changes = form(SMOKER, CIGS)
    assert sum("dropped check" in c for c in changes) == 2
    assert any("DRIFT column cigs is required in the form file" in c for c in changes)
    assert not any("_relevant_" in name for name in check_names(engine, form.name))


def test_logic_checks_on_an_empty_table_are_added_valid(form, engine):
    form(SMOKER, CIGS)
    changes = form(SMOKER, CAPPED_CIGS)
    assert len(changes) == 1 and changes[0].startswith(f"{form.name}: added check ck_{form.name}_cigs_constraint_")
    assert "(cigs IS NULL OR (((cigs::numeric) <= (40::numeric))) IS NOT FALSE)" in changes[0]
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT bool_and(convalidated) FROM pg_constraint "
                                 f"WHERE conrelid = '{form.name}'::regclass")).scalar() is True
    with pytest.raises(Exception, match=f'"ck_{form.name}_cigs_constraint_'):
        insert(engine, form.name, smoker=True, cigs=41)
    insert(engine, form.name, smoker=True, cigs=40)


def test_a_new_calculated_field_on_a_table_with_rows_says_which_rows_to_fill(form, engine):
    form(SMOKER, CIGS)
    insert(engine, form.name, smoker=True, cigs=4)
    changes = form(SMOKER, CIGS, DOUBLE)
    assert f"{form.name}: added column double (INTEGER)" in changes
    calculation = next(c for c in changes if "_double_calculation_" in c)
    assert "DRIFT" in calculation
    find, _validate = sql_of(calculation)
    with engine.connect() as conn:
        assert conn.execute(text(find)).scalars().all() == [1]  # its double is still empty
    with pytest.raises(Exception, match=f'"ck_{form.name}_double_calculation_'):
        insert(engine, form.name, smoker=True, cigs=4, double=9)
    insert(engine, form.name, smoker=True, cigs=4, double=8)
    assert form(SMOKER, CIGS, DOUBLE) == []


def test_a_rule_reading_a_retyped_column_waits_for_it(form, engine):
    score = '[[fields]]\nname = "score"\ntype = "integer"\n'
    bonus = '[[fields]]\nname = "bonus"\ntype = "integer"\nrelevant = "${score} > 5"\n'
    form(score, bonus)
    changes = form(score.replace('"integer"', '"decimal"'), bonus)
    assert any("DRIFT column score is INTEGER in the database but NUMERIC" in c for c in changes)
    assert f"{form.name}: DRIFT rules of field bonus not applied in the database until column " \
           "score has the form's type (see DRIFT above): relevant" in changes
    assert not any("added check" in c for c in changes)


def test_a_table_from_before_review_statuses_gets_the_column_filled_and_checked(form, engine):
    form(AGE)
    with engine.begin() as conn:  # the table as versions before review statuses made it
        conn.execute(text(f"ALTER TABLE {form.name} DROP COLUMN review_status CASCADE"))
    insert(engine, form.name, age=30)
    changes = form(AGE)
    assert f"{form.name}: added column review_status (TEXT)" in changes
    assert any("added check review_status_of_" in change for change in changes)
    assert columns(engine, form.name)["review_status"]["nullable"] is False
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT review_status FROM {form.name}")).scalar() == "unreviewed"
    with pytest.raises(Exception, match="review_status_of_"):
        insert(engine, form.name, age=31, review_status="approved by me")
    assert form(AGE) == []
