"""Check a parsed form file against every rule, naming file, field and rule.

Each check either returns the cleaned value or raises SpecError. Nothing here
touches the database: a bad file must be refused before any table exists.
"""

import difflib
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from collector.forms import bounds
from collector.forms.logic_checks import LOGIC_KEYS, check_logic
from collector.forms.names import column_name_problem, table_name_problem
from collector.forms.sections import check_sections

FIELD_TYPES = ("text", "long_text", "integer", "decimal", "date", "datetime",
               "boolean", "choice", "multi_choice", "email")

# Which rules each type accepts, beyond name, label, hint, type and required.
RULES_BY_TYPE = {
    "text": {"min_length", "max_length", "pattern"},
    "long_text": {"min_length", "max_length"},
    "email": {"max_length"},
    "integer": {"min", "max"},
    "decimal": {"min", "max", "places"},
    "date": {"min", "max"},
    "datetime": {"min", "max"},
    "boolean": set(),
    "choice": {"choices"},
    "multi_choice": {"choices"},
}
COMMON_FIELD_KEYS = ("name", "label", "hint", "type", "required", "section") + LOGIC_KEYS
FORM_KEYS = ("title", "description", "access", "timezone", "key", "section_pages", "sections",
             "fields")
# Types a form's key field may have: one value the PI can type into a search box.
# A boolean or a date-time is no one's key; long text and ticks are not one value to match.
KEY_TYPES = ("text", "email", "integer", "decimal", "date", "choice")
ACCESS_MODES = ("invite", "public")
MAX_PLACES = 15
# The longest address SMTP allows (RFC 5321); the default cap for email fields.
EMAIL_MAX_LENGTH = 254


class SpecError(ValueError):
    """A form file breaks a rule; the message names the file, field and rule."""

    def __init__(self, path, field, problem):
        self.path, self.field, self.problem = path, field, problem
        where = f"{path}: field {field!r}" if field else f"{path}"
        super().__init__(f"{where}: {problem}")


def check_form(path, document):
    """Return the form's checked settings and fields as plain dicts."""
    fail = lambda problem: SpecError(path, None, problem)  # noqa: E731
    problem = table_name_problem(path.stem)
    if problem:
        raise fail(f"the file name becomes the table name, and {problem}")
    _refuse_unknown_keys(document, FORM_KEYS, fail, "form setting")
    _refuse_nul_characters(path, document)
    title = _text(document.get("title"), "title", fail, required=True)
    access = document.get("access", "invite")
    if access not in ACCESS_MODES:
        raise fail(f"access must be one of {', '.join(ACCESS_MODES)}, not {access!r}")
    fields = document.get("fields")
    if not isinstance(fields, list) or not fields:
        raise fail("no fields: add at least one [[fields]] table")
    timezone = _timezone(document.get("timezone", "UTC"), fail)
    checked = [check_field(path, raw, index, timezone) for index, raw in enumerate(fields, 1)]
    _refuse_duplicates([f["name"] for f in checked], lambda name: SpecError(
        path, name, "is declared more than once"))
    sections = check_sections(path, document.get("sections"), checked, fail, _refuse_unknown_keys,
                              _text)
    section_pages = document.get("section_pages", False)
    if not isinstance(section_pages, bool):
        raise fail("section_pages must be true or false")
    if section_pages and not sections:
        raise fail("section_pages = true needs [[sections]] to make pages of")
    order = check_logic(path, checked, sections,
                        lambda name, problem: SpecError(path, name, problem))
    return {"title": title, "description": _text(document.get("description"), "description", fail),
            "access": access, "timezone": timezone, "fields": checked, "sections": sections,
            "section_pages": section_pages, "order": order,
            "key": _check_key(document.get("key"), checked, fail)}


def default_key(fields):
    """Return the name of the first field that can be the key, or None (fields as dicts or Fields)."""
    for field in fields:
        kind = field["type"] if isinstance(field, dict) else field.type
        if kind in KEY_TYPES:
            return field["name"] if isinstance(field, dict) else field.name
    return None


def _check_key(key, fields, fail):
    """Return the key field's name: the one given, or the first field that can be one."""
    if key is None:
        return default_key(fields)
    types = {field["name"]: field["type"] for field in fields}
    if not isinstance(key, str) or key not in types:
        close = difflib.get_close_matches(str(key), types, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise fail(f"key {key!r} is not one of the form's fields{hint}")
    if types[key] not in KEY_TYPES:
        raise fail(f"key {key!r} is a {types[key]} field, which cannot be searched by one value: "
                   f"the key must be a {', '.join(KEY_TYPES)} field")
    return key


def check_field(path, raw, index, timezone):
    """Return one field's checked declaration as a dict of Field's arguments."""
    if not isinstance(raw, dict):
        raise SpecError(path, f"#{index}", "each field must be a [[fields]] table")
    name = raw.get("name")
    fail = lambda problem: SpecError(path, name or f"#{index}", problem)  # noqa: E731
    if name is None:
        raise fail("has no name")
    problem = column_name_problem(name)
    if problem:
        raise fail(problem)
    kind = raw.get("type")
    if kind not in FIELD_TYPES:
        raise fail(f"type must be one of {', '.join(FIELD_TYPES)}, not {kind!r}")
    allowed = RULES_BY_TYPE[kind]
    _refuse_unknown_keys(raw, COMMON_FIELD_KEYS + tuple(sorted(allowed)), fail,
                         f"rule for a {kind} field")
    required = raw.get("required", False)
    if not isinstance(required, bool):
        raise fail("required must be true or false")
    field = {"name": name, "type": kind, "required": required,
             "label": _text(raw.get("label"), "label", fail) or name.replace("_", " ").capitalize(),
             "hint": _text(raw.get("hint"), "hint", fail)}
    # Expressions are checked once every field is known (logic_checks.py).
    field.update({key: raw[key] for key in ("section",) + LOGIC_KEYS if key in raw})
    if "section" in raw and not isinstance(raw["section"], str):
        raise fail("section must be a string")  # logic_checks.py checks the logic keys' types
    field.update(_check_rules(kind, raw, fail, timezone))
    return field


def _check_rules(kind, raw, fail, timezone):
    rules = {}
    if "min" in raw or "max" in raw:
        rules.update(bounds.check_range(kind, raw.get("min"), raw.get("max"), fail, timezone))
    if "min_length" in raw or "max_length" in raw:
        rules.update(_check_lengths(raw.get("min_length"), raw.get("max_length"), fail))
    if "pattern" in raw:
        rules["pattern"] = _check_pattern(raw["pattern"], fail)
    if "places" in raw:
        places = raw["places"]
        if type(places) is not int or not 0 <= places <= MAX_PLACES:
            raise fail(f"places must be a whole number from 0 to {MAX_PLACES}, not {places!r}")
        rules["places"] = places
    if kind in ("choice", "multi_choice"):
        rules["choices"] = _check_choices(raw.get("choices"), fail)
    if kind == "email" and not rules.get("max_length"):
        rules["max_length"] = EMAIL_MAX_LENGTH
    return rules


def _check_lengths(min_length, max_length, fail):
    for key, value in (("min_length", min_length), ("max_length", max_length)):
        if value is not None and (type(value) is not int or value < 1):
            raise fail(f"{key} must be a whole number of at least 1, not {value!r}")
    if min_length and max_length and min_length > max_length:
        raise fail(f"min_length ({min_length}) is greater than max_length ({max_length})")
    return {"min_length": min_length, "max_length": max_length}


def _check_pattern(pattern, fail):
    if not isinstance(pattern, str) or not pattern:
        raise fail("pattern must be a non-empty string")
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as error:  # also a{4294967296}, deep nesting
        problem = error if isinstance(error, re.error) else "too large or nested too deeply"
        raise fail(f"pattern {pattern[:100]!r} is not a valid regular expression: {problem}") from None
    return pattern


def _check_choices(choices, fail):
    if not isinstance(choices, list) or not choices:
        raise fail('choices is empty: list at least one { value = "...", label = "..." }')
    checked = []
    for choice in choices:
        if not isinstance(choice, dict) or set(choice) - {"value", "label"} or "value" not in choice:
            raise fail(f'each choice must be {{ value = "...", label = "..." }}, not {choice!r}')
        value = choice["value"]
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            raise fail(f'choice value {value!r} must be non-empty text without outer spaces '
                       f'(write value = "{value}" for a code)')
        checked.append({"value": value, "label": _text(choice.get("label"), "label", fail) or value})
    _refuse_duplicates([c["value"] for c in checked],
                       lambda value: fail(f"choice value {value!r} appears more than once"))
    return checked


def _timezone(name, fail):
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise fail(f"timezone {name!r} is not a known IANA time zone such as 'Europe/London'") from None


def _text(value, key, fail, required=False):
    if value is None:
        if required:
            raise fail(f"{key} is missing")
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise fail(f"{key} must be a non-empty string" if required else f"{key} must be a string")
    return value.strip()


def _refuse_nul_characters(path, document):
    """Refuse a NUL character in any text: PostgreSQL cannot store it (comments, views)."""
    for where, value in _strings(document, ()):
        if "\x00" in value:
            fields = document.get("fields")
            field = None
            if where[0] == "fields" and isinstance(fields, list) and isinstance(fields[where[1]], dict):
                field = fields[where[1]].get("name") or f"#{where[1] + 1}"
                where = where[2:]
            key = "".join(f"[{part + 1}]" if isinstance(part, int) else f".{part}"
                          for part in where).lstrip(".")
            raise SpecError(path, field, f"{key} contains a NUL character (\\u0000), which "
                                         "PostgreSQL cannot store: remove it")


def _strings(value, where):
    """Yield (path, text) for every string in a parsed TOML document, keys included."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield where + (key,), key
            yield from _strings(item, where + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, where + (index,))


def _refuse_unknown_keys(table, known, fail, what):
    for key in table:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
            raise fail(f"{key!r} is not a {what}{hint}")


def _refuse_duplicates(values, error):
    seen = set()
    for value in values:
        if value in seen:
            raise error(value)
        seen.add(value)
