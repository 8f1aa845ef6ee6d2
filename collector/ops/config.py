"""Build the app's configuration from the environment, on Heroku's terms.

All environment reading happens here, so the list of variables the app
depends on is in one place: DATABASE_URL, SECRET_KEY, ADMIN_PASSWORD, DYNO,
WEB_CONCURRENCY, DATABASE_CONNECTION_BUDGET, DATABASE_POOL_SIZE, FORMS_DIR (and
PORT, which gunicorn reads; BASE_URL, which `manage.py invite` reads).
"""

import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # collector/ops/config.py -> the repository
# Heroku Postgres Essential-0 and -1 allow 20 connections.
DEFAULT_CONNECTION_BUDGET = 20
# Left free for the release phase, `heroku pg:psql`, Dataclips and one-off dynos.
RESERVED_CONNECTIONS = 4
# A request must fail well inside the router's 30 s, not hang on a dead host.
CONNECT_TIMEOUT_SECONDS = 5
CSRF_TOKEN_HOURS = 24
# An RA signs a browser in once per study phase; revoking an invite ends it sooner.
SESSION_DAYS = 180
# Far above any real entry (long texts are capped by the form file), far below harm.
MAX_BODY_BYTES = 1024 * 1024
MAX_FORM_PARTS = 500


class ConfigError(RuntimeError):
    """The environment cannot run the collector; the message says how to fix it."""


def normalise_database_url(url):
    """Return `url` with the scheme SQLAlchemy 2 and psycopg2 need.

    Heroku gives postgres://, which SQLAlchemy 2 rejects, and plain
    postgresql:// would pick psycopg 3 under SQLAlchemy 2.1.
    """
    scheme, separator, rest = (url or "").partition("://")
    if not separator or scheme not in ("postgres", "postgresql", "postgresql+psycopg2"):
        raise ConfigError("DATABASE_URL must start with postgres://, postgresql:// or "
                          f"postgresql+psycopg2:// (got {scheme or 'nothing'!r})")
    return "postgresql+psycopg2://" + rest


def pool_size(environ):
    """Return connections per process: the plan's budget shared by every worker."""
    if environ.get("DATABASE_POOL_SIZE"):
        return _positive_int(environ, "DATABASE_POOL_SIZE")
    budget = _positive_int(environ, "DATABASE_CONNECTION_BUDGET", DEFAULT_CONNECTION_BUDGET)
    workers = _positive_int(environ, "WEB_CONCURRENCY", 1)
    return max(1, (budget - RESERVED_CONNECTIONS) // workers)


def engine_options(environ):
    """Return SQLAlchemy engine options: bounded pool, pre-ping, SSL on Heroku."""
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS, "application_name": "collector"}
    if environ.get("DYNO") and "sslmode=" not in environ.get("DATABASE_URL", ""):
        connect_args["sslmode"] = "require"
    return {
        "pool_size": pool_size(environ),
        "max_overflow": 0,           # never exceed the budget, even in bursts
        "pool_timeout": 10,          # wait for a free connection, but not past the router
        "pool_pre_ping": True,       # survive database restarts and maintenance
        "connect_args": connect_args,
    }


def secret_key(environ, instance_path):
    """Return SECRET_KEY; on Heroku it must be set, locally one is kept in instance/."""
    if environ.get("SECRET_KEY"):
        return environ["SECRET_KEY"]
    if environ.get("DYNO"):
        raise ConfigError("SECRET_KEY is not set. Set it once with: heroku config:set "
                          "SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')")
    # Every worker must sign sessions with the same key, so keep it in a file.
    key_file = Path(instance_path) / "secret_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def load_config(environ, instance_path):
    """Return the Flask config mapping for this environment."""
    if not environ.get("DATABASE_URL"):
        raise ConfigError("DATABASE_URL is not set. Locally, run `python manage.py dev`, which "
                          "starts an embedded PostgreSQL; on Heroku, add the Postgres add-on.")
    on_heroku = bool(environ.get("DYNO"))
    return {
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(environ["DATABASE_URL"]),
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(environ),
        "SECRET_KEY": secret_key(environ, instance_path),
        "FORMS_DIR": environ.get("FORMS_DIR") or str(PROJECT_ROOT / "forms"),
        "WTF_CSRF_TIME_LIMIT": CSRF_TOKEN_HOURS * 3600,
        # Flask-WTF's strict check refuses every HTTPS POST without a Referer, and
        # privacy settings drop it; security.refuse_cross_origin checks instead.
        "WTF_CSRF_SSL_STRICT": False,
        "SESSION_COOKIE_SECURE": on_heroku,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": SESSION_DAYS * 24 * 3600,
        # The sign-in lasts SESSION_DAYS from the invite; re-signing the cookie on
        # every response would only cost time (measured with bench/).
        "SESSION_REFRESH_EACH_REQUEST": False,
        "MAX_CONTENT_LENGTH": MAX_BODY_BYTES,
        "MAX_FORM_MEMORY_SIZE": MAX_BODY_BYTES,
        "MAX_FORM_PARTS": MAX_FORM_PARTS,
        "ON_HEROKU": on_heroku,
        # The PI's area at /admin is off unless a password is set.
        "ADMIN_PASSWORD": environ.get("ADMIN_PASSWORD") or None,
    }


def _positive_int(environ, name, default=None):
    raw = environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1, not {raw!r}")
    return value
