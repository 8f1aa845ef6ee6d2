"""The nodes of a checked expression: what every compiler (Python, SQL, browser) walks.

A node's `type` is set by the type checker (typecheck.py) and is one of
TYPES; `at` is the 1-based column in the expression text, for messages.
Empty answers are None everywhere; docs/FORMS.md ("Expressions") gives
each node's meaning, and evaluate.py is the reference implementation.
"""

from dataclasses import dataclass, field

from collector.forms.values import MAX_NUMBER_CHARS

# 'multi' is a multi_choice answer: usable only inside selected() and count-selected().
TYPES = ("integer", "decimal", "text", "date", "datetime", "boolean", "multi")
NUMBER_TYPES = ("integer", "decimal")
ARITHMETIC = ("+", "-", "*", "div", "mod")
COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
LOGIC = ("and", "or")
# div keeps this many decimal places, truncated toward zero, in all three compilers.
DIV_PLACES = 10
# number(text) reads text that, once leading and trailing spaces are trimmed, is at most
# MAX_NUMBER_CHARS long (as a typed number may be) and matches this; anything else is empty.
# All three compilers use these patterns (form_logic.js spells them out).
NUMBER_TEXT = r"[+-]?[0-9]+(\.[0-9]+)?"
NUMBER_TEXT_TRIM = " "
NUMBER_TEXT_MAX = MAX_NUMBER_CHARS
# A choice field whose every code matches this gives number() a whole number.
WHOLE_NUMBER_TEXT = r"[+-]?[0-9]+"


@dataclass(frozen=True)
class Node:
    type: str = field(default="", kw_only=True)
    at: int = field(default=0, kw_only=True, compare=False)


@dataclass(frozen=True)
class Literal(Node):
    """A number (int or Decimal), a string, a date, or a boolean."""
    value: object


@dataclass(frozen=True)
class Ref(Node):
    """A field's value: ${name}, or `.` (this field) resolved to its name."""
    name: str


@dataclass(frozen=True)
class IsEmpty(Node):
    """`x = ''` (negated: `x != ''`): whether an answer is empty. Never unknown."""
    operand: Node
    negated: bool = False


@dataclass(frozen=True)
class Negate(Node):
    """Unary minus."""
    operand: Node


@dataclass(frozen=True)
class Arith(Node):
    """+ - * div mod on numbers; `-` also on two dates (days between them)."""
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare(Node):
    """= != < <= > >=; unknown when either side is empty."""
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logic(Node):
    """and / or with SQL's three-valued logic."""
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call(Node):
    """A function: not, selected, count-selected, if, coalesce, string-length,
    concat, number, int, round, years-between, today."""
    name: str
    args: tuple


def walk(node):
    """Yield `node` and every node below it."""
    yield node
    for child in children(node):
        yield from walk(child)


def children(node):
    """Return the nodes directly below `node`."""
    if isinstance(node, (IsEmpty, Negate)):
        return (node.operand,)
    if isinstance(node, (Arith, Compare, Logic)):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def references(node):
    """Return the names of the fields an expression reads, in first-seen order."""
    return tuple(dict.fromkeys(n.name for n in walk(node) if isinstance(n, Ref)))


@dataclass(frozen=True)
class Expression:
    """An expression as written in the form file, and its checked tree."""
    source: str
    tree: Node
