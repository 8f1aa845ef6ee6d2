"""Write a command's output to a file so that a failure never looks like a finished file.

A regular file is written to a new NAME.XXXXXXXX.partial next to it (created
exclusively, so a file or link planted under that name is never followed) and
renamed over it only when complete. The new file keeps the old one's
permission bits, group and (where allowed, i.e. as root) owner; a new file is
0600, since exports hold research data. Other hard links to the old file keep
the old content. A symlink is followed, so the link stays a link and its target
gets the new content. A device or FIFO (/dev/full, a named pipe) is written in
place: renaming a file over it would replace the device node. /dev/stdout,
/dev/stderr, /dev/fd/N and /proc/self/fd/N name a descriptor this process
already has open: it is written as it is (never truncated or renamed over), so
`-o /dev/stdout >> all.csv` appends, as writing to stdout without -o does.
"""

import os
import re
import stat
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path

# Names of this process's own descriptors, once the directory part is resolved.
_DESCRIPTOR = re.compile(r"/proc/(?P<pid>\d+)(?:/task/\d+)?/fd/(?P<fd>\d+)|/dev/fd/(?P<devfd>\d+)")
_STANDARD = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}  # devices, not links, on macOS
_MAX_LINKS = 40  # the kernel's own limit on symlinks in a row


class OutputError(Exception):
    """The output file cannot be written; the message names the file and why."""


@contextmanager
def output_file(path):
    """Yield a binary file for `path`; raise OutputError if it cannot be written whole."""
    if not str(path):
        raise OutputError("the output file name is empty (-o needs a file name)")
    number = open_descriptor(path)
    with _descriptor(number, path) if number is not None else _file(path) as sink:
        yield sink


def _file(path):
    """Return the writer for a path that names no open descriptor."""
    target = Path(os.path.realpath(path))
    before = _stat(target, path)
    if before is not None and stat.S_ISDIR(before.st_mode):
        raise OutputError(f"cannot write {path}: it is a directory")
    if before is not None and not stat.S_ISREG(before.st_mode):
        return _in_place(target, path)
    return _via_partial(target, path, before)


def open_descriptor(path):
    """Return N if `path`, or the symlinks it leads through, names this process's descriptor N."""
    current = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        # Resolve the directory part only: the last part may be a magic link
        # (/proc/self/fd/1) that realpath would turn into the file or "pipe:[…]".
        head, name = os.path.split(current)
        current = os.path.join(os.path.realpath(head), name)
        number = _descriptor_number(current)
        if number is not None or not os.path.islink(current):
            return number
        current = os.path.join(os.path.dirname(current), os.readlink(current))
    return None


def _descriptor_number(path):
    if path in _STANDARD:
        return _STANDARD[path]
    found = _DESCRIPTOR.fullmatch(path)
    if found is None or found["pid"] not in (None, str(os.getpid())):
        return None  # another process's descriptor is just a path to its file
    return int(found["fd"] or found["devfd"])


def _stat(target, shown):
    try:
        return target.stat()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _error(shown, error) from None


@contextmanager
def _descriptor(number, shown):
    try:
        # A duplicate: closing it leaves the caller's stdout/stderr open.
        with os.fdopen(os.dup(number), "wb") as sink:
            yield sink
    except OSError as error:  # also a descriptor that is not open, or open read-only
        raise _error(shown, error) from None


@contextmanager
def _in_place(target, shown):
    try:
        with open(target, "wb") as sink:
            yield sink
    except OSError as error:  # also raised by close(), which flushes the last buffer
        raise _error(shown, error) from None


@contextmanager
def _via_partial(target, shown, before):
    try:
        # O_CREAT|O_EXCL|O_NOFOLLOW under a random name, mode 0600.
        handle, name = tempfile.mkstemp(prefix=f"{target.name}.", suffix=".partial",
                                        dir=target.parent)
    except OSError as error:
        raise _error(shown, error) from None
    partial = Path(name)
    try:
        with os.fdopen(handle, "wb") as sink:
            _keep_access(sink.fileno(), before)
            yield sink
        os.replace(partial, target)
    except BaseException as error:
        with suppress(OSError):
            partial.unlink()
        if isinstance(error, OSError):
            raise _error(shown, error) from None
        raise


def _keep_access(handle, before):
    """Give the new file the old one's group, owner and permission bits."""
    if before is None:
        return  # a new file stays 0600 (narrowed further by the umask)
    mode = stat.S_IMODE(before.st_mode) & 0o777
    with suppress(OSError):  # a group we are not in
        os.fchown(handle, -1, before.st_gid)
    with suppress(OSError):  # only root may give a file to someone else
        os.fchown(handle, before.st_uid, -1)
    if os.fstat(handle).st_gid != before.st_gid:
        mode &= ~0o070  # the group bits were for another group's members
    os.fchmod(handle, mode)


def _error(path, error):
    return OutputError(f"cannot write {path}: {error.strerror or error}")
