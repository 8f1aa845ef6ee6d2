"""Each layer of the package is a folder a newcomer can read alone; imports only go one way."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "collector"
# What each layer may not import: the form language is plain Python; the
# database layer never reaches into the web layer.
FORBIDDEN = {
    "forms": ("flask", "flask_sqlalchemy", "flask_wtf", "sqlalchemy", "psycopg2", "werkzeug",
              "collector.db", "collector.web", "collector.ops"),
    "db": ("collector.web",),
    "ops": ("collector.web",),
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
