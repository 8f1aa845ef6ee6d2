"""An imported instrument works end to end: `manage.py import`, `check`, `create_all`, then
entries through the web form under the imported logic, refused by PostgreSQL when tampered,
and the round trip `import -> export-form -> import` through the real command line."""

import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from collector.db.invites import create_invite
from collector.db.migrate import create_all
from collector.forms.validation import validate_submission
from tests.conftest import make_app
from tests.helpers import hidden_inputs, sign_in
from tests.processes import run_manage
from tests.xlsform_workbooks import build_workbook

DATA = Path(__file__).parent / "data"
HOUSEHOLD = "household_health_2026"  # the workbook's settings form_id


def content_lines(path):
    """Return a form file's lines without comments: what the round trip must keep."""
    return [line for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """The realistic test instruments as the files a PI would have."""
    folder = tmp_path_factory.mktemp("sources")
    build_workbook(DATA / "xlsform" / "household_health", folder / "household_health.xlsx")
    return {"xlsform": folder / "household_health.xlsx"}


@pytest.fixture(scope="module")
def imported(sources, tmp_path_factory):
    """A forms directory filled by `manage.py import`, run as a PI runs it."""
    forms = tmp_path_factory.mktemp("imported_forms")
    for source in sources.values():
        result = run_manage("import", str(source), FORMS_DIR=str(forms))
        assert result.returncode == 0, result.stdout + result.stderr
        assert "wrote " in result.stdout
    return forms


@pytest.fixture(scope="module")
def imported_app(imported, database_url, engine):
    """The app on the imported forms, their tables made by create_all as a deploy would."""
    app = make_app(database_url, FORMS_DIR=str(imported))
    registry = app.extensions["collector"]
    with engine.begin() as conn:
        for name in registry.tables:
            conn.execute(text(f"DROP TABLE IF EXISTS {name} CASCADE"))
    create_all(engine, registry)
    yield app
    with engine.begin() as conn:
        for name in registry.tables:
            conn.execute(text(f"DROP TABLE IF EXISTS {name} CASCADE"))


@pytest.fixture
def ra(imported_app, engine):
    """A browser signed in with a real invite, on the imported forms; tables emptied first."""
    with engine.begin() as conn:
        for name in imported_app.extensions["collector"].tables:
            conn.execute(text(f"TRUNCATE {name} RESTART IDENTITY"))
    client = imported_app.test_client()
    _id, token = create_invite(engine, "Aïssata Diallo")
    assert sign_in(client, token).status_code == 303
    return client


def submit(client, form, data):
    hidden = hidden_inputs(client.get(f"/forms/{form}").get_data(as_text=True))
    return client.post(f"/forms/{form}", data={**hidden, **data})


def as_form(data):
    """Return form data as the server reads a POST (a list is one value per tick)."""
    return MultiDict([(key, item) for key, value in data.items()
                      for item in (value if isinstance(value, list) else [value])])


def rows(engine, form):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT * FROM {form} ORDER BY id")).mappings().all()


def household(**changes):
    """A valid household interview: five people, two under 5, one child sick."""
    data = {
        "consent": "yes", "respondent_name": "Mariam Ouédraogo", "interview_date": "2026-11-20",
        "age_years": "34", "sex": "female", "education": "primary", "phone": "0701234567",
        "hh_size": "5", "hh_children": "2", "monthly_income": "75000", "assets": ["radio", "phone"],
        "roof_material": "metal", "rooms": "2", "water_source": "borehole", "water_minutes": "25",
        "treats_water": "yes", "treatment_method": ["boil", "chlorine"], "children_sick": "1",
        "sought_care": "yes", "care_place": ["health_centre"], "has_card": "yes",
        "last_vaccination": "2026-06-02", "child_weight": "11.4", "child_height": "86",
        "interviewer_comments": "Entretien calme ; l'enfant dormait.", "ended_at": "2026-11-20T11:45",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_imported_forms_pass_check(imported):
    result = run_manage("check", FORMS_DIR=str(imported))
    assert result.returncode == 0, result.stderr
    assert f"{HOUSEHOLD}.toml" in result.stdout and "calculated: ${hh_size} - ${hh_children}" in result.stdout


def test_create_all_derives_the_imported_logic_as_database_checks(imported_app, engine):
    with engine.connect() as conn:
        names = conn.execute(text(
            "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"), {"t": HOUSEHOLD}).scalars().all()
    for rule in ("relevant", "required", "constraint", "calculation"):
        assert any(f"_{rule}_" in name for name in names), (rule, names)


def test_a_valid_entry_is_stored_with_the_imported_calculations(ra, engine):
    response = submit(ra, HOUSEHOLD, household(hh_adults="99", income_per_person="1"))
    assert response.status_code == 303, response.get_data(as_text=True)
    [row] = rows(engine, HOUSEHOLD)
    assert row["hh_adults"] == 3  # ${hh_size} - ${hh_children}, whatever was sent
    assert row["income_per_person"] == Decimal(15000)
    assert row["respondent_name"] == "Mariam Ouédraogo" and row["entered_by"] == "Aïssata Diallo"
    assert row["assets"] == ["radio", "phone"] and row["care_place"] == ["health_centre"]


def test_branching_hides_and_empties_what_the_answers_rule_out(ra, engine):
    # One person: no roof or rooms questions; no children under 5: the whole child section is hidden.
    response = submit(ra, HOUSEHOLD, household(hh_size="1", hh_children="0", water_source="piped"))
    assert response.status_code == 303, response.get_data(as_text=True)
    [row] = rows(engine, HOUSEHOLD)
    assert (row["roof_material"], row["rooms"], row["water_minutes"]) == (None, None, None)
    assert (row["children_sick"], row["care_place"], row["child_weight"]) == (None, None, None)


def test_an_imported_constraint_refuses_with_the_instruments_own_message(ra, engine):
    response = submit(ra, HOUSEHOLD, household(hh_children="6"))
    assert response.status_code == 422
    assert "Cannot be more than the household size." in response.get_data(as_text=True)
    response = submit(ra, HOUSEHOLD, household(water_source="other", water_source_other=""))
    assert response.status_code == 422  # required once the branching shows it
    assert rows(engine, HOUSEHOLD) == []


def test_postgresql_refuses_a_row_that_breaks_the_imported_logic(imported_app, engine):
    registry = imported_app.extensions["collector"]
    spec, table = registry.specs[HOUSEHOLD], registry.tables[HOUSEHOLD]
    values, errors = validate_submission(spec, as_form(household(hh_size="1", hh_children="0")),
                                         today=date(2026, 11, 20))
    assert not errors
    good = {**values, "form_version": spec.version,
            "submitted_at": datetime(2026, 11, 20, 12, tzinfo=timezone.utc)}
    # A calculation changed, a hidden question answered, a rule broken: what a pg:psql
    # typo or a buggy script could write.
    for broken in ({"hh_adults": 5}, {"rooms": 2}, {"age_years": 12}, {"children_sick": 0}):
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(insert(table).values({**good, **broken, "submission_id": uuid.uuid4()}))
    with engine.begin() as conn:  # the unbroken row is stored: the refusals were the logic's
        conn.execute(insert(table).values({**good, "submission_id": uuid.uuid4()}))
        conn.execute(text(f"TRUNCATE {HOUSEHOLD}"))


def test_dry_run_writes_nothing_and_an_existing_form_is_kept_without_force(sources, tmp_path):
    result = run_manage("import", str(sources["xlsform"]), "--dry-run", FORMS_DIR=str(tmp_path))
    assert result.returncode == 0 and "would write" in result.stdout and list(tmp_path.iterdir()) == []
    assert run_manage("import", str(sources["xlsform"]), FORMS_DIR=str(tmp_path)).returncode == 0
    written = tmp_path / f"{HOUSEHOLD}.toml"
    written.write_text(written.read_text(encoding="utf-8") + "# my own edit\n", encoding="utf-8")
    again = run_manage("import", str(sources["xlsform"]), FORMS_DIR=str(tmp_path))
    assert again.returncode == 1 and "already exists" in again.stderr and "--force" in again.stderr
    assert written.read_text(encoding="utf-8").endswith("# my own edit\n")
    forced = run_manage("import", str(sources["xlsform"]), "--force", FORMS_DIR=str(tmp_path))
    assert forced.returncode == 0 and "# my own edit" not in written.read_text(encoding="utf-8")


@pytest.mark.parametrize("option, suffix", [("--xlsform", ".xlsx")])
def test_the_round_trip_through_the_command_line_gives_the_same_form_file(imported, tmp_path, option, suffix):
    for path in sorted(imported.glob("*.toml")):
        exported = tmp_path / f"{path.stem}{suffix}"
        result = run_manage("export-form", path.stem, option, str(exported), FORMS_DIR=str(imported))
        assert result.returncode == 0, result.stderr
        assert f"wrote {exported}" in result.stdout
        again = tmp_path / f"again_{path.stem}"
        again.mkdir()
        result = run_manage("import", str(exported), FORMS_DIR=str(again))
        assert result.returncode == 0, result.stderr
        [reimported] = again.glob("*.toml")
        assert content_lines(reimported) == content_lines(path)
        overwrite = run_manage("export-form", path.stem, option, str(exported), FORMS_DIR=str(imported))
        assert overwrite.returncode == 1 and "already exists" in overwrite.stderr
