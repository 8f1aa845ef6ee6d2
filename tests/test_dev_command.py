"""The README's run command: embedded PostgreSQL, tables, the form URL, Ctrl-C stops both."""

import os
import re
import signal
import subprocess
import sys
import http.cookiejar
import urllib.request

from tests.helpers import free_port, sign_in_over_http
from tests.processes import PROJECT_ROOT, process_environment, run_manage, wait_for_http


def postgres_running(data_dir):
    result = subprocess.run(["pgrep", "-f", f"postgres.*{data_dir}"], capture_output=True)
    return result.returncode == 0


def test_sigterm_stops_dev_and_its_postgres_too(tmp_path):
    port, data_dir = free_port(), tmp_path / "pg"
    dev = subprocess.Popen([sys.executable, "manage.py", "dev", "--port", str(port)],
                           cwd=PROJECT_ROOT, env=process_environment(EMBEDDED_POSTGRES_DIR=str(data_dir)),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for_http(f"http://127.0.0.1:{port}/", dev, seconds=60)
    dev.terminate()
    output, _ = dev.communicate(timeout=60)
    assert dev.returncode == 0, output
    assert "PostgreSQL (embedded) stopped." in output
    assert not postgres_running(data_dir)


def test_dev_starts_embedded_postgres_serves_and_stops_on_ctrl_c(tmp_path):
    port, data_dir = free_port(), tmp_path / "pg"
    env = process_environment(EMBEDDED_POSTGRES_DIR=str(data_dir))
    dev = subprocess.Popen([sys.executable, "manage.py", "dev", "--port", str(port)],
                           cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True,
                           start_new_session=True)  # its own process group, like a terminal's
    try:
        url = f"http://127.0.0.1:{port}/forms/intake"
        wait_for_http(url, dev, seconds=60)
        # The PI's next step, in a second terminal: an invite link for themselves.
        invite = run_manage("invite", "Dev Tester", "--base-url", f"http://127.0.0.1:{port}",
                            EMBEDDED_POSTGRES_DIR=str(data_dir))
        assert invite.returncode == 0, invite.stderr
        link = next(line for line in invite.stdout.splitlines() if "/invite#" in line)
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        assert "Signed in as <strong>Dev Tester</strong>" in sign_in_over_http(browser, link)[1]
        with browser.open(url) as page:
            assert page.status == 200 and b"Participant intake" in page.read()
        assert postgres_running(data_dir), "the invite command must not stop dev's PostgreSQL"
    finally:
        os.killpg(dev.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        output, _ = dev.communicate(timeout=60)
    assert dev.returncode == 0, output
    assert f"Form intake: {url}  (invite only" in output
    assert re.search(r"intake: created table with \d+ fields", output)
    assert output.rstrip().endswith("PostgreSQL (embedded) stopped.\nStopped.")
    assert "Traceback" not in output
    assert not postgres_running(data_dir)
