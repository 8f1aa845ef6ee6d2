"""`manage.py export -o`: one-line errors, devices and pipes written in place, links kept."""

import os
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

from tests.processes import PROJECT_ROOT, process_environment, run_manage
from tests.test_admin import add_rows

NOBODY = 65534
NOTES = 'Ωμέγα 李 🧪 \\ "quoted" \'single\' =1+1 ' + "x" * 1900


@pytest.fixture
def rows(app, engine):
    add_rows(engine, 20, notes=NOTES, entered_by="Ζωή 李")


def export_to(database_url, output):
    return run_manage("export", "intake", "-o", str(output), DATABASE_URL=database_url)


def assert_one_line_error(result, *words):
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.stderr and all(word in lines[0] for word in words), lines[0]


def test_missing_directory_is_one_line(rows, database_url, tmp_path):
    result = export_to(database_url, tmp_path / "nowhere" / "intake.csv")
    assert_one_line_error(result, "nowhere/intake.csv", "No such file or directory")
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize("where", ["file", "proc"])
def test_unwritable_path_is_one_line(rows, database_url, tmp_path, where):
    (tmp_path / "plain.txt").write_text("not a directory")
    output = tmp_path / "plain.txt" / "intake.csv" if where == "file" else "/proc/collector-export.csv"
    assert_one_line_error(export_to(database_url, output), str(output))


def test_empty_file_name_is_one_line(rows, database_url):
    assert_one_line_error(export_to(database_url, ""), "-o needs a file name")


def test_a_directory_is_refused_in_one_line(rows, database_url, tmp_path):
    assert_one_line_error(export_to(database_url, tmp_path), "is a directory")
    assert tmp_path.is_dir()


@pytest.fixture
def dev_full(tmp_path):
    """A private /dev/full (same device numbers): a broken export must not replace the real one."""
    node = tmp_path / "full"
    try:
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 7))
    except PermissionError:
        pytest.skip("creating a device node needs CAP_MKNOD")
    return node


def test_dev_full_is_an_error_and_stays_a_device(rows, database_url, dev_full, tmp_path):
    result = export_to(database_url, dev_full)
    assert_one_line_error(result, str(dev_full), "No space left on device")
    assert stat.S_ISCHR(os.lstat(dev_full).st_mode)
    assert os.listdir(tmp_path) == ["full"]


def test_a_link_to_dev_full_is_followed_and_left_alone(rows, database_url, tmp_path):
    link = tmp_path / "out.csv"
    link.symlink_to("/dev/full")  # if it were replaced, only this link would be, not /dev/full
    assert_one_line_error(export_to(database_url, link), str(link), "No space left on device")
    assert link.is_symlink() and stat.S_ISCHR(os.stat(link).st_mode)
    assert os.listdir(tmp_path) == ["out.csv"]


def test_a_named_pipe_is_written_in_place(rows, database_url, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    # A daemon thread: should the export replace the pipe, the reader waits forever.
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = export_to(database_url, fifo)
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    text = received[0].decode()
    assert text.startswith("id,submission_id,") and text.count("Ζωή 李") == 20
    assert sorted(os.listdir(tmp_path)) == ["pipe"]


def test_a_symlink_stays_a_link_and_its_target_gets_the_export(rows, database_url, tmp_path):
    (tmp_path / "data").mkdir()
    target = tmp_path / "data" / "intake.csv"
    target.write_text("yesterday's export")
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    result = export_to(database_url, link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8").count("Ζωή 李") == 20
    assert sorted(os.listdir(tmp_path)) == ["data", "latest.csv"]
    assert os.listdir(tmp_path / "data") == ["intake.csv"]


def test_a_full_disk_leaves_no_partial_and_keeps_the_old_file(rows, database_url, tmp_path):
    output = tmp_path / "intake.csv"
    output.write_text("yesterday's export")

    def small_disk():  # the file system refuses writes past 10 kB (EFBIG, as ENOSPC would)
        resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))

    result = subprocess.run([sys.executable, "manage.py", "export", "intake", "-o", str(output)],
                            capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
                            env=process_environment(DATABASE_URL=database_url),
                            preexec_fn=small_disk)
    assert_one_line_error(result, str(output), "File too large")
    assert os.listdir(tmp_path) == ["intake.csv"]
    assert output.read_text() == "yesterday's export"


PREVIOUS = ("earlier exports: Ωμέγα 李 🧪 \\ \"q\" 'x' =SUM(A1)\r\n" * 500).encode("utf-8")


def export_with(database_url, output, **streams):
    """Run `export intake -o OUTPUT` with stdout/stderr as given (pipes by default)."""
    streams = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE} | streams
    return subprocess.run([sys.executable, "manage.py", "export", "intake", "-o", str(output)],
                          cwd=PROJECT_ROOT, timeout=120, **streams,
                          env=process_environment(DATABASE_URL=database_url))


def assert_export(data):
    text = data.decode("utf-8")
    assert text.startswith("id,submission_id,") and text.count("Ζωή 李") == 20, text[:200]


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "/proc/thread-self/fd/1",
                                  "link to /dev/stdout"])
def test_dev_stdout_appended_with_shell_redirect_keeps_the_file(rows, database_url, tmp_path, name):
    """`export -o /dev/stdout >> all.csv` appends, as `export >> all.csv` does."""
    everything = tmp_path / "all.csv"
    everything.write_bytes(PREVIOUS)
    inode = everything.stat().st_ino
    if name.startswith("link"):
        name = tmp_path / "latest.csv"
        name.symlink_to("/dev/stdout")
    with open(everything, "ab") as appended:
        result = export_with(database_url, name, stdout=appended)
    assert result.returncode == 0, result.stderr
    data = everything.read_bytes()
    assert everything.stat().st_ino == inode and not everything.is_symlink()
    assert data.startswith(PREVIOUS)
    assert_export(data[len(PREVIOUS):])
    assert sorted(os.listdir(tmp_path)) == ["all.csv"] + (["latest.csv"] if "latest" in str(name) else [])


@pytest.mark.parametrize("name, stream", [("/dev/stdout", "stdout"), ("/dev/stderr", "stderr"),
                                          ("/dev/fd/1", "stdout"), ("/proc/self/fd/2", "stderr")])
def test_dev_stdout_into_a_pipe_is_written_to_the_pipe(rows, database_url, name, stream):
    """`export -o /dev/stdout | gzip`: the pipe gets the CSV."""
    result = export_with(database_url, name)
    assert result.returncode == 0, result.stderr
    # Progress lines also go to stderr; the CSV is there whole, after them.
    received = getattr(result, stream)
    start = received.index(b"id,submission_id,")
    assert start == 0 or stream == "stderr", received[:200]  # stdout carries nothing but the CSV
    assert_export(received[start:].split(b"\nexport intake: ")[0])


def test_a_descriptor_that_is_not_open_is_one_line(rows, database_url, tmp_path):
    assert_one_line_error(export_to(database_url, "/dev/fd/9"), "/dev/fd/9", "Bad file descriptor")


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o444])
def test_rewriting_a_file_keeps_its_mode_and_owner(rows, database_url, tmp_path, mode):
    output = tmp_path / "secret Ωμέγα 李.csv"
    output.write_bytes(PREVIOUS)
    os.chmod(output, mode)
    owner = (os.getuid(), os.getgid())
    if os.geteuid() == 0:  # root may give it to anyone: the owner must come back too
        owner = (4242, 4343)
        os.chown(output, *owner)
    result = export_to(database_url, output)
    assert result.returncode == 0, result.stderr
    after = output.stat()
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (mode, *owner)
    assert_export(output.read_bytes())


def test_a_new_file_is_readable_by_its_owner_only(rows, database_url, tmp_path):
    output = tmp_path / "new.csv"
    assert export_to(database_url, output).returncode == 0
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert_export(output.read_bytes())


def test_other_hard_links_keep_the_old_content(rows, database_url, tmp_path):
    """Documented: the name gets a new file; a hard link elsewhere keeps the old one."""
    output, elsewhere = tmp_path / "intake.csv", tmp_path / "backup.csv"
    output.write_bytes(PREVIOUS)
    os.link(output, elsewhere)
    assert export_to(database_url, output).returncode == 0
    assert_export(output.read_bytes())
    assert elsewhere.read_bytes() == PREVIOUS


@pytest.mark.parametrize("planted", ["link to a file", "dangling link", "file"])
def test_a_planted_partial_is_never_followed_or_used(rows, database_url, tmp_path, planted):
    victim, output = tmp_path / "victim.txt", tmp_path / "out.csv"
    victim.write_bytes(PREVIOUS)
    partial = tmp_path / "out.csv.partial"
    if planted == "file":
        partial.write_text("stale")
    else:
        partial.symlink_to(victim if planted == "link to a file" else tmp_path / "nowhere.csv")
    result = export_to(database_url, output)
    assert result.returncode == 0, result.stderr
    assert not output.is_symlink() and stat.S_IMODE(output.stat().st_mode) == 0o600
    assert_export(output.read_bytes())
    assert victim.read_bytes() == PREVIOUS
    assert sorted(os.listdir(tmp_path)) == ["out.csv", "out.csv.partial", "victim.txt"]
    assert os.path.islink(partial) == (planted != "file")


WRITE_AS_OTHER_USER = """import sys
from collector.ops.outfile import output_file
with output_file(sys.argv[1]) as sink:
    sink.write(sys.stdin.buffer.read())
"""


@pytest.fixture
def nobodys_directory():
    """A directory an unprivileged user (nobody) owns, reachable by that user."""
    if os.geteuid() != 0:
        pytest.skip("acting as another user needs root")
    directory = tempfile.mkdtemp(prefix="collector-export-")
    os.chmod(directory, 0o755)
    os.chown(directory, NOBODY, NOBODY)
    yield Path(directory)
    shutil.rmtree(directory)


def python_for_nobody():
    """A Python that nobody may run (this venv's may sit under root's private home)."""
    for python in (sys.executable, "/usr/bin/python3"):
        try:
            if subprocess.run([python, "-c", ""], user=NOBODY, capture_output=True).returncode == 0:
                return python
        except OSError:
            continue  # not reachable or not executable for nobody
    pytest.skip("no Python that user nobody may run")


def test_group_bits_are_dropped_when_the_group_cannot_be_kept(nobodys_directory):
    """nobody cannot give the new file the old group: its members must not read it instead."""
    output = nobodys_directory / "shared Ωμέγα.csv"
    output.write_bytes(PREVIOUS)
    os.chown(output, NOBODY, 4343)  # a group nobody is not in
    os.chmod(output, 0o664)
    result = subprocess.run([python_for_nobody(), "-c", WRITE_AS_OTHER_USER, str(output)],
                            input="new 李 🧪 \\ \"\x00".encode(), capture_output=True, cwd=PROJECT_ROOT,
                            user=NOBODY, group=NOBODY, extra_groups=[], timeout=60)
    assert result.returncode == 0, result.stderr
    after = output.stat()
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (0o604, NOBODY, NOBODY)
    assert output.read_bytes() == "new 李 🧪 \\ \"\x00".encode()
