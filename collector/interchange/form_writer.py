"""Write drafts as form files that `manage.py check` accepts, or write nothing.

A translated expression can still fail our checks (a type that does not fit,
a cycle): `settle` drops exactly the rule the check names, says so in the
report and in the file, and checks again, so every file written loads.
"""

import os
import tempfile
from decimal import Decimal
from pathlib import Path

import tomli_w

from collector.forms.logic_checks import LOGIC_KEYS
from collector.forms.names import relation_clash
from collector.forms.spec import load_form
from collector.forms.spec_checks import SpecError
from collector.interchange.draft import FIELD_KEY_ORDER, SECTION_KEY_ORDER, InterchangeError

# Each time a rule is dropped the draft is checked again; a form cannot need more.
MAX_SETTLE_ROUNDS = 500


def form_text(draft):
    """Return the draft as the text of a form file, review items as comments."""
    parts = [_comments(draft.header)]
    parts.append(_comments(f"REVIEW: {line}" for line in draft.reviews.get("", ())))
    settings = {"title": draft.title}
    if draft.description:
        settings["description"] = draft.description
    if draft.section_pages:
        settings["section_pages"] = True
    parts.append(tomli_w.dumps(settings))
    for section in draft.sections:
        parts.append(_table("sections", section, SECTION_KEY_ORDER, draft.reviews))
    for field in draft.fields:
        parts.append(_table("fields", field, FIELD_KEY_ORDER, draft.reviews))
    return "\n".join(part for part in parts if part)


def _comments(lines):
    text = "".join(f"# {line}\n" for line in lines)
    return text.replace("\r", " ").replace("\x00", " ")


def _table(kind, table, order, reviews):
    ordered = {key: _toml_value(table[key]) for key in order if table.get(key) not in (None, "")}
    ordered.update({key: _toml_value(v) for key, v in table.items() if key not in order})
    choices = ordered.pop("choices", None)
    review = _comments(f"REVIEW: {line}" for line in reviews.get(table["name"], ()))
    text = f"{review}[[{kind}]]\n{tomli_w.dumps(ordered)}"
    if choices is not None:
        # One inline table per line, however long its label: tomli-w would turn a long
        # one into a [[choices]] table of the file, which is no longer this field's.
        rows = "".join(f"    {{ value = {_literal(c['value'])}, label = {_literal(c['label'])} }},\n"
                       for c in choices)
        text += f"choices = [\n{rows}]\n"
    return text


def _literal(value):
    """Return one value as TOML writes it (a string quoted and escaped)."""
    return tomli_w.dumps({"v": value})[len("v = "):].rstrip("\n")


def _toml_value(value):
    """Return a value TOML can hold exactly (a Decimal as an int or float when exact)."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, (list, tuple)):
        return [_toml_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _toml_value(item) for key, item in value.items()}
    return value


def settle(draft, report):
    """Drop each rule our checks refuse (reported) until the draft loads; return its text."""
    for _ in range(MAX_SETTLE_ROUNDS):
        text = form_text(draft)
        problem = check_text(draft.name, text)
        if problem is None:
            return text
        if not _drop_refused_rule(draft, problem, report):
            where = f"field {problem.field!r}: " if problem.field else ""
            raise InterchangeError(f"{draft.name}: the translated form does not pass the checks "
                                   f"and nothing was written: {where}{problem.problem}")
    raise InterchangeError(f"{draft.name}: too many rules were refused; nothing was written")


def check_text(name, text):
    """Return the SpecError a form file with this text would raise, or None."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load_form(path)
        except SpecError as error:
            return error
    return None


def _drop_refused_rule(draft, error, report):
    """Remove the logic key `error` names from its field or section; False if it names none."""
    owner_name = error.field or ""
    is_section = owner_name.startswith("section ")
    owner_name = owner_name.removeprefix("section ")
    owners = draft.sections if is_section else draft.fields
    owner = next((o for o in owners if o["name"] == owner_name), None)
    if owner is None:
        return False
    key = next((k for k in LOGIC_KEYS if error.problem.startswith(k + " ")), None)
    if key is None and "depends on itself" in error.problem:  # a cycle (logic_checks.py)
        key = next((k for k in ("calculation", "relevant") if owner.get(k)), None)
    if key is None or key not in owner:
        return False
    expression = owner.pop(key)
    if key == "constraint":
        owner.pop("constraint_message", None)
    # logic_checks says "<key> '<expression>': <reason>"; a cycle is said whole.
    reason = error.problem.removeprefix(f"{key} {expression.strip()[:200]!r}: ")
    message = f"{key} {expression!r} was left out: {reason}"
    draft.review(owner_name, message)
    entry = draft.origins.get(owner_name)
    if entry is not None:
        entry.problem(key, message)
    else:
        report.note(f"{'section' if is_section else 'field'} {owner_name}", message)
    return True


def write_forms(settled, directory, force=False, dry_run=False):
    """Write each (draft, text) to directory/<name>.toml; all files or none.

    Refuses to overwrite an existing form file unless `force`, and refuses a
    name that would clash with another form's table, view or index. Every
    file is written in full beside its target first and only then renamed
    into place, so a failure (no space, no permission) leaves no form half
    imported.
    """
    directory = Path(directory)
    targets = [(directory / f"{draft.name}.toml", text) for draft, text in settled]
    names = [path.stem for path, _ in targets]
    if len(set(names)) != len(names):
        raise InterchangeError(f"two forms would both be written to the same file: {names}")
    for path, _ in targets:
        if path.exists() and not path.is_file():
            raise InterchangeError(f"{path} exists and is not a file; nothing was written")
    existing = [path for path, _ in targets if path.exists()]
    if existing and not force:
        raise InterchangeError(
            f"{', '.join(str(p) for p in existing)} already exist{'s' if len(existing) == 1 else ''}; "
            "nothing was written. Use --force to replace, or --form NAME to choose another name.")
    _refuse_name_clash(directory, targets)
    if dry_run:
        return [path for path, _ in targets]
    staged = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for path, text in targets:
            staged.append((_stage(path, text), path))
        for temporary, path in staged:
            os.replace(temporary, path)
    except OSError as error:
        raise InterchangeError(f"{directory}: cannot write the form files "
                               f"({error.strerror or error}); nothing was written") from None
    finally:
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
    return [path for path, _ in targets]


def _refuse_name_clash(directory, targets):
    # Names are all relation_clash needs: every form file there (loadable or not, its table
    # may exist) and the new ones, which settle() has already loaded.
    names = {path.stem for path in directory.glob("*.toml")} | {path.stem for path, _ in targets}
    clash = relation_clash(names)
    if clash:
        form, other, kind = clash
        raise InterchangeError(f"the form name {form!r} is already the name of form {other!r}'s "
                               f"{kind}; nothing was written. Choose another with --form NAME.")


def _stage(path, text):
    """Write `text` to a new file beside `path` with the mode `path` has (or a new file's); return it."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        # mkstemp makes the file 0600; a form file is read by the web app, maybe as another user.
        os.chmod(temporary, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
