"""Hold the loaded form specs and the tables built from them, for one app."""

from dataclasses import dataclass

from flask import abort, current_app
from sqlalchemy import MetaData

from collector.db.schema import build_table
from collector.forms.spec import load_forms


@dataclass(frozen=True)
class Registry:
    specs: dict
    tables: dict

    def get(self, name):
        """Return (spec, table) for form `name`, or (None, None) if there is no such form."""
        return self.specs.get(name), self.tables.get(name)


def load_registry(forms_dir):
    """Read every form file and build its table; raise SpecError on a bad file."""
    specs = load_forms(forms_dir)
    # One MetaData per registry, so tests can build several apps in one process.
    metadata = MetaData()
    return Registry(specs, {name: build_table(spec, metadata) for name, spec in specs.items()})


def current_registry():
    """Return the Registry of the app handling this request."""
    return current_app.extensions["collector"]


def form_or_404(name):
    """Return (spec, table) of form `name` for this request's app, or answer 404."""
    spec, table = current_registry().get(name)
    if spec is None:
        abort(404)
    return spec, table
