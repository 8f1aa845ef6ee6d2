"""Check a form's logic: parse and type every expression, and refuse cycles.

Runs after every field is read, because an expression may name any field.
Each problem is one SpecError naming the file, the field (or section), the
key, the expression and the column in it.
"""

from collector.forms.expressions.grammar import ExpressionError, parse
from collector.forms.expressions.tree import Expression, Logic, references
from collector.forms.expressions.typecheck import WORDS, FieldFacts, check

LOGIC_KEYS = ("relevant", "constraint", "constraint_message", "calculation")
# The expression type each field type can hold as a calculation.
CALCULATION_TYPES = {"integer": ("integer",), "decimal": ("integer", "decimal"),
                     "text": ("text",), "long_text": ("text",), "date": ("date",),
                     "datetime": ("datetime",), "boolean": ("boolean",)}


def check_logic(path, fields, sections, error):
    """Fill in each field's and section's expressions; return the evaluation order.

    `fields` and `sections` are the checked dicts; `error(name, problem)`
    makes the SpecError for a field or section.
    """
    facts = {f["name"]: FieldFacts.of(f) for f in fields}
    by_section = {}
    for section in sections:
        section["relevant"] = _expression(section, "relevant", facts, None, "boolean",
                                          lambda p: error(f"section {section['name']}", p))
        by_section[section["name"]] = section["relevant"]
    for field in fields:
        fail = lambda problem, name=field["name"]: error(name, problem)  # noqa: E731
        _check_keys(field, fail)
        field["relevant"] = _expression(field, "relevant", facts, None, "boolean", fail)
        field["constraint"] = _expression(field, "constraint", facts, field["name"], "boolean", fail)
        field["calculation"] = _expression(field, "calculation", facts, None,
                                           CALCULATION_TYPES.get(field["type"]), fail)
        if field["constraint"] and not field.get("constraint_message"):
            field["constraint_message"] = (f"Check this answer: it must satisfy "
                                           f"{field['constraint'].source}.")
        field["shown"] = _combine(by_section.get(field.get("section")), field["relevant"])
    return _evaluation_order(fields, error)


def _check_keys(field, fail):
    for key in LOGIC_KEYS:
        if key in field and not isinstance(field[key], str):
            raise fail(f"{key} must be {'text' if key == 'constraint_message' else 'an expression'} "
                       "in a string")
    if field.get("constraint_message") and not field.get("constraint"):
        raise fail("constraint_message needs a constraint")
    if field.get("calculation") is not None:
        if field["type"] not in CALCULATION_TYPES:
            raise fail(f"a {field['type']} field cannot be calculated (types that can: "
                       f"{', '.join(CALCULATION_TYPES)})")
        if field["required"]:
            raise fail("a calculated field cannot be required: make the fields it is "
                       "calculated from required instead")


def _expression(owner, key, facts, this, wanted, fail):
    """Return the checked Expression for owner[key], or None when it is not set."""
    source = owner.get(key)
    if source is None:
        return None
    try:
        tree = check(parse(source), facts, this)
    except ExpressionError as problem:
        raise fail(f"{key} {source.strip()[:200]!r}: {problem}") from None
    if tree.type not in wanted:
        if wanted == "boolean":
            need = "a yes/no expression, like ${smoker} or ${age} >= 18"
        else:
            need = " or ".join(WORDS[kind] for kind in wanted)
        raise fail(f"{key} {source.strip()[:200]!r} gives {WORDS[tree.type]}; it must give {need}")
    return Expression(source.strip(), tree)


def _combine(section_relevant, field_relevant):
    """Return when a field is shown: its section's relevant and its own, both true."""
    trees = [e.tree for e in (section_relevant, field_relevant) if e is not None]
    if len(trees) == 2:
        return Logic("and", trees[0], trees[1], type="boolean")
    return trees[0] if trees else None


def _evaluation_order(fields, error):
    """Return field names so that whatever a relevant or calculation reads comes first.

    Depth-first without recursion, so a chain of any length is fine.
    """
    needs = {f["name"]: [name for tree in (f["shown"], f["calculation"] and f["calculation"].tree)
                         if tree is not None for name in references(tree)] for f in fields}
    order, state = [], {}
    for start in needs:
        if state.get(start) == "done":
            continue
        trail, pending = [start], [iter(needs[start])]
        state[start] = "visiting"
        while trail:
            needed = next(pending[-1], None)
            if needed is None:
                state[trail[-1]] = "done"
                order.append(trail.pop())
                pending.pop()
            elif state.get(needed) == "visiting":
                cycle = trail[trail.index(needed):] + [needed]
                raise error(cycle[0], "its relevant or calculation (or its section's relevant) "
                                      "depends on itself: " + " → ".join(f"${{{n}}}" for n in cycle))
            elif state.get(needed) != "done":
                state[needed] = "visiting"
                trail.append(needed)
                pending.append(iter(needs[needed]))
    return tuple(order)
