"""Names a form file can choose never collide with the collector's machinery or PostgreSQL's."""

import pytest
from sqlalchemy import text

from collector.db.migrate import create_all
from collector.db.storage import _insert
from collector.db.system_tables import ensure_system_tables, system_metadata
from collector.forms.names import RESERVED_TABLE_NAMES, relation_names
from tests.conftest import make_app
from tests.helpers import hidden_inputs, sign_in
from tests.processes import run_manage

# Names an INSERT, a session or a join of ours might use as a bind parameter or alias.
INTERNAL_LOOKING = ["invite_id", "name", "token_hash", "revoked_at", "created_at", "id_1",
                    "name_1", "submission_id_1", "param_1", "invite_active", "anon_1"]


@pytest.fixture
def machinery_app(tmp_path, database_url, engine):
    fields = "".join(f'[[fields]]\nname = "{name}"\ntype = "integer"\nrequired = true\n'
                     for name in INTERNAL_LOOKING)
    (tmp_path / "clash.toml").write_text('title = "Clash"\naccess = "invite"\n' + fields)
    app = make_app(database_url, FORMS_DIR=str(tmp_path))
    create_all(engine, app.extensions["collector"])
    yield app
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE clash CASCADE"))


def test_no_field_can_share_a_bind_parameter_with_the_insert(machinery_app):
    table = machinery_app.extensions["collector"].tables["clash"]
    for gated in (True, False):
        names = set(_insert(table, gated).compile().params)
        internal = names - {c.name for c in table.columns}
        # Every parameter of our own starts with "_", which no field name can.
        assert internal and all(name.startswith("_") for name in internal), internal


def test_fields_named_like_internals_keep_their_own_values(machinery_app, engine):
    from collector.db.invites import create_invite
    client = machinery_app.test_client()
    invite_id, token = create_invite(engine, "Ρένα Ωμέγα")
    assert sign_in(client, token).status_code == 303
    hidden = hidden_inputs(client.get("/forms/clash").get_data(as_text=True))
    values = {name: str(1000 + i) for i, name in enumerate(INTERNAL_LOOKING)}
    assert client.post("/forms/clash", data={**values, **hidden}).status_code == 303
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM clash")).mappings().one()
    assert {name: row[name] for name in INTERNAL_LOOKING} == {
        name: int(value) for name, value in values.items()}
    assert row["entered_by"] == "Ρένα Ωμέγα" and invite_id not in row.values() - {row["id"]}


def form(name="visit", title="Visit", fields='[[fields]]\nname = "age"\ntype = "integer"\n'):
    return name, f'title = "{title}"\n' + fields


@pytest.mark.parametrize("files, expected", [
    *[([form(fields=f'[[fields]]\nname = "{column}"\ntype = "text"\n')],
       f"visit.toml: field '{column}': '{column}' is the name of a PostgreSQL system column")
      for column in ("xmin", "xmax", "cmin", "cmax", "ctid", "tableoid")],
    ([form("pg_visit")], "pg_visit.toml: the file name becomes the table name, and 'pg_visit' "
                         "starts with 'pg_'"),
    ([form("visit"), form("visit_pkey")],
     "visit_pkey.toml: the table name 'visit_pkey' is already the name of form 'visit''s primary key index"),
    ([form("visit"), form("visit_id_seq")], "form 'visit''s row number sequence"),
    ([form("visit"), form("ix_visit_time")], "form 'visit''s time index"),
    ([form("visit"), form("visit_submission_id_key")], "form 'visit''s submission_id index"),
    ([form("invites_pkey")], "'invites_pkey' is reserved for the collector's own tables"),
    ([form("ix_admin_login_failures_at")], "is reserved for the collector's own tables"),
    ([form(title="Visit\\u0000")], "visit.toml: title contains a NUL character"),
    ([form(fields='[[fields]]\nname = "site"\ntype = "choice"\nchoices = [{value = "n", label = "North"},'
                  ' {value = "s\\u0000", label = "South"}]\n')],
     "visit.toml: field 'site': choices[2].value contains a NUL character"),
    ([form(fields='[[fields]]\nname = "age"\ntype = "integer"\nhint = "\\u0000"\n')],
     "visit.toml: field 'age': hint contains a NUL character"),
])
def test_check_refuses_what_postgresql_would_refuse_in_one_line(tmp_path, files, expected):
    for name, body in files:
        (tmp_path / f"{name}.toml").write_text(body)
    result = run_manage("check", FORMS_DIR=str(tmp_path))
    assert result.returncode == 1, result.stdout
    assert expected in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_long_form_names_clash_the_way_postgresql_truncates_them():
    form = "f" * 54
    names = relation_names(form)
    assert all(len(name) <= 63 for name in names.values())
    # PostgreSQL clips the longer part first: 63 - len("_key") - len("_submission_id") = 45.
    assert names["submission_id index"] == "f" * 45 + "_submission_id_key"


def test_reserved_names_cover_every_relation_the_collector_makes_for_itself(engine):
    ensure_system_tables(engine)
    tables = sorted(system_metadata.tables)
    with engine.connect() as conn:
        made = set(conn.execute(text(  # the tables, their indexes and their sequences
            "SELECT relname FROM pg_class WHERE relname = ANY(:t) UNION "
            "SELECT i.indexrelid::regclass::text FROM pg_index i WHERE i.indrelid::regclass::text = ANY(:t) "
            "UNION SELECT d.objid::regclass::text FROM pg_depend d JOIN pg_class s ON s.oid = d.objid "
            "WHERE s.relkind = 'S' AND d.refobjid::regclass::text = ANY(:t)"), {"t": tables}).scalars())
    assert set(tables) <= made
    assert made | {"codebook"} <= RESERVED_TABLE_NAMES, made - RESERVED_TABLE_NAMES


@pytest.mark.parametrize("name", ["intake_followup", "v" * 54])
def test_relation_names_match_what_postgresql_creates(tmp_path, database_url, engine, name):
    (tmp_path / f"{name}.toml").write_text(form()[1])
    create_all(engine, make_app(database_url, FORMS_DIR=str(tmp_path)).extensions["collector"])
    try:
        with engine.connect() as conn:
            made = set(conn.execute(text("SELECT relname FROM pg_class WHERE relname LIKE :p"),
                                    {"p": f"%{name[:30]}%"}).scalars())
        assert set(relation_names(name).values()) == made
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE {name} CASCADE"))


HOSTILE_FORM = r'''
title = "Ratio :b 50% %(x)s $$ 'q' \"dq\" \\ 🧪 Μελέτη"
description = "Time :10 and :minutes; \\: escaped; ::text; $1 -- not a comment"
[[fields]]
name = "site"
label = "Site :name 100%"
hint = "choose :one; it's fine"
type = "choice"
choices = [{ value = "a :b", label = "A :x 'quoted'" }, { value = "50%", label = "%(s)s" },
           { value = "c::text", label = "$$ :: \\" }]
[[fields]]
name = "tags"
type = "multi_choice"
choices = [{ value = ":t", label = ":label" }, { value = "ok", label = "Ok" }]
'''


@pytest.fixture
def hostile_dir(tmp_path, engine):
    (tmp_path / "hostile.toml").write_text(HOSTILE_FORM)
    yield tmp_path
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS hostile CASCADE"))


def test_create_all_takes_any_text_a_form_file_holds(hostile_dir, database_url, engine):
    for _ in range(2):  # create, then a second run that must find nothing to do
        result = run_manage("create_all", FORMS_DIR=str(hostile_dir), DATABASE_URL=database_url)
        assert result.returncode == 0, result.stderr
    assert result.stdout == "All tables match the form files.\n"
    app = make_app(database_url, FORMS_DIR=str(hostile_dir))
    client = app.test_client()
    from collector.db.invites import create_invite
    assert sign_in(client, create_invite(engine, "RA")[1]).status_code == 303
    hidden = hidden_inputs(client.get("/forms/hostile").get_data(as_text=True))
    data = {"site": "a :b", "tags": [":t", "ok"], **hidden}
    assert client.post("/forms/hostile", data=data).status_code == 303   # the CHECKs allow them
    with engine.connect() as conn:
        assert conn.execute(text("SELECT site, tags FROM hostile_labelled")).one() == (
            "A :x 'quoted'", ":label; Ok")
        assert conn.execute(text("SELECT form_title FROM codebook WHERE form = 'hostile' LIMIT 1")
                            ).scalar() == "Ratio :b 50% %(x)s $$ 'q' \"dq\" \\ 🧪 Μελέτη"


def create_all_after_retyping(tmp_path, database_url, form, before, after):
    """Run create_all on a form with one field typed `before`, then `after`; return the second run."""
    path = tmp_path / f"{form}.toml"
    path.write_text(f'title = "R"\n[[fields]]\nname = "value"\ntype = "{before}"\n')
    assert run_manage("create_all", FORMS_DIR=str(tmp_path), DATABASE_URL=database_url).returncode == 0
    path.write_text(f'title = "R"\n[[fields]]\nname = "value"\ntype = "{after}"\nmin = 16\n')
    return run_manage("create_all", FORMS_DIR=str(tmp_path), DATABASE_URL=database_url)


@pytest.fixture
def dropped(engine):
    """Names of tables to drop after the test."""
    names = []
    yield names
    with engine.begin() as conn:
        for name in names:
            conn.execute(text(f"DROP TABLE IF EXISTS {name} CASCADE"))


def test_a_retyped_field_is_drift_not_a_traceback(tmp_path, database_url, dropped):
    dropped.append("retyped")
    result = create_all_after_retyping(tmp_path, database_url, "retyped", "text", "integer")
    assert "Traceback" not in result.stderr, result.stderr
    assert "DRIFT column value is TEXT in the database but INTEGER" in result.stdout
    assert "DRIFT rules of field value not applied" in result.stdout
    # The release stops: the text column would take anything the new rules refuse.
    assert result.returncode == 1 and "a field's type differs from its column's" in result.stderr


def test_a_database_refusal_in_create_all_is_one_line(tmp_path, database_url, engine):
    (tmp_path / "blocked.toml").write_text('title = "B"\n[[fields]]\nname = "age"\ntype = "integer"\n')
    with engine.begin() as conn:  # something outside the form files is in the way
        conn.execute(text("CREATE TYPE blocked AS (x int)"))
    try:
        result = run_manage("create_all", FORMS_DIR=str(tmp_path), DATABASE_URL=database_url)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert result.stderr.startswith("Error: the database refused it: ")
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TYPE blocked"))


@pytest.mark.parametrize("extra, expected", [
    ('pattern = "a{4294967296}"', "is not a valid regular expression: too large or nested too deeply"),
    ('pattern = "' + "(?:" * 2000 + "a" + ")" * 2000 + '"', "is not a valid regular expression"),
    ('hint = "x"\n[[fields.nested]]\n', "is not a rule for a text field"),
    ("min_length = 1\ndescription = " + "[" * 600 + "]" * 600, "nested too deeply"),
])
def test_check_never_prints_a_traceback_for_hostile_file_content(tmp_path, extra, expected):
    (tmp_path / "visit.toml").write_text(f'title = "V"\n[[fields]]\nname = "a"\ntype = "text"\n{extra}\n')
    result = run_manage("check", FORMS_DIR=str(tmp_path))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("bound", ["min = 0001-01-01T00:00:00+14:00", "max = 9999-12-31T23:59:00-05:00"])
def test_a_datetime_bound_the_page_could_not_show_is_refused(tmp_path, bound):
    (tmp_path / "visit.toml").write_text(f'title = "V"\n[[fields]]\nname = "at"\ntype = "datetime"\n{bound}\n')
    result = run_manage("check", FORMS_DIR=str(tmp_path))
    assert result.returncode == 1 and "is not a valid datetime bound" in result.stderr, result.stderr


def test_unreadable_form_files_are_one_line(tmp_path):
    (tmp_path / "old.toml").mkdir()
    (tmp_path / "gone.toml").symlink_to(tmp_path / "nowhere.toml")
    result = run_manage("check", FORMS_DIR=str(tmp_path))
    assert result.returncode == 1 and "cannot be read" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_field_retyped_to_decimal_stops_the_release_before_anything_is_rounded(tmp_path, database_url,
                                                                                dropped):
    dropped.append("dose")
    result = create_all_after_retyping(tmp_path, database_url, "dose", "integer", "decimal")
    assert result.returncode == 1, result.stdout
    assert "ALTER TABLE dose ALTER COLUMN value TYPE NUMERIC USING value::NUMERIC;" in result.stdout
    assert "1.5 into an integer column is stored as 2" in result.stderr
