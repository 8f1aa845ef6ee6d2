"""Measure what form logic costs on the submit path: the logic form next to the plain one.

    .venv/bin/python -m bench.logic [--rounds 5] [--seconds 5] [--clients 8]

One collector under gunicorn (gunicorn.conf.py, 2 workers) on an embedded
PostgreSQL (a fresh temporary one). Load alternates between POST
/forms/intake (no logic) and POST /forms/followup (skip logic, cross-field
rules, two calculations, sections; the server evaluates every expression and
PostgreSQL checks every logic CHECK) in the same run. Prints medians and
the ratio; nothing here asserts.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, text

from bench import loadgen
from bench.processes import ROOT, Server, environment
from bench.run import database, step
from bench.session import signed_in_form
from collector.db.embedded import start_embedded
from collector.ops.config import normalise_database_url
from tests.helpers import valid_intake

FOLLOWUP = {
    "participant_id": "P0042", "visit_date": "2026-11-20", "date_of_birth": "1980-11-21",
    "height_cm": "180.0", "weight_kg": "72.5", "smokes": "true", "cigarettes_per_day": "12",
    "quit_attempts": "2", "new_diagnosis": "other", "diagnosis_other": "Gout",
    "diagnosed_on": "2026-03-14", "notes": "Line one\r\nLine two",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--generator", choices=("auto", "wrk", "builtin"), default="auto")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="collector-bench-logic-") as scratch:
        server, admin_url = start_embedded(Path(scratch) / "pg", "postgres")
        try:
            results, stored = measure(options, database(admin_url, "bench_logic"))
        finally:
            server.cleanup()
    report(options, results, stored)


def measure(options, url):
    env = environment(DATABASE_URL=url, SECRET_KEY="bench-secret")
    step("creating tables")
    subprocess.run([sys.executable, "manage.py", "create_all"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    collector = Server("collector", "app:app", env, "/forms/intake")
    try:
        collector.start(probe_path="/")
        collector.cookie, csrf = signed_in_form(collector, url)
        hidden = {"csrf_token": csrf, "submission_id": "SUBMISSION_ID"}
        bodies = {"intake (no logic)": ("/forms/intake", valid_intake()),
                  "followup (logic)": ("/forms/followup", FOLLOWUP)}
        results = {name: [] for name in bodies}
        for round_number in range(options.rounds):
            order = list(bodies) if round_number % 2 == 0 else list(reversed(bodies))
            for name in order:
                step(f"round {round_number + 1}/{options.rounds}: {name}")
                path, data = bodies[name]
                results[name].append(loadgen.run_load(
                    collector.url + path, urlencode({**data, **hidden}, doseq=True),
                    collector.cookie, options.clients, options.seconds, options.generator))
    finally:
        collector.stop()
    engine = create_engine(normalise_database_url(url))
    with engine.connect() as conn:  # every request must have stored a row: no 4xx/5xx counted as speed
        stored = {table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
                  for table in ("intake", "followup")}
    engine.dispose()
    return results, stored


def report(options, results, stored):
    median = lambda name, key: statistics.median(r[key] for r in results[name])  # noqa: E731
    base, logic = "intake (no logic)", "followup (logic)"
    print(f"Form logic on the submit path: {options.rounds} A/B rounds of {options.seconds} s, "
          f"{options.clients} clients, medians\n")
    print("| measure | followup (logic) | intake (no logic) | logic / plain |")
    print("| --- | ---: | ---: | ---: |")
    for key, label in (("rate", "valid submissions per second"), ("p50_ms", "latency p50 (ms)"),
                       ("p99_ms", "latency p99 (ms)")):
        a, b = median(logic, key), median(base, key)
        print(f"| {label} | {a:.1f} | {b:.1f} | {a / b:.2f}x |")
    errors = {name: sum(r.get("status_errors", 0) + r.get("socket_errors", 0) for r in runs)
              for name, runs in results.items()}
    print(f"\nrows stored: {stored}; error responses: {errors}")


if __name__ == "__main__":
    main()
