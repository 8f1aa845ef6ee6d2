"""Measure the PI area on a 1,000,000-row form, next to the same pages on a 1,000-row one.

    .venv/bin/python -m bench.pi_area [--rows 1000000] [--baseline-rows 1000] [--requests 20]
                                      [--inserts 2000] [--database-url URL]

Two databases (<database>_pi_big and _pi_small) on one PostgreSQL (embedded
in a temporary directory unless given a URL or BENCH_DATABASE_URL), each with
the shipped forms; intake is
filled in SQL with a year of rows (12 RAs, one with five rows in January,
some reviewed, long notes) as a table of older versions, then `manage.py
create_all` adds the rows page's indexes (timed). Each database is served by
gunicorn (gunicorn.conf.py, 2 workers) and signed in as the PI; every page is
requested --requests times, alternating between the two apps, and the report
prints p50 and p95 next to the baseline and the 200 ms target. It also prints
what the new indexes cost one INSERT (the submit path), old set next to new,
in the same run. Nothing here asserts: it measures.
"""

import argparse
import http.cookiejar
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import psycopg2
from sqlalchemy import make_url

from bench import pi_data
from bench.processes import ROOT, Server, environment
from bench.run import database, step
from collector.db.rows import encode_cursor

PASSWORD = "bench password, long enough"
TARGET_MS = 200
DEEP_PAGES = 5_000


def main():
    options = parse_arguments()
    url = options.database_url or os.environ.get("BENCH_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="collector-pi-") as scratch:
        if url:
            report = measure(options, url)
        else:
            from collector.db.embedded import start_embedded
            server, url = start_embedded(Path(scratch) / "pg", "postgres")
            try:
                report = measure(options, url)
            finally:
                server.cleanup()
    print(render(report, options))


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the big table")
    parser.add_argument("--baseline-rows", type=int, default=1_000, help="rows in the baseline")
    parser.add_argument("--requests", type=int, default=20, help="requests per page and app")
    parser.add_argument("--inserts", type=int, default=2_000, help="INSERTs per round (index cost)")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of INSERTs (index cost)")
    parser.add_argument("--database-url", help="a PostgreSQL to use instead of an embedded one")
    return parser.parse_args()


def measure(options, admin_url):
    # Named after the given database, so runs against different ones on one server never meet.
    prefix = make_url(admin_url).database
    urls = {name: database(admin_url, f"{prefix}_pi_{name}") for name in ("big", "small")}
    envs = {name: environment(DATABASE_URL=url, SECRET_KEY="bench-secret", ADMIN_PASSWORD=PASSWORD)
            for name, url in urls.items()}
    report = {}
    for name, rows in (("big", options.rows), ("small", options.baseline_rows)):
        create_all(envs[name])
        step(f"filling intake with {rows:,} rows ({name})")
        started = time.perf_counter()
        pi_data.fill(urls[name], rows)
        report[f"fill {name}"] = time.perf_counter() - started
        report[f"create_all {name}"] = create_all(envs[name])
        pi_data.analyse(urls[name])
    report["create_all again"] = create_all(envs["big"])
    step("measuring the cost of the indexes per INSERT")
    report["insert"] = pi_data.insert_cost(urls["small"], options.inserts, options.rounds)
    report["pages"] = pages(options, urls, envs)
    return report


def create_all(env):
    """Run `manage.py create_all`; return its seconds."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "manage.py", "create_all"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - started


def pages(options, urls, envs):
    servers = {name: Server(name, "app:app", env, "/") for name, env in envs.items()}
    try:
        for server in servers.values():
            server.start()
            server.opener = signed_in_pi(server)
        paths = {name: page_paths(urls[name]) for name in servers}
        results = {}
        for label in paths["big"]:
            step(f"requests: {label}")
            times = {name: [] for name in servers}
            for n in range(options.requests):
                for name in (("big", "small") if n % 2 == 0 else ("small", "big")):
                    times[name].append(timed_get(servers[name], paths[name][label]))
            results[label] = times
        return results
    finally:
        for server in servers.values():
            server.stop()


def signed_in_pi(server):
    """Return a urllib opener signed in to /admin with a name and the password."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    try:
        opener.open(server.url + "/admin/")
    except urllib.error.HTTPError as page:   # 401: the sign-in page
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode()).group(1)
    body = urllib.parse.urlencode({"name": "Bench PI", "password": PASSWORD, "csrf_token": token}).encode()
    with opener.open(server.url + "/admin/login", body) as page:
        if "/admin/login" in page.url:
            raise RuntimeError(f"{server.name}: the PI sign-in did not work")
    return opener


def page_paths(url):
    """Return {label: path} of the pages to time (the deep page's cursor read from the table)."""
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM intake")
        depth = min(DEEP_PAGES * 50, cursor.fetchone()[0] // 2)
        cursor.execute("SELECT id, submitted_at FROM intake ORDER BY submitted_at DESC, id DESC "
                       "OFFSET %s LIMIT 1", (depth,))
        row_id, at = cursor.fetchone()
        cursor.execute("SELECT max(submitted_at)::date - 40, max(id) FROM intake")
        since, newest = cursor.fetchone()
    connection.close()
    rows = "/admin/forms/intake"
    return {
        "form list (/admin/)": "/admin/",
        "rows page, first page (with the chart)": rows,
        f"a deep page ({DEEP_PAGES:,} pages in, by cursor)":
            f"{rows}?after={encode_cursor({'id': row_id, 'submitted_at': at})}",
        "filter: one RA": f"{rows}?ra=" + urllib.parse.quote_plus(pi_data.RAS[1]),
        "filter: an RA with 5 rows a year ago": f"{rows}?ra=" + urllib.parse.quote_plus(pi_data.RARE_RA),
        "filter: review status query open": f"{rows}?status=query_open",
        "filter: a week's date range": f"{rows}?from={since}&to={since + _week()}",
        "filter: key search P0042 (exact)": f"{rows}?q=P0042",
        "filter: key search P004 (prefix)": f"{rows}?q=P004",
        "filters: RA + verified + date range": f"{rows}?ra=" + urllib.parse.quote_plus(pi_data.RAS[2])
                                               + f"&status=verified&from={since}",
        "row page": f"{rows}/rows/{newest}",
    }


def _week():
    from datetime import timedelta
    return timedelta(days=6)


def timed_get(server, path):
    """Return milliseconds for one GET (the whole body read); None when the page is missing."""
    started = time.perf_counter()
    try:
        with server.opener.open(server.url + path) as page:
            page.read()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise RuntimeError(f"{server.name}: {path} answered {error.code}") from None
    return (time.perf_counter() - started) * 1000


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def render(report, options):
    lines = [f"PI area benchmark: {options.rows:,} rows against {options.baseline_rows:,}, "
             f"{options.requests} requests per page and app through gunicorn (2 workers), "
             f"alternating; {os.cpu_count()} cores.", "",
             f"| page | {options.rows:,} rows p50 (ms) | p95 | {options.baseline_rows:,} rows p50 "
             f"(baseline) | p95 | p50 / baseline | target |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for label, times in report["pages"].items():
        if None in times["big"]:
            lines.append(f"| {label} | skipped: the page answers 404 (not built yet) | | | | | |")
            continue
        big, small = statistics.median(times["big"]), statistics.median(times["small"])
        lines.append(f"| {label} | {big:.1f} | {percentile(times['big'], .95):.1f} | {small:.1f} | "
                     f"{percentile(times['small'], .95):.1f} | {big / small:.2f}x | "
                     f"p95 under {TARGET_MS} ms |")
    (old, old_bulk), (new, new_bulk) = report["insert"]["cost_old"], report["insert"]["cost_new"]
    lines += ["", "What the indexes cost an INSERT (old: pkey, submission_id, submitted_at; new: "
              "time with id, RA, review state and key), medians of "
              f"{options.rounds} rounds:",
              f"- one single-row INSERT in autocommit, as a submission ({options.inserts:,} per "
              f"round): old {old:.0f} µs, new {new:.0f} µs: {new - old:+.0f} µs ({new / old - 1:+.0%});",
              f"- per row of one INSERT … SELECT of {options.inserts * 20:,} rows (the indexes' own "
              f"work, no commit): old {old_bulk:.1f} µs, new {new_bulk:.1f} µs: "
              f"{new_bulk - old_bulk:+.1f} µs ({new_bulk / old_bulk - 1:+.0%}).",
              f"Filling {options.rows:,} rows in SQL: {report['fill big']:.1f} s; create_all adding "
              f"the rows page's indexes to them: {report['create_all big']:.1f} s (submissions wait "
              f"meanwhile); create_all with nothing to do: {report['create_all again']:.1f} s."]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
