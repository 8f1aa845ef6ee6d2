"""Configuration on Heroku's terms: URL schemes, flask-heroku, pool budget, SSL, secrets."""

import os
import subprocess
import sys
import time

import pytest
from flask import request

from collector.db.database import db
from collector.ops.config import ConfigError, normalise_database_url, secret_key
from tests.conftest import make_app
from tests.helpers import free_port


@pytest.mark.parametrize("url", [
    "postgres://u:p@host:5432/db",
    "postgresql://u:p@host:5432/db",
    "postgresql+psycopg2://u:p@host:5432/db",
])
def test_every_heroku_scheme_becomes_psycopg2(url):
    assert normalise_database_url(url) == "postgresql+psycopg2://u:p@host:5432/db"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "host:5432/db", ""])
def test_other_urls_are_refused_with_the_schemes_we_take(url):
    with pytest.raises(ConfigError, match="must start with postgres://"):
        normalise_database_url(url)


def test_heroku_url_survives_flask_heroku_and_selects_psycopg2():
    app = make_app("postgres://u:p@db.example:5432/d1")
    assert "SENTRY_DSN" in app.config  # flask-heroku ran ...
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg2://u:p@db.example:5432/d1"
    with app.app_context():  # ... and the engine still uses psycopg2
        assert db.engine.dialect.driver == "psycopg2"


def test_pool_stays_under_essential_0_with_two_workers():
    app = make_app("postgres://u@h/d", WEB_CONCURRENCY="2")
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True and options["max_overflow"] == 0
    assert 2 * options["pool_size"] <= 20 - 4  # room left for the release phase and pg:psql
    with app.app_context():
        assert db.engine.pool.size() == options["pool_size"]


def test_pool_size_can_be_set_and_bad_numbers_are_refused():
    assert make_app("postgres://u@h/d", DATABASE_POOL_SIZE="3").config[
        "SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 3
    with pytest.raises(ConfigError, match="WEB_CONCURRENCY must be a whole number"):
        make_app("postgres://u@h/d", WEB_CONCURRENCY="many")


def test_ssl_is_required_on_heroku_unless_the_url_says_otherwise():
    def connect_args(url, **env):
        return make_app(url, **env).config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
    assert connect_args("postgres://u@h/d", DYNO="web.1")["sslmode"] == "require"
    assert "sslmode" not in connect_args("postgres://u@h/d")
    assert "sslmode" not in connect_args("postgres://u@h/d?sslmode=disable", DYNO="web.1")


def test_local_secret_key_is_kept_so_every_worker_signs_alike(tmp_path):
    first = secret_key({}, tmp_path)
    assert secret_key({}, tmp_path) == first and len(first) == 64
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert secret_key({"SECRET_KEY": "given"}, tmp_path) == "given"


def test_proxy_fix_trusts_the_routers_forwarded_proto():
    app = make_app("postgres://u@h/d")
    app.add_url_rule("/_scheme", "scheme", lambda: f"{request.scheme} {request.remote_addr}")
    response = app.test_client().get("/_scheme", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert response.get_data(as_text=True) == "https 203.0.113.9"


def environment(**env):
    keep = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DYNO", "SECRET_KEY")}
    return keep | env


def test_import_does_no_database_work():
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", "import app; print(app.app.name)"],
                            env=environment(DATABASE_URL=f"postgres://u@127.0.0.1:{free_port()}/d",
                                            SECRET_KEY="x"),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("env, message", [
    ({"DYNO": "web.1", "DATABASE_URL": "postgres://u@127.0.0.1:1/d"}, "SECRET_KEY is not set"),
    ({"SECRET_KEY": "x"}, "DATABASE_URL is not set"),
])
def test_gunicorn_refuses_to_start_with_a_clear_message(env, message):
    bin_dir = os.path.dirname(sys.executable)
    result = subprocess.run([os.path.join(bin_dir, "gunicorn"), "app:app"],
                            env=environment(PORT=str(free_port()), **env),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"collector: cannot start: {message}" in result.stderr
