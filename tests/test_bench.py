"""The benchmark command still runs end to end (tiny sizes; it measures, nothing here times it)."""

import subprocess
import sys

import pytest

from tests.processes import PROJECT_ROOT, process_environment

pytestmark = pytest.mark.slow


def test_bench_runs_and_prints_every_measure_next_to_its_baseline():
    result = subprocess.run([sys.executable, "-m", "bench.run", "--rounds", "1", "--seconds", "1",
                             "--clients", "2", "--rows", "2000", "--generator", "builtin"],
                            cwd=PROJECT_ROOT, env=process_environment(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    table = result.stdout
    for measure in ("valid submissions per second", "latency p99 (ms)", "cold start",
                    "resident memory per worker", "peak database connections",
                    "Load generator ceiling", "psql \\copy (the limit)", "naive (ORM + csv)"):
        assert measure in table, measure
    assert "| failed requests | 0 | 0 |" in table
    assert "built-in generator" in table


def test_calc_column_bench_runs_and_prints_check_next_to_generated(database_url):
    result = subprocess.run([sys.executable, "-m", "bench.calc_column", "--rows", "200",
                             "--bulk-rows", "1000", "--rounds", "1", "--database-url", database_url],
                            cwd=PROJECT_ROOT, env=process_environment(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| insert | plain (baseline) | CHECK (collector) | generated STORED |" in result.stdout
    assert "200 single-row INSERTs" in result.stdout and "INSERT … SELECT of 1,000 rows" in result.stdout


def test_logic_bench_runs_and_prints_the_logic_form_next_to_the_plain_ones():
    result = subprocess.run([sys.executable, "-m", "bench.logic", "--rounds", "1", "--seconds", "1",
                             "--clients", "2", "--generator", "builtin"],
                            cwd=PROJECT_ROOT, env=process_environment(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| valid submissions per second |" in result.stdout
    assert "logic / same fields" in result.stdout
    # Every measured request stored a row: a refused entry must never pass for speed.
    assert "error responses: {'followup (logic)': 0, 'followup_plain (same fields, no logic)': 0, " \
           "'intake (no logic)': 0}" in result.stdout


def test_pi_area_bench_runs_and_prints_each_page_next_to_its_baseline(database_url):
    result = subprocess.run([sys.executable, "-m", "bench.pi_area", "--rows", "3000",
                             "--baseline-rows", "300", "--requests", "2", "--inserts", "50",
                             "--rounds", "2", "--database-url", database_url],
                            cwd=PROJECT_ROOT, env=process_environment(), capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    for page in ("form list (/admin/)", "a deep page (5,000 pages in, by cursor)",
                 "filter: an RA with 5 rows a year ago", "filter: key search P004 (prefix)",
                 "row page"):
        assert f"| {page} |" in result.stdout, page
    assert "| 3,000 rows p50 (ms) | p95 | 300 rows p50 (baseline) |" in result.stdout
    assert "one single-row INSERT in autocommit" in result.stdout and "create_all adding" in result.stdout
