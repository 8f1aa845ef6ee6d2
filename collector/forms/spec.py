"""Read form files into checked, immutable form specs.

A form file (forms/<name>.toml) is the single source of truth for a form:
its table, its validation, its HTML and its codebook all derive from the
FormSpec built here. Every rule is checked on load (see spec_checks.py), so
a bad file stops start-up with one message naming the file, field and rule.
"""

import hashlib
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from collector.forms import spec_checks
from collector.forms.expressions.tree import Expression, Node
from collector.forms.names import relation_clash
from collector.forms.spec_checks import SpecError


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: str
    hint: str = ""
    required: bool = False
    min: object = None
    max: object = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    places: int | None = None
    choices: tuple[Choice, ...] = ()
    section: str | None = None
    relevant: Expression | None = None
    constraint: Expression | None = None
    constraint_message: str = ""
    calculation: Expression | None = None
    # When the field is shown: its section's relevant and its own, combined (None: always).
    shown: Node | None = None

    @property
    def choice_values(self):
        return tuple(choice.value for choice in self.choices)


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    intro: str = ""
    relevant: Expression | None = None


@dataclass(frozen=True)
class FormSpec:
    name: str
    path: Path
    title: str
    description: str
    access: str
    timezone: ZoneInfo
    fields: tuple[Field, ...]
    version: str
    sections: tuple[Section, ...] = ()
    section_pages: bool = False
    # Field names, each after every field its relevant or calculation reads.
    order: tuple[str, ...] = ()
    # The field the PI searches rows by (`key`, default the first field that can be one).
    key: str | None = None

    def field(self, name):
        """Return the field called `name`."""
        return self.fields_by_name[name]

    # Worked out once per spec (the instance dict, not a field: equality is unchanged);
    # every submit asks for both.
    @cached_property
    def fields_by_name(self):
        """Return {name: Field}."""
        return {field.name: field for field in self.fields}

    @cached_property
    def has_logic(self):
        """Whether any field is ever hidden, calculated or checked against others."""
        return any(f.shown or f.constraint or f.calculation for f in self.fields)


def load_form(path):
    """Read and check one form file; raise SpecError naming what is wrong."""
    path = Path(path)
    try:
        raw_bytes = path.read_bytes()
    except OSError as error:  # a directory, a broken link, no permission
        raise SpecError(path, None, f"cannot be read: {error.strerror or error}") from None
    try:
        document = tomllib.loads(raw_bytes.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SpecError(path, None, f"not a valid TOML file: {error}") from None
    except RecursionError:
        raise SpecError(path, None, "not a valid form file: arrays or tables nested too deeply") from None
    checked = spec_checks.check_form(path, document)
    fields = tuple(
        Field(choices=tuple(Choice(**c) for c in f.pop("choices", ())), **f)
        for f in checked.pop("fields")
    )
    sections = tuple(Section(**section) for section in checked.pop("sections"))
    return FormSpec(
        name=path.stem,
        path=path,
        fields=fields,
        sections=sections,
        version=hashlib.sha256(raw_bytes).hexdigest()[:12],
        **checked,
    )


def load_forms(directory):
    """Read every forms/*.toml file, in name order; raise SpecError on the first bad one."""
    directory = Path(directory)
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise SpecError(directory, None, "no form files (*.toml) found")
    specs = {path.stem: load_form(path) for path in paths}
    _refuse_relation_clash(specs)
    return specs


def _refuse_relation_clash(specs):
    """Refuse a form whose table name another form's index, sequence or view takes."""
    clash = relation_clash(specs)
    if clash:
        form, other, kind = clash
        raise SpecError(specs[form].path, None, f"the table name {form!r} is already the name of "
                        f"form {other!r}'s {kind} (forms/{other}.toml): rename one of the files")
