"""Make imported logic treat empty answers as ODK and REDCap do; undo it on export.

Here an empty answer is unknown (SQL's NULL: docs/FORMS.md, "Empty answers");
in ODK and REDCap it is '' and logic is two-valued: a comparison with it is
false, except `!=` / `<>`, which is true ('' != 'piped'); two empty fields are
equal ('' = ''). So `${water} != 'piped'` shows a question there while water is
unanswered, and would hide it here. `faithful()` rewrites a checked tree with
emptiness tests (`${x} = ''`, never unknown) exactly where the outcome can
differ: a guard goes round a comparison only when one of its fields can be
empty at submit time and the place it stands in needs it.

Where a rule stands decides what must match the source:
- TRUE: when it is true (a relevant, an if() condition: unknown acts as false);
- FALSE: when it is false (a constraint: unknown passes); not() swaps the two;
- EXACT: both (a yes/no value: a calculation, a comparison of yes/no values).

The guards (C is the comparison, each Ex a test `${x} = ''`, Nx `${x} != ''`):
- `!=`:               `Ex or Ey or C`    (when TRUE or EXACT must match)
- `= < <= > >=`:      `Nx and Ny and C`  (when FALSE or EXACT must match)
- `${a} = ${b}`, both fields that can be empty (both empty: equal):
                      `(Ea and Eb) or (Na and Nb and C)`
- `${a} != ${b}`, likewise: `(Na or Nb) and (Ea or Eb or C)`
- a yes/no field read as a condition: `Nb and ${b}` (when FALSE or EXACT).
`plain()` recognises exactly these shapes and gives back C, so the exporters
write the source syntax again; `to_source()` prints a tree in our language.
"""

from dataclasses import replace
from datetime import date
from decimal import Decimal

from collector.forms.expressions.grammar import ExpressionError, parse
from collector.forms.expressions.tree import (Arith, Call, Compare, IsEmpty, Literal, Logic,
                                               Negate, Ref, walk)
from collector.forms.expressions.typecheck import FieldFacts, check

TRUE, FALSE, EXACT, VALUE = "true", "false", "exact", "value"
SWAPPED = {TRUE: FALSE, FALSE: TRUE, EXACT: EXACT}
# The mode each logic key stands in.
KEY_MODES = {"relevant": TRUE, "constraint": FALSE, "calculation": VALUE}
ORDERING = ("=", "<", "<=", ">", ">=")
# Calls whose result is empty when (and only when) one of their arguments is.
PASS_EMPTY = ("int", "round", "years-between")
NEVER_EMPTY = ("count-selected", "string-length", "today", "selected")
OR_, AND_, COMPARISON, SUM, PRODUCT, UNARY, ATOM = range(1, 8)


# --- which fields can be empty when a form is submitted ------------------------------

def emptiable_in_draft(draft):
    """Return the names of the draft's fields that can be empty at submit time.

    A field can be empty when it is optional, can be hidden (its own or its
    section's relevant), or is calculated from something that can be empty.
    """
    hideable = {s["name"] for s in draft.sections if s.get("relevant")}
    facts = facts_of(draft)
    rules = {}
    for field in draft.fields:
        if field.get("calculation"):
            rules[field["name"]] = _checked(field["calculation"], facts)
    fixed = {f["name"] for f in draft.fields
             if not f.get("required") and not f.get("calculation") or f.get("relevant")
             or f.get("section") in hideable}
    return _close(fixed, rules)


def emptiable_in_spec(spec):
    """Return the names of a loaded form's fields that can be empty at submit time."""
    fixed = {f.name for f in spec.fields
             if not f.required and f.calculation is None or f.shown is not None}
    rules = {f.name: f.calculation.tree for f in spec.fields if f.calculation is not None}
    return _close(fixed, rules)


def _close(fixed, rules):
    """Add each calculated field whose calculation can be empty, until nothing changes."""
    empty = set(fixed)
    changed = True
    while changed:
        changed = False
        for name, tree in rules.items():
            if name not in empty and (tree is None or _Rewriter(empty).can_be_empty(tree)):
                empty.add(name)
                changed = True
    return frozenset(empty)


def facts_of(draft):
    """Return the type checker's FieldFacts of every typed field of a draft."""
    return {f["name"]: FieldFacts.of(f) for f in draft.fields if f.get("type")}


def _checked(text, facts, this=None):
    try:
        return check(parse(text), facts, this)
    except ExpressionError:
        return None   # settle() reports it; nothing to rewrite


# --- importing: rewrite a draft's logic; exporting: write the source's shape back ---------

def make_faithful(draft, source, columns, constraints=True):
    """Rewrite every relevant, constraint and calculation of `draft` in place (see the top).

    `source` names the format in messages ("ODK", "REDCap"); `columns` maps a
    logic key to the source column reported on the row. With `constraints`
    false, constraints are kept as they are and each one that reads a field
    that can be empty is reported as a difference instead.
    """
    empty, facts = emptiable_in_draft(draft), facts_of(draft)
    tables = [(s, draft.origins.get(s["name"])) for s in draft.sections]
    tables += [(f, draft.origins.get(f["name"])) for f in draft.fields]
    for table, entry in tables:
        for key, mode in KEY_MODES.items():
            this = table["name"] if key == "constraint" else None
            tree = _checked(table[key], facts, this) if table.get(key) else None
            if tree is None:
                continue
            allowed = empty - {this}
            if key == "constraint" and not constraints:
                _report_unguarded(tree, allowed, this, entry, columns[key], source)
                continue
            rewritten = faithful(tree, allowed, mode)
            if rewritten != tree:
                table[key] = to_source(rewritten, this)
            if source == "ODK":
                _report_division(tree, this, entry, columns[key])


def _report_unguarded(tree, empty, this, entry, column, source):
    names = [n.name for n in walk(tree) if isinstance(n, Ref) and n.name in empty]
    if names and entry is not None:
        entry.problem(column, f"kept as it is: while {_names(names, this)} is empty, the "
                              f"collector does not check this rule (it passes), whatever {source} "
                              "does with a blank there")


def _report_division(tree, this, entry, column):
    compared = [n for c in walk(tree) if isinstance(c, Compare) for n in walk(c)]
    for node in dict.fromkeys(compared):
        if isinstance(node, Arith) and _divides_by_field(node) and entry is not None:
            entry.problem(column, f"{to_source(node, this)!r}: dividing by 0 gives an empty value "
                                  "here, Infinity or NaN in ODK, so a rule that compares it can "
                                  "differ; not rewritten")


def _names(names, this=None):
    shown = ["." if name == this else f"${{{name}}}" for name in dict.fromkeys(names)]
    return " or ".join(shown)


def source_shape(expression, empty, key, this=None):
    """Return (text, difference) for exporting an Expression to ODK or REDCap.

    `text` is our text with every guard make_faithful() writes taken out (the
    source as it was; the unchanged text when there was none); `difference`
    is None when the source format reads `text` exactly as the collector reads
    the rule, else a sentence saying when they differ.
    """
    bare, difference = source_tree(expression, empty, key, this)
    text = expression.source if bare == expression.tree else to_source(bare, this)
    return text, difference


def source_tree(expression, empty, key, this=None):
    """Return (tree, difference): source_shape() with the tree instead of the text."""
    allowed = empty - {this}
    bare = plain(expression.tree, allowed)
    matching = faithful(bare, allowed, KEY_MODES[key])
    if matching == expression.tree:
        return bare, None
    added = [t for t in walk(matching) if isinstance(t, IsEmpty) and isinstance(t.operand, Ref)]
    names = [t.operand.name for t in added] or \
        [n.name for n in walk(bare) if isinstance(n, Ref) and n.name in allowed]
    return bare, (f"empty answers are read differently there: while {_names(names, this)} is "
                  "empty, the outcome can differ from the collector's (here a comparison with an "
                  "empty answer is unknown, there it is false, or true for <>/!=); the collector "
                  f"rule that matches their reading is {to_source(matching, this)!r}")


# --- the rewrite and its inverse ------------------------------------------------------

def faithful(tree, empty, mode):
    """Return `tree` rewritten so it gives the source's outcome in `mode` (see the top)."""
    return _Rewriter(empty).rewrite(tree, mode)


def plain(tree, empty):
    """Return `tree` with every guard faithful() writes replaced by its comparison."""
    return _Rewriter(empty).plain(tree)


class _Rewriter:
    def __init__(self, empty):
        self.empty = empty

    def rewrite(self, node, mode):
        if isinstance(node, Ref):   # a yes/no field read as a condition, not as a value
            return self._guard(node, mode) if node.type == "boolean" and mode != VALUE else node
        if mode == VALUE and node.type == "boolean":
            mode = EXACT
        if isinstance(node, Compare):
            return self._guard(self._children(node, VALUE), mode)
        if isinstance(node, Call) and node.name == "if":
            condition, then, otherwise = node.args
            return replace(node, args=(self.rewrite(condition, TRUE), self.rewrite(then, mode),
                                       self.rewrite(otherwise, mode)))
        if isinstance(node, Call) and node.name == "not":
            return replace(node, args=(self.rewrite(node.args[0], SWAPPED[mode]),))
        if isinstance(node, Logic):
            return self._children(node, mode)
        return self._children(node, VALUE)

    def _children(self, node, mode):
        if isinstance(node, (Arith, Compare, Logic)):
            return replace(node, left=self.rewrite(node.left, mode),
                           right=self.rewrite(node.right, mode))
        if isinstance(node, (Negate, IsEmpty)):
            return replace(node, operand=self.rewrite(node.operand, mode))
        if isinstance(node, Call):
            return replace(node, args=tuple(self.rewrite(arg, mode) for arg in node.args))
        return node

    def _guard(self, comparison, mode):
        shape = self.shape(comparison)
        if shape is None:
            return comparison
        kind, guarded = shape
        needed = {"both": (TRUE, FALSE, EXACT), "or": (TRUE, EXACT),
                  "and": (FALSE, EXACT)}[kind]
        return guarded if mode in needed else comparison

    def shape(self, comparison):
        """Return (kind, guarded tree) for a comparison that can meet an empty value, else None."""
        if isinstance(comparison, Ref):
            tests = self.tests(comparison)
            return ("and", _all("and", [_not_empty(t) for t in tests] + [comparison])) \
                if tests else None
        left, right, op = comparison.left, comparison.right, comparison.op
        tests = _unique(self.tests(left) + self.tests(right))
        if not tests:
            return None
        if isinstance(left, Ref) and isinstance(right, Ref) and len(self.tests(left)) \
                and len(self.tests(right)) and op in ("=", "!="):
            ea, eb = IsEmpty(left, type="boolean"), IsEmpty(right, type="boolean")
            na, nb = _not_empty(ea), _not_empty(eb)
            if op == "=":
                return "both", _all("or", [_all("and", [ea, eb]), _all("and", [na, nb, comparison])])
            return "both", _all("and", [_all("or", [na, nb]), _all("or", [ea, eb, comparison])])
        if op == "!=":
            return "or", _all("or", tests + [comparison])
        return "and", _all("and", [_not_empty(t) for t in tests] + [comparison])

    def tests(self, node):
        """Return the tests `${x} = ''` that together say whether `node`'s value is empty."""
        if isinstance(node, Ref):
            return [IsEmpty(node, type="boolean")] if node.name in self.empty else []
        if isinstance(node, (Literal, IsEmpty)) or node.type == "boolean":
            return []
        if isinstance(node, Negate):
            return self.tests(node.operand)
        if isinstance(node, Arith) and not _divides_by_field(node):
            return _unique(self.tests(node.left) + self.tests(node.right))
        if isinstance(node, Call) and node.name in NEVER_EMPTY:
            return []
        if isinstance(node, Call) and node.name in PASS_EMPTY:
            return _unique([t for arg in node.args for t in self.tests(arg)])
        return [IsEmpty(node, type="boolean")] if self.can_be_empty(node) else []

    def can_be_empty(self, node):
        """Return whether `node`'s value (ours) can be empty (unknown, for a yes/no)."""
        if isinstance(node, Ref):
            return node.name in self.empty
        if isinstance(node, (Literal, IsEmpty)):
            return False
        if isinstance(node, Compare):
            return bool(self.tests(node.left) or self.tests(node.right))
        if isinstance(node, Arith):
            return _divides_by_field(node) or any(map(self.can_be_empty, (node.left, node.right)))
        if isinstance(node, (Logic, Negate)):
            return any(self.can_be_empty(child) for child in _kids(node))
        if node.name in NEVER_EMPTY:
            return False
        if node.name in ("coalesce", "concat"):
            return all(map(self.can_be_empty, node.args))
        if node.name == "if":
            return any(map(self.can_be_empty, node.args[1:]))
        return any(map(self.can_be_empty, node.args))   # not, int, round, years-between

    def plain(self, node):
        comparison = self._guarded(node)
        if comparison is not None:
            return self._children_plain(comparison)
        return self._children_plain(node)

    def _children_plain(self, node):
        if isinstance(node, (Arith, Compare, Logic)):
            return replace(node, left=self.plain(node.left), right=self.plain(node.right))
        if isinstance(node, (Negate, IsEmpty)):
            return replace(node, operand=self.plain(node.operand))
        if isinstance(node, Call):
            return replace(node, args=tuple(self.plain(arg) for arg in node.args))
        return node

    def _guarded(self, node):
        """Return the comparison `node` guards, if `node` is exactly one of the guard shapes."""
        if not isinstance(node, Logic):
            return None
        candidates = [_chain(node, node.op)[-1]]
        if isinstance(node.right, Logic):
            candidates.append(node.right.right)
        for candidate in candidates:
            if isinstance(candidate, Compare) or (isinstance(candidate, Ref)
                                                  and candidate.type == "boolean"):
                shape = self.shape(candidate)
                if shape is not None and shape[1] == node:
                    return candidate
        return None


def _divides_by_field(node):
    """Division or mod by anything but a non-zero number: empty here at 0, Infinity/NaN in ODK."""
    return node.op in ("div", "mod") and not (isinstance(node.right, Literal) and node.right.value)


def _kids(node):
    return (node.operand,) if isinstance(node, Negate) else (node.left, node.right)


def _not_empty(test):
    return replace(test, negated=True)


def _unique(nodes):
    kept = []
    for node in nodes:
        if node not in kept:
            kept.append(node)
    return kept


def _all(op, nodes):
    """Join nodes with `op`, left to right, as our parser reads `a or b or c`."""
    joined = nodes[0]
    for node in nodes[1:]:
        joined = Logic(op, joined, node, type="boolean")
    return joined


def _chain(node, op):
    """Return the operands of a left-leaning chain `a op b op c`."""
    if isinstance(node, Logic) and node.op == op:
        return _chain(node.left, op) + [node.right]
    return [node]


# --- printing a tree in our language ----------------------------------------------------

def to_source(node, this=None):
    """Return our expression text for a checked tree (`this` is written `.`)."""
    return _print(node, this)[0]


def _print(node, this):
    """Return (text, precedence)."""
    if isinstance(node, Literal):
        return _literal(node.value)
    if isinstance(node, Ref):
        return ("." if node.name == this else f"${{{node.name}}}"), ATOM
    if isinstance(node, IsEmpty):
        return f"{_operand(node.operand, SUM, this)} {'!=' if node.negated else '='} ''", COMPARISON
    if isinstance(node, Negate):
        return f"-{_operand(node.operand, UNARY, this)}", UNARY
    if isinstance(node, Arith):
        prec = SUM if node.op in ("+", "-") else PRODUCT
        return (f"{_operand(node.left, prec, this)} {node.op} "
                f"{_operand(node.right, prec + 1, this)}"), prec
    if isinstance(node, Compare):
        return (f"{_operand(node.left, SUM, this)} {node.op} "
                f"{_operand(node.right, SUM, this)}"), COMPARISON
    if isinstance(node, Logic):
        left = _print(node.left, this)[0]
        if isinstance(node.left, Logic) and node.left.op != node.op:
            left = f"({left})"   # an `and` inside an `or` is bracketed too: easier to read
        right = _print(node.right, this)[0]
        if isinstance(node.right, Logic):
            right = f"({right})"
        return f"{left} {node.op} {right}", OR_ if node.op == "or" else AND_
    return f"{node.name}({', '.join(_print(arg, this)[0] for arg in node.args)})", ATOM


def _operand(node, floor, this):
    text, prec = _print(node, this)
    return text if prec >= floor else f"({text})"


def _literal(value):
    if isinstance(value, bool):
        return ("true()" if value else "false()"), ATOM
    if isinstance(value, date):
        return f"date('{value.isoformat()}')", ATOM
    if isinstance(value, str):
        return (f'"{value}"' if "'" in value else f"'{value}'"), ATOM
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    return text, UNARY if value < 0 else ATOM
