"""The Heroku Button and the Procfile: documented keys only, every variable accounted for."""

import json
import re

from tests.processes import PROJECT_ROOT, procfile
from tests.test_docs import README, environment_variables_read

APP_JSON = json.loads((PROJECT_ROOT / "app.json").read_text())
# From the app.json schema on Heroku's Dev Center.
TOP_LEVEL_KEYS = {"name", "description", "keywords", "website", "repository", "logo",
                  "success_url", "scripts", "env", "formation", "image", "addons", "buildpacks",
                  "environments", "stack"}
ENV_KEYS = {"description", "value", "required", "generator"}
# Set by Heroku itself on every dyno (or by the Postgres add-on).
SET_BY_HEROKU = {"DATABASE_URL", "DYNO", "PORT", "WEB_CONCURRENCY"}


def test_app_json_uses_only_documented_keys():
    assert set(APP_JSON) <= TOP_LEVEL_KEYS
    assert 3 <= len(APP_JSON["name"]) <= 30 and len(APP_JSON["description"]) <= 140
    for name, spec in APP_JSON["env"].items():
        assert set(spec) <= ENV_KEYS, name
        assert spec.get("generator") in (None, "secret")
    for process in APP_JSON["formation"].values():
        assert set(process) <= {"quantity", "size"}
    assert all(set(addon) <= {"plan", "as", "options"} for addon in APP_JSON["addons"])
    assert all(set(buildpack) == {"url"} for buildpack in APP_JSON["buildpacks"])


def test_app_json_provisions_what_the_collector_needs():
    assert APP_JSON["addons"] == [{"plan": "heroku-postgresql:essential-0"}]
    assert APP_JSON["env"]["SECRET_KEY"]["generator"] == "secret"
    assert APP_JSON["env"]["ADMIN_PASSWORD"]["required"] is True
    assert APP_JSON["buildpacks"] == [{"url": "heroku/python"}]
    assert set(APP_JSON["formation"]) == set(procfile()) - {"release"}


def test_every_variable_the_code_reads_is_declared_or_has_a_documented_default():
    defaults = dict(re.findall(r"^\| `([A-Z_]+)` \| [^|]+ \| ([^|]+) \|$", README, re.MULTILINE))
    for name in environment_variables_read() - SET_BY_HEROKU:
        declared = name in APP_JSON["env"]
        documented = defaults.get(name, "").strip() not in ("", "required")
        assert declared or documented, name


def test_readme_has_the_button_and_a_manual_deploy():
    assert "[![Deploy to Heroku](https://www.herokucdn.com/deploy/button.svg)]" in README
    for step in ("heroku create", "heroku addons:create heroku-postgresql:essential-0",
                 "heroku config:set SECRET_KEY=", "heroku config:set ADMIN_PASSWORD=",
                 "git push heroku main", "heroku logs --tail", "heroku pg:psql", "Dataclip"):
        assert step in README, step
