"""The README's promises: its test command is what CI runs, its variables are the code's."""

import re

from tests.processes import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text()


def readme_commands():
    return re.findall(r"```sh\n(python3 -m venv .+)\n```", README)


def test_readme_has_the_run_and_test_commands_near_the_top():
    run, test = readme_commands()[:2]
    assert run.endswith("manage.py dev") and test.endswith("-m pytest")
    assert README.index(test) < 1500


def test_ci_runs_the_readmes_test_command_verbatim():
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci.splitlines()


def environment_variables_read():
    """Return the names of the environment variables the project's code reads."""
    sources = [*PROJECT_ROOT.glob("collector/**/*.py"), PROJECT_ROOT / "manage.py",
               PROJECT_ROOT / "gunicorn.conf.py", PROJECT_ROOT / "tests" / "conftest.py"]
    pattern = r"""(?:(?<!\w)environ(?:\.get\(|\[)|_positive_int\(environ, |envvar=)["']([A-Z_]+)["']"""
    return {name for path in sources for name in re.findall(pattern, path.read_text())}


def test_every_environment_variable_the_code_reads_is_documented():
    read = environment_variables_read()
    assert {"DATABASE_URL", "SECRET_KEY", "WEB_CONCURRENCY", "PORT"} <= read
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", README, flags=re.MULTILINE))
    assert read - documented - {"DYNO"} == set()


def test_runtime_txt_names_the_python_the_tests_run_on():
    import sys
    runtime = (PROJECT_ROOT / "runtime.txt").read_text().strip()
    assert runtime.startswith(f"python-{sys.version_info.major}.{sys.version_info.minor}.")


def test_requirements_pin_exact_versions():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (PROJECT_ROOT / name).read_text().splitlines():
            if line and not line.startswith(("#", "-r ")):
                assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", line), (name, line)
    assert "pixeltable" not in (PROJECT_ROOT / "requirements.txt").read_text()
