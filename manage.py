"""The collector's command line: `python manage.py --help` lists the commands."""

import logging
import os
import sys
from contextlib import contextmanager, nullcontext
from pathlib import Path

import click
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from collector.db import invites
from collector.db.database import db
from collector.db.export import ProgressWriter, copy_sql, copy_to
from collector.db.migrate import create_all
from collector.db.system_tables import ensure_system_tables
from collector.forms.spec_checks import SpecError
from collector.ops.config import ConfigError
from collector.ops.failed_writes import describe_error
from collector.ops.gunicorn_logging import RedactInviteCodes
from collector.ops.outfile import OutputError, output_file
from collector.ops.replay import FAILED, Summary, outcomes, rejected_lines
from collector.web.factory import create_app
from collector.web.registry import load_registry

PROJECT_ROOT = Path(__file__).resolve().parent
# Where the embedded PostgreSQL keeps its data; tests point it elsewhere.
EMBEDDED_DATA_DIR = Path(os.environ.get("EMBEDDED_POSTGRES_DIR") or PROJECT_ROOT / "instance" / "postgres")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli():
    """Collector: web forms that write typed rows into PostgreSQL.

    Without DATABASE_URL, commands use an embedded PostgreSQL whose data is
    kept in instance/postgres (install it with requirements-dev.txt).
    """


@cli.command("create_all")
def create_all_command():
    """Create missing tables and columns from forms/*.toml; report drift.

    Safe to run any number of times: it never drops or retypes a column.
    Exits 1 when a field's type differs from its column's (the release stops
    there). Heroku runs it in the release phase (see Procfile).
    """
    with app_on_database() as app:
        changes = create_all(db.engine, app.extensions["collector"])
    report_changes(changes)
    if not changes:
        click.echo("All tables match the form files.")


def report_changes(changes):
    """Print what create_all did or needs; stop (exit 1) when a column's type is not the form's."""
    for change in changes:
        click.echo(str(change))
    if any(change.blocking for change in changes):
        raise click.ClickException(
            "a field's type differs from its column's (DRIFT above): the database would cast new "
            "entries (1.5 into an integer column is stored as 2), so this stops here. Convert the "
            "column with the SQL above after checking the data, or give the field its old type back.")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", 5000)),
              show_default="PORT or 5000", help="Port to listen on.")
def dev(host, port):
    """Run locally: start PostgreSQL if needed, create tables, serve the forms.

    Press Ctrl-C (or send SIGTERM) to stop the web server and the embedded PostgreSQL.
    """
    import signal

    from werkzeug.serving import run_simple

    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    # The dev server logs each request line; a mangled invite link must not show its code.
    logging.getLogger("werkzeug").addFilter(RedactInviteCodes())

    with app_on_database(announce=True) as app:
        report_changes(create_all(db.engine, app.extensions["collector"]))
        for spec in app.extensions["collector"].specs.values():
            needs = '  (invite only: python manage.py invite "Your Name")' if spec.access == "invite" else ""
            click.echo(f"Form {spec.name}: http://{host}:{port}/forms/{spec.name}{needs}")
        run_simple(host, port, app, threaded=True)
    click.echo("Stopped.")


def _stop_like_ctrl_c(_signum, _frame):
    # `kill` must also stop the embedded PostgreSQL, not leave it running.
    raise KeyboardInterrupt


@cli.command()
@click.argument("source", type=click.File("rb"), default="-")
@click.option("--dry-run", is_flag=True, help="Say what would happen; write nothing.")
def replay(source, dry_run):
    """Insert failed-write records from SOURCE (a file, or - for stdin) once each.

    SOURCE may be raw stdout, `heroku logs` output or a syslog drain's lines,
    in any order, in UTF-8 or UTF-16 (PowerShell's `>`), or a drain's JSON
    export: other lines are ignored, and records logged in numbered parts are
    joined. Each record is checked against the current form file; one whose
    `at` is not a date-time with a UTC offset is rejected, so the time it was
    submitted is kept. --dry-run counts what it would insert, so a second
    copy of a reference is forecast as the real run reports it. Progress (with line
    numbers) and the summary go to stderr; rejected records go to stdout as
    JSON lines, ready to fix and replay, and lines that cannot be read (or the
    parts of a record whose other parts are missing) go there as they were.
    Exits 1 if any record was rejected, unreadable or incomplete.

    Example: heroku logs -n 1500 | python manage.py replay > rejected.jsonl
    """
    summary = Summary()
    with app_on_database() as app:
        for outcome in outcomes(db.engine, app.extensions["collector"], source, dry_run):
            summary.outcomes.append(outcome)
            click.echo(_outcome_line(outcome), err=True)
            for line in rejected_lines(outcome) if outcome.status in FAILED else []:
                # Raw bytes back as read, even those that are not UTF-8.
                click.echo(line.encode("utf-8", "surrogateescape"))
    click.echo(_summary_line(summary, dry_run), err=True)
    if summary.failed:
        sys.exit(1)


def _outcome_line(outcome):
    """Return e.g. `inserted: intake 5f0c… (line 12)` or `unreadable: line 7: cut off …`."""
    where = f"line{'s' if '-' in outcome.line else ''} {outcome.line}"
    if not outcome.record:
        return f"{outcome.status}: {where}: {outcome.reason}"
    what = f"{str(outcome.record.get('form'))[:100]} {str(outcome.record.get('submission_id'))[:100]}"
    return (f"{outcome.status}: {what} ({where})"
            + (f": {outcome.reason}" if outcome.reason else ""))


def _summary_line(summary, dry_run):
    """Return the last line replay prints; conflicts, unreadable and incomplete appear when not 0."""
    written = "would insert" if dry_run else "inserted"
    counts = (f"{len(summary.outcomes)} records, {summary.count(written)} {written}, "
              f"{summary.count('present')} already present, {len(summary.rejected)} rejected")
    for status, plural in (("withdrawn", "withdrawn"), ("conflict", "conflicts"),
                           ("unreadable", "unreadable"), ("incomplete", "incomplete")):
        counts += f", {summary.count(status)} {plural}" if summary.count(status) else ""
    return f"replay{' (dry run, nothing written)' if dry_run else ''}: {counts}"


@cli.command()
@click.argument("name")
@click.option("--base-url", envvar="BASE_URL", help="The app's public URL (default: BASE_URL; "
              "locally http://127.0.0.1:5000).")
def invite(name, base_url):
    """Create a personal invite for the RA called NAME; print its link and code.

    Opening the link signs that browser in; every row it submits carries
    NAME in entered_by. The code rides after '#' in the link, which browsers
    never send, so it stays out of every log. Without JavaScript, the RA opens
    BASE_URL/invite and pastes the code. Send both privately: they work until
    revoked.
    """
    if not base_url:
        if os.environ.get("DYNO"):
            raise click.ClickException("set BASE_URL first, e.g. heroku config:set "
                                       "BASE_URL=https://your-app.herokuapp.com")
        base_url = "http://127.0.0.1:5000"
    with app_on_database():
        ensure_system_tables(db.engine)  # a fresh database has no invites table yet
        try:
            invite_id, token = invites.create_invite(db.engine, name)
        except ValueError as error:
            raise click.ClickException(str(error)) from None
    page = f"{base_url.rstrip('/')}/invite"
    click.echo(f"Invite #{invite_id} for {' '.join(name.split())}:")
    click.echo(f"{page}#{token}")
    click.echo(f"Invite code: {token}")
    click.echo(f"Send both privately. Without JavaScript, open {page} and paste the invite code.")


@cli.command("invites")
def list_invites_command():
    """List every invite: number, name, created, and whether it is revoked."""
    with app_on_database():
        ensure_system_tables(db.engine)
        rows = invites.list_invites(db.engine)
    if not rows:
        click.echo('No invites yet. Create one with: python manage.py invite "Alice Ng"')
    for row in rows:
        state = f"revoked {row['revoked_at']:%Y-%m-%d %H:%M}" if row["revoked_at"] else "active"
        if row["code_exposed_at"] and not row["revoked_at"]:
            state += (f", but its code was seen in a web address {row['code_exposed_at']:%Y-%m-%d %H:%M} "
                      "and signs in no new device: send a new invite")
        click.echo(f"#{row['id']:<5} {row['name']:<30} created {row['created_at']:%Y-%m-%d %H:%M}  {state}")


@cli.command()
@click.argument("invite_id", type=int)
def revoke(invite_id):
    """Revoke invite number INVITE_ID (see `invites`) at once.

    The next submit from a browser signed in with it is refused; rows it
    entered before are kept as they are.
    """
    with app_on_database():
        name = invites.revoke(db.engine, invite_id)
    if name is None:
        raise click.ClickException(f"no active invite #{invite_id} (see: python manage.py invites)")
    click.echo(f"Revoked invite #{invite_id} ({name}).")


@cli.command()
@click.argument("form")
@click.option("-o", "--output", type=click.Path(),
              help="File to write (default: standard output).")
@click.option("--excel-safe", is_flag=True, help="Prefix ' to text cells starting with = + - @ "
              "so spreadsheets do not run them as formulas (changes those cells).")
def export(form, output, excel_safe):
    """Write every row of FORM as CSV (with a header), streamed by PostgreSQL's COPY.

    Progress goes to stderr. A file is written as a new FILE.XXXXXXXX.partial
    and renamed when complete, so a failed export never leaves a file that
    looks finished; an old file's permissions are kept, a new file is 0600. A
    symlink is followed; a device, named pipe, /dev/stdout or /dev/fd/N is
    written in place (so `-o /dev/stdout >> all.csv` appends).
    """
    import time

    with app_on_database() as app:
        spec, _table = app.extensions["collector"].get(form)
        if spec is None:
            known = ", ".join(app.extensions["collector"].specs)
            raise click.ClickException(f"no form called {form!r} (forms: {known})")
        sink = output_file(output) if output is not None else nullcontext(sys.stdout.buffer)
        try:
            with sink as target:
                progress = ProgressWriter(target, lambda lines, size, seconds: click.echo(
                    f"export {form}: {max(lines - 1, 0):,} rows, {size / 1e6:.1f} MB, {seconds:.0f} s",
                    err=True), time.monotonic)
                rows = copy_to(db.engine, copy_sql(spec, excel_safe), progress)
                target.flush()
        except OutputError as error:
            raise click.ClickException(str(error)) from None
    seconds = time.monotonic() - progress.started
    click.echo(f"export {form}: {rows:,} rows, {progress.bytes / 1e6:.1f} MB in {seconds:.1f} s "
               f"to {output or 'stdout'}", err=True)


@cli.command()
def check():
    """Check every form file (fields, rules and logic) and print its fields; touches no database."""
    forms_dir = os.environ.get("FORMS_DIR") or PROJECT_ROOT / "forms"
    with friendly_errors():
        registry = load_registry(forms_dir)
    for spec in registry.specs.values():
        click.echo(f"{spec.path}: {spec.title!r}, {len(spec.fields)} fields, access={spec.access}, "
                   f"key={spec.key or '(none)'}, version {spec.version}")
        for field in spec.fields:
            flag = "required" if field.required else "optional"
            click.echo(f"  {field.name:<28} {field.type:<12} {flag:<8} {field.label}")
            for word, expression in (("shown when", field.relevant), ("rule", field.constraint),
                                     ("calculated", field.calculation)):
                if expression is not None:
                    click.echo(f"  {'':<28} {word}: {expression.source}")


@cli.command("import")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--form", "form", metavar="NAME",
              help="XLSForm: the form's name (default: settings form_id, else the file name). "
                   "REDCap: import only the instrument whose Form Name is NAME.")
@click.option("--dry-run", is_flag=True, help="Print the report and what would be written; write nothing.")
@click.option("--force", is_flag=True, help="Replace form files that already exist.")
def import_command(source, form, dry_run, force):
    """Turn an XLSForm workbook (.xlsx) or a REDCap data dictionary (.csv) into form files.

    Writes one forms/<name>.toml per form (a REDCap dictionary may hold several
    instruments) and prints, per source row, what it became and everything
    that could not be translated (row, column, why), marked with `!`; the
    same items are comments (# REVIEW:) in the written file. Every file
    written passes `manage.py check`; if any form would not, or a form file
    exists and --force is not given, nothing is written. Needs
    `pip install -r requirements-tools.txt`.

    Example: python manage.py import redcap_dictionary.csv --dry-run
    """
    from collector.interchange.draft import InterchangeError
    from collector.interchange.run import import_file

    forms_dir = Path(os.environ.get("FORMS_DIR") or PROJECT_ROOT / "forms")
    try:
        report = import_file(source, forms_dir, form=form, force=force, dry_run=dry_run)
    except InterchangeError as error:
        raise click.ClickException(str(error)) from None
    for line in report.lines():
        click.echo(line)
    if dry_run:
        click.echo("Dry run: nothing was written.")
    else:
        click.echo("Next: python manage.py check, review the items marked !, then create_all.")


@cli.command("export-form")
@click.argument("name")
@click.option("--xlsform", type=click.Path(dir_okay=False), metavar="FILE.xlsx",
              help="Write an XLSForm workbook (ODK, KoboToolbox).")
@click.option("--redcap", type=click.Path(dir_okay=False), metavar="FILE.csv",
              help="Write a REDCap data dictionary.")
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def export_form_command(name, xlsform, redcap, force):
    """Write the form NAME (forms/NAME.toml) as an XLSForm workbook or a REDCap dictionary.

    Prints, per field, whatever the other format cannot say (marked `!`).
    Importing the file again gives the same form file for forms that were
    imported in the first place. Needs `pip install -r requirements-tools.txt`.

    Example: python manage.py export-form followup --xlsform followup.xlsx
    """
    from collector.interchange.draft import InterchangeError
    from collector.interchange.run import export_form

    forms_dir = os.environ.get("FORMS_DIR") or PROJECT_ROOT / "forms"
    with friendly_errors():
        registry = load_registry(forms_dir)
    spec = registry.specs.get(name)
    if spec is None:
        raise click.ClickException(f"no form called {name!r} in {forms_dir} "
                                   f"(forms: {', '.join(registry.specs)})")
    try:
        report = export_form(spec, xlsform=xlsform, redcap=redcap, force=force)
    except InterchangeError as error:
        raise click.ClickException(str(error)) from None
    for line in report.lines():
        click.echo(line)


@contextmanager
def friendly_errors():
    """Turn configuration, form-file and connection errors into one line and exit 1."""
    try:
        yield
    except (ConfigError, SpecError) as error:
        raise click.ClickException(str(error)) from None
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise click.ClickException(f"cannot reach the database: {reason}") from None
    except SQLAlchemyError as error:
        # Anything else the database refuses is one line, never a traceback
        # (create_all runs in one transaction: a refusal there changes nothing).
        raise click.ClickException(f"the database refused it: {describe_error(error)}") from None


@contextmanager
def app_on_database(announce=False):
    """Build the app on DATABASE_URL (or the embedded PostgreSQL) and enter its app context."""
    with database_from_environment(announce), friendly_errors():
        app = create_app()
        with app.app_context():
            yield app


@contextmanager
def database_from_environment(announce=False):
    """Use DATABASE_URL; without it (and off Heroku) run the embedded PostgreSQL meanwhile."""
    if os.environ.get("DATABASE_URL") or os.environ.get("DYNO"):
        yield
        return
    from collector.db.embedded import start_embedded

    with friendly_errors():
        server, url = start_embedded(EMBEDDED_DATA_DIR)
    if announce:
        click.echo(f"PostgreSQL (embedded) running, data in {EMBEDDED_DATA_DIR}")
        click.echo(f"Database URL (for psql): {url}")
    os.environ["DATABASE_URL"] = url
    try:
        yield
    finally:
        del os.environ["DATABASE_URL"]
        server.cleanup()
        if announce:
            click.echo("PostgreSQL (embedded) stopped.")


if __name__ == "__main__":
    cli(prog_name="python manage.py")
    sys.exit(0)
