"""Translate XLSForm (ODK XPath) expressions into the form language, or say why not.

Our expression language is a subset of XLSForm's, so translating is mostly
renaming `${old}` references and checking that our grammar reads the
result. What ours lacks (regex(), format-date(), paths, `.` outside a
constraint, ...) is named, with the column it starts at, so the report can
say exactly what was left out. A constraint is also split at its top-level
`and`s: a regex() becomes the field's pattern (or the email type), and simple
bounds become min/max, lengths or places, the keys our forms use for them.
Where ODK's XPath silently reads a select_one's code or a text answer as a
number (an arithmetic operand, an ordering, `=` with a number, round()/int()),
the reference is wrapped in number(), which says the same here.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from collector.forms.expressions.grammar import ExpressionError, parse
from collector.forms.expressions.tree import (Arith, Call, Compare, Literal, Negate, Ref,
                                               walk)

# Functions XLSForm shares with our language (date, true and false are literals here).
OUR_FUNCTIONS = {"not", "selected", "count-selected", "if", "coalesce", "string-length",
                 "concat", "number", "int", "round", "today", "date", "true", "false"}

# Words that can stand before a bracket without being a function: `a div (b + c)`.
OPERATOR_WORDS = {"div", "mod", "and", "or"}
# The email check the exporter writes; the importer reads it back as type email.
EMAIL_REGEX = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
# The pattern a `time` question becomes (there is no time type here).
TIME_PATTERN = r"([01][0-9]|2[0-3]):[0-5][0-9]"

_STRING = re.compile(r"'[^']*'|\"[^\"]*\"")
_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_FUNCTION = re.compile(r"([A-Za-z_][\w:.-]*)\s*\(")
_DOT = re.compile(r"(?<![\w.})\]])\.(?![\w.])")

# What translate() needs to know of a reference to wrap it in number() where ODK reads a number.
TEXT, NUMBER = "text", "number"
# Calls that give a number (so `${code} = count-selected(...)` compares numbers in XPath).
NUMBER_CALLS = {"number", "int", "round", "count-selected", "string-length"}
ORDERINGS = {"<", "<=", ">", ">="}


class Untranslatable(ValueError):
    """An expression our language cannot say; `column` is 1-based in the XLSForm text."""

    def __init__(self, problem, column=None):
        self.problem, self.column = problem, column
        super().__init__(f"{problem} (at column {column})" if column else problem)


def translate(text, renames, key, kinds=None):
    """Return `text` with references renamed, in our language; raise Untranslatable.

    `renames` maps every XLSForm name that was imported to its column name;
    `key` is the column it came from (`.` is allowed only in a constraint).
    `kinds` maps column names (and `.`) to TEXT (a select_one with a numeric
    code, or a text question: ODK reads it as a number where one is needed)
    or NUMBER (an integer or decimal question).
    """
    text = one_line(text)
    blanked = _blank_strings(text)
    _refuse_what_we_lack(blanked, key)
    translated = _rename_references(text, blanked, renames)
    try:
        tree = parse(translated)
    except ExpressionError as error:
        raise Untranslatable(f"our expression language cannot read it: {error.problem}",
                             error.column) from None
    return read_as_numbers(translated, tree, kinds or {})


def read_as_numbers(text, tree, kinds):
    """Return `text` with each TEXT reference ODK reads as a number wrapped in number().

    Only where XPath converts it: an operand of + - * div mod or unary minus,
    either side of < <= > >=, a side of = or != whose other side is a number,
    the first argument of round() or int(). One already inside number() is
    left alone, so an exported `number(${q})` reads back as it was.
    """
    starts = sorted({ref.at - 1 for ref in _needing_numbers(tree, kinds)}, reverse=True)
    for start in starts:
        end = start + 1 if text[start] == "." else text.index("}", start) + 1
        text = f"{text[:start]}number({text[start:end]}){text[end:]}"
    return text


def _needing_numbers(tree, kinds):
    def textual(node):
        return isinstance(node, Ref) and kinds.get(node.name) == TEXT

    def numeric(node):
        if isinstance(node, Literal):
            return isinstance(node.value, (int, Decimal)) and not isinstance(node.value, bool)
        if isinstance(node, Ref):
            return kinds.get(node.name) == NUMBER
        if isinstance(node, Call):
            return node.name in NUMBER_CALLS
        return isinstance(node, (Arith, Negate))

    for node in walk(tree):
        if isinstance(node, Arith):
            sides = (node.left, node.right)
        elif isinstance(node, Negate):
            sides = (node.operand,)
        elif isinstance(node, Compare) and node.op in ORDERINGS:
            sides = (node.left, node.right)
        elif isinstance(node, Compare):
            sides = tuple(side for side, other in ((node.left, node.right), (node.right, node.left))
                          if numeric(other))
        elif isinstance(node, Call) and node.name in ("round", "int") and node.args:
            sides = node.args[:1]
        else:
            continue
        yield from (side for side in sides if textual(side))


def piped_references(text):
    """Return each distinct `${name}` in a label, hint or message, as written, in order."""
    return list(dict.fromkeys(match.group(0) for match in _REFERENCE.finditer(text)))


def one_line(text):
    """Return `text` with line breaks outside strings made spaces (XPath reads them as spacing)."""
    blanked = _blank_strings(text)
    return "".join(" " if blanked[i] in "\r\n\t" else c for i, c in enumerate(text))


def _blank_strings(text):
    """Return `text` with the inside of every quoted string blanked (same length)."""
    return _STRING.sub(lambda m: m.group(0)[0] + " " * (len(m.group(0)) - 2) + m.group(0)[-1], text)


def _refuse_what_we_lack(blanked, key):
    for match in _FUNCTION.finditer(blanked):
        name = match.group(1)
        if name not in OUR_FUNCTIONS and name not in OPERATOR_WORDS:
            raise Untranslatable(f"{name}() has no equivalent in the collector's expression "
                                 "language", match.start() + 1)
    bare = _REFERENCE.sub(lambda m: " " * len(m.group(0)), blanked)
    for character, problem in (("..", "relative paths (..) are not supported"),
                               ("/", "XPath paths (like /data/age) are not supported: write ${age}"),
                               ("[", "XPath predicates [ ] are not supported"),
                               ("|", "XPath unions | are not supported")):
        position = bare.find(character)
        if position >= 0:
            raise Untranslatable(problem, position + 1)
    dot = _DOT.search(bare)
    if dot and key != "constraint":
        raise Untranslatable(f"'.' (this question) is allowed only in a constraint here, not in "
                             f"{key}", dot.start() + 1)


def _rename_references(text, blanked, renames):
    pieces, last = [], 0
    for match in _REFERENCE.finditer(blanked):
        old = text[match.start(1):match.end(1)].strip()
        if old not in renames:
            raise Untranslatable(f"${{{old}}} is not a question this import kept", match.start() + 1)
        pieces.append(text[last:match.start()] + "${" + renames[old] + "}")
        last = match.end()
    return "".join(pieces) + text[last:]


def conjuncts(text):
    """Split `text` at each `and` outside brackets, strings and references.

    Return (offset, part) pairs: `offset` is where the part starts in `text`
    (0-based), so a problem in a part can name its column in the whole rule.
    """
    blanked = _bare(text)
    if _operator_positions(blanked, "or"):
        return [_part(text, 0, len(text))]   # `a or b and c` is `a or (b and c)`: one part
    parts, start = [], 0
    for position in _operator_positions(blanked, "and"):
        parts.append(_part(text, start, position))
        start = position + len("and")
    parts.append(_part(text, start, len(text)))
    return [part for part in parts if part[1]]


def has_top_level_or(text):
    """Return whether `text` has an `or` outside brackets (joined with `and` it needs brackets)."""
    return bool(_operator_positions(_bare(text), "or"))


def _bare(text):
    """Return `text` with strings and ${references} blanked, so only operators show."""
    return _REFERENCE.sub(lambda m: " " * len(m.group(0)), _blank_strings(text))


def _operator_positions(blanked, word):
    """Return where the operator `word` stands outside brackets (not inside a name)."""
    found, depth = [], 0
    for position, character in enumerate(blanked):
        depth += {"(": 1, ")": -1}.get(character, 0)
        before = blanked[position - 1] if position else " "
        after = blanked[position + len(word):position + len(word) + 1] or " "
        if depth == 0 and blanked.startswith(word, position) \
                and not _in_name(before) and not (_in_name(after) or after == "("):
            found.append(position)
    return found


def _in_name(character):
    return character.isalnum() or character in "_-.:"


def _part(text, start, end):
    piece = text[start:end]
    return start + len(piece) - len(piece.lstrip()), piece.strip()


def unwrap(text):
    """Return `text` without one pair of brackets around all of it, if it has one."""
    text = text.strip()
    if not (text.startswith("(") and text.endswith(")")):
        return text
    blanked, depth = _blank_strings(text), 0
    for position, character in enumerate(blanked):
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth == 0 and position < len(text) - 1:
            return text   # the first bracket closes before the end: (a) and (b)
    return text[1:-1].strip()


@dataclass
class ConstraintParts:
    """A constraint split into the field keys it became and the rule left over."""
    rules: dict = field(default_factory=dict)     # min, max, min_length, max_length, places, pattern
    email: bool = False
    rest: list = field(default_factory=list)      # (offset, conjunct) kept as the constraint
    taken: dict = field(default_factory=dict)     # bound key -> (offset, conjunct) it came from
    problems: list = field(default_factory=list)  # (message) for regex() that fits nowhere


def split_constraint(text, kind, keep_bounds):
    """Take the rules our forms keep as keys out of an XLSForm constraint.

    `kind` is the field type; regex() conjuncts always become the pattern (or
    the email type), because our language has no regex(); bounds become
    min/max/lengths/places only when `keep_bounds` is false (the rule has no
    message of its own that would otherwise be lost).
    """
    parts = ConstraintParts()
    for offset, conjunct in conjuncts(one_line(text)):
        try:
            tree = parse(conjunct)
        except ExpressionError:
            parts.rest.append((offset, conjunct))
            continue
        if _take_regex(tree, kind, parts):
            continue
        if not keep_bounds and _take_bound(tree, kind, parts.rules):
            parts.taken[next(reversed(parts.rules))] = (offset, conjunct)
            continue
        parts.rest.append((offset, conjunct))
    return parts


def _take_regex(tree, kind, parts):
    if not (isinstance(tree, Call) and tree.name == "regex"):
        return False
    args = tree.args
    if len(args) != 2 or args[0] != Ref(".") or not isinstance(args[1], Literal) \
            or not isinstance(args[1].value, str):
        parts.problems.append("regex() is supported only as regex(., 'pattern'); left out")
        return True
    if args[1].value == EMAIL_REGEX and kind == "text" and not parts.email:
        parts.email = True
        return True
    if kind != "text":
        parts.problems.append(f"regex() on a {kind} question has no equivalent here (a pattern "
                              "needs a text question); left out")
        return True
    if "pattern" in parts.rules:
        parts.problems.append(f"a second regex() ({args[1].value!r}) has no place: a field has "
                              "one pattern; left out")
        return True
    pattern = pattern_from_regex(args[1].value)
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as error:
        parts.problems.append(f"regex {args[1].value!r} is not a regular expression Python "
                              f"reads ({error}); left out")
        return True
    parts.rules["pattern"] = pattern
    return True


def pattern_from_regex(regex):
    """Return the whole-answer pattern for ODK's regex(), which matches anywhere in the text.

    `^...$` around the whole regex is what a whole-answer pattern means, so
    it is dropped (with one (?:...) around everything); anything else is
    kept as it is, between `.*` where it is not anchored.
    """
    if "|" not in _blank_groups(regex):
        start = regex.startswith("^")
        end = regex.endswith("$") and not regex.endswith("\\$")
        core = regex[1 if start else 0:len(regex) - (1 if end else 0)]
        if start and end:
            return unwrap_group(core)
        return f"{'' if start else '.*'}{core}{'' if end else '.*'}"
    return f".*(?:{regex}).*"


def regex_from_pattern(pattern):
    """Return the regex() text that matches exactly what `pattern` matches as a whole answer."""
    return f"^{pattern}$" if "|" not in _blank_groups(pattern) else f"^(?:{pattern})$"


def unwrap_group(pattern):
    """Return `pattern` without one (?:...) around all of it."""
    if pattern.startswith("(?:") and pattern.endswith(")") and not pattern.endswith("\\)"):
        depth = 0
        for position, character in enumerate(pattern):
            if character == "(" and (position == 0 or pattern[position - 1] != "\\"):
                depth += 1
            elif character == ")" and pattern[position - 1] != "\\":
                depth -= 1
                if depth == 0 and position < len(pattern) - 1:
                    return pattern
        return pattern[3:-1]
    return pattern


def _blank_groups(pattern):
    """Return `pattern` with everything inside brackets or escaped removed (top level only)."""
    depth, kept, escaped = 0, [], False
    for character in pattern:
        if escaped:
            escaped = False
            continue
        if character == "\\":
            escaped = True
        elif character in "([":
            depth += 1
        elif character in ")]":
            depth -= 1
        elif depth == 0:
            kept.append(character)
    return "".join(kept)


def _take_bound(tree, kind, rules):
    """Take `. >= N`, `. <= N`, `string-length(.) >= N`, `round(., N) = .` into `rules`."""
    if not isinstance(tree, Compare):
        return False
    left, op, right = tree.left, tree.op, tree.right
    if kind in ("integer", "decimal", "date") and left == Ref(".") and op in (">=", "<="):
        key = "min" if op == ">=" else "max"
        value = right.value if isinstance(right, Literal) else None
        if kind == "integer" and isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)   # 1.0, as a spreadsheet may write a whole number
        fits = {"integer": lambda v: type(v) is int,
                "decimal": lambda v: type(v) in (int, Decimal),
                "date": lambda v: isinstance(v, date)}[kind]
        if value is None or not fits(value) or key in rules:
            return False
        rules[key] = value
        return True
    if kind in ("text", "long_text", "email") and op in (">=", "<=") \
            and isinstance(left, Call) and left.name == "string-length" and left.args == (Ref("."),):
        key = "min_length" if op == ">=" else "max_length"
        value = right.value if isinstance(right, Literal) else None
        if type(value) is not int or value < 1 or key in rules:
            return False
        rules[key] = value
        return True
    if kind == "decimal" and op == "=" and "places" not in rules:
        call = left if isinstance(left, Call) else right
        other = right if call is left else left
        if isinstance(call, Call) and call.name == "round" and other == Ref(".") \
                and len(call.args) == 2 and call.args[0] == Ref(".") \
                and isinstance(call.args[1], Literal) and type(call.args[1].value) is int \
                and 0 <= call.args[1].value <= 15:
            rules["places"] = call.args[1].value
            return True
    return False
