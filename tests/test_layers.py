"""Each layer of the package is a folder a newcomer can read alone; imports only go one way."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "collector"
# What each layer may not import: the form language is plain Python; the
# database layer never reaches into the web layer; the import/export tools
# stay out of the web app.
FORBIDDEN = {
    "forms": ("flask", "flask_sqlalchemy", "flask_wtf", "sqlalchemy", "psycopg2", "werkzeug",
              "collector.db", "collector.web", "collector.ops"),
    "db": ("collector.web", "collector.interchange"),
    "ops": ("collector.web", "collector.interchange"),
    # The web app never needs the import/export tools (they are not in the Heroku slug).
    "web": ("collector.interchange", "pyxform", "openpyxl", "tomli_w"),
    # Import and export read and write form files through the form language only.
    "interchange": ("flask", "flask_sqlalchemy", "flask_wtf", "sqlalchemy", "psycopg2", "werkzeug",
                    "collector.db", "collector.web", "collector.ops"),
}


def imported(path):
    """Return every module name `path` imports."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_it_must_not(layer):
    found = {f"{path.name} imports {name}" for path in (PACKAGE / layer).rglob("*.py")
             for name in imported(path)
             if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])}
    assert not found, sorted(found)


def test_every_module_sits_in_a_layer():
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == ["__init__.py"]


def test_the_import_tools_stay_out_of_the_heroku_slug():
    root = PACKAGE.parent
    production = (root / "requirements.txt").read_text().lower()
    tools = (root / "requirements-tools.txt").read_text().lower()
    for package in ("pyxform", "openpyxl", "tomli-w"):
        assert package not in production and f"{package}==" in tools
    assert "-r requirements-tools.txt" in (root / "requirements-dev.txt").read_text()
