"""The audit trail, against a real PostgreSQL: who, what and why for changes made through the
app and from psql; audit rows that cannot be changed; guarded corrections; erasure on withdrawal."""

import json
import threading
from decimal import Decimal
import time
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from collector.db import audit
from collector.db.database import db
from collector.db.corrections import (RowChanged, correct_row, read_row, row_history,
                                      set_review_status, withdraw_row)
from collector.db.invites import create_invite
from collector.db.migrate import create_all
from collector.ops.config import normalise_database_url
from collector.web.registry import load_registry
from tests.helpers import hidden_inputs, sign_in, valid_intake

PI = "Dr Ngozi Ọkafọr"
RA = "Đặng Thị Hương"
NOTE = "Pesé deux fois — 'rechecked' <b>on the scale</b>; DROP TABLE intake;--"


@pytest.fixture
def collector(app):
    """The app's engine (it connects as application_name 'collector'), its spec and table."""
    registry = app.extensions["collector"]
    with app.app_context():  # only to find the engine: requests must not share this context
        app_engine = db.engine
    return app_engine, registry.specs["intake"], registry.tables["intake"]


@pytest.fixture
def psql(database_url):
    """A second program on the same database, as `heroku pg:psql` would be."""
    engine = create_engine(normalise_database_url(database_url),
                           connect_args={"application_name": "psql"})
    yield engine
    engine.dispose()


def submit(app, engine, name=RA, **changes):
    """Enter one intake row through the app as RA `name`; return its id."""
    client = app.test_client()
    _id, token = create_invite(engine, name)
    assert sign_in(client, token).status_code == 303
    page = client.get("/forms/intake").get_data(as_text=True)
    response = client.post("/forms/intake", data={**hidden_inputs(page), **valid_intake(**changes)})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    with engine.connect() as conn:
        return conn.execute(text("SELECT max(id) FROM intake")).scalar()


def trail(engine, row_id=None):
    query = "SELECT * FROM audit_trail" + (" WHERE row_id = :id" if row_id else "") + " ORDER BY id"
    with engine.connect() as conn:
        return conn.execute(text(query), {"id": row_id}).mappings().all()


def version_of(engine, spec, table, row_id):
    with engine.connect() as conn:
        return read_row(conn, spec, table, row_id)["_version"]


def corrected(spec, stored, **changes):
    values = {field.name: stored[field.name] for field in spec.fields}
    return {**values, **changes}


def test_a_submission_is_recorded_as_an_insert_by_the_ra(app, engine, collector):
    row_id = submit(app, engine, participant_id="P0101")
    (entry,) = trail(engine, row_id)
    assert (entry["operation"], entry["action"], entry["actor"], entry["source"]) == (
        "INSERT", "submitted", RA, "form")
    assert entry["form"] == "intake" and entry["client"] == "collector"
    assert entry["changes"] is None  # the row itself holds what was entered


def test_an_edit_in_the_app_records_who_what_and_why_for_exactly_the_changed_fields(
        app, engine, collector):
    app_engine, spec, table = collector
    row_id = submit(app, engine, weight_kg="72.5", notes="first")
    with engine.connect() as conn:
        stored = read_row(conn, spec, table, row_id)
    changed = correct_row(app_engine, spec, table, row_id, stored["_version"],
                          corrected(spec, stored, weight_kg=Decimal("75.1"),
                                    notes=NOTE), PI, "Scale was not zeroed")
    assert changed == ["weight_kg", "notes"]
    entry = trail(engine, row_id)[-1]
    assert (entry["operation"], entry["action"], entry["actor"], entry["source"], entry["reason"]) == (
        "UPDATE", "corrected", PI, "PI area", "Scale was not zeroed")
    assert entry["changes"] == {"weight_kg": {"old": 72.5, "new": 75.1},
                                "notes": {"old": "first", "new": NOTE}}
    assert entry["fields"] == ["notes", "weight_kg"]
    with app_engine.connect() as conn:  # the app reads the trail's numbers as exact decimals
        history = row_history(conn, spec, row_id)
    assert [h.action for h in history] == ["submitted", "corrected"]
    weight = {c.field: (c.old, c.new) for c in history[-1].changes}["weight_kg"]
    assert weight == (Decimal("72.5"), Decimal("75.1")) and isinstance(weight[1], Decimal)
    assert {c.field: (c.old, c.new) for c in history[-1].changes}["notes"] == ("first", NOTE)


def test_an_edit_that_changes_nothing_writes_nothing(app, engine, collector):
    app_engine, spec, table = collector
    row_id = submit(app, engine)
    with engine.connect() as conn:
        stored = read_row(conn, spec, table, row_id)
    assert correct_row(app_engine, spec, table, row_id, stored["_version"], corrected(spec, stored),
                       PI, "looked again") == []
    assert len(trail(engine, row_id)) == 1
    assert version_of(engine, spec, table, row_id) == stored["_version"]


def test_an_update_from_psql_is_recorded_as_outside_the_app_under_the_database_user(
        app, engine, collector, psql):
    row_id = submit(app, engine, age_years="36")
    with psql.begin() as conn:
        conn.execute(text("UPDATE intake SET age_years = 37, site = 'south' WHERE id = :id"), {"id": row_id})
        user = conn.execute(text("SELECT session_user")).scalar()
    entry = trail(engine, row_id)[-1]
    assert (entry["operation"], entry["action"], entry["source"], entry["actor"]) == (
        "UPDATE", "updated outside the app", "outside the app", user)
    assert entry["database_user"] == user and entry["client"] == "psql" and entry["reason"] is None
    assert entry["changes"] == {"age_years": {"old": 36, "new": 37}, "site": {"old": "north", "new": "south"}}
    with psql.connect() as conn:
        words = conn.execute(text("SELECT who, what_changed FROM audit_history WHERE row_id = :id "
                                  "ORDER BY id DESC LIMIT 1"), {"id": row_id}).one()
    assert words.who == f"{user} (outside the app, as database user {user} via psql)"
    assert words.what_changed == "age_years: 36 → 37; site: north → south"


def test_psql_can_name_who_and_why_for_its_transaction_only(app, engine, psql):
    row_id = submit(app, engine)
    with psql.begin() as conn:
        conn.execute(text("SELECT set_config('collector.actor', 'Zoë Müller (data manager)', true), "
                          "set_config('collector.reason', 'Query 17 answered by site', true)"))
        conn.execute(text("UPDATE intake SET weight_kg = 70 WHERE id = :id"), {"id": row_id})
    with psql.begin() as conn:  # the next transaction on the same connection says nothing
        conn.execute(text("UPDATE intake SET weight_kg = 71 WHERE id = :id"), {"id": row_id})
    named, unnamed = trail(engine, row_id)[-2:]
    assert (named["actor"], named["reason"], named["source"]) == (
        "Zoë Müller (data manager)", "Query 17 answered by site", "outside the app")
    assert unnamed["actor"] == unnamed["database_user"] and unnamed["reason"] is None


def test_who_and_why_never_leak_to_the_next_transaction_on_a_pooled_connection(
        app, engine, collector):
    app_engine, spec, table = collector
    row_id = submit(app, engine)
    with engine.connect() as conn:
        stored = read_row(conn, spec, table, row_id)
    correct_row(app_engine, spec, table, row_id, stored["_version"],
                corrected(spec, stored, age_years=40), PI, "typo")
    # The same pool, the same connection: a later change without settings is not the PI's.
    with app_engine.begin() as conn:
        conn.execute(text("UPDATE intake SET age_years = 41 WHERE id = :id"), {"id": row_id})
    entry = trail(engine, row_id)[-1]
    assert entry["actor"] != PI and entry["source"] == "outside the app" and entry["reason"] is None


def test_the_app_cannot_change_a_row_without_a_reason(app, engine, collector):
    app_engine, spec, table = collector
    row_id = submit(app, engine)
    with pytest.raises(DBAPIError, match="needs a reason"):
        with app_engine.begin() as conn:
            audit.pass_who(conn, PI, "   ", audit.PI_AREA, audit.CORRECTED)
            conn.execute(text("UPDATE intake SET age_years = 50 WHERE id = :id"), {"id": row_id})
    with engine.connect() as conn:
        assert conn.execute(text("SELECT age_years FROM intake WHERE id = :id"), {"id": row_id}).scalar() == 36


@pytest.mark.parametrize("statement", [
    "UPDATE audit_trail SET actor = 'someone else'",
    "UPDATE audit_trail SET reason = 'rewritten'",
    "UPDATE audit_trail SET changes = NULL WHERE changes IS NOT NULL",  # erasing a row that exists
    "DELETE FROM audit_trail",
    "TRUNCATE audit_trail",
])
def test_audit_rows_cannot_be_changed_or_removed(app, engine, collector, psql, statement):
    app_engine, spec, table = collector
    row_id = submit(app, engine)
    with engine.connect() as conn:
        stored = read_row(conn, spec, table, row_id)
    correct_row(app_engine, spec, table, row_id, stored["_version"],
                corrected(spec, stored, age_years=39), PI, "typo")
    before = trail(engine)
    for who in (psql, app_engine):  # the owner role, from psql and through the app's pool
        with pytest.raises(DBAPIError, match="audit_trail is append-only"):
            with who.begin() as conn:
                conn.execute(text(statement))
    assert trail(engine) == before


def test_the_second_of_two_editors_is_told_and_overwrites_nothing(app, engine, collector):
    app_engine, spec, table = collector
    row_id = submit(app, engine, weight_kg="72.5", notes="first")
    with engine.connect() as conn:
        first = read_row(conn, spec, table, row_id)
        second = read_row(conn, spec, table, row_id)
    correct_row(app_engine, spec, table, row_id, first["_version"],
                corrected(spec, first, weight_kg=80), "Zoë Müller", "re-weighed")
    with pytest.raises(RowChanged) as told:
        correct_row(app_engine, spec, table, row_id, second["_version"],
                    corrected(spec, second, weight_kg=65, notes="mine"), PI, "my fix")
    (meanwhile,) = told.value.since
    assert meanwhile.actor == "Zoë Müller" and [(c.field, c.old, c.new) for c in meanwhile.changes] == [
        ("weight_kg", 72.5, 80)]
    assert told.value.current["weight_kg"] == 80 and told.value.current["notes"] == "first"
    # Review and withdrawal are guarded the same way.
    with pytest.raises(RowChanged):
        set_review_status(app_engine, spec, table, row_id, second["_version"], "verified", PI, "ok")
    with pytest.raises(RowChanged):
        withdraw_row(app_engine, spec, table, row_id, second["_version"], PI, "consent withdrawn")
    assert [e["action"] for e in trail(engine, row_id)] == ["submitted", "corrected"]


def test_concurrent_editors_really_at_once_one_wins_the_other_is_told(app, engine, collector):
    """The other transaction holds the row when the second UPDATE runs: it waits, then
    re-checks its guard against the committed row and matches nothing."""
    app_engine, spec, table = collector
    row_id = submit(app, engine)
    version = version_of(engine, spec, table, row_id)
    outcome = {}
    with app_engine.connect() as holder:
        transaction = holder.begin()
        audit.pass_who(holder, "Zoë Müller", "re-weighed", audit.PI_AREA, audit.CORRECTED)
        holder.execute(text("UPDATE intake SET weight_kg = 90 WHERE id = :id AND xmin = CAST(:v AS xid)"),
                       {"id": row_id, "v": version.split(".")[0]})

        def second_editor():
            try:
                with engine.connect() as conn:
                    stored = read_row(conn, spec, table, row_id)
                correct_row(app_engine, spec, table, row_id, version,
                            corrected(spec, stored, weight_kg=60), PI, "mine")
                outcome["result"] = "written"
            except RowChanged as changed:
                outcome["result"] = changed
        thread = threading.Thread(target=second_editor)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive()  # waiting for the row lock
        transaction.commit()
        thread.join(10)
    assert isinstance(outcome["result"], RowChanged)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT weight_kg FROM intake WHERE id = :id"), {"id": row_id}).scalar() == 90


def test_withdrawal_leaves_no_value_behind_and_keeps_who_when_why(app, engine, collector, psql):
    app_engine, spec, table = collector
    keep_id = submit(app, engine, participant_id="P0007", notes="another participant's note")
    row_id = submit(app, engine, participant_id="P9876", notes="Mme Ụzọ lives at 12 rue Žižka",
                    contact_email="uzo.private@example.org")
    with engine.connect() as conn:
        stored = read_row(conn, spec, table, row_id)
    correct_row(app_engine, spec, table, row_id, stored["_version"],
                corrected(spec, stored, notes="Mme Ụzọ, 14 rue Žižka"), PI, "address fixed")
    set_review_status(app_engine, spec, table, row_id, version_of(engine, spec, table, row_id),
                      "query_open", PI, "Is the street number right?")
    withdraw_row(app_engine, spec, table, row_id, version_of(engine, spec, table, row_id), PI,
                 "Participant withdrew consent by phone")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM intake WHERE id = :id"), {"id": row_id}).scalar() == 0
        everything = json.dumps([dict(r) for r in conn.execute(text(
            "SELECT * FROM audit_trail")).mappings()], default=str, ensure_ascii=False)
        words = conn.execute(text("SELECT string_agg(what_changed, ' ') FROM audit_history")).scalar()
    for value in ("P9876", "Žižka", "uzo.private@example.org"):
        assert value not in everything and value not in (words or "")
    entries = trail(engine, row_id)
    assert [e["action"] for e in entries] == ["submitted", "corrected", "reviewed", "withdrawn"]
    assert all(e["changes"] is None for e in entries)
    withdrawn = entries[-1]
    assert (withdrawn["actor"], withdrawn["reason"], withdrawn["operation"]) == (
        PI, "Participant withdrew consent by phone", "DELETE")
    assert entries[1]["fields"] == ["notes"]  # which fields changed is kept; their values are not
    with engine.connect() as conn:
        history = row_history(conn, spec, row_id)
        assert history[1].erased and not history[1].changes
        # The other participant's history keeps its values.
        assert read_row(conn, spec, table, keep_id)["notes"] == "another participant's note"
    # The query text was the reason of a status change: it is about the data, not a value of it,
    # and stays (documented). Erased values cannot be put back either.
    with pytest.raises(DBAPIError, match="append-only"):
        with psql.begin() as conn:
            conn.execute(text("UPDATE audit_trail SET changes = '{}' WHERE row_id = :id"), {"id": row_id})


def test_a_delete_from_psql_keeps_the_deleted_values_so_a_mistake_can_be_undone(app, engine, psql):
    row_id = submit(app, engine, participant_id="P0555", weight_kg="81.2")
    with psql.begin() as conn:
        conn.execute(text("DELETE FROM intake WHERE id = :id"), {"id": row_id})
    entry = trail(engine, row_id)[-1]
    assert entry["action"] == "deleted outside the app"
    assert entry["changes"]["participant_id"] == {"old": "P0555"}
    assert entry["changes"]["weight_kg"] == {"old": 81.2}


def test_review_status_changes_keep_the_query_text_and_bad_statuses_are_refused(
        app, engine, collector, psql):
    app_engine, spec, table = collector
    row_id = submit(app, engine)
    set_review_status(app_engine, spec, table, row_id, version_of(engine, spec, table, row_id),
                      "query_open", "Monitor Anaïs", "Weight 72.5 kg at age 36: source document?")
    set_review_status(app_engine, spec, table, row_id, version_of(engine, spec, table, row_id),
                      "query_resolved", "Monitor Anaïs", "Source document seen")
    opened, resolved = trail(engine, row_id)[-2:]
    assert opened["reason"] == "Weight 72.5 kg at age 36: source document?"
    assert opened["changes"] == {"review_status": {"old": "unreviewed", "new": "query_open"}}
    assert resolved["changes"] == {"review_status": {"old": "query_open", "new": "query_resolved"}}
    with pytest.raises(IntegrityError, match="review_status_of_intake"):
        with psql.begin() as conn:
            conn.execute(text("UPDATE intake SET review_status = 'approved' WHERE id = :id"), {"id": row_id})
    with pytest.raises(ValueError):
        set_review_status(app_engine, spec, table, row_id, version_of(engine, spec, table, row_id),
                          "approved", PI, "x")


def test_a_correction_meets_every_database_check(app, engine, collector):
    app_engine, spec, table = collector
    row_id = submit(app, engine)
    with engine.connect() as conn:
        stored = read_row(conn, spec, table, row_id)
    with pytest.raises(IntegrityError, match="ck_intake_age_years_range"):
        correct_row(app_engine, spec, table, row_id, stored["_version"],
                    corrected(spec, stored, age_years=500), PI, "typo")
    assert len(trail(engine, row_id)) == 1


def test_truncating_a_form_table_is_recorded(app, engine, psql):
    submit(app, engine)
    with psql.begin() as conn:
        conn.execute(text("TRUNCATE intake"))
    entry = trail(engine)[-1]
    assert (entry["operation"], entry["action"], entry["form"]) == (
        "TRUNCATE", "truncated outside the app", "intake")


def test_create_all_puts_the_trail_on_every_form_also_one_added_later_and_on_old_tables(
        tmp_path, engine, database_url):
    name = f"audit_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.toml").write_text('title = "Later"\n[[fields]]\nname = "score"\ntype = "integer"\n')
    try:
        changes = [str(c) for c in create_all(engine, load_registry(tmp_path))]
        assert not any("audit trail" in c for c in changes)  # a new table: audited from its first row
        with engine.begin() as conn:
            conn.execute(text(f"DROP TRIGGER audit_row_change ON {name}"))  # as before the trail existed
        changes = [str(c) for c in create_all(engine, load_registry(tmp_path))]
        assert changes == [f"{name}: audit trail on: every insert, update and delete is recorded in audit_trail"]
        assert [str(c) for c in create_all(engine, load_registry(tmp_path))] == []
        with engine.begin() as conn:
            conn.execute(text(f"INSERT INTO {name} (submission_id, form_version, score) "
                              "VALUES (gen_random_uuid(), 't', 3)"))
            assert conn.execute(text("SELECT action FROM audit_trail WHERE form = :f"),
                                {"f": name}).scalar() == "inserted outside the app"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {name} CASCADE"))
