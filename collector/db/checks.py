"""Derive a field's database CHECK constraints from its form-file rules and logic.

Each constraint has a name and SQL. The name ends in a hash of the SQL, so a
rule changed in the form file shows up as a missing constraint in create_all's
drift report instead of silently keeping the old rule. Names read
ck_<table>_<column>_<rule>_<hash>, so a refusal in the log and `\\d+` say
which field broke which rule.

Form logic (docs/FORMS.md, "Form logic") becomes four rules, compiled by
logic_sql.py from the same trees the server evaluates:
- relevant: a field that is not shown holds NULL;
- required: a field that can be hidden needs a value only while shown (its
  column stays nullable; an always-shown required field is NOT NULL instead);
- constraint: checked only when the field has a value, broken only when false;
- calculation: the stored value is the expression's (NULL while hidden).
"""

import hashlib
from dataclasses import dataclass

from collector.db.logic_sql import to_sql
from collector.db.sqltext import sql_literal
from collector.forms.expressions.tree import references
from collector.forms.logic import shown_when

# Same shape as the server's check in validation.py, in PostgreSQL's dialect.
EMAIL_SQL_PATTERN = "^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$"


@dataclass(frozen=True)
class Check:
    """One CHECK constraint of a field."""
    name: str
    rule: str
    sql: str
    # Columns the SQL reads: a rule reading a column of another type than the
    # form's cannot be added until that column is converted.
    reads: frozenset
    # From relevant, constraint or calculation: old rows were never held to it.
    logic: bool = False


def constraint_name(table, column, rule, sql):
    """Return a stable name under PostgreSQL's 63-byte limit."""
    digest = hashlib.sha256(f"{table}.{column}.{sql}".encode()).hexdigest()[:6]
    return f"ck_{table}_{column}_{rule}"[:63 - 7] + "_" + digest


def field_checks(spec, field):
    """Return [(name, sql), ...] for every CHECK the field's rules and logic imply."""
    return [(check.name, check.sql) for check in checks_of(spec, field)]


def checks_of(spec, field):
    """Return the field's Checks: its own rules, then its logic."""
    own = frozenset((field.name,))
    shown = shown_when(spec, field)
    found = [(rule, sql, own, False) for rule, sql in _rules(field, shown is None) if sql]
    found += [(rule, sql, own | reads, True) for rule, sql, reads in _logic_rules(spec, field, shown)]
    return [Check(constraint_name(spec.name, field.name, rule, sql), rule, sql, reads, logic)
            for rule, sql, reads, logic in found]


def always_required(spec, field):
    """Whether the column is NOT NULL: required, and never hidden."""
    return field.required and shown_when(spec, field) is None


def _rules(field, always_shown):
    column = field.name
    yield "range", _range_sql(field)
    yield "length", _length_sql(column, field.min_length, field.max_length)
    if field.places is not None:
        yield "places", f"scale({column}) <= {field.places}"
    if field.type == "choice":
        yield "choice", f"{column} IN ({', '.join(map(sql_literal, field.choice_values))})"
    if field.type == "multi_choice":
        options = ", ".join(map(sql_literal, field.choice_values))
        yield "choice", f"{column} <@ ARRAY[{options}]::text[]"
        if field.required and always_shown:  # else the logic rule "required" says it
            yield "required", f"cardinality({column}) >= 1"
    if field.type == "email":
        yield "email", f"{column} ~ {sql_literal(EMAIL_SQL_PATTERN)}"


def _logic_rules(spec, field, shown):
    """Yield (rule, sql, columns read) for the field's relevance, constraint and calculation."""
    column, multi = field.name, field.type == "multi_choice"
    sql = lambda tree: to_sql(tree, spec.timezone)  # noqa: E731
    if shown is not None:
        when = sql(shown)
        # `IS TRUE`: a relevance that is unknown hides the field, as in the browser and server.
        yield "relevant", f"({when}) IS TRUE OR {column} IS NULL", frozenset(references(shown))
        if field.required:
            answered = f"coalesce(cardinality({column}), 0) >= 1" if multi else f"{column} IS NOT NULL"
            yield "required", f"({when}) IS NOT TRUE OR {answered}", frozenset(references(shown))
    if field.constraint is not None:
        tree = field.constraint.tree
        # No ticks is no answer: the rule is not asked.
        empty = f"coalesce(cardinality({column}), 0) = 0" if multi else f"{column} IS NULL"
        yield "constraint", f"{empty} OR ({sql(tree)}) IS NOT FALSE", frozenset(references(tree))
    if field.calculation is not None:
        tree = field.calculation.tree
        value = sql(tree)
        if field.type == "decimal" and field.places is not None:
            value = f"round({value}, {field.places})"  # half away from zero, as the server
        if tree.type == "text":
            value = f"NULLIF({value}, '')"  # an empty text result is stored as NULL
        reads = frozenset(references(tree))
        if shown is not None:
            value = f"CASE WHEN ({sql(shown)}) IS TRUE THEN {value} END"
            reads |= frozenset(references(shown))
        yield "calculation", f"{column} IS NOT DISTINCT FROM ({value})", reads


def _range_sql(field):
    cast = {"date": "::date", "datetime": "::timestamptz"}.get(field.type, "")
    parts = []
    for operator, bound in ((">=", field.min), ("<=", field.max)):
        if bound is not None:
            literal = sql_literal(bound.isoformat()) + cast if cast else str(bound)
            parts.append(f"{field.name} {operator} {literal}")
    return " AND ".join(parts)


def _length_sql(column, min_length, max_length):
    parts = []
    if min_length:
        parts.append(f"char_length({column}) >= {min_length}")
    if max_length:
        parts.append(f"char_length({column}) <= {max_length}")
    return " AND ".join(parts)
