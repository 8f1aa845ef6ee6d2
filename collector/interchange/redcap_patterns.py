"""The shapes REDCap's functions take in our expression language, written and recognised.

Our language has no abs(), floor, ceiling, datediff() or blank-skipping sum(),
so the importer writes each as a fixed pattern of what it does have, and the
exporter recognises exactly those patterns to write the REDCap function back.
Keeping both directions here is what makes import -> export -> import give
the same form file.
"""

from dataclasses import fields, replace
from decimal import Decimal

from collector.forms.expressions.tree import Arith, Call, Compare, Literal, Negate

# REDCap's datediff(): 'y' is days / 365.2425 and 'M' days / 30.44; h, m, s multiply days.
DIVIDE_DAYS = {"y": Decimal("365.2425"), "M": Decimal("30.44")}
MULTIPLY_DAYS = {"h": 24, "m": 1440, "s": 86400}
# Most places rounddown()/roundup() keep that `div` can still hold exactly.
MAX_PLACES = 10


# Writing (import): each takes operands as expression text with precedence already settled.

def abs_text(x):
    """|x| as if(x < 0, -x, x)."""
    return f"if({x} < 0, -{_atom(x)}, {x})"


def floor_text(x):
    """The largest whole number <= x (REDCap's rounddown(x, 0))."""
    return f"if({x} < int({x}), int({x}) - 1, int({x}))"


def ceiling_text(x):
    """The smallest whole number >= x (REDCap's roundup(x, 0))."""
    return f"if({x} > int({x}), int({x}) + 1, int({x}))"


def sum_text(terms):
    """REDCap's sum(): blanks count as nothing."""
    return " + ".join(f"coalesce({term}, 0)" for term in terms)


def _atom(text):
    """Bracket `text` unless it is one name, number or call (cheap, and always safe)."""
    simple = text.startswith("${") and text.endswith("}") and text.count("$") == 1
    return text if simple or text.replace(".", "").isdigit() else f"({text})"


# Recognising (export): each takes a checked tree node and returns its operands or None.

def match_abs(node):
    """Return x when node is if(x < 0, -x, x)."""
    args = _if_args(node)
    if args and isinstance(args[0], Compare) and args[0].op == "<" and _is_number(args[0].right, 0):
        x = args[2]
        if _same(args[0].left, x) and isinstance(args[1], Negate) and _same(args[1].operand, x):
            return x
    return None


def match_floor(node):
    """Return x when node is if(x < int(x), int(x) - 1, int(x))."""
    return _match_step(node, "<", "-")


def match_ceiling(node):
    """Return x when node is if(x > int(x), int(x) + 1, int(x))."""
    return _match_step(node, ">", "+")


def _match_step(node, compare, step):
    args = _if_args(node)
    if not args or not isinstance(args[0], Compare) or args[0].op != compare:
        return None
    x = args[0].left
    whole = args[2]
    if not (_is_call(whole, "int") and _same(whole.args[0], x) and _same(args[0].right, whole)):
        return None
    stepped = args[1]
    if isinstance(stepped, Arith) and stepped.op == step and _same(stepped.left, whole) \
            and _is_number(stepped.right, 1):
        return x
    return None


def match_scaled(node):
    """Return (y, places) when node is `y div 10^places` (rounddown/roundup to places)."""
    if isinstance(node, Arith) and node.op == "div" and isinstance(node.right, Literal):
        places = _power_of_ten(node.right.value)
        if places:
            return node.left, places
    return None


def unscale(node, places):
    """Return x when node is `x * 10^places`, else None."""
    if isinstance(node, Arith) and node.op == "*" and isinstance(node.right, Literal) \
            and _power_of_ten(node.right.value) == places:
        return node.left
    return None


def match_sum(node):
    """Return [x, ...] when node is coalesce(x, 0) + coalesce(y, 0) + ..."""
    terms = []
    while isinstance(node, Arith) and node.op == "+" and _blank_as_zero(node.right) is not None:
        terms.append(_blank_as_zero(node.right))
        node = node.left
    first = _blank_as_zero(node)
    if first is None:
        return None
    return [first] + terms[::-1]


def _blank_as_zero(node):
    if _is_call(node, "coalesce") and len(node.args) == 2 and _is_number(node.args[1], 0):
        return node.args[0]
    return None


def is_date_difference(node):
    """Whether node is date - date (days between two dates)."""
    return isinstance(node, Arith) and node.op == "-" and node.left.type == "date"


def is_never_negative(node):
    """Whether a number expression can never be below zero (so rounddown is int())."""
    if match_abs(node) is not None:
        return True
    if isinstance(node, Literal):
        return not isinstance(node.value, bool) and isinstance(node.value, (int, Decimal)) \
            and node.value >= 0
    if _is_call(node, "count-selected") or _is_call(node, "string-length"):
        return True
    if isinstance(node, Arith) and node.op in ("*", "div", "+"):
        return is_never_negative(node.left) and is_never_negative(node.right)
    return False


def _if_args(node):
    return node.args if _is_call(node, "if") and len(node.args) == 3 else None


def _is_call(node, name):
    return isinstance(node, Call) and node.name == name


def _is_number(node, value):
    return isinstance(node, Literal) and not isinstance(node.value, bool) \
        and isinstance(node.value, (int, Decimal)) and node.value == value


def _power_of_ten(value):
    """Return n when value is 10^n for 1 <= n <= MAX_PLACES, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    for places in range(1, MAX_PLACES + 1):
        if value == 10 ** places:
            return places
    return None


def _same(a, b):
    """Whether two subtrees are the same expression (columns and types aside)."""
    return _strip(a) == _strip(b)


def _strip(node):
    """Return node with every type blanked, so checked and unchecked trees compare."""
    changes = {}
    for item in fields(node):
        value = getattr(node, item.name)
        if item.name == "type":
            changes["type"] = ""
        elif hasattr(value, "__dataclass_fields__"):
            changes[item.name] = _strip(value)
        elif isinstance(value, tuple):
            changes[item.name] = tuple(_strip(v) if hasattr(v, "__dataclass_fields__") else v
                                       for v in value)
    return replace(node, **changes)
