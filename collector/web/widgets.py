"""Mirror a field's rules as HTML5 attributes, so the browser checks them first.

The server re-checks everything (validation.py); these attributes only save
the RA a round trip. data-msg-* attributes carry the server's own wording
(messages.py) for static/inline_errors.js to show next to the field.
"""

from decimal import Decimal

from collector.forms import messages
from collector.forms.validation import show_bound

# Up to this many options show as radio buttons; more become a drop-down.
MAX_RADIO_CHOICES = 7

INPUT_TYPES = {"text": "text", "email": "email", "integer": "number", "decimal": "number",
               "date": "date", "datetime": "datetime-local"}


def widget(field):
    """Return which template block draws the field: input, textarea, radios, select, checkboxes."""
    if field.type == "long_text":
        return "textarea"
    if field.type == "boolean":
        return "radios"
    if field.type == "choice":
        return "radios" if len(field.choices) <= MAX_RADIO_CHOICES else "select"
    if field.type == "multi_choice":
        return "checkboxes"
    return "input"


def options(field):
    """Return [(value, label)] for radios, selects and checkboxes."""
    if field.type == "boolean":
        return [("true", "Yes"), ("false", "No")]
    return [(choice.value, choice.label) for choice in field.choices]


def input_attributes(field, timezone):
    """Return the attributes that mirror the field's rules on an <input> or <textarea>.

    A field that form logic can hide is `required` only while shown: form_page.js
    sets it then, and without JavaScript the server alone decides.
    """
    if field.calculation is not None:
        # Never typed and never sent (no name): the browser shows the value, the server computes it.
        return {"readonly": True, "data-calculated": field.type}
    attributes = {"required": field.required and field.shown is None, "maxlength": field.max_length,
                  "minlength": field.min_length, "pattern": field.pattern}
    if field.type in INPUT_TYPES:
        attributes["type"] = INPUT_TYPES[field.type]
    if field.type == "integer":
        attributes.update(step=1, inputmode="numeric")
    if field.type == "decimal":
        attributes.update(step=_step(field.places), inputmode="decimal")
    if field.type == "datetime":
        attributes["step"] = 60
    attributes["min"] = _bound(field.min, field.type, timezone)
    attributes["max"] = _bound(field.max, field.type, timezone)
    if field.type == "email":
        attributes["autocomplete"] = "email"
    return {key: value for key, value in attributes.items() if value not in (None, False)}


def _step(places):
    return "any" if places is None else ("1" if places == 0 else f"0.{'0' * (places - 1)}1")


def _bound(bound, kind, timezone):
    if bound is None:
        return None
    if kind == "datetime":
        # datetime-local has no zone: show the bound in the form's own time zone.
        return bound.astimezone(timezone).strftime("%Y-%m-%dT%H:%M")
    if kind == "date":
        return bound.isoformat()
    return str(bound)


def message_attributes(field, timezone):
    """Return data-msg-* attributes: the message for each way the browser can refuse a value."""
    found = {
        "value-missing": messages.required(field) if field.required else None,
        "pattern-mismatch": messages.pattern(field) if field.pattern else None,
        "too-long": messages.too_long(field.max_length) if field.max_length else None,
        "too-short": messages.too_short(field.min_length) if field.min_length else None,
        "type-mismatch": messages.EMAIL if field.type == "email" else None,
        "bad-input": messages.BAD_INPUT.get(field.type),
        "step-mismatch": (messages.WHOLE_NUMBER if field.type == "integer" else
                          messages.places(field.places) if field.places is not None else None),
    }
    if field.min is not None:
        found["range-underflow"] = messages.below(field, show_bound(field, field.min, timezone))
    if field.max is not None:
        found["range-overflow"] = messages.above(field, show_bound(field, field.max, timezone))
    return {f"data-msg-{key}": value for key, value in found.items() if value}


def calculated_text(field, value, timezone):
    """Write a calculated value as the page shows it (form_page.js writes it the same way)."""
    if value is None:
        return ""
    if field.type == "boolean":
        return "Yes" if value else "No"
    if field.type == "datetime":
        return value.astimezone(timezone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)
