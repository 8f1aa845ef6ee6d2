"""Start, time and measure the processes the benchmark compares."""

import os
import shlex
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parent.parent


def environment(**extra):
    """This virtualenv first on PATH, and nothing of the caller's database settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DYNO", "FORMS_DIR")}
    env["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), env.get("PATH", "")])
    return env | extra


class Server:
    """One app under gunicorn with the project's gunicorn.conf.py (identical for both apps)."""

    def __init__(self, name, module, env, probe_path, cookie=""):
        self.name, self.module, self.probe_path, self.cookie = name, module, probe_path, cookie
        self.port = free_port()
        self.env = env | {"PORT": str(self.port), "WEB_CONCURRENCY": "2"}
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, probe_path=None, timeout=60):
        """Start gunicorn; return seconds from spawn to the first 200 on the probe page."""
        probe_path = probe_path or self.probe_path
        started = time.perf_counter()
        self.process = subprocess.Popen(shlex.split(f"gunicorn {self.module}"), cwd=ROOT,
                                        env=self.env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        request = urllib.request.Request(self.url + probe_path, headers={"Cookie": self.cookie})
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            if time.perf_counter() - started > timeout:
                self.stop()
                raise RuntimeError(f"{self.name} gave no 200 on {probe_path} within {timeout} s")
            try:
                with urllib.request.urlopen(request, timeout=5) as page:
                    if page.status == 200:
                        return time.perf_counter() - started
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.005)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def worker_rss_mb(self):
        """Resident memory of each worker process, in MB."""
        return [child.memory_info().rss / 1e6 for child in psutil.Process(self.process.pid).children()]


def timed_run(command, env):
    """Run `command`; return (seconds, peak resident MB of it and its children)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    watched, peak = psutil.Process(process.pid), 0.0
    while process.poll() is None:
        try:
            rss = watched.memory_info().rss + sum(c.memory_info().rss for c in watched.children(True))
            peak = max(peak, rss / 1e6)
        except psutil.Error:
            pass
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    if process.returncode:
        raise RuntimeError(f"{command[0]} failed: {process.stderr.read().decode()[-500:]}")
    return seconds, peak


class ConnectionPeak:
    """Sample pg_stat_activity for one database while a block runs; keep the peak."""

    def __init__(self, engine, database):
        self.engine, self.database, self.peak = engine, database, 0
        self._stop = threading.Event()

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        from sqlalchemy import text
        query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                     "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            while not self._stop.is_set():
                self.peak = max(self.peak, conn.execute(query, {"db": self.database}).scalar())
                time.sleep(0.02)
