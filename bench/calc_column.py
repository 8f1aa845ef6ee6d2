"""What a calculated field costs an INSERT: a CHECK (what the collector uses) or a generated column.

    .venv/bin/python -m bench.calc_column [--rows 20000] [--bulk-rows 200000] [--rounds 5]
                                          [--database-url URL]

Three tables with the same weight and height (BMI = weight div (height *
height), one decimal place, the SQL the collector compiles from a form file):
- plain: bmi is stored, nothing checks it (the baseline);
- check: bmi is stored and the collector's CHECK holds it to the formula;
- generated: bmi is GENERATED ALWAYS AS (…) STORED; the INSERT omits it.
Each round inserts the same rows into each table, in an order that rotates,
two ways: one INSERT per row in autocommit (how the app writes a submission:
--rows of them) and one INSERT … SELECT from a table already in the database
(--bulk-rows; no client, no network: the expression's cost alone). The
report prints medians in rows per second, each next to the baseline.

The collector uses CHECKs because a generated column cannot read another
generated column (a calculation reading a calculation), cannot be added to
an existing column (a field made calculated later), and needs every INSERT
(and replay) to leave the column out. This script measures what that costs.
Uses an embedded PostgreSQL in a temporary directory unless given a URL
(or BENCH_DATABASE_URL). Nothing here asserts: it measures.
"""

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import psycopg2

from collector.db.checks import checks_of
from collector.db.logic_sql import to_sql
from collector.forms.expressions.evaluate import evaluate
from collector.forms.logic import calculated_value
from collector.forms.spec import load_form

FORM = """title = "BMI"
[[fields]]
name = "weight_kg"
type = "decimal"
places = 1

[[fields]]
name = "height_m"
type = "decimal"
places = 2

[[fields]]
name = "bmi"
type = "decimal"
places = 1
calculation = "${weight_kg} div (${height_m} * ${height_m})"
"""
TABLES = ("plain", "check", "generated")


def main():
    options = parse_arguments()
    url = options.database_url or os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="collector-calc-") as scratch:
        spec = bmi_spec(Path(scratch))
        if url:
            report = measure(options, spec, url)
        else:
            from collector.db.embedded import start_embedded
            server, url = start_embedded(Path(scratch) / "pg", "calc_bench")
            try:
                report = measure(options, spec, url)
            finally:
                server.cleanup()
    print_report(report, options)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000,
                        help="single-row INSERTs per table per round (default 20,000)")
    parser.add_argument("--bulk-rows", type=int, default=200_000,
                        help="rows of the INSERT … SELECT per table per round (default 200,000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each table once per round")
    parser.add_argument("--database-url", help="a PostgreSQL to use (default: an embedded one)")
    return parser.parse_args()


def bmi_spec(scratch):
    path = scratch / "bmi.toml"
    path.write_text(FORM)
    return load_form(path)


def ddl(spec):
    """Return CREATE TABLE statements; the CHECK is the one create_all would add."""
    bmi = spec.field("bmi")
    (check,) = [c for c in checks_of(spec, bmi) if c.rule == "calculation"]
    formula = f"round({to_sql(bmi.calculation.tree, spec.timezone)}, {bmi.places})"
    columns = "id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, weight_kg numeric, height_m numeric"
    return {
        "plain": f"CREATE TABLE calc_plain ({columns}, bmi numeric)",
        "check": f"CREATE TABLE calc_check ({columns}, bmi numeric, "
                 f"CONSTRAINT {check.name} CHECK ({check.sql}))",
        "generated": f"CREATE TABLE calc_generated ({columns}, "
                     f"bmi numeric GENERATED ALWAYS AS ({formula}) STORED)",
    }


def sample_rows(spec, count):
    """Realistic weights and heights, with BMI as the server computes it."""
    chooser = random.Random(10)
    bmi = spec.field("bmi")
    rows = []
    for _ in range(count):
        values = {"weight_kg": Decimal(chooser.randint(300, 1500)) / 10,
                  "height_m": Decimal(chooser.randint(140, 210)) / 100}
        values["bmi"] = calculated_value(bmi, values, spec.timezone)
        rows.append(values)
    assert evaluate(bmi.calculation.tree, rows[0], spec.timezone) is not None
    return rows


def measure(options, spec, url):
    rows = sample_rows(spec, max(options.rows, options.bulk_rows))
    single, bulk = rows[:options.rows], rows[:options.bulk_rows]
    connection = psycopg2.connect(url)
    connection.autocommit = True
    timings = {(way, table): [] for way in ("row", "bulk") for table in TABLES}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT version()")
            version = cursor.fetchone()[0].split(" on ")[0]
            for table, statement in ddl(spec).items():
                cursor.execute(f"DROP TABLE IF EXISTS calc_{table}")
                cursor.execute(statement)
            fill_source(cursor, bulk)
            for round_number in range(options.rounds):
                # Rotate the order so no table always runs first (cold caches) or last.
                order = TABLES[round_number % 3:] + TABLES[:round_number % 3]
                for table in order:
                    step(f"round {round_number + 1}/{options.rounds}: {table}")
                    timings["row", table].append(one_row_at_a_time(cursor, table, single))
                    check_stored(cursor, table, single)
                    timings["bulk", table].append(all_at_once(cursor, table))
                    check_stored(cursor, table, bulk)
    finally:
        with connection.cursor() as cursor:
            for table in TABLES + ("source",):
                cursor.execute(f"DROP TABLE IF EXISTS calc_{table}")
        connection.close()
    sizes = {"row": len(single), "bulk": len(bulk)}
    return {"version": version,
            "rates": {(way, table): statistics.median(sizes[way] / s for s in seconds)
                      for (way, table), seconds in timings.items()}}


def _columns(table):
    return "weight_kg, height_m" if table == "generated" else "weight_kg, height_m, bmi"


def _values(table, row):
    return (row["weight_kg"], row["height_m"]) + (() if table == "generated" else (row["bmi"],))


def one_row_at_a_time(cursor, table, rows):
    cursor.execute(f"TRUNCATE calc_{table}")
    placeholders = ", ".join(["%s"] * len(_values(table, rows[0])))
    statement = f"INSERT INTO calc_{table} ({_columns(table)}) VALUES ({placeholders})"
    started = time.perf_counter()
    for row in rows:
        cursor.execute(statement, _values(table, row))
    return time.perf_counter() - started


def fill_source(cursor, rows):
    """Put the bulk rows in the database once, so the INSERT … SELECT measures only the insert."""
    cursor.execute("DROP TABLE IF EXISTS calc_source")
    cursor.execute("CREATE TABLE calc_source (weight_kg numeric, height_m numeric, bmi numeric)")
    cursor.execute("INSERT INTO calc_source SELECT * FROM unnest(%s::numeric[], %s::numeric[], "
                   "%s::numeric[])", [list(column) for column in
                                       zip(*((r["weight_kg"], r["height_m"], r["bmi"]) for r in rows))])
    cursor.execute("VACUUM ANALYZE calc_source")


def all_at_once(cursor, table):
    cursor.execute(f"TRUNCATE calc_{table}")
    columns = _columns(table)
    started = time.perf_counter()
    cursor.execute(f"INSERT INTO calc_{table} ({columns}) SELECT {columns} FROM calc_source")
    return time.perf_counter() - started


def check_stored(cursor, table, rows):
    """Every table must end up holding the server's BMI: the comparison is of equals."""
    cursor.execute(f"SELECT count(*), sum(bmi) FROM calc_{table}")
    count, total = cursor.fetchone()
    if count != len(rows) or total != sum(row["bmi"] for row in rows):
        raise SystemExit(f"calc_{table} holds other BMIs than the server computes")


def print_report(report, options):
    rates = report["rates"]
    print(f"\nCalculated field cost: median of {options.rounds} rounds, {report['version']}, "
          f"Python {platform.python_version()}, {os.cpu_count()} cores\n")
    print("| insert | plain (baseline) | CHECK (collector) | generated STORED |")
    print("| --- | --- | --- | --- |")
    for way, words in (("row", f"{options.rows:,} single-row INSERTs, autocommit"),
                       ("bulk", f"INSERT … SELECT of {options.bulk_rows:,} rows")):
        base = rates[way, "plain"]
        cells = [f"{base:,.0f} rows/s"] + [
            f"{rates[way, table]:,.0f} rows/s ({rates[way, table] / base:.2f}×, "
            f"{(1 / rates[way, table] - 1 / base) * 1e6:+.1f} µs a row)"
            for table in ("check", "generated")]
        print(f"| {words} | " + " | ".join(cells) + " |")


def step(message):
    print(f"[calc] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
