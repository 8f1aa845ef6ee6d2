"""Fixtures: a real PostgreSQL (embedded by default), apps, clients and SQL access."""

import os

import pytest
from sqlalchemy import create_engine, text

from collector.db.invites import create_invite
from collector.db.migrate import create_all
from collector.db.sqlviews import refresh_views
from collector.ops.config import normalise_database_url
from collector.web.factory import create_app
from tests.helpers import clear_audit_trail, sign_in


def pytest_configure(config):
    """Refuse to run against the database the app itself uses."""
    given, live = os.environ.get("TEST_DATABASE_URL"), os.environ.get("DATABASE_URL")
    if given and live and normalise_database_url(given) == normalise_database_url(live):
        pytest.exit("TEST_DATABASE_URL equals DATABASE_URL: the tests truncate tables, so "
                    "they refuse to run against the app's own database.", returncode=2)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """Return the URL of a real PostgreSQL: TEST_DATABASE_URL, or an embedded one."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield os.environ["TEST_DATABASE_URL"]
        return
    from collector.db.embedded import start_embedded

    server, url = start_embedded(tmp_path_factory.mktemp("postgres") / "data", "collector_test")
    yield url
    server.cleanup()


@pytest.fixture(scope="session")
def engine(database_url):
    """An engine for the tests' own SQL (checking rows, reading the catalog)."""
    engine = create_engine(normalise_database_url(database_url))
    yield engine
    engine.dispose()


def make_app(database_url, **environ):
    """Build an app against `database_url` the way create_app does in production."""
    environ = {"DATABASE_URL": database_url, "SECRET_KEY": "test-secret", **environ}
    return create_app(overrides={"TESTING": True}, environ=environ)


@pytest.fixture(scope="session")
def migrated_app(database_url, engine):
    """The example-forms app with its tables created once per session."""
    app = make_app(database_url)
    with engine.begin() as conn:
        for name in app.extensions["collector"].tables:
            conn.execute(text(f"DROP TABLE IF EXISTS {name} CASCADE"))
    create_all(engine, app.extensions["collector"])
    return app


@pytest.fixture
def app(migrated_app, engine):
    """The example-forms app, with every form table emptied before the test."""
    registry = migrated_app.extensions["collector"]
    with engine.begin() as conn:
        for name in [*registry.tables, "invites"]:
            conn.execute(text(f"TRUNCATE {name} RESTART IDENTITY"))
        clear_audit_trail(conn)
        # Tests with other form files rebuild the codebook view; put the example's back.
        refresh_views(conn, list(registry.specs.values()))
    return migrated_app


@pytest.fixture
def anonymous_client(app):
    """A browser that has not opened an invite link."""
    return app.test_client()


@pytest.fixture
def client(app, engine):
    """A browser signed in with a real invite link, as RA "Test RA"."""
    client = app.test_client()
    _id, token = create_invite(engine, "Test RA")
    assert sign_in(client, token).status_code == 303
    return client


_REPORT = []


@pytest.fixture
def report():
    """Collect a measured line to print in the test run's summary."""
    return _REPORT.append


def pytest_terminal_summary(terminalreporter):
    if _REPORT:
        terminalreporter.section("collector measurements")
        for line in _REPORT:
            terminalreporter.write_line(line)
