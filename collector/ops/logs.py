"""Write one JSON object per line to stdout, where `heroku logs` keeps it."""

import io
import json
import logging
import os
import sys
import threading
import uuid
from datetime import datetime, timezone

from flask import g, has_request_context, request

MAX_REQUEST_ID_LENGTH = 200
# One writer at a time per process (gthread workers, the dev server's threads).
_STDOUT_LOCK = threading.Lock()


def utc_now(moment=None):
    """Return the current UTC time (or `moment`'s) as 2026-11-21T10:00:00.123456Z."""
    return (moment or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def current_request_id():
    """Return this request's id, or None outside a request."""
    return g.get("request_id") if has_request_context() else None


def write_line(record):
    """Print `record` as one JSON line, in one write(), so a crash right after cannot lose it."""
    # ensure_ascii keeps the line printable whatever the locale of stdout.
    write_lines([(json.dumps(record, ensure_ascii=True, default=str) + "\n").encode()])


def write_lines(lines):
    """Write each line (bytes ending in a newline) to stdout with one write() of its own.

    A pipe keeps a write() of up to 4096 bytes whole even when several workers
    share it; a line written in pieces could be spliced with another worker's.
    """
    with _STDOUT_LOCK:
        sys.stdout.flush()  # whatever print() or logging buffered goes first
        try:
            fd = sys.stdout.fileno()
        except (AttributeError, ValueError, io.UnsupportedOperation):
            fd = None  # a stream with no file behind it (a test's StringIO) gets text
        for line in lines:
            if fd is None:
                sys.stdout.write(line.decode("utf-8"))
            else:
                _write_all(fd, line)
        sys.stdout.flush()


def _write_all(fd, data):
    """os.write until every byte is out: a write() may take fewer bytes than given."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def log_event(event, **fields):
    """Log an event as one JSON line with the request id and time."""
    write_line({"event": event, **fields, "request_id": current_request_id(), "at": utc_now()})


def assign_request_id():
    """Take the router's X-Request-ID, or make one; store it on `g` (before_request)."""
    given = request.headers.get("X-Request-ID", "")
    valid = 0 < len(given) <= MAX_REQUEST_ID_LENGTH and given.isprintable()
    g.request_id = given if valid else uuid.uuid4().hex


def return_request_id(response):
    """Echo the request id to the client (after_request)."""
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


class JsonFormatter(logging.Formatter):
    """Format Python log records (Flask, SQLAlchemy, werkzeug) as JSON lines."""

    def format(self, record):
        entry = {"event": "log", "level": record.levelname.lower(), "logger": record.name,
                 "message": record.getMessage(), "request_id": current_request_id(),
                 "at": utc_now()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=True, default=str)


def configure_logging(app):
    """Send the app's Python logging to stdout as JSON lines."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(logging.INFO)
    app.logger.propagate = False
