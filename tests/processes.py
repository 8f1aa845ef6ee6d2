"""Run the project's own commands as real processes: Procfile lines, manage.py."""

import os
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def procfile():
    """Return the Procfile as {"web": command, "release": command}."""
    lines = (PROJECT_ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def process_environment(**env):
    """Return a clean environment whose PATH finds this virtualenv's python and gunicorn."""
    keep = {k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "DYNO", "SECRET_KEY", "FORMS_DIR", "WEB_CONCURRENCY")}
    path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    return keep | {"PATH": path, "PYTHONUNBUFFERED": "1"} | env


def run_manage(*args, stdin=None, timeout=120, text=True, **env):
    """Run `python manage.py ARGS` as a PI would, in a clean environment plus `env`.

    With text=False, stdin, stdout and stderr are bytes (output that need not be UTF-8).
    """
    import subprocess
    return subprocess.run([sys.executable, "manage.py", *args], input=stdin, capture_output=True,
                          text=text, cwd=PROJECT_ROOT, timeout=timeout,
                          env=process_environment(**env))


def wait_for_http(url, process, seconds=30):
    """Wait until `url` answers at all; fail early if `process` died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"process exited with {process.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def as_heroku_url(url):
    """Rewrite any PostgreSQL URL with Heroku's postgres:// scheme."""
    return "postgres://" + url.split("://", 1)[1]


def read_slowly(pipe, sink, size=512, pause=0.001):
    """Copy `pipe` to `sink` in small reads with pauses, like a log reader that lags behind.

    The pipe fills up, so writers block mid-write: a write() over 4096 bytes
    is then split, and other workers' lines get in between its pieces.
    """
    while chunk := os.read(pipe.fileno(), size):
        sink.write(chunk)
        time.sleep(pause)


class WebProcess:
    """The Procfile's web line under real gunicorn; stdout kept in a file for replay.

    With `slow_reader`, stdout is a pipe drained by read_slowly, as Heroku's
    log collector may be.
    """

    def __init__(self, env, log_path, slow_reader=False):
        self.env, self.log_path, self.slow_reader = env, log_path, slow_reader
        self.base_url = f"http://127.0.0.1:{env['PORT']}"
        self.process = None
        self._reader = None

    def __enter__(self):
        import shlex
        import subprocess
        self._stdout = open(self.log_path, "wb")
        self._stderr = open(str(self.log_path) + ".err", "w")
        self.process = subprocess.Popen(shlex.split(procfile()["web"]), cwd=PROJECT_ROOT, env=self.env,
                                        stdout=subprocess.PIPE if self.slow_reader else self._stdout,
                                        stderr=self._stderr)
        if self.slow_reader:
            self._reader = threading.Thread(target=read_slowly, daemon=True,
                                            args=(self.process.stdout, self._stdout))
            self._reader.start()
        wait_for_http(self.base_url + "/", self.process)
        return self

    def stop(self, timeout=40):
        """SIGTERM, as Heroku sends it; return gunicorn's exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        code = self.process.wait(timeout=timeout)
        if self._reader:
            self._reader.join(timeout=timeout)  # the rest of the pipe, up to gunicorn's last line
            self.process.stdout.close()
        self._stdout.close()
        self._stderr.close()
        return code

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.stop()

    def stdout(self):
        return self.log_path.read_text()

    def stderr(self):
        return open(str(self.log_path) + ".err").read()
