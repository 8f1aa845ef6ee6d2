"""Run an import or an export from start to end; the command line only prints.

Imports write every form of a source or none of them, and only files that
load as form files. The readers and writers of each format are imported when
used, so `manage.py --help` works where requirements-tools.txt is not installed.
"""

import os
from pathlib import Path

from collector.interchange.draft import InterchangeError

# Both an old .xls and a password-protected .xlsx are OLE compound files.
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
MAX_SNIFF_BYTES = 64 * 1024 * 1024
# The packages of requirements-tools.txt (and theirs): a missing one is a missing install.
TOOL_MODULES = ("tomli_w", "pyxform", "openpyxl", "xlrd", "defusedxml", "et_xmlfile")
TOOLS_MISSING = ("this command needs the command-line tools: pip install -r requirements-tools.txt "
                 "(Heroku does not install them; run imports and exports on your own machine)")


def import_file(source, forms_dir, form=None, force=False, dry_run=False):
    """Read SOURCE, write its forms into forms_dir; return the Report.

    Raises InterchangeError (nothing written) when the source cannot be read,
    a form file exists and not `force`, or a translated form would not load.
    """
    source = Path(source)
    read = _reader(source)
    from collector.interchange.form_writer import settle, write_forms  # needs tomli-w: see _reader
    drafts, report = read(source, form)
    if not drafts:
        raise InterchangeError(f"{source}: no form to import"
                               + (f" called {form!r}" if form else "") + _first_problem(report))
    settled = [(draft, settle(draft, report)) for draft in drafts]
    paths = write_forms(settled, forms_dir, force=force, dry_run=dry_run)
    verb = "would write" if dry_run else "wrote"
    for (draft, _text), path in zip(settled, paths):
        sections = f", {len(draft.sections)} sections" if draft.sections else ""
        report.written.append(f"{verb} {path} ({len(draft.fields)} fields{sections})")
    return report


def export_form(spec, xlsform=None, redcap=None, force=False):
    """Write the form `spec` as an XLSForm workbook or a REDCap dictionary; return the Report."""
    if (xlsform is None) == (redcap is None):
        raise InterchangeError("give exactly one of --xlsform FILE.xlsx and --redcap FILE.csv")
    target = Path(xlsform or redcap)
    wanted = ".xlsx" if xlsform is not None else ".csv"
    if target.suffix.lower() != wanted:
        raise InterchangeError(f"{target}: give a file name ending in {wanted} for "
                               f"{'--xlsform' if xlsform is not None else '--redcap'}")
    if target.exists() and not force:
        raise InterchangeError(f"{target} already exists; nothing was written. Use --force to replace it.")
    if target.is_dir():
        raise InterchangeError(f"{target} is a directory; give a file name")
    if not target.parent.is_dir():
        raise InterchangeError(f"{target}: the folder {target.parent} does not exist")
    try:
        if xlsform is not None:
            from collector.interchange.xlsform_export import write_xlsform as write
        else:
            from collector.interchange.redcap_export import write_redcap as write
    except ImportError as error:
        raise _tools_missing(error) from None
    temporary = target.with_name(f".{target.name}.partial")
    try:
        report = write(spec, temporary)
        os.replace(temporary, target)
    except OSError as error:
        raise InterchangeError(f"{target}: cannot be written: {error.strerror or error}") from None
    finally:
        temporary.unlink(missing_ok=True)
    # The writer saw only the temporary file: name the real one.
    kind = "an XLSForm workbook" if xlsform is not None else "a REDCap data dictionary"
    report.source = f"form {spec.name} ({spec.path}) as {kind}: {target}"
    report.counting = "fields written"
    report.written.append(f"wrote {target}")
    return report


def _reader(source):
    """Return the reader for SOURCE's format, told by its name or else its first bytes."""
    try:
        with open(source, "rb") as handle:
            start = handle.read(8)
    except OSError as error:
        raise InterchangeError(f"{source}: cannot be read: {error.strerror or error}") from None
    if not start:
        raise InterchangeError(f"{source}: the file is empty, not an XLSForm workbook or a REDCap "
                               "data dictionary")
    suffix = source.suffix.lower()
    is_workbook = suffix in (".xlsx", ".xlsm") or (suffix not in (".csv", ".txt") and start.startswith(b"PK"))
    if start.startswith(OLE_MAGIC) and _is_encrypted_workbook(source):
        raise InterchangeError(f"{source}: a password-protected workbook; open it, remove the "
                               "password (File > Info > Protect Workbook), save it, then import that")
    if suffix == ".xls" or start.startswith(OLE_MAGIC):
        raise InterchangeError(f"{source}: an old-style .xls workbook (or a password-protected one); "
                               "open it in a spreadsheet program, save it as .xlsx without a "
                               "password, then import that")
    if not is_workbook and suffix not in (".csv", ".txt"):
        raise InterchangeError(f"{source}: not an XLSForm workbook (.xlsx) or a REDCap data "
                               "dictionary (.csv)")
    try:
        import tomli_w  # noqa: F401 -- form_writer needs it; say so before reading anything
        if is_workbook:
            from collector.interchange.xlsform_import import read_xlsform as read
        else:
            from collector.interchange.redcap_import import read_redcap as read
    except ImportError as error:
        raise _tools_missing(error) from None
    return read


def _is_encrypted_workbook(source):
    """Whether an OLE file is an encrypted .xlsx (Office keeps it in an `EncryptedPackage` stream)."""
    with open(source, "rb") as handle:
        return "EncryptedPackage".encode("utf-16-le") in handle.read(MAX_SNIFF_BYTES)


def _tools_missing(error):
    """Return the error to raise for an ImportError: a missing tool, or the original error."""
    missing = (error.name or "").split(".")[0]
    if missing not in TOOL_MODULES:
        return error  # not a missing install: a real bug, shown as one
    return InterchangeError(f"{TOOLS_MISSING} (missing: {missing})")


def _first_problem(report):
    problems = [p for p in report.general] + [p for e in report.entries for p in e.problems]
    return f": {problems[0].column}: {problems[0].message}" if problems else ""
