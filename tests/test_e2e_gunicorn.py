"""End to end, as Heroku runs it: the Procfile's release line, then its web line under gunicorn."""

import http.cookiejar
import shlex
import subprocess
import urllib.parse
import urllib.request
import uuid

import pytest
from sqlalchemy import text

from tests.helpers import free_port, hidden_inputs, invite_link, sign_in_over_http, valid_intake
from tests.processes import PROJECT_ROOT, as_heroku_url, process_environment, procfile, wait_for_http


@pytest.fixture
def heroku_env(database_url, migrated_app):
    return process_environment(DATABASE_URL=as_heroku_url(database_url), PORT=str(free_port()),
                               SECRET_KEY="e2e-secret", WEB_CONCURRENCY="2")


def test_release_then_web_serves_and_writes_a_typed_row(heroku_env, engine):
    release = subprocess.run(procfile()["release"], shell=True, cwd=PROJECT_ROOT, env=heroku_env,
                             capture_output=True, text=True, timeout=120)
    assert release.returncode == 0, release.stderr
    assert release.stdout == "All tables match the form files.\n"

    web = subprocess.Popen(shlex.split(procfile()["web"]), cwd=PROJECT_ROOT, env=heroku_env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{heroku_env['PORT']}"
    try:
        wait_for_http(base + "/", web)
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        assert sign_in_over_http(opener, invite_link(engine, base, "Alice Ng"))[0] == 200
        with opener.open(base + "/forms/intake") as page:
            hidden = hidden_inputs(page.read().decode())
        body = urllib.parse.urlencode({**valid_intake(), **hidden}, doseq=True).encode()
        with opener.open(base + "/forms/intake", data=body) as confirmation:
            html = confirmation.read().decode()
            assert confirmation.status == 200
            assert confirmation.url == f"{base}/forms/intake/saved/{hidden['submission_id']}"
        assert "is saved in the database" in html
    finally:
        web.terminate()
        stdout, stderr = web.communicate(timeout=30)
    assert web.returncode == 0, stderr
    assert "Booting worker" in stderr and stderr.count("Booting worker") == 2
    assert f'"submission_id": "{hidden["submission_id"]}"' in stdout

    with engine.connect() as conn:
        row = conn.execute(text("SELECT age_years, smoker, conditions, entered_by FROM intake "
                                "WHERE submission_id = :id"), {"id": hidden["submission_id"]}).one()
    assert tuple(row) == (36, False, ["diabetes", "asthma"], "Alice Ng")
    assert uuid.UUID(hidden["submission_id"])


def test_two_servers_side_by_side_open_no_control_socket(heroku_env, tmp_path):
    """gunicorn 27 would put a control socket in ~/.gunicorn; two servers would share it."""
    env = {**heroku_env, "HOME": str(tmp_path)}
    env.pop("XDG_RUNTIME_DIR", None)
    servers = []
    try:
        for _ in range(2):
            env = {**env, "PORT": str(free_port())}
            server = subprocess.Popen(shlex.split(procfile()["web"]), cwd=PROJECT_ROOT, env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            servers.append(server)
            wait_for_http(f"http://127.0.0.1:{env['PORT']}/", server)
        assert not (tmp_path / ".gunicorn").exists(), list((tmp_path / ".gunicorn").iterdir())
        for server in servers:
            assert server.poll() is None
    finally:
        for server in servers:
            server.terminate()
            server.communicate(timeout=30)
    assert [server.returncode for server in servers] == [0, 0]
