"""Guessing from many addresses cannot lock the PI out; brute force stays slow; no short passwords."""

import pytest
from sqlalchemy import inspect, text

from collector.db.system_tables import ensure_system_tables
from collector.web.known_device import COOKIE
from tests.conftest import make_app

PASSWORD = "Ωραίο πρωινό 朝 ☕ \"x\" \\ y"
ATTACKERS = [f"203.0.113.{n}" for n in range(1, 11)]


@pytest.fixture
def admin_app(app, database_url, engine):
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE admin_login_failures, admin_sessions"))
    return make_app(database_url, ADMIN_PASSWORD=PASSWORD)


def login_from(client, address, password=PASSWORD):
    """Log in from behind `address` (the router's X-Forwarded-For, read by ProxyFix)."""
    headers = {"X-Forwarded-For": address}
    html = client.get("/admin/", headers=headers).get_data(as_text=True)
    token = html.split('name="csrf_token" value="')[1].split('"')[0]
    return client.post("/admin/login", data={"name": "Zoë Müller", "password": password,
                                             "csrf_token": token}, headers=headers)


def known_device(admin_app, address="198.51.100.7"):
    """The PI's laptop: it signed in once before, then signed out."""
    laptop = admin_app.test_client()
    assert login_from(laptop, address).status_code == 303
    assert laptop.get_cookie(COOKIE, path="/admin") is not None
    with laptop.session_transaction() as session:
        session.clear()
    return laptop


def attack(admin_app, other_worker):
    """100 failed guesses from 10 addresses, spread over two app instances (two workers)."""
    for n, address in enumerate(ATTACKERS):
        for guess in range(10):
            worker = admin_app if (n + guess) % 2 else other_worker
            wrong = f"Γ{guess} 猜 '{address}' \\ 🔑"
            assert login_from(worker.test_client(), address, wrong).status_code == 401


def test_many_addresses_cannot_lock_the_pi_out(admin_app, database_url):
    laptop = known_device(admin_app)
    other_worker = make_app(database_url, ADMIN_PASSWORD=PASSWORD)
    attack(admin_app, other_worker)
    stranger = login_from(admin_app.test_client(), "192.0.2.99")  # even with the right password
    assert stranger.status_code == 429 and "Too many failed attempts" in stranger.text
    assert login_from(laptop, "192.0.2.200").status_code == 303  # from a new address too
    assert laptop.get("/admin/").status_code == 200
    assert login_from(with_device_cookie(other_worker, laptop), "192.0.2.201").status_code == 303


def with_device_cookie(app, browser):
    """A client of `app` with `browser`'s known-device cookie (same laptop, other worker)."""
    client = app.test_client()
    client.set_cookie(COOKIE, browser.get_cookie(COOKIE, path="/admin").value, path="/admin")
    return client


def test_a_known_device_has_its_own_limit(admin_app):
    laptop = known_device(admin_app)
    for guess in range(10):
        assert login_from(laptop, f"198.51.100.{guess + 10}", f"wrong {guess} ☃").status_code == 401
    assert login_from(laptop, "198.51.100.99").status_code == 429
    assert login_from(admin_app.test_client(), "198.51.100.99").status_code == 303  # others unaffected


@pytest.mark.parametrize("forged", ["x", "' OR '1'='1", "eyJhIjoxfQ.AAAA.BBBB", "κλειδί 🔑"])
def test_a_forged_device_cookie_counts_as_unknown(admin_app, database_url, forged):
    attack(admin_app, admin_app)
    forger = admin_app.test_client()
    forger.set_cookie(COOKIE, forged, path="/admin")
    assert login_from(forger, "192.0.2.50").status_code == 429


def test_a_device_cookie_from_another_app_counts_as_unknown(admin_app, database_url):
    other_study = make_app(database_url, ADMIN_PASSWORD=PASSWORD, SECRET_KEY="another study")
    laptop = known_device(other_study)
    attack(admin_app, admin_app)
    assert login_from(with_device_cookie(admin_app, laptop), "192.0.2.51").status_code == 429


@pytest.mark.parametrize("short", ["pw", "Ωμέγα 李 😀!", "x" * 11])
def test_a_short_admin_password_closes_the_pi_area_only(app, database_url, anonymous_client, short):
    closed = make_app(database_url, ADMIN_PASSWORD=short)
    client = closed.test_client()
    page = client.get("/admin/")
    assert page.status_code == 503 and "shorter than 12 characters" in page.text
    assert 'type="password"' not in page.text and page.headers["Cache-Control"] == "no-store"
    assert client.post("/admin/login", data={"password": short}).status_code in (400, 503)
    assert client.get("/admin/forms/intake").status_code == 503
    assert client.get("/").status_code == 200
    long_enough = make_app(database_url, ADMIN_PASSWORD="x" * 12)
    assert long_enough.test_client().get("/admin/").status_code == 401


def test_a_failures_table_from_before_gets_its_device_column(admin_app, engine):
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE admin_login_failures DROP COLUMN device"))
    try:
        ensure_system_tables(engine)
        with engine.begin() as conn:
            ensure_system_tables(conn)  # twice, and inside a transaction (as create_all does)
        columns = [c["name"] for c in inspect(engine).get_columns("admin_login_failures")]
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE admin_login_failures ADD COLUMN IF NOT EXISTS device text"))
    assert "device" in columns
    laptop = known_device(admin_app)
    assert login_from(laptop, "198.51.100.8", "wrong ☃ again").status_code == 401
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(device) FROM admin_login_failures")).scalar() == 1
