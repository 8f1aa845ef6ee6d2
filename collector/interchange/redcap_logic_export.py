"""Write our checked expressions in REDCap's syntax, or say why REDCap cannot hold them.

Walks the typed tree (collector/forms/expressions/tree.py). The patterns the
importer writes for REDCap's functions (redcap_patterns.py) are recognised
first, so an imported rule goes back out as the function it came from.
"""

from datetime import date

from collector.forms.expressions.tree import Arith, Call, Compare, IsEmpty, Literal, Logic, Ref
from collector.interchange import redcap_patterns as patterns
from collector.interchange.redcap_logic import number_text

OR, AND, COMPARISON, SUM, PRODUCT, UNARY, ATOM = range(1, 8)
FLIPPED = {"=": "!=", "!=": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
REDCAP_OPERATORS = {"!=": "<>"}


class CannotExport(ValueError):
    """Part of an expression has no REDCap equivalent."""


def to_redcap(tree, fields):
    """Return REDCap text for a checked tree; `fields` maps names to spec Fields."""
    return _Writer(fields).visit(tree)[0]


def _quote(text):
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    raise CannotExport("a string holding both ' and \" cannot be written in REDCap logic")


def _bracket(written, prec):
    text, own = written
    return text if own >= prec else f"({text})"


class _Writer:
    def __init__(self, fields):
        self.fields = fields

    def visit(self, node):
        """Return (text, precedence)."""
        for special in (self._datediff, self._rounding, self._abs, self._sum):
            written = special(node)
            if written is not None:
                return written
        return getattr(self, "_" + type(node).__name__.lower())(node)

    # Leaves.

    def _literal(self, node):
        value = node.value
        if isinstance(value, bool):
            raise CannotExport(f"{'true()' if value else 'false()'} on its own has no REDCap "
                               "equivalent (compare a yes/no field with '1' or '0')")
        if isinstance(value, date):
            return _quote(value.isoformat()), ATOM
        if isinstance(value, str):
            return _quote(value), ATOM
        return number_text(value), ATOM if value >= 0 else UNARY

    def _ref(self, node):
        if node.type == "boolean":
            return f"[{node.name}] = '1'", COMPARISON
        if node.type == "multi":
            raise CannotExport(f"${{{node.name}}} is a multi_choice field; REDCap reads its boxes "
                               "one by one")
        return f"[{node.name}]", ATOM

    def _isempty(self, node):
        operand = node.operand
        op = "<>" if node.negated else "="
        if isinstance(operand, Ref) and operand.type == "multi":
            codes = self.fields[operand.name].choice_values
            flag, join = ("1", " or ") if node.negated else ("0", " and ")
            text = join.join(f"[{operand.name}({code})] = '{flag}'" for code in codes)
            return text, (OR if node.negated else AND) if len(codes) > 1 else COMPARISON
        return f"{_bracket(self._value(operand), SUM)} {op} ''", COMPARISON

    # Operators.

    def _negate(self, node):
        return f"-{_bracket(self.visit(node.operand), UNARY)}", UNARY

    def _arith(self, node):
        if node.op == "mod":
            raise CannotExport("mod has no REDCap equivalent")
        if patterns.is_date_difference(node):
            return self._datediff_call(node, "d", signed=True), ATOM
        op = {"div": "/"}.get(node.op, node.op)
        prec = SUM if op in ("+", "-") else PRODUCT
        left, right = self._value(node.left), self._value(node.right)
        return f"{_bracket(left, prec)} {op} {_bracket(right, prec + 1)}", prec

    def _compare(self, node):
        left, right = node.left, node.right
        for one, other in ((left, right), (right, left)):
            if isinstance(other, Literal) and isinstance(other.value, bool):
                if not (isinstance(one, Ref) and one.type == "boolean"):
                    raise CannotExport("true()/false() can be compared only with a yes/no field")
                op = REDCAP_OPERATORS.get(node.op, node.op)
                return f"[{one.name}] {op} '{1 if other.value else 0}'", COMPARISON
        op = REDCAP_OPERATORS.get(node.op, node.op)
        return (f"{_bracket(self._value(left), SUM)} {op} {_bracket(self._value(right), SUM)}",
                COMPARISON)

    def _logic(self, node):
        prec = OR if node.op == "or" else AND
        left, right = self.visit(node.left), self.visit(node.right)
        # An `and` inside an `or` is bracketed although it need not be: easier to read.
        sides = [f"({side[0]})" if node.op == "or" and side[1] == AND else _bracket(side, floor)
                 for side, floor in ((left, prec), (right, prec + 1))]
        return f"{sides[0]} {node.op} {sides[1]}", prec

    def _value(self, node):
        """A boolean field read as a value is its stored 1/0 in REDCap."""
        if isinstance(node, Ref) and node.type == "boolean":
            return f"[{node.name}]", ATOM
        return self.visit(node)

    # Functions.

    def _call(self, node):
        handler = getattr(self, "_fn_" + node.name.replace("-", "_"), None)
        if handler is None:
            raise CannotExport(f"{node.name}() has no REDCap equivalent")
        return handler(node)

    def _fn_not(self, node):
        inner = node.args[0]
        if isinstance(inner, Call) and inner.name == "selected" and inner.args[0].type == "multi":
            return f"[{inner.args[0].name}({inner.args[1].value})] = '0'", COMPARISON
        return self.visit(_negated(inner))

    def _fn_selected(self, node):
        target, code = node.args
        if target.type == "multi":
            return f"[{target.name}({code.value})] = '1'", COMPARISON
        return f"[{target.name}] = {_quote(code.value)}", COMPARISON

    def _fn_count_selected(self, node):
        target = node.args[0]
        codes = self.fields[target.name].choice_values
        return "(" + " + ".join(f"[{target.name}({code})]" for code in codes) + ")", ATOM

    def _fn_if(self, node):
        condition, then, otherwise = node.args
        return (f"if({self.visit(condition)[0]}, {self._value(then)[0]}, "
                f"{self._value(otherwise)[0]})", ATOM)

    def _fn_number(self, node):
        # REDCap reads a radio's code or a text field as a number wherever it needs one.
        return self._value(node.args[0])

    def _fn_round(self, node):
        return f"round({self.visit(node.args[0])[0]}, {node.args[1].value})", ATOM

    def _fn_int(self, node):
        x = self.visit(node.args[0])[0]
        if patterns.is_never_negative(node.args[0]):
            return f"rounddown({x}, 0)", ATOM
        return f"if({x} < 0, roundup({x}, 0), rounddown({x}, 0))", ATOM

    # The importer's patterns, written back as the REDCap functions they came from.

    def _abs(self, node):
        x = patterns.match_abs(node)
        if x is None:
            return None
        if patterns.is_date_difference(x):
            return self._datediff_call(x, "d", signed=False), ATOM
        return f"abs({self.visit(x)[0]})", ATOM

    def _rounding(self, node):
        for match, name in ((patterns.match_floor, "rounddown"), (patterns.match_ceiling, "roundup")):
            x = match(node)
            if x is not None:
                return f"{name}({self.visit(x)[0]}, 0)", ATOM
        scaled = patterns.match_scaled(node)
        if scaled is None:
            return None
        whole, places = scaled
        for match, name in ((patterns.match_floor, "rounddown"), (patterns.match_ceiling, "roundup")):
            inner = match(whole)
            x = inner is not None and patterns.unscale(inner, places)
            if x:
                return f"{name}({self.visit(x)[0]}, {places})", ATOM
        if isinstance(whole, Call) and whole.name == "int" and patterns.is_never_negative(whole.args[0]):
            x = patterns.unscale(whole.args[0], places)
            if x is not None:
                return f"rounddown({self.visit(x)[0]}, {places})", ATOM
        return None

    def _sum(self, node):
        terms = patterns.match_sum(node)
        if terms is None:
            return None
        return "sum(" + ", ".join(self._value(term)[0] for term in terms) + ")", ATOM

    def _datediff(self, node):
        """(b - a) div 365.2425 and the like: datediff(a, b, unit[, signed])."""
        if not isinstance(node, Arith) or not isinstance(node.right, Literal):
            return None
        units = {("div", v): u for u, v in patterns.DIVIDE_DAYS.items()}
        units.update({("*", v): u for u, v in patterns.MULTIPLY_DAYS.items()})
        unit = units.get((node.op, node.right.value))
        if unit is None or isinstance(node.right.value, bool):
            return None
        if patterns.is_date_difference(node.left):
            return self._datediff_call(node.left, unit, signed=True), ATOM
        inner = patterns.match_abs(node.left)
        if inner is not None and patterns.is_date_difference(inner):
            return self._datediff_call(inner, unit, signed=False), ATOM
        return None

    def _datediff_call(self, difference, unit, signed):
        later, earlier = self._date(difference.left), self._date(difference.right)
        tail = ", 'ymd', true" if signed else ""
        return f"datediff({earlier}, {later}, '{unit}'{tail})"

    def _date(self, node):
        if isinstance(node, Ref):
            return f"[{node.name}]"
        if isinstance(node, Call) and node.name == "today":
            return "'today'"
        if isinstance(node, Literal):
            return _quote(node.value.isoformat())
        raise CannotExport("datediff() in REDCap takes date fields, 'today' or a date")


def _negated(node):
    """Return a tree meaning not(node) that REDCap can write (it has no not())."""
    if isinstance(node, Compare):
        return Compare(FLIPPED[node.op], node.left, node.right, type="boolean")
    if isinstance(node, Logic):
        op = "or" if node.op == "and" else "and"
        return Logic(op, Call("not", (node.left,), type="boolean"),
                     Call("not", (node.right,), type="boolean"), type="boolean")
    if isinstance(node, IsEmpty):
        return IsEmpty(node.operand, negated=not node.negated, type="boolean")
    if isinstance(node, Ref) and node.type == "boolean":
        return Compare("=", node, Literal(False, type="boolean"), type="boolean")
    if isinstance(node, Call) and node.name == "not":
        return node.args[0]
    if isinstance(node, Call) and node.name == "selected" and node.args[0].type != "multi":
        return Compare("!=", node.args[0], node.args[1], type="boolean")
    raise CannotExport("not() of this has no REDCap equivalent")
