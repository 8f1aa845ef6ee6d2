"""Every Dataclips query in the README runs as-is against the example form, and the views work."""

import re

import pytest
from sqlalchemy import text

from tests.processes import PROJECT_ROOT
from tests.test_admin import add_rows

README = (PROJECT_ROOT / "README.md").read_text()
QUERIES = re.findall(r"```sql\n(.+?)```", README.split("### Queries for Dataclips")[1], re.S)


def test_the_readme_offers_at_least_ten_queries():
    assert len(QUERIES) >= 10


@pytest.mark.parametrize("query", QUERIES, ids=[q.split("\n")[0][:40] for q in QUERIES])
def test_readme_query_runs_as_is(app, engine, query):
    add_rows(engine, 3, notes="x")
    add_rows(engine, 2, entered_by=None, site="mobile")
    with engine.begin() as conn:  # one entry with a weight and ticked conditions
        conn.execute(text("UPDATE intake SET weight_kg = 30.5, conditions = '{asthma}' WHERE id = 1"))
    with engine.connect() as conn:
        rows = conn.execute(text(query)).all()
    assert rows, "each query returns rows on data like the example's"


def test_labelled_view_shows_labels_and_keeps_types(client, engine):
    from tests.helpers import hidden_inputs, valid_intake
    hidden = hidden_inputs(client.get("/forms/intake").get_data(as_text=True))
    client.post("/forms/intake", data={**valid_intake(), **hidden})
    with engine.connect() as conn:
        row = conn.execute(text("SELECT site, conditions, age_years, smoker FROM intake_labelled")).one()
    assert tuple(row) == ("North clinic", "Diabetes; Asthma", 36, False)


def test_codebook_lists_every_field_with_rules_and_choices(app, engine):
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM codebook WHERE form = 'intake' ORDER BY position")
                            ).mappings().all()
    spec = app.extensions["collector"].specs["intake"]
    assert [r["field"] for r in rows] == [f.name for f in spec.fields]
    age = next(r for r in rows if r["field"] == "age_years")
    assert (age["label"], age["type"], age["required"], age["rules"]) == (
        "Age (years)", "integer", True, "min 16, max 120")
    site = next(r for r in rows if r["field"] == "site")
    assert site["choices"] == "north = North clinic; south = South clinic; mobile = Mobile unit"


def test_labelled_view_and_csv_carry_the_review_status(client, engine):
    from collector.db.export import copy_sql, copy_to
    from tests.helpers import hidden_inputs, valid_intake
    hidden = hidden_inputs(client.get("/forms/intake").get_data(as_text=True))
    client.post("/forms/intake", data={**valid_intake(), **hidden})
    with engine.connect() as conn:
        assert conn.execute(text("SELECT review_status FROM intake_labelled")).scalar() == "Unreviewed"
    with engine.begin() as conn:
        conn.execute(text("UPDATE intake SET review_status = 'query_open'"))
        assert conn.execute(text("SELECT review_status FROM intake_labelled")).scalar() == "Query open"
    spec = client.application.extensions["collector"].specs["intake"]
    import io
    out = io.BytesIO()
    copy_to(engine, copy_sql(spec), out)
    header, row = out.getvalue().decode().splitlines()[:2]
    assert header.split(",")[5] == "review_status" and row.split(",")[5] == "query_open"
