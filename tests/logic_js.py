"""Run static/form_logic.js in a real Chromium: build programs from fields and trees, evaluate many cases."""

import dataclasses
from zoneinfo import ZoneInfo

from collector.forms.expressions import tree as t
from collector.forms.expressions.tree import Expression
from collector.forms.spec import Choice, Field
from collector.web import logic_json
from tests.processes import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "static" / "form_logic.js"


def field(name, type, **rules):
    """Return a Field of `type`; `choices` may be a list of codes."""
    if "choices" in rules:
        rules["choices"] = tuple(Choice(code, code.title()) for code in rules["choices"])
    return Field(name=name, type=type, label=name.replace("_", " ").capitalize(), **rules)


def logical(base, **logic):
    """Return `base` with relevance, constraint and calculation trees (wrapped as Expressions)."""
    logic = {key: Expression(key, value) if isinstance(value, t.Node) else value for key, value in logic.items()}
    if logic.get("constraint") and not logic.get("constraint_message"):
        logic["constraint_message"] = f"Check this answer: it must satisfy {logic['constraint'].source}."
    return dataclasses.replace(base, **logic)


def build(entries, zone="UTC", sections=()):
    """Return a program from [(field, shown_when tree or None, logic dict)] in evaluation order."""
    timezone = ZoneInfo(zone)
    fields = [logic_json.field_entry(logical(f, **logic), timezone, shown_when=shown)
              for f, shown, logic in entries]
    return logic_json.assemble(fields, timezone, sections)


def calc(type, node, inputs, zone="UTC", **rules):
    """Return a program whose field `out` of `type` calculates `node` from `inputs` (Fields)."""
    return build([(f, None, {}) for f in inputs] + [(field("out", type, **rules), None, {"calculation": node})],
                 zone)


class Logic:
    """A page with form_logic.js loaded; evaluate(program, [raw values, …]) in one round trip."""

    def __init__(self, page):
        self.page = page

    def evaluate(self, program, cases, today=None):
        options = {"today": today} if today else None
        return self.page.evaluate(
            "([p, cases, o]) => cases.map(c => window.collectorLogic.evaluate(p, c, o))",
            [program, cases, options])

    def outs(self, program, cases, today=None):
        return [r["values"]["out"] for r in self.evaluate(program, cases, today)]


def open_logic(browser):
    """Return (context, Logic) on a blank page with the interpreter."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<!doctype html><title>logic</title>")
    page.add_script_tag(path=str(SCRIPT))
    assert page.evaluate("typeof window.collectorLogic.evaluate") == "function"
    return context, Logic(page)


# Tree builders with the types the type checker would set.
def ref(name, type):
    return t.Ref(name, type=type)


def lit(value, type):
    return t.Literal(value, type=type)


def arith(op, left, right, type):
    return t.Arith(op, left, right, type=type)


def compare(op, left, right):
    return t.Compare(op, left, right, type="boolean")


def logic(op, left, right):
    return t.Logic(op, left, right, type="boolean")


def call(name, type, *args):
    return t.Call(name, tuple(args), type=type)


def empty(node, negated=False):
    return t.IsEmpty(node, negated, type="boolean")
