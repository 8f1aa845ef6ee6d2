"""Decide which column of an XLSForm sheet plays which part, language by language.

XLSForm spells some columns several ways (`relevance`, `calculate`), and
translatable columns come once per language (`label::Français (fr)`). The
import reads one language: the settings' `default_language`, else the plain
`label` column, else the first language it finds. Every other column is
reported where it holds anything, with the reason it is not translated.
"""

import re

# The part a survey column plays -> the headers XLSForm (pyxform) accepts for it.
SURVEY_ROLES = {
    "type": ("type", "command"),
    "name": ("name", "tag", "value"),
    "required": ("required",),
    "relevant": ("relevant", "relevance"),
    "constraint": ("constraint",),
    "calculation": ("calculation", "calculate"),
    "appearance": ("appearance",),
    "read_only": ("read_only", "readonly"),
}
# Columns that exist once per language; the header's base name -> the part it plays.
TRANSLATED_ROLES = {"label": "label", "caption": "label", "hint": "hint",
                    "constraint_message": "constraint_message",
                    "constraining_message": "constraint_message",
                    "jr:constraintmsg": "constraint_message"}
CHOICE_ROLES = {"list_name": ("list_name", "list name"), "name": ("name", "value")}

# Why a known column is not translated (anything else gets the generic reason).
UNTRANSLATED_REASONS = {
    "choice_filter": "choice filters (cascading selects) are not supported: every choice is offered",
    "default": "default answers are not supported: the question starts empty",
    "required_message": "a message of its own for required is not supported: the collector "
                        "says the answer is required",
    "jr:requiredmsg": "a message of its own for required is not supported",
    "parameters": "question parameters are not supported",
    "repeat_count": "repeats are not supported",
    "jr:count": "repeats are not supported",
    "image": "media (images, audio, video) are not supported",
    "big-image": "media (images, audio, video) are not supported",
    "audio": "media (images, audio, video) are not supported",
    "video": "media (images, audio, video) are not supported",
    "guidance_hint": "guidance hints are not supported; only the hint is shown",
    "trigger": "triggers (recalculating on another question) are not supported",
    "read_only": "read-only questions are not supported (only calculated fields are read-only)",
    "autoplay": "media (images, audio, video) are not supported",
    "note": "not an XLSForm column",
}
GENERIC_REASON = "this column is not translated; its value was left out"
MEDIA_PREFIX = "media::"

_LANGUAGE = re.compile(r"^(?P<base>[^:]+?)\s*::\s*(?P<language>.+)$")


def split_header(header):
    """Return (base, language) for `label::English (en)`; language None for `label`."""
    match = _LANGUAGE.match(header)
    if match:
        return match.group("base").strip().lower(), " ".join(match.group("language").split())
    return header.strip().lower(), None


def languages(headers):
    """Return the languages of translatable columns, in the order they first appear."""
    found = []
    for header in headers:
        base, language = split_header(header)
        if language and base in TRANSLATED_ROLES and language not in found:
            found.append(language)
    return found


def choose_language(survey_headers, default_language):
    """Return the language to import (None: the plain columns) and why it was chosen."""
    found = languages(survey_headers)
    plain = any(split_header(h) == ("label", None) for h in survey_headers)
    if default_language:
        wanted = " ".join(default_language.split())
        if wanted in found:
            return wanted, f"the settings' default_language {wanted!r}"
        if plain:
            return None, f"the plain label column (default_language {wanted!r} names no column)"
    if plain or not found:
        return None, "the plain label column"
    return found[0], f"the first language, {found[0]!r} (no plain label column)"


class ColumnMap:
    """Which header of one sheet plays each part, and which headers are left over."""

    def __init__(self, headers, roles, language):
        self.headers = list(headers)
        self.role_of = {}          # header -> part
        self.header_of = {}        # part -> header
        self.other_languages = []  # headers of translatable columns in another language
        for header in self.headers:
            base, header_language = split_header(header)
            part = next((p for p, names in roles.items() if base in names and not header_language), None)
            translated = TRANSLATED_ROLES.get(base)
            if part is None and translated is not None:
                if header_language == language:
                    part = translated
                elif header_language is None and language is not None:
                    part = "fallback_" + translated
                else:
                    self.other_languages.append(header)
                    continue
            if part is not None and part not in self.header_of:
                self.header_of[part] = header
                self.role_of[header] = part

    def value(self, row, part):
        """Return the cell of `row` that plays `part` ("" when absent)."""
        header = self.header_of.get(part)
        value = row.get(header, "") if header else ""
        if not value and not part.startswith("fallback_"):
            fallback = self.header_of.get("fallback_" + part)
            value = row.get(fallback, "") if fallback else ""
        return value

    def leftovers(self, row):
        """Yield (header, value) for each non-empty cell of `row` no part reads."""
        for header, value in row.cells.items():
            if header not in self.role_of and header not in self.other_languages and value:
                yield header, value


def reason_for(header):
    """Return why a column is not translated."""
    base, _language = split_header(header)
    if base.startswith(MEDIA_PREFIX.rstrip(":")) or header.lower().startswith(MEDIA_PREFIX):
        return UNTRANSLATED_REASONS["image"]
    if base.startswith(("bind::", "body::", "instance::", "bind", "body", "instance")) and "::" in header:
        return "custom XForm attributes (bind::, body::, instance::) are not supported"
    return UNTRANSLATED_REASONS.get(base, GENERIC_REASON)
