"""Bring instruments in and take forms out: XLSForm workbooks and REDCap data dictionaries.

Command line only (`manage.py import`, `manage.py export-form`): it needs the
packages in requirements-tools.txt, which Heroku never installs, and the web
app never imports it. It reads and writes form files through the form
language (collector.forms) and nothing else.

- draft.py: a form on its way to a form file, and the names it may take;
- report.py: what each source row became and what could not be translated;
- form_writer.py: a draft as TOML text, settled until `manage.py check` passes;
- xlsform_*.py and redcap_*.py: one reader, one expression translator and
  one writer per format.
"""
