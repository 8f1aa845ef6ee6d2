"""Apply a form's logic to a submission on the server: the authority.

After each field's text is parsed (validation.py), fields are visited in
the form's evaluation order: a field that is not shown gets NULL whatever
was sent (and loses any error), a calculated field gets its computed value,
`required` applies only to shown fields, and finally each shown field with a
value is held to its constraint. The browser (static/form_logic.js) and the
database (collector/db/logic_sql.py) apply the same rules from the same trees.
"""

from collector.forms import messages
from collector.forms.expressions.evaluate import evaluate, round_half_away


def shown_when(spec, field):
    """Return the checked tree deciding when `field` is shown, or None (always shown)."""
    return field.shown


def evaluation_order(spec):
    """Return the form's field names, each after every field its logic reads."""
    return spec.order


def is_empty(value):
    """Whether an answer counts as empty: None, or a multi_choice with no ticks."""
    return value is None or value == []


def apply_logic(spec, parsed, errors, check_value, today=None):
    """Return the values to store; add logic errors to `errors` (by field name).

    `parsed` holds each field's typed value (None when empty or refused);
    `check_value(field, value)` applies the field's own rules to a calculated
    value and raises ValueError with the message.
    """
    values = {}
    for name in spec.order:
        field = spec.fields_by_name[name]
        if field.shown is not None and evaluate(field.shown, values, spec.timezone, today) is not True:
            values[name] = None  # hidden: whatever was sent is discarded, never stored
            errors.pop(name, None)
            continue
        if field.calculation is not None:
            values[name] = _calculate(field, values, spec, today, check_value, errors)
        else:
            values[name] = parsed.get(name)
        if field.required and is_empty(values[name]) and name not in errors:
            errors[name] = messages.required(field)
            values[name] = None  # a refused answer is no value, as for any other error (and in the browser)
    for field in spec.fields:
        value = values[field.name]
        if field.constraint is None or is_empty(value) or field.name in errors:
            continue
        if evaluate(field.constraint.tree, values, spec.timezone, today) is False:
            errors[field.name] = field.constraint_message
    return values


def calculated_value(field, values, timezone, today=None):
    """Return a calculated field's value as it is stored (decimals rounded to `places`)."""
    value = evaluate(field.calculation.tree, values, timezone, today)
    if value is None or value == "":  # an empty text result is stored as NULL, like an empty answer
        return None
    if field.type == "decimal":
        return round_half_away(value, field.places) if field.places is not None else value
    return value


def _calculate(field, values, spec, today, check_value, errors):
    value = calculated_value(field, values, spec.timezone, today)
    if value is not None:
        try:
            check_value(field, value)
        except ValueError as problem:
            errors[field.name] = messages.calculated(value, problem)
    return value
