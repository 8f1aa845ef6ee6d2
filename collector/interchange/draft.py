"""A form on its way to a form file, and the names its table and columns may take."""

import re
import unicodedata
from dataclasses import dataclass, field

from collector.forms.names import column_name_problem, table_name_problem

# The order keys are written in, so two imports of the same form give the same text.
FIELD_KEY_ORDER = ("section", "name", "label", "type", "required", "hint", "min", "max",
                   "min_length", "max_length", "places", "pattern", "relevant", "constraint",
                   "constraint_message", "calculation", "choices")
SECTION_KEY_ORDER = ("name", "title", "intro", "relevant")


class InterchangeError(Exception):
    """A file cannot be read or written; the message says which file, where and why."""


@dataclass
class Draft:
    """A form as a reader built it: the form file's settings, sections and fields as dicts.

    `reviews` maps a field or section name ("" for the whole form) to the
    lines the written file shows above it, so the PI finds each item to
    review where it applies.
    """
    name: str
    title: str
    description: str = ""
    section_pages: bool = False
    sections: list = field(default_factory=list)
    fields: list = field(default_factory=list)
    header: list = field(default_factory=list)
    reviews: dict = field(default_factory=dict)
    # Field or section name -> the report Entry of the row it came from (not written).
    origins: dict = field(default_factory=dict)

    def review(self, owner, line):
        """Keep `line` as a comment above field or section `owner` ("" for the form)."""
        self.reviews.setdefault(owner, []).append(line)

    def field(self, name):
        """Return the field dict called `name`, or None."""
        return next((f for f in self.fields if f["name"] == name), None)


def plain_name(raw):
    """Return `raw` as lower_snake_case ASCII (accents dropped), possibly empty."""
    ascii_text = unicodedata.normalize("NFKD", str(raw)).encode("ascii", "ignore").decode()
    ascii_text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", ascii_text)  # camelCase -> camel_case
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]+", "_", ascii_text.lower())).strip("_")


def column_name(raw, taken):
    """Return a valid, unused column name close to `raw`; add it to `taken`.

    Renames as little as possible: invalid characters become `_`, a leading
    digit gets `q_` before it, a reserved word gets `_field` after it, and a
    name already taken gets `_2`, `_3`, ...
    """
    name = plain_name(raw) or "field"
    if not name[0].isalpha():
        name = "q_" + name
    name = name[:63].rstrip("_")
    if column_name_problem(name):
        name = name[:57] + "_field"
    return _unused(name, taken, 63)


def section_name(raw, taken):
    """Return a valid, unused section name close to `raw`; add it to `taken`."""
    name = plain_name(raw) or "section"
    if not name[0].isalpha():
        name = "s_" + name
    return _unused(name[:63].rstrip("_"), taken, 63)


def table_name(raw):
    """Return a valid form (table) name close to `raw`."""
    name = plain_name(raw) or "form"
    if not name[0].isalpha():
        name = "form_" + name
    name = name[:54].rstrip("_")
    for candidate in (name, name[:48] + "_form", "form_" + name[:49]):
        if not table_name_problem(candidate):  # e.g. codebook -> codebook_form, pg_x -> form_pg_x
            return candidate
    return "form_" + name[:49]


def _unused(name, taken, limit):
    candidate, number = name, 1
    while candidate in taken:
        number += 1
        suffix = f"_{number}"
        candidate = name[:limit - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


def words(name):
    """Return a name as a label: date_of_birth -> Date of birth."""
    text = re.sub(r"[_\s]+", " ", str(name)).strip()
    return text[:1].upper() + text[1:] if text else str(name)
