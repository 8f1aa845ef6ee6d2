"""Type-check a parsed expression against the form's fields; return the typed tree.

Everything that could go wrong at run time because of the form file is
refused here, once, with the column it happened at: unknown fields, `.`
outside a constraint, a date compared with a number, text ordered with `<`,
a code that is not one of the field's choices, a multi_choice used as a value.
"""

import difflib
import re
from dataclasses import dataclass, replace
from decimal import Decimal

from collector.forms.expressions.grammar import ExpressionError
from collector.forms.expressions.tree import NUMBER_TYPES, WHOLE_NUMBER_TEXT, IsEmpty, Literal, Ref

# How each field type reads inside an expression.
REF_TYPES = {"integer": "integer", "decimal": "decimal", "date": "date", "datetime": "datetime",
             "boolean": "boolean", "text": "text", "long_text": "text", "email": "text",
             "choice": "text", "multi_choice": "multi"}
WORDS = {"integer": "a whole number", "decimal": "a number", "text": "text", "date": "a date",
         "datetime": "a date and time", "boolean": "a yes/no value",
         "multi": "a multi_choice answer"}
MAX_ROUND_PLACES = 15


@dataclass(frozen=True)
class FieldFacts:
    """What the checker needs to know of a field."""
    type: str
    choices: tuple = ()

    @classmethod
    def of(cls, field):
        """Return the facts of a field written as a form-file dict (type, choices)."""
        return cls(field["type"], tuple(choice["value"] for choice in field.get("choices", ())))


def check(tree, fields, this=None):
    """Return `tree` with every node typed; `fields` maps names to FieldFacts.

    `this` is the field `.` stands for (None where `.` is not allowed).
    """
    return _Checker(fields, this).visit(tree)


class _Checker:
    def __init__(self, fields, this):
        self.fields, self.this = fields, this

    def visit(self, node):
        return getattr(self, "_" + type(node).__name__.lower())(node)

    def _literal(self, node):
        value = node.value
        kind = ("boolean" if isinstance(value, bool) else "integer" if isinstance(value, int)
                else "decimal" if isinstance(value, Decimal) else "text"
                if isinstance(value, str) else "date")
        return replace(node, type=kind)

    def _ref(self, node):
        name = node.name
        if name == ".":
            if self.this is None:
                raise ExpressionError("'.' (this field) can be used only in a constraint", node.at)
            name = self.this
        if name not in self.fields:
            close = difflib.get_close_matches(name, list(self.fields), n=1)
            hint = f" (did you mean ${{{close[0]}}}?)" if close else ""
            raise ExpressionError(f"${{{name}}} is not a field of this form{hint}", node.at)
        return replace(node, name=name, type=REF_TYPES[self.fields[name].type])

    def _negate(self, node):
        operand = self._value(node.operand)
        self._expect(operand, NUMBER_TYPES, "'-' needs a number")
        return replace(node, operand=operand, type=operand.type)

    def _arith(self, node):
        left, right = self._value(node.left), self._value(node.right)
        if node.op == "-" and left.type == right.type == "date":
            return replace(node, left=left, right=right, type="integer")
        for side in (left, right):
            self._expect(side, NUMBER_TYPES, f"{node.op!r} needs numbers on both sides"
                         + (" (only date - date is allowed with dates)" if side.type == "date" else ""))
        kind = "integer" if left.type == right.type == "integer" and node.op != "div" else "decimal"
        return replace(node, left=left, right=right, type=kind)

    def _compare(self, node):
        if _is_empty_string(node.right) or _is_empty_string(node.left):
            return self._emptiness(node)
        left, right = self._value(node.left), self._value(node.right)
        if not _comparable(left.type, right.type):
            raise ExpressionError(f"cannot compare {WORDS[left.type]} with {WORDS[right.type]}",
                                  node.at)
        if node.op not in ("=", "!=") and left.type in ("text", "boolean"):
            raise ExpressionError(f"{WORDS[left.type]} can be compared only with = or != "
                                  f"(not {node.op})", node.at)
        self._check_codes(left, right)
        self._check_codes(right, left)
        return replace(node, left=left, right=right, type="boolean")

    def _emptiness(self, node):
        operand = node.left if _is_empty_string(node.right) else node.right
        if node.op not in ("=", "!="):
            raise ExpressionError(f"'' (empty) can be compared only with = or != (not {node.op})",
                                  node.at)
        checked = self.visit(operand)
        return IsEmpty(checked, negated=node.op == "!=", type="boolean", at=node.at)

    def _logic(self, node):
        left, right = self.visit(node.left), self.visit(node.right)
        for side in (left, right):
            self._expect(side, ("boolean",), f"'{node.op}' needs yes/no values on both sides")
        return replace(node, left=left, right=right, type="boolean")

    def _call(self, node):
        check_call = _CALLS.get(node.name)
        if check_call is None:
            close = difflib.get_close_matches(node.name, list(_CALLS), n=1)
            hint = f" (did you mean {close[0]}()?)" if close else f" (known: {', '.join(sorted(_CALLS))})"
            raise ExpressionError(f"{node.name}() is not a function{hint}", node.at)
        return check_call(self, node)

    # Helpers shared by the function checks.

    def _value(self, node):
        """Check a node that is used as a plain value (a multi_choice answer is not one)."""
        checked = self.visit(node)
        if checked.type == "multi":
            raise ExpressionError(f"${{{checked.name}}} is a multi_choice field: use "
                                  f"selected(${{{checked.name}}}, 'code') or count-selected()",
                                  checked.at)
        return checked

    def _expect(self, node, types, problem):
        if node.type not in types:
            raise ExpressionError(f"{problem}, not {WORDS[node.type]}", node.at)

    def _arity(self, node, low, high=None):
        count = len(node.args)
        high = low if high is None else high
        if not low <= count <= high:
            wanted = str(low) if low == high else f"{low} or more" if high > 99 else f"{low} to {high}"
            raise ExpressionError(f"{node.name}() takes {wanted} argument{'s' * (wanted != '1')}, "
                                  f"not {count}", node.at)

    def _check_codes(self, side, other):
        """Refuse a quoted code that the choice field compared with can never hold."""
        if isinstance(side, Ref) and isinstance(other, Literal) and isinstance(other.value, str):
            facts = self.fields[side.name]
            if facts.choices and other.value not in facts.choices:
                raise ExpressionError(f"{other.value!r} is not a choice of ${{{side.name}}} "
                                      f"(choices: {', '.join(facts.choices)})", other.at)


def _is_empty_string(node):
    return isinstance(node, Literal) and node.value == ""


def _comparable(left, right):
    return left == right or (left in NUMBER_TYPES and right in NUMBER_TYPES)


def _unify(checker, node, args, what):
    """Return the common type of `args` (integer and decimal make decimal)."""
    kinds = {arg.type for arg in args}
    if kinds <= set(NUMBER_TYPES):
        return "integer" if kinds == {"integer"} else "decimal"
    if len(kinds) > 1:
        shown = " and ".join(sorted(WORDS[k] for k in kinds))
        raise ExpressionError(f"{node.name}() needs {what} of one type, not {shown}", node.at)
    return kinds.pop()


def _one_argument(takes, problem, gives, plain_value=True):
    """Return the check of a function of one argument of a type in `takes`."""
    def check_call(checker, node):
        checker._arity(node, 1)
        operand = (checker._value if plain_value else checker.visit)(node.args[0])
        checker._expect(operand, takes, problem)
        return replace(node, args=(operand,), type=gives)
    return check_call


_not = _one_argument(("boolean",), "not() needs a yes/no value", "boolean", plain_value=False)
_count_selected = _one_argument(("multi",), "count-selected() needs a multi_choice field", "integer",
                                plain_value=False)
_string_length = _one_argument(("text",), "string-length() needs text", "integer")
_int = _one_argument(NUMBER_TYPES, "int() needs a number", "integer")


def _selected(checker, node):
    checker._arity(node, 2)
    target, code = checker.visit(node.args[0]), checker.visit(node.args[1])
    facts = checker.fields.get(target.name) if isinstance(target, Ref) else None
    if facts is None or not facts.choices:
        raise ExpressionError(f"{node.name}() needs a choice or multi_choice field first, "
                              "like selected(${field}, 'code')", node.at)
    if not isinstance(code, Literal) or not isinstance(code.value, str):
        raise ExpressionError(f"{node.name}() needs a quoted code second, like 'yes'", code.at)
    checker._check_codes(target, code)
    return replace(node, args=(target, code), type="boolean")


def _if(checker, node):
    checker._arity(node, 3)
    condition = checker.visit(node.args[0])
    checker._expect(condition, ("boolean",), "if() needs a yes/no condition first")
    then, otherwise = checker._value(node.args[1]), checker._value(node.args[2])
    kind = _unify(checker, node, (then, otherwise), "its two results")
    return replace(node, args=(condition, then, otherwise), type=kind)


def _coalesce(checker, node):
    checker._arity(node, 2, 100)
    args = tuple(checker._value(arg) for arg in node.args)
    return replace(node, args=args, type=_unify(checker, node, args, "values"))


def _concat(checker, node):
    checker._arity(node, 1, 100)
    args = tuple(checker._value(arg) for arg in node.args)
    for arg in args:
        checker._expect(arg, ("text",), "concat() joins text only (numbers and dates would be "
                                        "written differently in each place)")
    return replace(node, args=args, type="text")


def _number(checker, node):
    checker._arity(node, 1)
    operand = checker._value(node.args[0])
    checker._expect(operand, ("text",) + NUMBER_TYPES, "number() needs text or a number")
    return replace(node, args=(operand,), type=_number_type(checker, operand))


def _number_type(checker, operand):
    """A number stays what it is; a choice field whose codes are all whole numbers (a score
    coded 0-3) gives a whole number, so sums of them fit integer fields; other text a number."""
    if operand.type in NUMBER_TYPES:
        return operand.type
    facts = checker.fields[operand.name] if isinstance(operand, Ref) else None
    if facts is not None and facts.type == "choice" and facts.choices \
            and all(re.fullmatch(WHOLE_NUMBER_TEXT, str(code)) for code in facts.choices):
        return "integer"
    return "decimal"


def _round(checker, node):
    checker._arity(node, 2)
    operand, places = checker._value(node.args[0]), checker.visit(node.args[1])
    checker._expect(operand, NUMBER_TYPES, "round() needs a number first")
    if not (isinstance(places, Literal) and places.type == "integer"
            and 0 <= places.value <= MAX_ROUND_PLACES):
        raise ExpressionError(f"round() needs a whole number of places from 0 to "
                              f"{MAX_ROUND_PLACES} second, like round(${{bmi}}, 1)", node.at)
    return replace(node, args=(operand, places), type="decimal")


def _years_between(checker, node):
    checker._arity(node, 2)
    args = tuple(checker._value(arg) for arg in node.args)
    for arg in args:
        checker._expect(arg, ("date",), "years-between() needs two dates")
    return replace(node, args=args, type="integer")


def _today(checker, node):
    checker._arity(node, 0)
    return replace(node, type="date")


_CALLS = {"not": _not, "selected": _selected, "count-selected": _count_selected, "if": _if,
          "coalesce": _coalesce, "string-length": _string_length, "concat": _concat,
          "number": _number, "int": _int, "round": _round, "years-between": _years_between, "today": _today}
