"""Views that make the data SQL-ready in `pg:psql` and Dataclips.

- <form>_labelled: the form's table with choice labels instead of codes;
- codebook: one row per field of every form (label, type, rules, choices, and its
  logic as written in the form file: when shown, constraint, calculation).
create_all rebuilds them from the form files each time; views hold no data.
"""

from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from collector.db import review
from collector.db.schema import field_rules, metadata_columns, shown_source
from collector.db.sqltext import ddl, sql_literal
from collector.forms.names import labelled_view_name

# New columns go last, so Dataclips that select by position keep working. `constraint`
# is a reserved word in SQL: constraint_rule needs no quotes in a query.
CODEBOOK_COLUMNS = ("form", "form_title", "position", "field", "label", "type", "required",
                    "hint", "rules", "choices", "section", "relevant", "constraint_rule",
                    "constraint_message", "calculation")


def labelled_select(spec):
    """Return the SELECT behind <form>_labelled."""
    columns = [review.labelled_sql() if c.name == review.COLUMN else c.name
               for c in metadata_columns()]
    for field in spec.fields:
        columns.append(_labelled_column(field) if field.choices else field.name)
    return f"SELECT {', '.join(columns)} FROM {spec.name}"


def _labelled_column(field):
    cases = " ".join(f"WHEN {sql_literal(c.value)} THEN {sql_literal(c.label)}" for c in field.choices)
    if field.type == "choice":
        return f"CASE {field.name} {cases} ELSE {field.name} END AS {field.name}"
    # multi_choice: the labels in the order they were stored, joined for reading.
    return (f"array_to_string(ARRAY(SELECT CASE code {cases} ELSE code END FROM "
            f"unnest({field.name}) WITH ORDINALITY AS picked(code, n) ORDER BY n), '; ') "
            f"AS {field.name}")


def codebook_select(specs):
    """Return the SELECT behind the codebook view, from the form files."""
    rows = []
    for spec in specs:
        for position, field in enumerate(spec.fields, 1):
            choices = "; ".join(f"{c.value} = {c.label}" for c in field.choices)
            values = [spec.name, spec.title, position, field.name, field.label, field.type,
                      field.required, field.hint, ", ".join(field_rules(field)), choices,
                      field.section or "", shown_source(spec, field),
                      field.constraint.source if field.constraint else "",
                      field.constraint_message if field.constraint else "",
                      field.calculation.source if field.calculation else ""]
            rows.append("(" + ", ".join(_literal(v) for v in values) + ")")
    return (f"SELECT * FROM (VALUES {', '.join(rows)}) AS codebook({', '.join(CODEBOOK_COLUMNS)}) "
            "ORDER BY form, position")


def _literal(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return sql_literal(value) + "::text"


def replace_view(conn, name, select, comment):
    """Create or update view `name`; rebuild it when its columns changed."""
    try:
        with conn.begin_nested():
            conn.execute(ddl(f"CREATE OR REPLACE VIEW {name} AS {select}"))
    except ProgrammingError:  # columns removed or retyped: OR REPLACE cannot do that
        conn.execute(text(f"DROP VIEW {name}"))
        conn.execute(ddl(f"CREATE VIEW {name} AS {select}"))
    conn.execute(text(f"COMMENT ON VIEW {name} IS :comment"), {"comment": comment})


def refresh_views(conn, specs):
    """Rebuild every form's labelled view and the codebook."""
    for spec in specs:
        replace_view(conn, labelled_view_name(spec.name), labelled_select(spec),
                     f"{spec.title}, with choice labels instead of codes (from forms/{spec.path.name}).")
    replace_view(conn, "codebook", codebook_select(specs),
                 "Every field of every form: label, type, rules, choices and logic "
                 "(from forms/*.toml).")
