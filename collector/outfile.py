"""Write a command's output to a file so that a failure never looks like a finished file.

A regular file is written as NAME.partial next to it and renamed over it only
when complete. A symlink is followed, so the link stays a link and its target
gets the new content. A device or FIFO (/dev/full, a named pipe) is written in
place: renaming a file over it would replace the device node.
"""

import os
import stat
from contextlib import contextmanager
from pathlib import Path


class OutputError(Exception):
    """The output file cannot be written; the message names the file and why."""


@contextmanager
def output_file(path):
    """Yield a binary file for `path`; raise OutputError if it cannot be written whole."""
    if not str(path):
        raise OutputError("the output file name is empty (-o needs a file name)")
    target = Path(os.path.realpath(path))
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise _error(path, error) from None
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"cannot write {path}: it is a directory")
    writer = _in_place if mode is not None and not stat.S_ISREG(mode) else _via_partial
    with writer(target, path) as sink:
        yield sink


@contextmanager
def _in_place(target, shown):
    try:
        with open(target, "wb") as sink:
            yield sink
    except OSError as error:  # also raised by close(), which flushes the last buffer
        raise _error(shown, error) from None


@contextmanager
def _via_partial(target, shown):
    partial = target.with_name(target.name + ".partial")
    try:
        with open(partial, "wb") as sink:
            yield sink
        os.replace(partial, target)
    except BaseException as error:
        try:
            partial.unlink(missing_ok=True)
        except OSError:
            pass  # it was never created
        if isinstance(error, OSError):
            raise _error(shown, error) from None
        raise


def _error(path, error):
    return OutputError(f"cannot write {path}: {error.strerror or error}")
