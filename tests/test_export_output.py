"""`manage.py export -o`: one-line errors, devices and pipes written in place, links kept."""

import os
import resource
import stat
import subprocess
import sys
import threading

import pytest

from tests.processes import PROJECT_ROOT, process_environment, run_manage
from tests.test_admin import add_rows

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
