"""An entry as large as a body may be (1 MB) is held in part lines and replayed whole."""

import urllib.parse

import pytest
from sqlalchemy import text

from collector.db.migrate import create_all
from collector.ops.record_parts import LINE_LIMIT
from tests.conftest import make_app
from tests.helpers import free_port, hidden_inputs
from tests.processes import run_manage

MEMO = ('title = "Memo"\naccess = "public"\n\n[[fields]]\nname = "body"\nlabel = "Body"\n'
        'type = "long_text"\nrequired = true\n')  # no max_length: only the body cap limits it
UNIT = 'Ελλάδα «σημείωση» 漢字かな 👩‍⚕️😀 "quoted" \\back\\slash\\ </script> tab\there\nabc xyz. '


def largest_body(limit=1024 * 1024 - 2_000):
    """Return the longest repetition of UNIT whose URL-encoded form stays under `limit` bytes."""
    per_unit = len(urllib.parse.quote_plus(UNIT))
    return (UNIT * (limit // per_unit)).strip()


@pytest.fixture
def memo_forms(app, engine, database_url, tmp_path):
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "memo.toml").write_text(MEMO)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS memo CASCADE"))
    create_all(engine, make_app(database_url, FORMS_DIR=str(forms)).extensions["collector"])
    yield forms
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE memo CASCADE"))


def test_a_one_megabyte_entry_is_held_in_parts_and_replayed_whole(memo_forms, engine,
                                                                  database_url, tmp_path, capfd):
    down = make_app(f"postgres://u@127.0.0.1:{free_port()}/d", FORMS_DIR=str(memo_forms))
    client = down.test_client()
    hidden = hidden_inputs(client.get("/forms/memo").get_data(as_text=True))
    body = largest_body()
    capfd.readouterr()
    assert client.post("/forms/memo", data={**hidden, "body": body}).status_code == 503
    log = capfd.readouterr().out.encode()
    held = [line for line in log.splitlines(keepends=True) if b"submission_failed" in line]
    assert len(held) > 100 and max(map(len, held)) <= LINE_LIMIT
    (tmp_path / "held.log").write_bytes(log)
    result = run_manage("replay", str(tmp_path / "held.log"), DATABASE_URL=database_url,
                        FORMS_DIR=str(memo_forms))
    assert result.returncode == 0, result.stderr
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT submission_id::text, body FROM memo")).all()
    assert [tuple(row) for row in stored] == [(hidden["submission_id"], body)]
