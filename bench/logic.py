"""Measure what form logic costs on the submit path: the logic form next to the plain one.

    .venv/bin/python -m bench.logic [--rounds 5] [--seconds 5] [--clients 8]

One collector under gunicorn (gunicorn.conf.py, 2 workers) on an embedded
PostgreSQL (a fresh temporary one). Load alternates, in the same run, between
POST /forms/followup (skip logic, cross-field rules, two calculations,
sections: the server evaluates every expression and PostgreSQL checks every
logic CHECK), the same 14 fields with no logic at all (followup_plain,
written from followup.toml without its logic keys: this isolates what the
logic costs), and the shipped plain form /forms/intake (10 fields). Prints
medians and ratios; nothing here asserts.
"""

import argparse
import re
import shutil
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


LOGIC_LINE = re.compile(r"^(relevant|constraint|constraint_message|calculation|section|"
                        r"section_pages)\s*=")


def plain_copy(followup_text):
    """Return followup.toml without its logic: the same fields, no sections, nothing calculated."""
    kept, in_section = [], False
    for line in followup_text.splitlines():
        if line.startswith("[["):
            in_section = line.strip() == "[[sections]]"
        if not in_section and not LOGIC_LINE.match(line):
            kept.append(line)
    return "\n".join(kept) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--generator", choices=("auto", "wrk", "builtin"), default="auto")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="collector-bench-logic-") as scratch:
        server, admin_url = start_embedded(Path(scratch) / "pg", "postgres")
        forms = Path(scratch) / "forms"
        forms.mkdir()
        for path in (ROOT / "forms").glob("*.toml"):
            shutil.copy(path, forms / path.name)
        (forms / "followup_plain.toml").write_text(
            plain_copy((ROOT / "forms" / "followup.toml").read_text(encoding="utf-8")), encoding="utf-8")
        try:
            results, stored = measure(options, database(admin_url, "bench_logic"), forms)
        finally:
            server.cleanup()
    report(options, results, stored)


def measure(options, url, forms):
    env = environment(DATABASE_URL=url, SECRET_KEY="bench-secret", FORMS_DIR=str(forms))
    step("creating tables")
    subprocess.run([sys.executable, "manage.py", "create_all"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    collector = Server("collector", "app:app", env, "/forms/intake")
    try:
        collector.start(probe_path="/")
        collector.cookie, csrf = signed_in_form(collector, url)
        hidden = {"csrf_token": csrf, "submission_id": "SUBMISSION_ID"}
        bodies = {"followup (logic)": ("/forms/followup", FOLLOWUP),
                  "followup_plain (same fields, no logic)": (
                      "/forms/followup_plain", {**FOLLOWUP, "age_at_visit": "45", "bmi": "22.4"}),
                  "intake (no logic)": ("/forms/intake", valid_intake())}
        results = {name: [] for name in bodies}
        for round_number in range(options.rounds):
            order = list(bodies)[round_number % 3:] + list(bodies)[:round_number % 3]
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
                  for table in ("intake", "followup", "followup_plain")}
    engine.dispose()
    return results, stored


def report(options, results, stored):
    median = lambda name, key: statistics.median(r[key] for r in results[name])  # noqa: E731
    names = list(results)
    logic, same, plain = names
    print(f"Form logic on the submit path: {options.rounds} rotating rounds of {options.seconds} s, "
          f"{options.clients} clients, medians\n")
    print(f"| measure | {logic} | {same} | {plain} | logic / same fields | logic / intake |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for key, label in (("rate", "valid submissions per second"), ("p50_ms", "latency p50 (ms)"),
                       ("p99_ms", "latency p99 (ms)")):
        a, b, c = (median(name, key) for name in names)
        print(f"| {label} | {a:.1f} | {b:.1f} | {c:.1f} | {a / b:.2f}x | {a / c:.2f}x |")
    errors = {name: sum(r.get("status_errors", 0) + r.get("socket_errors", 0) for r in runs)
              for name, runs in results.items()}
    print(f"\nrows stored: {stored}; error responses: {errors}")


if __name__ == "__main__":
    main()
