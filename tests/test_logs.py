"""stdout of a real gunicorn run: every line one JSON object with an event and a request id."""

import json
import urllib.error
import urllib.request
import uuid

import pytest

from tests.helpers import free_port, invite_link
from tests.load import FormClient
from tests.processes import WebProcess, process_environment


def test_every_stdout_line_is_json_with_event_and_request_id(app, database_url, engine, tmp_path):
    env = process_environment(DATABASE_URL=database_url, PORT=str(free_port()), SECRET_KEY="logs")
    with WebProcess(env, tmp_path / "web.log") as web:
        client = FormClient(web.base_url, invite_link(engine, web.base_url))
        router_id = f"router-{uuid.uuid4()}"
        request = urllib.request.Request(web.base_url + "/forms/missing",
                                         headers={"X-Request-ID": router_id})
        with pytest.raises(urllib.error.HTTPError) as answer:
            client.opener.open(request)
        assert answer.value.code == 404 and answer.value.headers["X-Request-ID"] == router_id
        hidden = client.fresh_form()
        assert client.post(hidden)[0] == 303
        assert client.post({**client.fresh_form()}, age_years="300")[0] == 422
        web.stop()
    lines = web.stdout().splitlines()
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert len(records) >= 7
    assert all(r.get("event") and r.get("request_id") for r in records), records
    access = [r for r in records if r["event"] == "access"]
    assert {"method", "path", "status", "duration_ms"} <= set(access[0])
    assert any(r["request_id"] == router_id and r["status"] == 404 for r in access)
    saved = [r for r in records if r["event"] == "submission_saved"]
    assert len(saved) == 1 and set(saved[0]) == {"event", "form", "submission_id", "request_id", "at"}
    assert saved[0]["submission_id"] == hidden["submission_id"]
    post_access = [r for r in access if r["method"] == "POST" and r["status"] == 303
                   and r["path"] == "/forms/intake"]
    assert post_access[0]["request_id"] == saved[0]["request_id"]
    assert "P0042" not in web.stdout(), "field values never reach the log on success"
