"""The rows page stays on indexes at size, and create_all gives old tables those indexes."""

import json
import uuid

import pytest
from sqlalchemy import text

from collector.db import form_summary, row_filters, rows
from collector.db.migrate import create_all
from collector.web.registry import load_registry

RAS = [f"RA {name}" for name in ("Ngozi Ọkafọr", "Zoë Müller", "Đặng Thị Hương", "Ana", "Bo",
                                  "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy")]


@pytest.fixture
def big_table(app, engine):
    """50,000 intake rows over a year, 12 RAs, one RA with 5 rows at the start, some reviewed."""
    with engine.begin() as conn:
        # Made-up rows are no one's history (and 2.5 times faster to make without the trail).
        conn.execute(text("ALTER TABLE intake DISABLE TRIGGER audit_row_change"))
        conn.execute(text("""
            INSERT INTO intake (submission_id, form_version, submitted_at, entered_by, review_status,
                                participant_id, site, visit_at, date_of_birth, age_years, smoker)
            SELECT gen_random_uuid(), 't', timestamptz '2025-11-01' + g * interval '10 minutes',
                   CASE WHEN g <= 5 THEN 'Left early' WHEN g % 50 = 0 THEN NULL
                        ELSE (:ras)[1 + g % 12] END,
                   CASE WHEN g % 97 = 0 THEN 'verified' WHEN g % 331 = 0 THEN 'query_open'
                        ELSE 'unreviewed' END,
                   'P' || lpad((g % 10000)::text, 4, '0'), 'north', '2026-05-01', '1990-01-01', 30, true
            FROM generate_series(1, 50000) AS g"""), {"ras": RAS})
        conn.execute(text("ALTER TABLE intake ENABLE TRIGGER audit_row_change"))
        conn.execute(text("ANALYZE intake"))
    return app.extensions["collector"].get("intake")


def plan(conn, query):
    """Return the JSON plan of a SQLAlchemy query, run with its bound parameters."""
    compiled = query.compile(dialect=conn.dialect)
    raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    return raw if isinstance(raw, list) else json.loads(raw)


def scans(node):
    """Yield (node type, relation, index) of every node in a plan."""
    yield node["Node Type"], node.get("Relation Name"), node.get("Index Name")
    for child in node.get("Plans", []):
        yield from scans(child)


FILTERS = [
    {}, {"ra": "RA Zoë Müller"}, {"ra": "Left early"}, {"ra": row_filters.NO_INVITE},
    {"status": "verified"}, {"status": "query_open"}, {"status": "unreviewed"}, {"q": "P0042"},
    {"q": "P004"}, {"from": "2026-03-01", "to": "2026-03-02"}, {"ra": "RA Ana", "status": "verified"},
]


def test_every_filter_reads_an_index_not_the_whole_table(engine, big_table):
    """One table of 50,000 rows for every case (filled once: it takes seconds), first and deep pages."""
    spec, table = big_table
    deep = rows.encode_cursor({"id": 20000, "submitted_at": "2026-04-18 21:20:00+00"})
    seq_scans = {}
    with engine.connect() as conn:
        for args in FILTERS:
            for cursor in (None, deep):
                query = rows.page_query(spec, table, row_filters.parse_filters(spec, args), cursor)
                nodes = list(scans(plan(conn, query)[0]["Plan"]))
                assert any(index for _kind, _relation, index in nodes), (args, nodes)
                if any(kind == "Seq Scan" for kind, _relation, _index in nodes):
                    seq_scans[(str(args), cursor is not None)] = nodes
    assert seq_scans == {}


def test_the_dashboard_and_the_ra_list_read_indexes_or_a_bounded_count(engine, big_table):
    spec, table = big_table
    with engine.connect() as conn:
        assert rows.ra_names(conn, table) == (sorted(RAS + ["Left early"]), True)
        count = form_summary.row_count(conn, table)
        assert not count.exact and str(count) == "about 50,000"
        assert str(form_summary.last_submission(conn, table)).startswith("2026-10-")
        last = plan(conn, form_summary.select(form_summary.func.max(table.c.submitted_at)))
        assert "Seq Scan" not in json.dumps(last)


@pytest.fixture
def form(tmp_path, engine):
    """A throwaway form whose file each test rewrites; returns create_all's changes as text."""
    name = f"rows_ix_{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.toml"

    def sync(body):
        path.write_text('title = "Index test"\n' + body)
        return [str(change) for change in create_all(engine, load_registry(tmp_path))]

    sync.name = name
    yield sync
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {name} CASCADE"))


CODE = '[[fields]]\nname = "code"\ntype = "text"\n'
BOX = '[[fields]]\nname = "box"\ntype = "integer"\n'
FLAG = '[[fields]]\nname = "flag"\ntype = "boolean"\n'


def definitions(engine, table):
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT indexname, regexp_replace(indexdef, '.* USING btree ', '') FROM pg_indexes "
            "WHERE tablename = :t AND indexname LIKE 'ix\\_%'"), {"t": table}).all())


def test_new_tables_get_the_indexes_and_a_second_run_changes_nothing(form, engine):
    form(CODE + BOX)
    assert definitions(engine, form.name) == {
        f"ix_{form.name}_time": "(submitted_at, id)",
        f"ix_{form.name}_ra": "(entered_by, submitted_at, id)",
        f"ix_{form.name}_state": "(review_status, submitted_at, id)",
        f"ix_{form.name}_key": "(code text_pattern_ops)"}
    assert form(CODE + BOX) == []


def test_an_old_table_gets_the_new_indexes_and_its_time_index_rebuilt(form, engine):
    form(CODE + BOX)
    name = form.name
    with engine.begin() as conn:  # the table as versions before the rows page made it
        for suffix in ("ra", "state", "key", "time"):
            conn.execute(text(f"DROP INDEX ix_{name}_{suffix}"))
        conn.execute(text(f"CREATE INDEX ix_{name}_time ON {name} (submitted_at)"))
        conn.execute(text(f"INSERT INTO {name} (submission_id, form_version, code) "
                          "SELECT gen_random_uuid(), 't', 'C' || g FROM generate_series(1, 100) g"))
    changes = form(CODE + BOX)
    assert changes == [
        f"{name}: rebuilt index ix_{name}_time on (submitted_at, id): newest first, pages, dates",
        f"{name}: added index ix_{name}_ra on (entered_by, submitted_at, id): one research "
        "assistant's rows",
        f"{name}: added index ix_{name}_state on (review_status, submitted_at, id): rows by "
        "review status",
        f"{name}: added index ix_{name}_key on (code text_pattern_ops): search by the key field"]
    assert form(CODE + BOX) == []


def test_a_new_key_rebuilds_the_key_index_and_no_key_drops_it(form, engine):
    form(CODE + BOX)
    assert form('key = "box"\n' + CODE + BOX) == [
        f"{form.name}: rebuilt index ix_{form.name}_key on (box): search by the key field"]
    assert definitions(engine, form.name)[f"ix_{form.name}_key"] == "(box)"
    changes = form(FLAG)  # no field can be the key now: the index goes
    assert f"{form.name}: dropped index ix_{form.name}_key: the form has no key field" in changes
    assert f"ix_{form.name}_key" not in definitions(engine, form.name)
    assert form(FLAG) == [change for change in changes if "DRIFT" in change]
