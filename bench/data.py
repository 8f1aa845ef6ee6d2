"""Fill both apps' tables with the same million rows, straight in SQL."""

from sqlalchemy import text

COLLECTOR_ROWS = """
INSERT INTO intake (submission_id, form_version, entered_by, participant_id, site, visit_at,
                    date_of_birth, age_years, weight_kg, smoker, conditions, contact_email, notes)
SELECT gen_random_uuid(), 'bench', 'RA ' || (g % 7), 'P' || lpad((g % 10000)::text, 4, '0'),
       (ARRAY['north', 'south', 'mobile'])[1 + g % 3],
       timestamptz '2026-01-01' + g * interval '13 seconds', date '1950-01-01' + g % 20000,
       16 + g % 100, round(40 + (g % 600) / 10.0, 1), g % 2 = 0,
       CASE WHEN g % 3 = 0 THEN ARRAY['asthma', 'diabetes'] ELSE ARRAY[]::text[] END,
       'p' || g || '@example.org', 'note, with "quotes" ' || g
FROM generate_series(1, :rows) AS g"""

NAIVE_ROWS = """
INSERT INTO naive_intake (participant_id, site, visit_at, date_of_birth, age_years, weight_kg,
                          smoker, conditions, contact_email, notes)
SELECT 'P' || lpad((g % 10000)::text, 4, '0'), (ARRAY['north', 'south', 'mobile'])[1 + g % 3],
       (timestamptz '2026-01-01' + g * interval '13 seconds')::text,
       (date '1950-01-01' + g % 20000)::text, (16 + g % 100)::text,
       round(40 + (g % 600) / 10.0, 1)::text, (g % 2 = 0)::text,
       CASE WHEN g % 3 = 0 THEN 'asthma' ELSE '' END, 'p' || g || '@example.org',
       'note, with "quotes" ' || g
FROM generate_series(1, :rows) AS g"""


def fill(engine, table, rows):
    """Empty `table` and insert `rows` generated rows into it.

    Made-up rows are not anyone's history: the collector's table is filled with
    its audit trigger off (in the same transaction, so nothing else runs
    unaudited), which also keeps a million rows from taking 2.5 times as long.
    """
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {table} RESTART IDENTITY"))
        audited = table == "intake"
        if audited:
            conn.execute(text("ALTER TABLE intake DISABLE TRIGGER audit_row_change"))
        conn.execute(text(COLLECTOR_ROWS if audited else NAIVE_ROWS), {"rows": rows})
        if audited:
            conn.execute(text("ALTER TABLE intake ENABLE TRIGGER audit_row_change"))
