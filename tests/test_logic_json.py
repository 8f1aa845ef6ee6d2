"""The JSON program a form page carries for form_logic.js, and how the page embeds it."""

import html
import json
import re
import sys

import pytest

from collector.forms.expressions.tree import Node
from collector.forms.spec import load_form
from collector.web import logic_json
from tests.conftest import make_app
from tests.processes import PROJECT_ROOT

HOSTILE = """
title = "Hostile"
access = "public"

[[fields]]
name = "code"
type = "text"
max_length = 40

[[fields]]
name = "age"
type = "integer"
relevant = "${code} != '</script><script>alert(1)</script>'"
constraint = ". <= 120 and . != 0.5"
constraint_message = "</script><script>alert('x')</script> & <!-- \\u2028 -->"

[[fields]]
name = "label"
type = "text"
calculation = "concat(${code}, ' — ', '<b>')"
"""


def test_strip_characters_are_exactly_what_str_strip_removes():
    chars = logic_json.STRIP_CHARACTERS
    assert all(c.isspace() for c in chars) and len(chars) == len(set(chars))
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    assert (chars + "x" + chars).strip() == "x"
    assert {c for c in everything if (c + "x").strip() == "x"} == set(chars)
    assert "\ufeff" not in chars and "\x1c" in chars and "\x85" in chars   # unlike JavaScript's trim()


def test_the_followup_program_is_in_evaluation_order_without_floats():
    spec = load_form(PROJECT_ROOT / "forms" / "followup.toml")
    program = logic_json.program(spec)
    names = [f["name"] for f in program["fields"]]
    assert names == list(spec.order) and sorted(names) == sorted(f.name for f in spec.fields)
    assert names.index("age_at_visit") > max(names.index("visit_date"), names.index("date_of_birth"))
    assert program["timezone"] == "Europe/London"
    def no_floats(text):
        raise AssertionError(f"a float in the program: {text}")
    json.loads(json.dumps(program), parse_float=no_floats)   # every number travels as text
    bmi = next(f for f in program["fields"] if f["name"] == "bmi")
    assert bmi["rules"] == {"min": "10", "max": "80", "min_length": None, "max_length": None,
                            "pattern": None, "places": 1, "choices": []}
    assert bmi["calculation"]["k"] == "arith" and bmi["calculation"]["op"] == "div"
    cigarettes = next(f for f in program["fields"] if f["name"] == "cigarettes_per_day")
    assert cigarettes["shown_when"] == {"k": "ref", "t": "boolean", "n": "smokes"}
    assert program["messages"]["calculated"] == ("Calculated as {value}: {problem} "
                                                 "Check the answers it is calculated from.")


def test_an_unknown_node_is_refused_loudly():
    class Strange(Node):
        pass
    with pytest.raises(TypeError, match="no browser form"):
        logic_json.encode(Strange())


@pytest.fixture
def hostile_client(database_url, tmp_path):
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "hostile.toml").write_text(HOSTILE)
    return make_app(database_url, FORMS_DIR=str(forms)).test_client()


def test_the_page_embeds_the_program_as_inert_data(hostile_client):
    page = hostile_client.get("/forms/hostile").get_data(as_text=True)
    block = re.search(r'<script type="application/json" id="form-logic">(.*?)</script>', page, re.S)
    assert block and "<script>alert" not in page and "<!--" not in block.group(1)
    program = json.loads(block.group(1))   # the browser reads textContent: no HTML unescaping
    age = next(f for f in program["fields"] if f["name"] == "age")
    assert age["constraint_message"] == "</script><script>alert('x')</script> & <!-- \u2028 -->"
    assert age["shown_when"]["r"]["v"] == "</script><script>alert(1)</script>"
    assert age["constraint"]["r"]["r"] == {"k": "lit", "t": "decimal", "v": "0.5"}
    # Scripts come from this site only; the logic ones only on a page with logic.
    assert re.findall(r'<script src="([^"]+)"', page) == [
        "/static/inline_errors.js", "/static/form_logic.js", "/static/form_page.js", "/static/drafts.js"]


def test_without_logic_the_page_has_no_program_and_no_logic_scripts(client):
    page = client.get("/forms/intake").get_data(as_text=True)
    assert "form-logic" not in page and "form_logic.js" not in page and "data-section" not in page


def test_nothing_is_hidden_by_the_server_and_a_hideable_field_is_not_required_in_html(client):
    page = client.get("/forms/followup").get_data(as_text=True)
    main = page[page.index("<form"):page.index("</form>")]
    assert not re.search(r'<(section|div class="field)[^>]*hidden', main) and "disabled" not in main
    cigarettes = re.search(r'<input id="f-cigarettes_per_day"[^>]*>', main).group(0)
    assert "required" not in cigarettes                       # required only when shown: the script's job
    assert re.search(r'<input id="f-participant_id"[^>]*required', main)
    bmi = re.search(r'<input id="f-bmi"[^>]*>', main).group(0)
    assert "readonly" in bmi and "name=" not in bmi
    assert [html.unescape(t) for t in re.findall(r'<h2 id="s-[a-z_]+-title"[^>]*>([^<]+)</h2>', main)] == [
        "Visit", "Measurements", "Smoking", "New diagnosis"]


def test_the_zone_table_is_zoneinfos_offsets_to_the_second():
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo
    table = logic_json.zone_changes("America/Sao_Paulo")
    zone, changes = ZoneInfo("America/Sao_Paulo"), table["changes"]
    assert table["initial"] == int(datetime.fromtimestamp(table["from"], zone).utcoffset().total_seconds())
    for second, offset in zip(changes[::2], changes[1::2]):
        before = datetime.fromtimestamp(second - 1, timezone.utc).astimezone(zone).utcoffset()
        after = datetime.fromtimestamp(second, timezone.utc).astimezone(zone).utcoffset()
        assert before != after and int(after.total_seconds()) == offset
    assert datetime.fromtimestamp(changes[-2], timezone.utc).year == 2019   # no DST since
    assert logic_json.zone_changes("UTC")["changes"] == []
