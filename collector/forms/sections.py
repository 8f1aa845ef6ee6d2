"""Check a form's [[sections]] and which section each field belongs to.

A section groups consecutive fields under a title (and, with
section_pages, on a page of its own). Its `relevant` is checked with the
fields' expressions in logic_checks.py.
"""

from collector.forms.names import IDENTIFIER

SECTION_KEYS = ("name", "title", "intro", "relevant")


def check_sections(path, raw, fields, fail, refuse_unknown_keys, text):
    """Return the checked sections as dicts; every field must sit in one, in order."""
    if raw is None:
        for field in fields:
            if field.get("section") is not None:
                raise fail(f"field {field['name']!r}: section {field['section']!r} is not declared: "
                           "add a [[sections]] table with that name")
        return []
    if not isinstance(raw, list) or not raw or not all(isinstance(s, dict) for s in raw):
        raise fail("sections must be [[sections]] tables, each with a name and a title")
    sections = [_check_section(section, index, fail, refuse_unknown_keys, text)
                for index, section in enumerate(raw, 1)]
    names = [section["name"] for section in sections]
    for name in names:
        if names.count(name) > 1:
            raise fail(f"section {name!r} is declared more than once")
    _check_field_order(names, fields, fail)
    return sections


def _check_section(section, index, fail, refuse_unknown_keys, text):
    name = section.get("name")
    where = f"section {name!r}" if isinstance(name, str) else f"section #{index}"
    section_fail = lambda problem: fail(f"{where}: {problem}")  # noqa: E731
    refuse_unknown_keys(section, SECTION_KEYS, section_fail, "section setting")
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        raise section_fail("name must be lower_snake_case, start with a letter, at most 63 characters")
    relevant = section.get("relevant")
    if relevant is not None and not isinstance(relevant, str):
        raise section_fail("relevant must be an expression in a string")
    return {"name": name, "title": text(section.get("title"), "title", section_fail, required=True),
            "intro": text(section.get("intro"), "intro", section_fail), "relevant": relevant}


def _check_field_order(names, fields, fail):
    """Each section's fields sit together, and sections come in the order declared."""
    position = -1
    for field in fields:
        section = field.get("section")
        if section is None:
            raise fail(f"field {field['name']!r} has no section: when a form has [[sections]], "
                       f"every field names one (section = \"{names[0]}\")")
        if section not in names:
            raise fail(f"field {field['name']!r}: section {section!r} is not declared "
                       f"(sections: {', '.join(names)})")
        index = names.index(section)
        if index < position:
            raise fail(f"field {field['name']!r} is in section {section!r} but comes after fields "
                       f"of section {names[position]!r}: keep each section's fields together, "
                       "in the order of [[sections]]")
        position = index
