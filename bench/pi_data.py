"""Build the PI-area benchmark's tables in SQL, and measure what the rows page's indexes cost an INSERT."""

import re
import statistics
import time

import psycopg2

from collector.forms.names import key_index_name, ra_index_name, review_index_name, time_index_name

RAS = ["Ngozi Ọkafọr", "Zoë Müller", "Đặng Thị Hương", "Alice Ng", "Bashir Rahimi", "Carmen López",
       "Dmitri Volkov", "Efua Mensah", "Fatima Zahra", "Greta Lindqvist", "Hiroshi Tanaka",
       "Ioana Popescu"]
RARE_RA = "Left in January"   # five rows at the start of the year: the RA index's hard case

# A year of rows up to now, 12 RAs (every 40th row without an invite), 5% verified,
# 0.5% query open, 0.5% resolved; every 10th note 300 characters long.
ROWS = """
INSERT INTO intake (submission_id, form_version, submitted_at, entered_by, review_status,
                    participant_id, site, visit_at, date_of_birth, age_years, weight_kg, smoker,
                    conditions, contact_email, notes)
SELECT gen_random_uuid(), 'bench', now() - interval '365 days' * (1 - g::float8 / :rows),
       CASE WHEN g <= 5 THEN :rare WHEN g % 40 = 0 THEN NULL ELSE (:ras)[1 + g % 12] END,
       CASE WHEN g % 20 = 0 THEN 'verified' WHEN g % 200 = 1 THEN 'query_open'
            WHEN g % 200 = 2 THEN 'query_resolved' ELSE 'unreviewed' END,
       'P' || lpad((g % 10000)::text, 4, '0'), (ARRAY['north', 'south', 'mobile'])[1 + g % 3],
       timestamptz '2026-01-01' + g * interval '13 seconds', date '1950-01-01' + g % 20000,
       16 + g % 100, round(40 + (g % 600) / 10.0, 1), g % 2 = 0,
       CASE WHEN g % 3 = 0 THEN ARRAY['asthma', 'diabetes'] ELSE ARRAY[]::text[] END,
       'p' || g || '@example.org',
       CASE WHEN g % 10 = 0 THEN repeat('Ωμέγα note, "quoted" ', 15) ELSE 'note ' || g END
FROM generate_series(1, :rows) AS g"""


def make_old(conn, table="intake"):
    """Give `table` the indexes of versions before the rows page: submitted_at alone."""
    for name in (ra_index_name(table), review_index_name(table), key_index_name(table),
                 time_index_name(table)):
        conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.execute(f"CREATE INDEX {time_index_name(table)} ON {table} (submitted_at)")


def fill(url, rows):
    """Fill intake with `rows` rows (as an old table: create_all adds the new indexes after).

    Made-up rows are no one's history: the audit trigger is off for the fill, in
    the same transaction (as in bench/data.py), so nothing else runs unaudited.
    """
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("TRUNCATE intake RESTART IDENTITY")
        make_old(cursor)
        cursor.execute("ALTER TABLE intake DISABLE TRIGGER audit_row_change")
        sql = ROWS.replace("%", "%%")  # psycopg2's placeholders: the modulo signs stay
        cursor.execute(sql.replace(":rows", "%(rows)s").replace(":rare", "%(rare)s")
                       .replace(":ras", "%(ras)s"), {"rows": rows, "rare": RARE_RA, "ras": RAS})
        cursor.execute("ALTER TABLE intake ENABLE TRIGGER audit_row_change")
    connection.close()


def analyse(url):
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE intake")
    connection.close()


def insert_cost(url, inserts, rounds):
    """Return {table: (µs per single-row INSERT, µs per row in bulk)}, medians, into copies of
    intake with the old indexes (cost_old) and the new ones (cost_new)."""
    connection = psycopg2.connect(url)
    connection.autocommit = True  # as the app writes a submission
    cursor = connection.cursor()
    for name in ("cost_old", "cost_new"):
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"CREATE TABLE {name} (LIKE intake INCLUDING DEFAULTS INCLUDING IDENTITY "
                       "INCLUDING CONSTRAINTS)")
        cursor.execute(f"ALTER TABLE {name} ADD PRIMARY KEY (id), ADD UNIQUE (submission_id)")
    make_old(cursor, "cost_old")
    cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'intake' AND indexname LIKE "
                   "'ix\\_intake\\_%'")
    for (definition,) in cursor.fetchall():
        cursor.execute(re.sub(r" ON (public\.)?intake ", " ON cost_new ",
                              definition.replace("ix_intake_", "ix_cost_new_")))
    single = {"cost_old": [], "cost_new": []}
    bulk = {"cost_old": [], "cost_new": []}
    for round_number in range(rounds):
        for name in (("cost_old", "cost_new") if round_number % 2 == 0 else ("cost_new", "cost_old")):
            single[name].append(_timed_inserts(cursor, name, inserts, round_number))
            bulk[name].append(_timed_bulk(cursor, name, inserts * 20))
    for name in single:
        cursor.execute(f"DROP TABLE {name}")
    connection.close()
    return {name: (statistics.median(single[name]), statistics.median(bulk[name]))
            for name in single}


def _timed_bulk(cursor, table, count):
    """Return µs per row of one INSERT … SELECT of `count` rows: the indexes' own work, no commits."""
    started = time.perf_counter()
    cursor.execute(
        f"INSERT INTO {table} (submission_id, form_version, entered_by, participant_id, site, "
        "visit_at, date_of_birth, age_years, weight_kg, smoker, conditions, notes) "
        "SELECT gen_random_uuid(), 'bench', (%s)[1 + g %% 12], 'P' || lpad((g %% 10000)::text, 4, '0'), "
        "'north', now(), '1980-01-01', 40, 70.5, false, ARRAY['asthma'], 'a note' "
        "FROM generate_series(1, %s) AS g", (RAS, count))
    return (time.perf_counter() - started) / count * 1e6


def _timed_inserts(cursor, table, count, round_number):
    started = time.perf_counter()
    for n in range(count):
        cursor.execute(
            f"INSERT INTO {table} (submission_id, form_version, entered_by, participant_id, site, "
            "visit_at, date_of_birth, age_years, weight_kg, smoker, conditions, notes) VALUES "
            "(gen_random_uuid(), 'bench', %s, %s, 'north', now(), '1980-01-01', 40, 70.5, false, "
            "ARRAY['asthma'], 'a note')", (RAS[n % 12], f"P{(n * 7 + round_number) % 10000:04d}"))
    return (time.perf_counter() - started) / count * 1e6
