"""Parse an expression's text into an unchecked tree (tree.py nodes without types).

The grammar is a small subset of XLSForm's (ODK XPath): see docs/FORMS.md.
lark's LALR parser reports the column and what it expected, which
ExpressionError carries to the one-line message `manage.py check` prints.
"""

from datetime import date
from decimal import Decimal

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from collector.forms.expressions.tree import Arith, Call, Compare, Literal, Logic, Negate, Ref

# Long enough for any real rule; short enough that nothing nests past Python's stack.
MAX_LENGTH = 2000
MAX_DEPTH = 60
# Every operator, '-' and function call nests the tree one deeper, and the checker, the
# evaluator and the SQL and JSON writers each recurse once or more per level: this keeps
# them all far from Python's recursion limit (a sum of 200 fields still fits).
MAX_TREE_DEPTH = 200

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr | or_expr "or" and_expr -> or_
?and_expr: compare | and_expr "and" compare -> and_
?compare: sum | sum COMPARE sum -> compare
?sum: product | sum ADD product -> arith
?product: unary | product MUL unary -> arith
?unary: atom | "-" unary -> negate
?atom: NUMBER -> number
     | STRING -> string
     | "${" NAME "}" -> ref
     | "." -> this
     | FUNCTION "(" [or_expr ("," or_expr)*] ")" -> call
     | "(" or_expr ")"

COMPARE: "<=" | ">=" | "!=" | "=" | "<" | ">"
ADD: "+" | "-"
MUL: "*" | /div\b/ | /mod\b/
NUMBER: /[0-9]+(\.[0-9]+)?/ | /\.[0-9]+/
STRING: /'[^']*'/ | /"[^"]*"/
NAME: /[A-Za-z_][A-Za-z0-9_]*/
FUNCTION.-1: /[a-z][a-z0-9-]*(?=\s*\()/
%ignore /[ \t\r\n]+/
"""

_parser = Lark(GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)

# What a user calls each token, for "expected ..." in messages.
TOKEN_WORDS = {
    "NUMBER": "a number", "STRING": "a quoted string", "NAME": "a field name", "FUNCTION":
    "a function", "COMPARE": "a comparison", "ADD": "+ or -", "MUL": "*, div or mod",
    "LPAR": "'('", "RPAR": "')'", "COMMA": "','", "RBRACE": "'}'", "MINUS": "'-'",
    "DOT": "'.'", "OR": "or", "AND": "and", "__ANON_0": "'${'", "$END": "the end",
}


class ExpressionError(ValueError):
    """An expression is wrong; `column` is 1-based within the expression text."""

    def __init__(self, problem, column=None):
        self.problem, self.column = problem, column
        super().__init__(f"{problem} (at column {column})" if column else problem)


def parse(text):
    """Return the unchecked tree of `text`; raise ExpressionError saying where and why."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("must be a non-empty string")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"is {len(text)} characters long; the limit is {MAX_LENGTH}")
    if "\n" in text.strip():
        raise ExpressionError("must be on one line")
    _refuse_deep_nesting(text)
    try:
        parsed = _parser.parse(text)  # LALR: no recursion, however deep the text nests
        _refuse_deep_tree(parsed)
        return _Build().transform(parsed)
    except UnexpectedCharacters as error:
        raise ExpressionError(_unexpected_character(text, error), error.column) from None
    except UnexpectedEOF as error:
        raise ExpressionError(f"ends too early: expected {_expected(error.expected)}",
                              len(text.rstrip()) + 1) from None
    except UnexpectedInput as error:
        token = getattr(error, "token", None)
        expected = _expected(getattr(error, "expected", ()))
        if token is None or token.type == "$END":
            raise ExpressionError(f"ends too early: expected {expected}",
                                  len(text.rstrip()) + 1) from None
        raise ExpressionError(f"unexpected {str(token)!r}: expected {expected}",
                              error.column) from None
    except VisitError as error:
        raise error.orig_exc from None


def _refuse_deep_nesting(text):
    depth = deepest = 0
    for character in text:
        depth += {"(": 1, ")": -1}.get(character, 0)
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise ExpressionError(f"brackets are nested {deepest} deep; the limit is {MAX_DEPTH}")


def _refuse_deep_tree(parsed):
    """Refuse a tree too deep to walk recursively (lark's Transformer is recursive too)."""
    deepest, stack = 0, [(parsed, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))
    if deepest > MAX_TREE_DEPTH:
        raise ExpressionError(f"nests {deepest} operations inside each other; the limit is "
                              f"{MAX_TREE_DEPTH}: split it into calculated fields")


def _unexpected_character(text, error):
    character = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
    if character == "$":
        return "a field reference is written ${name}, with braces"
    if character in "'\"":
        return "a string is not closed: add the matching quote"
    allowed = _expected(error.allowed) if error.allowed else "something else"
    return f"unexpected {character!r}: expected {allowed}"


def _expected(names):
    words = sorted({TOKEN_WORDS.get(name, name.lower().strip("_")) for name in names})
    return ", ".join(words[:8]) or "something else"


@v_args(meta=True)
class _Build(Transformer):
    """Turn lark's parse tree into tree.py nodes, each knowing its column."""

    def number(self, meta, children):
        text = str(children[0])
        value = Decimal(text) if "." in text else int(text)
        return Literal(value, at=meta.column)

    def string(self, meta, children):
        return Literal(str(children[0])[1:-1], at=meta.column)

    def ref(self, meta, children):
        return Ref(str(children[0]), at=meta.column)

    def this(self, meta, _children):
        return Ref(".", at=meta.column)

    def negate(self, meta, children):
        operand = children[0]
        if isinstance(operand, Literal) and isinstance(operand.value, (int, Decimal)) \
                and not isinstance(operand.value, bool):
            return Literal(-operand.value, at=meta.column)
        return Negate(operand, at=meta.column)

    def arith(self, meta, children):
        left, op, right = children
        return Arith(str(op), left, right, at=op.column)

    def compare(self, meta, children):
        left, op, right = children
        return Compare(str(op), left, right, at=op.column)

    def and_(self, meta, children):
        return Logic("and", children[0], children[1], at=meta.column)

    def or_(self, meta, children):
        return Logic("or", children[0], children[1], at=meta.column)

    def call(self, meta, children):
        name = str(children[0])
        args = tuple(child for child in children[1:] if not isinstance(child, Token))
        if name == "date":
            return _date_literal(args, meta.column)
        if name in ("true", "false") and not args:
            return Literal(name == "true", at=meta.column)
        return Call(name, args, at=meta.column)


def _date_literal(args, column):
    """date('2026-01-31') is a constant: check it now, not on every evaluation."""
    if len(args) != 1 or not isinstance(args[0], Literal) or not isinstance(args[0].value, str):
        raise ExpressionError("date() takes one quoted date, like date('2026-01-31')", column)
    try:
        return Literal(date.fromisoformat(args[0].value), at=column) \
            if len(args[0].value) == 10 else _bad_date(args[0].value, column)
    except ValueError:
        _bad_date(args[0].value, column)


def _bad_date(text, column):
    raise ExpressionError(f"date({text!r}) is not a date: write date('YYYY-MM-DD')", column)
