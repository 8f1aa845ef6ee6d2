"""Turn a form spec into a typed SQLAlchemy table with constraints, indexes and comments.

The comments make `\\d+ <form>` in `heroku pg:psql` read as a codebook:
every column carries its label, hint, rules and choice labels.
"""

from sqlalchemy import (ARRAY, BigInteger, Boolean, CheckConstraint, Column, Date, DateTime,
                        Identity, Integer, Numeric, Table, Text, Uuid, func, text)

from collector.db import review
from collector.db.checks import always_required, field_checks
from collector.db.indexes import form_indexes
from collector.db.sqltext import ddl

SQL_TYPES = {
    "text": Text, "long_text": Text, "email": Text, "choice": Text,
    "integer": Integer, "decimal": Numeric, "date": Date,
    "datetime": lambda: DateTime(timezone=True), "boolean": Boolean,
    "multi_choice": lambda: ARRAY(Text),
}


def metadata_columns():
    """Return the columns every form table has, before its fields."""
    return [
        Column("id", BigInteger, Identity(always=True), primary_key=True,
               comment="Row number, assigned by the database."),
        Column("submission_id", Uuid, nullable=False, unique=True,
               comment="Reference minted when the form was shown; a resubmission "
                       "with the same reference never adds a second row."),
        Column("submitted_at", DateTime(timezone=True), nullable=False,
               server_default=func.now(), comment="When the row was saved."),
        Column("entered_by", Text, comment="The research assistant who entered the row "
                                           "(from their invite); empty on public forms."),
        Column("form_version", Text, nullable=False,
               comment="Hash of the form file the row was entered with."),
        Column(review.COLUMN, Text, nullable=False, server_default=text(f"'{review.DEFAULT}'"),
               comment="Review of the row in the PI area: " + ", ".join(review.STATUSES)
                       + ". Each change and its query text are in audit_trail."),
    ]


def field_column(spec, field):
    """Return the column for one field: its type, NOT NULL and comment.

    A required field that can be hidden stays nullable: it is NULL while
    hidden, and its "required" CHECK asks for a value only while shown.
    """
    return Column(field.name, SQL_TYPES[field.type](), nullable=not always_required(spec, field),
                  comment=column_comment(spec, field))


def build_table(spec, metadata):
    """Return the Table for `spec`, added to `metadata`."""
    columns = metadata_columns() + [field_column(spec, f) for f in spec.fields]
    checks = [CheckConstraint(ddl(sql), name=name)
              for field in spec.fields for name, sql in field_checks(spec, field)]
    checks.append(CheckConstraint(review.check_sql(), name=review.check_name(spec.name)))
    # The PI's rows page, chart and Dataclips read by time, RA, review status and key.
    indexes = [index.index() for index in form_indexes(spec)]
    return Table(spec.name, metadata, *columns, *checks, *indexes, comment=table_comment(spec))


def table_comment(spec):
    """Describe the form for `\\dt+` and the codebook."""
    text = spec.title + (f". {spec.description}" if spec.description else "")
    return f"{text} (form file forms/{spec.path.name}, version {spec.version})"


def field_rules(field):
    """Return the field's rules in words, e.g. ["min 16", "max 120"]."""
    return [f"{key.replace('_', ' ')} {value}" for key, value in (
        ("min", field.min), ("max", field.max), ("min_length", field.min_length),
        ("max_length", field.max_length), ("pattern", field.pattern), ("places", field.places),
    ) if value is not None]


def column_comment(spec, field):
    """Describe a field in words a PI reads in `\\d+`: label, hint, rules, choices, logic."""
    parts = [field.label + (f" - {field.hint}" if field.hint else "")]
    required = "Required" if field.required else "Optional"
    if field.required and not always_required(spec, field):
        required = "Required when shown"
    parts.append(f"{required} {field.type.replace('_', ' ')}")
    rules = field_rules(field)
    if rules:
        parts.append(", ".join(rules))
    if field.choices:
        parts.append("Choices: " + "; ".join(f"{c.value} = {c.label}" for c in field.choices))
    parts += [f"{words}: {text}" for words, text in (
        ("Shown only when", shown_source(spec, field)), ("Rule", constraint_source(field)),
        ("Calculated", field.calculation.source if field.calculation else ""),
    ) if text]
    return ". ".join(parts) + "."


def shown_source(spec, field):
    """Return when the field is shown, as written in the form file ("" when always)."""
    section = next((s for s in spec.sections if s.name == field.section), None)
    parts = []
    if section is not None and section.relevant is not None:
        parts.append(f"{section.relevant.source} (section {section.title})")
    if field.relevant is not None:
        parts.append(field.relevant.source)
    return " and ".join(parts)


def constraint_source(field):
    """Return the field's constraint and its message ("" when it has none)."""
    if field.constraint is None:
        return ""
    return f"{field.constraint.source} ({field.constraint_message})"
