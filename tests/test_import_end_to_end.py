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
from collector.forms.spec import load_form
from collector.forms.validation import validate_submission
from tests.conftest import make_app
from tests.helpers import hidden_inputs, sign_in
from tests.processes import run_manage
from tests.xlsform_workbooks import build_workbook

DATA = Path(__file__).parent / "data"
HOUSEHOLD = "household_health_2026"  # the workbook's settings form_id
ENROLMENT = "enrolment"  # the REDCap dictionary's first instrument (a second: follow_up_visit)


def content_lines(path):
    """Return a form file's lines without comments: what the round trip must keep."""
    return [line for line in Path(path).read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """The realistic test instruments as the files a PI would have."""
    folder = tmp_path_factory.mktemp("sources")
    build_workbook(DATA / "xlsform" / "household_health", folder / "household_health.xlsx")
    return {"xlsform": folder / "household_health.xlsx",
            "redcap": DATA / "redcap" / "cohort_study.csv"}


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


def enrolment(**changes):
    """A valid REDCap enrolment: consented by thumbprint with a witness, a current smoker."""
    data = {
        "record_id": "GH-0107", "consent_date": "2026-11-02", "consent_given": "true",
        "consent_method": "2", "witness_name": "Kwabena Asante", "dob": "1979-04-30", "sex": "1",
        "pregnant": "false", "ethnicity": "99", "ethnicity_other": "Nzema", "language_home": "ee",
        "email": "ama.mensah@example.org", "height_cm": "162.5", "weight_kg": "70.4",
        "conditions": ["1", "2"], "diabetes_dx_date": "2019-06-15", "on_insulin": "false",
        "smoking": "2", "cigs_per_day": "10", "years_smoked": "20",
        "medications": "Metformin 500 mg ×2\r\nAmlodipine", "notes": "Ɛyɛ — all fine",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_imported_forms_pass_check(imported):
    result = run_manage("check", FORMS_DIR=str(imported))
    assert result.returncode == 0, result.stderr
    assert f"{HOUSEHOLD}.toml" in result.stdout and "calculated: ${hh_size} - ${hh_children}" in result.stdout
    assert f"{ENROLMENT}.toml" in result.stdout and "follow_up_visit.toml" in result.stdout


@pytest.mark.parametrize("form", [HOUSEHOLD, ENROLMENT])
def test_create_all_derives_the_imported_logic_as_database_checks(imported_app, engine, form):
    with engine.connect() as conn:
        names = conn.execute(text(
            "SELECT conname FROM pg_constraint WHERE conrelid = CAST(:t AS regclass)"), {"t": form}).scalars().all()
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


def test_a_redcap_instrument_takes_entries_under_its_branching_logic_and_calcs(ra, engine):
    response = submit(ra, ENROLMENT, enrolment(age_years="3", bmi="0", pack_years="1"))
    assert response.status_code == 303, response.get_data(as_text=True)
    [row] = rows(engine, ENROLMENT)
    assert row["age_years"] == 47  # REDCap's rounddown(datediff(dob, consent, 'y'), 0)
    assert row["bmi"] == Decimal("26.7") and row["bmi_band"] == 2
    assert row["pack_years"] == Decimal("10.0")  # cigarettes a day / 20 × years
    assert row["conditions"] == ["1", "2"] and row["witness_name"] == "Kwabena Asante"
    assert row["medications"] == "Metformin 500 mg ×2\nAmlodipine"


def test_a_redcap_instruments_branching_empties_what_it_hides(ra, engine):
    response = submit(ra, ENROLMENT, enrolment(consent_method="1", sex="2", smoking="0",
                                               conditions=["3"]))
    assert response.status_code == 303, response.get_data(as_text=True)
    [row] = rows(engine, ENROLMENT)
    assert (row["witness_name"], row["pregnant"], row["cigs_per_day"], row["pack_years"]) == (None,) * 4
    assert (row["diabetes_dx_date"], row["years_with_diabetes"], row["on_insulin"]) == (None,) * 3


def test_a_redcap_validation_becomes_a_rule_with_its_message(ra, engine):
    response = submit(ra, ENROLMENT, enrolment(diabetes_dx_date="1970-01-01"))
    assert response.status_code == 422
    assert "Must be on or after Date of birth" in response.get_data(as_text=True)
    response = submit(ra, ENROLMENT, enrolment(witness_name=""))  # required once thumbprint is chosen
    assert response.status_code == 422 and rows(engine, ENROLMENT) == []


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


def export_and_import(forms, name, option, folder):
    """Run export-form NAME then import the file into a new folder; return the new form file."""
    exported = folder / f"{name}{'.xlsx' if option == '--xlsform' else '.csv'}"
    result = run_manage("export-form", name, option, str(exported), FORMS_DIR=str(forms))
    assert result.returncode == 0, result.stderr
    assert f"wrote {exported}" in result.stdout
    assert result.stdout.startswith(f"form {name} (") and ".partial" not in result.stdout
    again = folder / f"again_{name}"
    again.mkdir()
    result = run_manage("import", str(exported), FORMS_DIR=str(again))
    assert result.returncode == 0, result.stderr
    [reimported] = again.glob("*.toml")
    return exported, reimported


@pytest.mark.parametrize("form, option", [(HOUSEHOLD, "--xlsform"), (ENROLMENT, "--redcap"),
                                          ("follow_up_visit", "--redcap")])
def test_the_round_trip_through_the_command_line_gives_the_same_form_file(imported, tmp_path, form, option):
    exported, reimported = export_and_import(imported, form, option, tmp_path)
    assert content_lines(reimported) == content_lines(imported / f"{form}.toml")
    overwrite = run_manage("export-form", form, option, str(exported), FORMS_DIR=str(imported))
    assert overwrite.returncode == 1 and "already exists" in overwrite.stderr


@pytest.mark.parametrize("form, option", [(HOUSEHOLD, "--redcap"), (ENROLMENT, "--xlsform")])
def test_a_form_goes_across_formats_with_its_fields(imported, tmp_path, form, option):
    """From ODK to REDCap and back is not a promise of sameness, but every field arrives."""
    _exported, reimported = export_and_import(imported, form, option, tmp_path)
    original = load_form(imported / f"{form}.toml")
    arrived = {field.name: field for field in load_form(reimported).fields}
    for field in original.fields:
        assert field.name in arrived, field.name
        assert field.label == arrived[field.name].label
