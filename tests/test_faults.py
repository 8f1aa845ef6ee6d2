"""Zero data loss under faults, end to end: real gunicorn, a real PostgreSQL we stop and start."""

import subprocess
import threading
import time

import pytest
from sqlalchemy import create_engine, text

from collector.db.embedded import start_embedded
from collector.ops.config import normalise_database_url
from tests.helpers import free_port, invite_link
from tests.load import ConnectionSampler, FormClient, Load
from tests.processes import (PROJECT_ROOT, WebProcess, as_heroku_url, process_environment,
                             procfile, run_manage)

pytestmark = pytest.mark.slow
BUDGET = 20


@pytest.fixture(scope="module")
def fault_db(tmp_path_factory):
    """A PostgreSQL of this module's own, so stopping it disturbs no other test."""
    server, url = start_embedded(tmp_path_factory.mktemp("faultpg") / "data", "faults")
    env = process_environment(DATABASE_URL=as_heroku_url(url))
    release = subprocess.run(procfile()["release"], shell=True, cwd=PROJECT_ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert release.returncode == 0, release.stderr
    engine = create_engine(normalise_database_url(url), pool_pre_ping=True)
    yield server, url, engine
    engine.dispose()
    server.cleanup()


@pytest.fixture
def empty_intake(fault_db):
    _server, _url, engine = fault_db
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE intake"))
    return fault_db


def web_env(url, **extra):
    return process_environment(DATABASE_URL=as_heroku_url(url), PORT=str(free_port()),
                               SECRET_KEY="fault-secret", WEB_CONCURRENCY="2",
                               DATABASE_CONNECTION_BUDGET=str(BUDGET), **extra)


def stored_ids(engine):
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT submission_id::text FROM intake")).scalars().all()
    assert len(ids) == len(set(ids))
    return set(ids)


def test_database_outage_under_load_loses_nothing(empty_intake, tmp_path, report):
    server, url, engine = empty_intake
    with WebProcess(web_env(url), tmp_path / "web.log") as web, ConnectionSampler(engine) as sampler:
        link = invite_link(engine, web.base_url)
        load = Load(web.base_url, link, clients=4)
        load.start()
        time.sleep(1.5)
        server.stop()                      # the database goes away mid-stream
        time.sleep(2.0)
        load.stop()
        server.ensure_postgres_running()   # and comes back; gunicorn is not restarted
        client = FormClient(web.base_url, link)
        first_after_restart = client.post(client.fresh_form())
        load.start()
        time.sleep(1.5)
        load.stop()
        assert web.stop() == 0
    assert first_after_restart[0] == 303, "the app must recover by itself"
    saved, held = load.acknowledged(303), load.acknowledged(503)
    assert saved and held, (len(saved), len(held))

    replay = run_manage("replay", stdin=web.stdout(), DATABASE_URL=url)
    assert replay.returncode == 0, replay.stderr
    stored = stored_ids(engine)
    assert saved | held <= stored, "every acknowledged submission is in the table"
    report(f"outage: {len(saved)} saved, {len(held)} held for recovery, "
           f"{load.unanswered} unanswered during the outage; {replay.stderr.splitlines()[-1]}; "
           f"{len(stored)} rows; peak connections {sampler.peak} (budget {BUDGET})")
    assert sampler.peak <= BUDGET - 4


def test_same_submission_to_two_instances_at_once_makes_one_row(empty_intake, tmp_path, report):
    _server, url, engine = empty_intake
    rounds = 25
    with WebProcess(web_env(url), tmp_path / "a.log") as a, \
            WebProcess(web_env(url), tmp_path / "b.log") as b, \
            ConnectionSampler(engine) as sampler:
        answers = []
        for _ in range(rounds):
            clients = [FormClient(a.base_url, invite_link(engine, a.base_url)),
                       FormClient(b.base_url, invite_link(engine, b.base_url))]
            forms = [client.fresh_form() for client in clients]
            submission_id = forms[0]["submission_id"]
            barrier = threading.Barrier(2)

            def send(client, hidden):
                barrier.wait()
                answers.append((submission_id, client.post({**hidden, "submission_id": submission_id})))
            threads = [threading.Thread(target=send, args=pair) for pair in zip(clients, forms)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    statuses = {answer[1][0] for answer in answers}
    assert statuses == {303}
    by_id = {}
    for submission_id, (_status, location) in answers:
        by_id.setdefault(submission_id, set()).add(location)
    assert all(len(locations) == 1 for locations in by_id.values()), "same confirmation for both"
    assert stored_ids(engine) == set(by_id) and len(by_id) == rounds
    logs = a.stdout() + b.stdout()
    duplicates = logs.count('"event": "submission_duplicate"')
    report(f"duplicates: {rounds} ids posted to two instances at once -> {rounds} rows; "
           f"{duplicates} second posts answered as duplicates; peak connections {sampler.peak}")
    assert duplicates == rounds
    assert sampler.peak <= BUDGET - 4


def test_sigterm_lets_in_flight_submissions_finish(empty_intake, tmp_path, report):
    _server, url, engine = empty_intake
    with engine.begin() as conn:  # make every INSERT take 2 s, so SIGTERM lands mid-request
        conn.execute(text("CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS "
                          "$$ BEGIN PERFORM pg_sleep(2); RETURN NEW; END $$"))
        conn.execute(text("CREATE TRIGGER slow BEFORE INSERT ON intake FOR EACH ROW "
                          "EXECUTE FUNCTION slow_insert()"))
    try:
        with WebProcess(web_env(url), tmp_path / "web.log") as web:
            clients = [FormClient(web.base_url, invite_link(engine, web.base_url)) for _ in range(2)]
            forms = [client.fresh_form() for client in clients]
            answers = []
            threads = [threading.Thread(target=lambda c=c, f=f: answers.append((f, c.post(f))))
                       for c, f in zip(clients, forms)]
            for thread in threads:
                thread.start()
            time.sleep(0.7)
            started = time.monotonic()
            code = web.stop()              # SIGTERM while both inserts are in the database
            stopped_after = time.monotonic() - started
            for thread in threads:
                thread.join(timeout=30)
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TRIGGER slow ON intake; DROP FUNCTION slow_insert()"))
    assert code == 0
    assert [answer[1][0] for answer in answers] == [303, 303]
    assert stored_ids(engine) == {form["submission_id"] for form in forms}
    assert "submission_failed" not in web.stdout()
    report(f"shutdown: SIGTERM with 2 inserts in flight; both answered 303 and stored; "
           f"gunicorn exited 0 after {stopped_after:.1f} s (graceful timeout 20 s)")
