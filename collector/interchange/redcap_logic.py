"""Translate REDCap branching logic and calculations into our expression language.

REDCap's syntax (`[age] >= 18 and [meds(2)] = '1'`, `datediff([dob], 'today', 'y')`)
is parsed with lark, then each node is written as our expression text using
what the dictionary says about each field: a radio compared with a bare
number compares codes, a yes/no field compared with '1' is `= true()`, a date
compared with '2026-01-31' is `date('2026-01-31')`, a radio or text field added
or multiplied is `number(${q})` (a score adding codes 0-3). Anything our language
cannot say raises Untranslatable with the character it starts at, and the
whole rule is left out (half a rule would change who sees a field).
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from collector.forms.expressions.grammar import ExpressionError, parse
from collector.forms.expressions.tree import NUMBER_TEXT, WHOLE_NUMBER_TEXT
from collector.interchange import redcap_patterns as patterns

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr | or_expr OR and_expr -> or_
?and_expr: compare | and_expr AND compare -> and_
?compare: sum | sum COMPARE sum -> compare
?sum: product | sum ADD product -> arith
?product: unary | product MUL unary -> arith
?unary: power | "-" unary -> negate
?power: atom | atom "^" unary -> power
?atom: NUMBER -> number
     | STRING -> string
     | BRACKET+ -> ref
     | FUNCTION "(" [or_expr ("," or_expr)*] ")" -> call
     | WORD -> word
     | "(" or_expr ")"

OR.3: /or\b/i | "||"
AND.3: /and\b/i | "&&"
COMPARE: "<>" | "!=" | "<=" | ">=" | "==" | "=" | "<" | ">"
ADD: "+" | "-"
MUL: "*" | "/"
NUMBER: /[0-9]+(\.[0-9]*)?/ | /\.[0-9]+/
STRING: /'[^']*'/ | /"[^"]*"/
BRACKET: /\[[^\[\]]*\]/
FUNCTION.2: /[A-Za-z_][A-Za-z0-9_]*(?=\s*\()/
WORD: /[A-Za-z_][A-Za-z0-9_]*/
%ignore /[ \t\r\n]+/
"""

# `-` binds looser than `^` (-[x]^2 is -([x]^2)), as in PHP and JavaScript's Math.pow, which
# REDCap's server and browser use; a power's exponent may carry a sign (2^-1, reported).
_parser = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)

# Our grammar's binding strength, loosest first: an operand looser than its place is bracketed.
OR, AND, COMPARISON, SUM, PRODUCT, UNARY, ATOM = range(1, 8)
OPERATORS = {"=": "=", "==": "=", "<>": "!=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
ORDERING = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b}
# REDCap's smart variables: [event-name], [user-name], [record-name] and the like.
SMART_WORDS = {"record-name", "record-dag-name", "record-dag-id", "record-dag-label", "event-name",
               "event-label", "event-id", "event-number", "arm-number", "arm-label", "user-name",
               "user-fullname", "user-email", "user-role-id", "user-role-name", "user-role-label",
               "user-dag-name", "user-dag-id", "user-dag-label", "project-id", "instrument-name",
               "instrument-label", "current-instance", "previous-instance", "next-instance",
               "first-instance", "last-instance", "new-instance", "survey-date-completed",
               "survey-time-completed", "is-form", "is-survey", "is-download", "survey-queue-url",
               "form-url", "survey-url", "redcap-base-url", "redcap-version", "aggregate-min"}
MAX_POWER = 6
KNOWN_UNSUPPORTED = ("min", "max", "mean", "median", "stdev", "sqrt", "exponential", "log",
                     "contains", "not_contain", "starts_with", "ends_with", "left", "right", "mid",
                     "length", "find", "replace_text", "upper", "lower", "trim", "concat",
                     "concat_ws", "isnumber", "isinteger", "year", "month", "day", "datalookup",
                     "mod", "hasmissingcode", "ismissingcode", "isblank", "datetime_to_text")


class Untranslatable(ValueError):
    """A rule our language cannot say; `at` is the 1-based character it starts at."""

    def __init__(self, problem, at=None):
        self.problem, self.at = problem, at
        super().__init__(f"{problem} (at character {at})" if at else problem)


@dataclass(frozen=True)
class FieldInfo:
    """What the translator needs to know of a REDCap variable."""
    name: str                 # our column name
    type: str                 # our field type
    choices: tuple = ()       # codes, for choice and multi_choice fields
    form: str = ""            # the REDCap instrument it is on
    label: str = ""           # its label, for messages that name it


@dataclass
class Out:
    """One translated piece: our text, its type, and how tightly it binds."""
    text: str
    kind: str                       # our expression type, or "checkbox" for [cb(code)]
    prec: int = ATOM
    field: FieldInfo | None = None  # when it is a plain field reference
    code: str | None = None         # the code of [cb(code)]
    literal: object = None          # str for a string, Decimal/int for a number
    word: str | None = None         # a bare word (true, false, today, ...)
    at: int = 0

    def bracket(self, prec):
        return self.text if self.prec >= prec else f"({self.text})"


@dataclass
class Translation:
    """Our expression text, and the approximations made on the way (each a message)."""
    text: str
    notes: list = field(default_factory=list)


def translate(source, fields, form, condition):
    """Return the Translation of REDCap `source`; raise Untranslatable.

    `fields` maps REDCap variable names to FieldInfo; `form` is the instrument
    the rule is on (it may read only that instrument's fields); `condition` is
    True for branching logic, False for a calculation.
    """
    tree = parse_redcap(source)
    translator = _Translator(fields, form)
    try:
        out = translator.visit(tree)
    except RecursionError:  # our language allows far less nesting anyway
        raise Untranslatable("nested too deeply to translate: split it into calculated fields",
                             1) from None
    out = translator.condition(out) if condition else translator.value(out)
    return Translation(out.text, translator.notes)


def parse_redcap(source):
    """Return lark's tree of a REDCap expression; raise Untranslatable on a syntax error."""
    try:
        return _parser.parse(source)
    except UnexpectedCharacters as error:
        character = source[error.pos_in_stream] if error.pos_in_stream < len(source) else ""
        raise Untranslatable(f"REDCap syntax not understood at {character!r}",
                             error.pos_in_stream + 1) from None
    except UnexpectedEOF:
        raise Untranslatable("ends too early (a bracket or quote is not closed?)",
                             len(source.rstrip()) + 1) from None
    except UnexpectedInput as error:
        token = getattr(error, "token", None)
        at = getattr(token, "start_pos", None)
        if token is None or token.type == "$END":
            raise Untranslatable("ends too early (a bracket or quote is not closed?)",
                                 len(source.rstrip()) + 1) from None
        raise Untranslatable(f"unexpected {str(token)!r}", None if at is None else at + 1) from None


def number_text(value):
    """Write a number the way our parser reads it back unchanged."""
    if isinstance(value, int):
        return str(value)
    text = format(value, "f")
    return text if "." not in text else text.rstrip("0").rstrip(".") or "0"


def quote(text, at=0):
    """Return text as one of our string literals."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    raise Untranslatable("a string holding both ' and \" cannot be written in our expressions", at)


class _Translator:
    def __init__(self, fields, form):
        self.fields, self.form, self.notes = fields, form, []

    def visit(self, node):
        return getattr(self, "_" + node.data.rstrip("_"))(node)

    @staticmethod
    def _at(node):
        return (node.meta.start_pos + 1) if not node.meta.empty else 0

    # Leaves.

    def _number(self, node):
        token = node.children[0]
        raw = str(token)
        try:
            value = int(raw) if raw.isdigit() else Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the grammar only lets numbers through
            raise Untranslatable(f"{raw!r} is not a number", token.start_pos + 1) from None
        kind = "integer" if isinstance(value, int) else "decimal"
        return Out(number_text(value), kind, ATOM, literal=value, at=token.start_pos + 1)

    def _string(self, node):
        token = node.children[0]
        value = str(token)[1:-1]
        return Out(quote(value, token.start_pos + 1), "text", ATOM, literal=value,
                   at=token.start_pos + 1)

    def _word(self, node):
        token = node.children[0]
        return Out(str(token), "word", ATOM, word=str(token).lower(), at=token.start_pos + 1)

    def _ref(self, node):
        tokens = node.children
        at = tokens[0].start_pos + 1
        if len(tokens) > 1:
            first, second = str(tokens[0])[1:-1].strip(), str(tokens[1])[1:-1].strip()
            if second.isdigit() or second in ("first-instance", "last-instance", "current-instance"):
                raise Untranslatable(f"[{first}][{second}] reads one instance of a repeating "
                                     "instrument; repeats are not supported", at)
            raise Untranslatable(f"[{first}][{second}] reads a field on another event; events "
                                 "and arms are not supported", at)
        inside = str(tokens[0])[1:-1].strip()
        name, code, modifier = _split_reference(inside)
        if name in SMART_WORDS or "-" in name:
            raise Untranslatable(f"[{inside}] is a REDCap smart variable; it has no equivalent "
                                 "in our expressions", at)
        if modifier:
            raise Untranslatable(f"[{inside}]: the ':{modifier}' modifier is not supported "
                                 "(only a field's stored value can be read)", at)
        info = self.fields.get(name)
        if info is None:
            raise Untranslatable(f"[{name}] is not a field of this dictionary", at)
        if info.form and info.form != self.form:  # "" = the record id, on every form
            raise Untranslatable(f"[{name}] is on instrument {info.form!r}; a form can read only "
                                 "its own fields", at)
        reference = f"${{{info.name}}}"
        if code is not None:
            if info.type != "multi_choice":
                raise Untranslatable(f"[{inside}]: a (code) is written only after a checkbox "
                                     f"field; [{name}] is not one", at)
            if code not in info.choices:
                raise Untranslatable(f"[{inside}]: {code!r} is not one of [{name}]'s codes "
                                     f"({', '.join(info.choices)})", at)
            return Out(reference, "checkbox", ATOM, field=info, code=code, at=at)
        kind = {"multi_choice": "multi", "long_text": "text", "email": "text",
                "choice": "text"}.get(info.type, info.type)
        return Out(reference, kind, ATOM, field=info, at=at)

    # Operators.

    def _negate(self, node):
        operand = self.number(self.visit(node.children[0]), "'-'")
        if operand.literal is not None:
            value = -operand.literal
            return Out(number_text(value), operand.kind, ATOM if value >= 0 else UNARY,
                       literal=value, at=self._at(node))
        return Out(f"-{operand.bracket(UNARY)}", operand.kind, UNARY, at=self._at(node))

    def _power(self, node):
        base = self.number(self.visit(node.children[0]), "'^'")
        exponent = self.visit(node.children[-1])
        if not isinstance(exponent.literal, int) or isinstance(exponent.literal, bool) \
                or not 1 <= exponent.literal <= MAX_POWER:
            raise Untranslatable(f"'^' is translated only with a whole power from 1 to {MAX_POWER} "
                                 "(as repeated multiplication)", exponent.at)
        if exponent.literal == 1:
            return base
        # Left to right, as the exporter's `x * x` reads back: only later factors need brackets.
        text = " * ".join([base.bracket(PRODUCT)] + [base.bracket(PRODUCT + 1)] * (exponent.literal - 1))
        return Out(text, base.kind, PRODUCT, at=self._at(node))

    def _arith(self, node):
        left_node, op, right_node = node.children
        left = self.number(self.visit(left_node), repr(str(op)))
        right = self.number(self.visit(right_node), repr(str(op)))
        ours = {"/": "div"}.get(str(op), str(op))
        prec = SUM if ours in ("+", "-") else PRODUCT
        kind = "integer" if left.kind == right.kind == "integer" and ours != "div" else "decimal"
        return Out(f"{left.bracket(prec)} {ours} {right.bracket(prec + 1)}", kind, prec,
                   at=self._at(node))

    def _or(self, node):
        return self._logic(node, "or", OR)

    def _and(self, node):
        return self._logic(node, "and", AND)

    def _logic(self, node, op, prec):
        left = self.condition(self.visit(node.children[0]))
        right = self.condition(self.visit(node.children[-1]))
        # An `and` inside an `or` is bracketed although it need not be: easier to read.
        left_text = f"({left.text})" if op == "or" and left.prec == AND else left.bracket(prec)
        right_text = f"({right.text})" if op == "or" and right.prec == AND else right.bracket(prec + 1)
        return Out(f"{left_text} {op} {right_text}", "boolean", prec, at=self._at(node))

    def _compare(self, node):
        left_node, op, right_node = node.children
        left, right = self.visit(left_node), self.visit(right_node)
        op = OPERATORS[str(op)]
        at = node.children[1].start_pos + 1  # the operator's character
        if left.literal is not None and right.field is not None or right.kind == "checkbox":
            left, right, op = right, left, _mirror(op)  # keep the field on the left
        if right.literal == "" and left.kind != "checkbox":
            return self._emptiness(left, op, at)
        if left.kind == "checkbox":
            return self._checkbox_test(left, op, right, at)
        if left.field is not None and left.field.type == "boolean":
            return self._yes_no_test(left, op, right, at)
        if left.field is not None and left.field.type == "choice" and right.literal is not None \
                and not (op in ORDERING and _some_codes_numeric(left.field)):
            return self._choice_test(left, op, right, at)
        if op in ORDERING:
            left, right = self._numeric_sides(left, right, op)
        left, right = self._coerce(left, right), self._coerce(right, left)
        for side in (left, right):
            if side.kind in ("multi", "word", "checkbox"):
                raise Untranslatable(_not_a_value(side), side.at)
        if left.kind != right.kind and not {left.kind, right.kind} <= {"integer", "decimal"}:
            raise Untranslatable(f"cannot compare {left.text} ({left.kind}) with {right.text} "
                                 f"({right.kind})", at)
        if op not in ("=", "!=") and left.kind in ("text", "boolean"):
            raise Untranslatable(f"text can be compared only with = or <> (not {op}); "
                                 f"{left.text} is text", at)
        return Out(f"{left.bracket(SUM)} {op} {right.bracket(SUM)}", "boolean", COMPARISON, at=at)

    def _numeric_sides(self, left, right, op):
        """REDCap orders two values as numbers when both are: a text or radio field against a
        number is number(${q}), empty (so false) while it holds no number, as there."""
        def textual(side):
            return side.field is not None and side.field.type in ("text", "choice")

        def numeric(side):
            return side.kind in ("integer", "decimal") or (
                isinstance(side.literal, str) and _as_number(side.literal) is not None)
        if (textual(left) and numeric(right)) or (textual(right) and numeric(left)):
            return self.number(left, repr(op)), self.number(right, repr(op))
        return left, right

    def _emptiness(self, operand, op, at):
        if op not in ("=", "!="):
            raise Untranslatable(f"'' (blank) can be compared only with = or <>, not {op}", at)
        if operand.kind in ("word", "multi"):
            raise Untranslatable(_not_a_value(operand), operand.at)
        return Out(f"{operand.bracket(SUM)} {op} ''", "boolean", COMPARISON, at=at)

    def _checkbox_test(self, box, op, other, at):
        flag = _flag(other)
        if flag is None or op not in ("=", "!="):
            raise Untranslatable(f"[{box.field.name}({box.code})] is a checkbox: compare it with "
                                 "'1' (ticked) or '0' (not ticked) using = or <>", at)
        ticked = flag == (op == "=")
        test = f"selected({box.text}, {quote(box.code)})"
        return Out(test if ticked else f"not({test})", "boolean", ATOM, at=at)

    def _yes_no_test(self, answer, op, other, at):
        flag = _flag(other) if other.field is None else None
        if flag is None or op not in ("=", "!="):
            if other.field is not None and other.field.type == "boolean" and op in ("=", "!="):
                return Out(f"{answer.text} {op} {other.text}", "boolean", COMPARISON, at=at)
            raise Untranslatable(f"{answer.text} is a yes/no field: compare it with '1' or '0' "
                                 "using = or <>", at)
        return Out(f"{answer.text} {op} {'true()' if flag else 'false()'}", "boolean", COMPARISON,
                   at=at)

    def _choice_test(self, answer, op, other, at):
        code = other.literal if isinstance(other.literal, str) else number_text(other.literal)
        codes = answer.field.choices
        if op in ("=", "!="):
            if code not in codes:
                raise Untranslatable(f"{code!r} is not one of {answer.text}'s codes "
                                     f"({', '.join(codes)})", other.at)
            return Out(f"{answer.text} {op} {quote(code)}", "boolean", COMPARISON, at=at)
        numbers = _numeric_codes(codes)
        limit = _as_number(code)
        if numbers is None or limit is None:
            raise Untranslatable(f"{answer.text} holds codes, not numbers: {op} works only when "
                                 "every code and the value compared are numbers", at)
        kept = [text for text, value in numbers if ORDERING[op](value, limit)]
        if not kept:
            raise Untranslatable(f"no code of {answer.text} is {op} {code}: the rule is never true",
                                 at)
        tests = [f"{answer.text} = {quote(text)}" for text in kept]
        return Out(" or ".join(tests), "boolean", COMPARISON if len(tests) == 1 else OR, at=at)

    def _coerce(self, side, other):
        """Give a literal the type of the field it is compared with."""
        if side.literal is None or other.field is None:
            return side
        kind = other.kind
        if kind in ("integer", "decimal") and isinstance(side.literal, str):
            number = _as_number(side.literal)
            if number is None:
                raise Untranslatable(f"{side.text} is compared with the number field "
                                     f"{other.text} but is not a number", side.at)
            return Out(number_text(number), "integer" if isinstance(number, int) else "decimal",
                       ATOM if number >= 0 else UNARY, literal=number, at=side.at)
        if kind == "text" and not isinstance(side.literal, str):
            return Out(quote(number_text(side.literal)), "text", ATOM,
                       literal=number_text(side.literal), at=side.at)
        if kind == "date":
            return Out(_date_literal(side), "date", ATOM, at=side.at)
        if kind == "datetime":
            raise Untranslatable(f"{other.text} is a date-time; our expressions have no date-time "
                                 "constants to compare it with", side.at)
        return side

    # Functions.

    def _call(self, node):
        name_token = node.children[0]
        name = str(name_token).lower()
        args = [child for child in node.children[1:] if not isinstance(child, Token)]
        at = name_token.start_pos + 1
        handler = getattr(self, f"_fn_{name}", None)
        if handler is None:
            known = "REDCap's " if name in KNOWN_UNSUPPORTED else ""
            raise Untranslatable(f"{known}function {name}() has no equivalent in our expressions",
                                 at)
        return handler(args, at)

    def _fn_if(self, args, at):
        _arity("if", args, 3, 3, at)
        condition = self.condition(self.visit(args[0]))
        then, otherwise = (self.value(self.visit(arg)) for arg in args[1:])
        for branch in (then, otherwise):
            if branch.literal == "":
                raise Untranslatable("if() giving '' (blank) has no equivalent in our expressions",
                                     branch.at)
        kinds = {then.kind, otherwise.kind}
        if len(kinds) > 1 and not kinds <= {"integer", "decimal"}:
            raise Untranslatable(f"if() gives {' or '.join(sorted(kinds))}: both results must be "
                                 "of one type", at)
        kind = kinds.pop() if len(kinds) == 1 else "decimal"
        return Out(f"if({condition.text}, {then.text}, {otherwise.text})", kind, ATOM, at=at)

    def _fn_datediff(self, args, at):
        _arity("datediff", args, 3, 5, at)
        start, end = (self._date_operand(self.visit(arg)) for arg in args[:2])
        unit = self.visit(args[2])
        if unit.literal not in ("y", "M", "d", "h", "m", "s"):
            raise Untranslatable("datediff() needs a unit of 'y', 'M', 'd', 'h', 'm' or 's'",
                                 unit.at)
        signed = False
        for extra in args[3:]:
            option = self.visit(extra)
            if option.word in ("true", "false") or option.literal in ("true", "false"):
                signed = (option.word or option.literal) == "true"
            elif option.literal not in ("ymd", "mdy", "dmy"):
                raise Untranslatable("datediff()'s options are a date format ('ymd', 'mdy', "
                                     "'dmy') and true/false (signed)", option.at)
        days = f"{end.bracket(SUM)} - {start.bracket(SUM + 1)}"
        if not signed:
            days = patterns.abs_text(days)
        days_out = Out(days, "integer", SUM if signed else ATOM, at=at)
        if unit.literal in patterns.DIVIDE_DAYS:
            divisor = number_text(patterns.DIVIDE_DAYS[unit.literal])
            return Out(f"{days_out.bracket(PRODUCT)} div {divisor}", "decimal", PRODUCT, at=at)
        if unit.literal in patterns.MULTIPLY_DAYS:
            factor = patterns.MULTIPLY_DAYS[unit.literal]
            return Out(f"{days_out.bracket(PRODUCT)} * {factor}", "integer", PRODUCT, at=at)
        return days_out

    def _date_operand(self, out):
        if out.field is not None:
            if out.kind == "datetime":
                raise Untranslatable(f"{out.text} is a date-time; our expressions subtract dates "
                                     "only (days between them)", out.at)
            if out.kind != "date":
                raise Untranslatable(f"datediff() needs dates; {out.text} is not a date field",
                                     out.at)
            return out
        if out.literal == "today" or out.word == "today":
            return Out("today()", "date", ATOM, at=out.at)
        if out.literal == "now" or out.word == "now":
            raise Untranslatable("'now' is a date-time; our expressions subtract dates only "
                                 "(use 'today')", out.at)
        if isinstance(out.literal, str):
            return Out(_date_literal(out), "date", ATOM, at=out.at)
        raise Untranslatable("datediff() needs two dates: date fields, 'today' or 'YYYY-MM-DD'",
                             out.at)

    def _fn_round(self, args, at):
        x, places = self._rounding_args("round", args, at)
        return Out(f"round({x.text}, {places})", "decimal", ATOM, at=at)

    def _fn_rounddown(self, args, at):
        return self._rounding("rounddown", args, at, patterns.floor_text)

    def _fn_roundup(self, args, at):
        return self._rounding("roundup", args, at, patterns.ceiling_text)

    def _rounding(self, name, args, at, whole_text):
        x, places = self._rounding_args(name, args, at)
        never_negative = name == "rounddown" and _never_negative(x.text)
        if places == 0:
            text = f"int({x.text})" if never_negative else whole_text(x.text)
            return Out(text, "integer", ATOM, at=at)
        if places > patterns.MAX_PLACES:
            raise Untranslatable(f"{name}() to more than {patterns.MAX_PLACES} places has no "
                                 "exact equivalent", at)
        scale = 10 ** places
        scaled = f"{x.bracket(PRODUCT)} * {scale}"
        whole = f"int({scaled})" if never_negative else whole_text(scaled)
        return Out(f"{whole} div {scale}", "decimal", PRODUCT, at=at)

    def _rounding_args(self, name, args, at):
        _arity(name, args, 1, 2, at)
        x = self.number(self.value(self.visit(args[0])), f"{name}()")
        places = 0
        if len(args) == 2:
            given = self.visit(args[1])
            if not isinstance(given.literal, int) or not 0 <= given.literal <= 15:
                raise Untranslatable(f"{name}() is translated only with a whole number of places "
                                     "from 0 to 15", given.at)
            places = given.literal
        return x, places

    def _fn_abs(self, args, at):
        _arity("abs", args, 1, 1, at)
        x = self.number(self.value(self.visit(args[0])), "abs()")
        return Out(patterns.abs_text(x.text), x.kind, ATOM, at=at)

    def _fn_sum(self, args, at):
        _arity("sum", args, 1, 100, at)
        terms = [self.number(self.value(self.visit(arg)), "sum()") for arg in args]
        kind = "integer" if all(t.kind == "integer" for t in terms) else "decimal"
        text = patterns.sum_text([t.text for t in terms])
        self.notes.append("sum() with every value blank gives 0 here (blanks count as 0)")
        return Out(text, kind, ATOM if len(terms) == 1 else SUM, at=at)

    def _fn_isblankormissingcode(self, args, at):
        _arity("isblankormissingcode", args, 1, 1, at)
        operand = self.visit(args[0])
        if operand.field is None or operand.kind == "checkbox":
            raise Untranslatable("isblankormissingcode() is translated for a field only", at)
        self.notes.append("isblankormissingcode(): missing-data codes do not exist here; "
                          "only a blank answer counts")
        return Out(f"{operand.text} = ''", "boolean", COMPARISON, at=at)

    # Conversions between a condition and a value.

    def condition(self, out):
        """Return `out` as a yes/no expression."""
        if out.kind == "boolean" and out.field is None:
            return out
        if out.kind == "boolean":
            return Out(f"{out.text} = true()", "boolean", COMPARISON, at=out.at)
        if out.kind == "checkbox":
            return Out(f"selected({out.text}, {quote(out.code)})", "boolean", ATOM, at=out.at)
        if out.kind in ("word", "multi"):
            raise Untranslatable(_not_a_value(out), out.at)
        raise Untranslatable(f"{out.text} is not a condition: compare it with something "
                             "(like [age] >= 18)", out.at)

    def value(self, out):
        """Return `out` as a value (a checkbox or a yes/no answer counts 1 or 0)."""
        if out.kind == "checkbox":
            return Out(f"if(selected({out.text}, {quote(out.code)}), 1, 0)", "integer", ATOM,
                       at=out.at)
        if out.kind == "boolean" and out.field is not None:
            self.notes.append(f"{out.text} counts as 1 (yes) or 0 (no or blank)")
            return Out(f"if({out.text} = true(), 1, 0)", "integer", ATOM, at=out.at)
        if out.kind in ("multi", "word"):
            raise Untranslatable(_not_a_value(out), out.at)
        return out

    def number(self, out, where):
        """Return `out` as a number, or raise saying why it is not one."""
        out = self.value(out)
        if out.kind in ("integer", "decimal"):
            return out
        if out.field is not None and out.field.type in ("choice", "text"):
            return _as_number_field(out, where)
        if isinstance(out.literal, str):
            number = _as_number(out.literal)
            if number is not None:
                return Out(number_text(number), "integer" if isinstance(number, int) else "decimal",
                           ATOM if number >= 0 else UNARY, literal=number, at=out.at)
        raise Untranslatable(f"{where} needs numbers; {out.text} is not one", out.at)


def _as_number_field(out, where):
    """A radio/dropdown (its code) or a text field used as a number: number(${q}), as REDCap
    reads it (a score adding codes 0-3); whole when every code is a whole number."""
    codes = out.field.choices
    if out.field.type == "choice" and not any(re.fullmatch(NUMBER_TEXT, code) for code in codes):
        raise Untranslatable(f"{out.text} is a radio/dropdown field whose codes are not numbers "
                             f"({', '.join(codes)}), so {where} cannot use it as a number", out.at)
    whole = out.field.type == "choice" and all(re.fullmatch(WHOLE_NUMBER_TEXT, code) for code in codes)
    return Out(f"number({out.text})", "integer" if whole else "decimal", ATOM, at=out.at)


def _some_codes_numeric(field):
    """A radio whose codes are not all numbers: REDCap orders the numeric ones as numbers."""
    numbers = [_as_number(code) is not None for code in field.choices]
    return any(numbers) and not all(numbers)


def _split_reference(inside):
    """Return (name, code, modifier) of the text inside [ ]: name(code):modifier."""
    modifier = None
    if ":" in inside:
        inside, modifier = inside.split(":", 1)
    code = None
    if inside.endswith(")") and "(" in inside:
        inside, code = inside[:-1].split("(", 1)
        code = code.strip()
    return inside.strip(), code, modifier


def _mirror(op):
    return {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)


def _flag(out):
    """Return True for '1'/1, False for '0'/0, else None."""
    value = out.literal
    if isinstance(value, str):
        value = _as_number(value)
    if isinstance(value, (int, Decimal)) and value in (0, 1):
        return value == 1
    return None


def _as_number(text):
    if not isinstance(text, str):
        return text
    text = text.strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    return int(number) if number == number.to_integral_value() and "." not in text else number


def _numeric_codes(codes):
    numbers = [(code, _as_number(code)) for code in codes]
    return None if any(value is None for _code, value in numbers) else numbers


def _date_literal(out):
    text = out.literal if isinstance(out.literal, str) else None
    try:
        if text is None or len(text) != 10:
            raise ValueError
        date.fromisoformat(text)
    except ValueError:
        raise Untranslatable(f"{out.text} is compared with a date but is not a date written "
                             "'YYYY-MM-DD'", out.at) from None
    return f"date('{text}')"


def _not_a_value(out):
    if out.kind == "multi":
        return (f"{out.text} is a checkbox field: write [{out.field.name}(code)] = '1' for one of "
                "its boxes")
    if out.kind == "word":
        return f"the bare word {out.text!r} means nothing here (quote text: '{out.text}')"
    return f"{out.text} cannot be used here"


def _arity(name, args, low, high, at):
    if not low <= len(args) <= high:
        wanted = str(low) if low == high else f"{low} to {high}"
        raise Untranslatable(f"{name}() takes {wanted} arguments, not {len(args)}", at)


def _never_negative(text):
    try:
        return patterns.is_never_negative(parse(text))
    except ExpressionError:
        return False


