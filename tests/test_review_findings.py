"""Hostile review of issue 12: each test names a promise (README, docs/ARCHITECTURE.md, the
issue) and shows it broken, against a real PostgreSQL. One test per defect."""

import json

from sqlalchemy import text

from collector.db.corrections import correct_row, read_row, withdraw_row
from collector.db.invites import create_invite
from tests.helpers import hidden_inputs, sign_in, valid_intake
from tests.test_audit_trail import collector, corrected, psql, submit, trail, version_of  # noqa: F401

PI = "Dr Ngozi Ọkafọr"
RA = "Đặng Thị Hương"
SECRET = "Mme Ụzọ lives at 12 rue Žižka"


def count(engine, where="true", **params):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM intake WHERE {where}"), params).scalar()


def everything_in(engine, table):
    with engine.connect() as conn:
        return json.dumps([dict(r) for r in conn.execute(text(f"SELECT * FROM {table}")).mappings()],
                          default=str, ensure_ascii=False)


# README "Withdrawal means erasure": "manage.py replay never brings a withdrawn reference
# back". The RA's own form does: a phone that resends its entry (the answer was lost on a bad
# network, the RA pressed Back and Submit) after the PI withdrew it stores it again, values and
# all, and the RA is told it was saved. storage.save_submission never asks
# audit.withdrawn_references, which only replay does.
def test_a_withdrawn_row_never_comes_back_when_the_ra_sends_it_again(app, engine, collector):
    app_engine, spec, table = collector
    client = app.test_client()
    _id, token = create_invite(engine, RA)
    assert sign_in(client, token).status_code == 303
    page = client.get("/forms/intake").get_data(as_text=True)
    entry = {**hidden_inputs(page), **valid_intake(participant_id="P9876", notes=SECRET)}
    assert client.post("/forms/intake", data=entry).status_code == 303
    with engine.connect() as conn:
        row_id = conn.execute(text("SELECT id FROM intake WHERE participant_id = 'P9876'")).scalar()
    withdraw_row(app_engine, spec, table, row_id, version_of(engine, spec, table, row_id), PI,
                 "Participant withdrew consent by phone")
    assert count(engine) == 0
    again = client.post("/forms/intake", data=entry)   # the same reference, sent once more
    assert count(engine) == 0, f"the withdrawn entry is back (HTTP {again.status_code})"
