"""Compile a checked expression tree into PostgreSQL SQL with the form language's meaning.

docs/FORMS.md ("Form logic") is the contract; evaluate.py is the reference.
SQL's NULL is our empty and SQL's unknown is ours, so comparisons and
and/or/not are SQL's own; everything else is spelled out so PostgreSQL
agrees with Python exactly:
- every number is `numeric` (integer columns are cast, so `a * b` never
  overflows int4 and `7 div 2` is 3.5, not 3);
- `div` keeps DIV_PLACES places cut toward zero, by an exact integer division;
- functions of an empty answer that are never empty (string-length,
  count-selected, selected, `x = ''`) are coalesced;
- `number()` casts text to numeric only after a regex guard (a bad cast would raise,
  failing the INSERT, where the language says empty);
- `today()` is the day the row was saved, in the form's time zone, so a
  CHECK gives the same answer whenever it is re-checked.
Every node is parenthesised, so no precedence of SQL's can regroup it.
"""

from datetime import date, datetime
from decimal import Decimal

from collector.db.sqltext import sql_literal
from collector.forms.expressions.tree import DIV_PLACES, NUMBER_TEXT, NUMBER_TEXT_MAX, NUMBER_TEXT_TRIM

_SCALE_UP = "1" + "0" * DIV_PLACES
_SCALE_DOWN = "0." + "0" * (DIV_PLACES - 1) + "1"
_OPERATORS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def to_sql(node, timezone):
    """Return SQL text for `node` (a checked tree) in a form whose zone is `timezone`.

    Column references are bare field names: the SQL reads the row it is
    checked against. `timezone` is a ZoneInfo or an IANA name.
    """
    return _Compiler(str(timezone)).sql(node)


class _Compiler:
    def __init__(self, timezone):
        self.timezone = timezone

    def sql(self, node):
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:
            raise ValueError(f"cannot compile a {type(node).__name__} node to SQL")
        return method(node)

    def _literal(self, node):
        value = node.value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):  # never format(): 'f' would go through a float
            return f"({value}::numeric)"
        if isinstance(value, Decimal):
            # 'f' never writes an exponent: Decimal('1E+2') is 100, not 1E+2.
            return f"({format(value, 'f')}::numeric)"
        if isinstance(value, str):
            return f"({sql_literal(value)}::text)"
        if isinstance(value, datetime):
            return f"({sql_literal(value.isoformat())}::timestamptz)"
        if isinstance(value, date):
            return f"({sql_literal(value.isoformat())}::date)"
        raise ValueError(f"cannot compile the literal {value!r} to SQL")

    def _ref(self, node):
        # An integer column becomes numeric before any arithmetic can overflow int4.
        return f"({node.name}::numeric)" if node.type == "integer" else node.name

    def _isempty(self, node):
        operand = self.sql(node.operand)
        test = "<>" if node.negated else "="
        if node.operand.type == "multi":  # no ticks is as empty as NULL
            return f"(coalesce(cardinality({operand}), 0) {test} 0)"
        if node.operand.type == "text":  # '' (from a calculation or psql) is as empty as NULL
            return f"(coalesce({operand}, '') {test} '')"
        return f"({operand} IS {'NOT ' if node.negated else ''}NULL)"

    def _negate(self, node):
        return f"(- {self.sql(node.operand)})"

    def _arith(self, node):
        left, right = self.sql(node.left), self.sql(node.right)
        if node.left.type == "date":  # date - date: whole days, as a number
            if node.op != "-" or node.right.type != "date":
                raise ValueError(f"cannot compile date {node.op} {node.right.type} to SQL")
            return f"(({left} - {right})::numeric)"
        if node.op == "div":
            # div() on numeric is exact and cuts toward zero; scaling first keeps DIV_PLACES places.
            return f"(div({left} * {_SCALE_UP}, NULLIF({right}, 0)) * {_SCALE_DOWN})"
        if node.op == "mod":  # numeric mod has the dividend's sign, as the language says
            return f"mod({left}, NULLIF({right}, 0))"
        return f"({left} {node.op} {right})"

    def _compare(self, node):
        return f"({self.sql(node.left)} {_OPERATORS[node.op]} {self.sql(node.right)})"

    def _logic(self, node):
        return f"({self.sql(node.left)} {node.op.upper()} {self.sql(node.right)})"

    def _call(self, node):
        function = _FUNCTIONS.get(node.name)
        if function is None:
            raise ValueError(f"cannot compile the function {node.name}() to SQL")
        return function(self, node, [self.sql(arg) for arg in node.args])

    def _not(self, node, args):
        return f"(NOT {args[0]})"

    def _selected(self, node, args):
        # An empty answer has no code selected: false, never unknown.
        if node.args[0].type == "multi":
            return f"coalesce(({args[1]} = ANY({args[0]})), false)"
        return f"coalesce(({args[0]} = {args[1]}), false)"

    def _count_selected(self, node, args):
        return f"(coalesce(cardinality({args[0]}), 0)::numeric)"

    def _if(self, node, args):
        # CASE takes ELSE when the condition is unknown, as if() does.
        return f"(CASE WHEN {args[0]} THEN {args[1]} ELSE {args[2]} END)"

    def _coalesce(self, node, args):
        return f"coalesce({', '.join(args)})"

    def _string_length(self, node, args):
        return f"(coalesce(char_length({args[0]}), 0)::numeric)"

    def _concat(self, node, args):
        # concat() skips NULLs; joining nothing but empties is empty, not ''.
        return f"NULLIF(concat({', '.join(args)}), '')"

    def _number(self, node, args):
        if node.args[0].type != "text":  # a number is returned as it is
            return args[0]
        # CASE evaluates THEN only when WHEN holds, and a constant WHEN that fails drops its
        # THEN before the planner folds it, so a bad cast is never attempted.
        trimmed = f"btrim({args[0]}, {sql_literal(NUMBER_TEXT_TRIM)})"
        return (f"(CASE WHEN char_length({trimmed}) <= {NUMBER_TEXT_MAX} AND "
                f"{trimmed} ~ {sql_literal('^' + NUMBER_TEXT + '$')} THEN ({trimmed})::numeric END)")

    def _int(self, node, args):
        return f"trunc({args[0]})"

    def _round(self, node, args):
        # numeric round() goes half away from zero, as the language says; the
        # places are a plain integer literal (a numeric one would pick another round()).
        return f"round({args[0]}, {int(node.args[1].value)})"

    def _years_between(self, node, args):
        start, end = args
        year = "extract(year FROM {})".format
        month_day = "(extract(month FROM {0}) * 100 + extract(day FROM {0}))".format
        # Whole years, one fewer when the end's month and day come before the start's
        # (floor, also when the end is before the start).
        return (f"(({year(end)} - {year(start)}) - (CASE WHEN {month_day(end)} < {month_day(start)} "
                f"THEN 1 ELSE 0 END))")

    def _today(self, node, args):
        return f"((submitted_at AT TIME ZONE {sql_literal(self.timezone)})::date)"


_FUNCTIONS = {
    "not": _Compiler._not, "selected": _Compiler._selected,
    "count-selected": _Compiler._count_selected, "if": _Compiler._if,
    "coalesce": _Compiler._coalesce, "string-length": _Compiler._string_length,
    "concat": _Compiler._concat, "number": _Compiler._number, "int": _Compiler._int,
    "round": _Compiler._round, "years-between": _Compiler._years_between, "today": _Compiler._today,
}
