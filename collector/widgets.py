"""Mirror a field's rules as HTML5 attributes, so the browser checks them first.

The server re-checks everything (validation.py); these attributes only save
the RA a round trip.
"""

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
    """Return the attributes that mirror the field's rules on an <input> or <textarea>."""
    attributes = {"required": field.required, "maxlength": field.max_length,
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
