"""Evaluate a checked expression in Python: the server's authority, and the reference
that the SQL (collector/db/logic_sql.py) and browser (static/form_logic.js) compilers match.

Empty is None. Numbers are int or Decimal, exact: a local decimal context
with room for any sum or product of form values, so nothing is rounded that
PostgreSQL's numeric would keep. Logic is three-valued (None = unknown).
"""

import decimal
import re
from datetime import datetime, timezone
from decimal import Decimal

from collector.forms.expressions.tree import (DIV_PLACES, NUMBER_TEXT, NUMBER_TEXT_MAX,
                                              NUMBER_TEXT_TRIM, Arith, Call, Compare, IsEmpty,
                                              Literal, Logic, Negate, Ref)

# No rounding and no exponent traps for anything a form can compute.
EXACT = decimal.Context(prec=100_000, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN,
                        rounding=decimal.ROUND_DOWN, traps=[decimal.InvalidOperation])
DIV_SCALE = 10 ** DIV_PLACES
_NUMBER_TEXT = re.compile(NUMBER_TEXT)


def evaluate(node, values, timezone, today=None):
    """Return the value of `node` given field `values` (None = empty).

    `today` is the date today() returns; by default today in `timezone`.
    """
    with decimal.localcontext(EXACT):
        return _Evaluator(values, timezone, today).visit(node)


class _Evaluator:
    def __init__(self, values, timezone, today):
        self.values, self.timezone, self.fixed_today = values, timezone, today

    def visit(self, node):
        return _VISITORS[type(node)](self, node)

    def literal(self, node):
        return node.value

    def ref(self, node):
        return self.values.get(node.name)

    def is_empty(self, node):
        value = self.visit(node.operand)
        empty = value is None or value == [] or value == ""
        return empty != node.negated

    def negate(self, node):
        value = self.visit(node.operand)
        return None if value is None else -value

    def arith(self, node):
        left, right = self.visit(node.left), self.visit(node.right)
        if left is None or right is None:
            return None
        if node.op == "-" and node.left.type == "date":
            return (left - right).days
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        if right == 0:
            return None
        if node.op == "div":
            return truncated_quotient(left, right)
        return remainder(left, right)

    def compare(self, node):
        left, right = self.visit(node.left), self.visit(node.right)
        if left is None or right is None:
            return None
        if isinstance(left, datetime):
            # Python compares two times in one zone by wall clock; the database by instant.
            left, right = left.astimezone(timezone.utc), right.astimezone(timezone.utc)
        return _COMPARE[node.op](left, right)

    def logic(self, node):
        left = self.visit(node.left)
        if node.op == "and" and left is False or node.op == "or" and left is True:
            return left
        right = self.visit(node.right)
        if node.op == "and":
            return False if right is False else (None if None in (left, right) else True)
        return True if right is True else (None if None in (left, right) else False)

    def call(self, node):
        return _FUNCTIONS[node.name](self, node)

    def today(self):
        return self.fixed_today or datetime.now(self.timezone).date()


def truncated_quotient(left, right):
    """Return left / right cut toward zero to DIV_PLACES decimal places."""
    top, bottom = Decimal(left).as_integer_ratio(), Decimal(right).as_integer_ratio()
    numerator, denominator = top[0] * bottom[1] * DIV_SCALE, top[1] * bottom[0]
    whole = abs(numerator) // abs(denominator) * (1 if (numerator >= 0) == (denominator >= 0) else -1)
    return Decimal(whole).scaleb(-DIV_PLACES)


def remainder(left, right):
    """Return left mod right with the sign of left (as PostgreSQL and JavaScript do)."""
    if isinstance(left, int) and isinstance(right, int):
        quotient = abs(left) // abs(right)
        return left - right * quotient * (1 if (left >= 0) == (right >= 0) else -1)
    return Decimal(left) % Decimal(right)  # Decimal's % keeps the dividend's sign


def number_from_text(text, whole=False):
    """Return the exact number `text` writes (see tree.NUMBER_TEXT), or None if it is not one.

    `whole`: the type checker promised a whole number, so return an int.
    """
    text = text.strip(NUMBER_TEXT_TRIM)
    if len(text) > NUMBER_TEXT_MAX or not _NUMBER_TEXT.fullmatch(text):
        return None
    if whole and "." not in text:
        return int(text)
    value = Decimal(text)
    return value.copy_abs() if value.is_zero() else value  # '-0.0' is 0.0, as in SQL and JS


def round_half_away(value, places):
    """Round a number half away from zero, like PostgreSQL's round(numeric, places)."""
    return Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)


def years_between(start, end):
    """Return whole years from `start` to `end`, rounded down (an age; negative if before)."""
    return end.year - start.year - (1 if (end.month, end.day) < (start.month, start.day) else 0)


def _not(evaluator, node):
    value = evaluator.visit(node.args[0])
    return None if value is None else not value


def _selected(evaluator, node):
    value, code = evaluator.visit(node.args[0]), node.args[1].value
    if value is None:
        return False
    return code in value if isinstance(value, list) else value == code


def _if(evaluator, node):
    condition = evaluator.visit(node.args[0])
    return evaluator.visit(node.args[1] if condition is True else node.args[2])


def _coalesce(evaluator, node):
    for arg in node.args:
        value = evaluator.visit(arg)
        if value is not None:
            return value
    return None


def _concat(evaluator, node):
    joined = "".join(value for value in map(evaluator.visit, node.args) if value is not None)
    return joined or None


def _int(evaluator, node):
    value = evaluator.visit(node.args[0])
    return None if value is None else int(value)  # int() cuts toward zero, as trunc() does


def _number(evaluator, node):
    value = evaluator.visit(node.args[0])
    if not isinstance(value, str):
        return value  # a number stays as it is; empty stays empty
    return number_from_text(value, whole=node.type == "integer")


def _round(evaluator, node):
    value = evaluator.visit(node.args[0])
    return None if value is None else round_half_away(value, node.args[1].value)


def _years_between(evaluator, node):
    start, end = evaluator.visit(node.args[0]), evaluator.visit(node.args[1])
    return None if start is None or end is None else years_between(start, end)


_FUNCTIONS = {
    "not": _not, "selected": _selected, "if": _if, "coalesce": _coalesce, "concat": _concat,
    "count-selected": lambda e, n: len(e.visit(n.args[0]) or ()),
    "string-length": lambda e, n: len(e.visit(n.args[0]) or ""),
    "number": _number, "int": _int, "round": _round, "years-between": _years_between,
    "today": lambda e, n: e.today(),
}
_COMPARE = {"=": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}
_VISITORS = {Literal: _Evaluator.literal, Ref: _Evaluator.ref, IsEmpty: _Evaluator.is_empty,
             Negate: _Evaluator.negate, Arith: _Evaluator.arith, Compare: _Evaluator.compare,
             Logic: _Evaluator.logic, Call: _Evaluator.call}
