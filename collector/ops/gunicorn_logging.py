"""gunicorn's access lines as JSON, carrying the same request id as the app's lines.

Set as `logger_class` in gunicorn.conf.py. Building the JSON ourselves (rather
than an access_log_format template) keeps a path with quotes in it valid JSON.
"""

import json
import logging
import re
from datetime import datetime, timezone

from gunicorn.glogging import Logger

# Old invite links carried the token in the path (/invite/<token>), and an app
# may encode a link's '#' (/invite%23<token>, decoded to /invite#<token>): such
# paths still get opened, and their tokens must not reach our logs.
_INVITE_PATH = re.compile(r"^(/+invite)(.+)$", re.IGNORECASE | re.DOTALL)


def redact_path(path):
    """Return `path` with anything after /invite replaced, so no token is logged."""
    if not path:
        return path
    match = _INVITE_PATH.match(path)
    if not match:
        return path
    return match.group(1) + ("/" if match.group(2).startswith("/") else "") + "[redacted]"


_INVITE_IN_TEXT = re.compile(r"(/+invite)(?=[^\s\"]+)[^\s\"]+", re.IGNORECASE)


class RedactInviteCodes(logging.Filter):
    """Redact /invite… paths in a log line of free text (werkzeug's dev server log)."""

    def filter(self, record):
        record.msg, record.args = _INVITE_IN_TEXT.sub(r"\1[redacted]", record.getMessage()), ()
        return True


class JsonAccessLogger(Logger):
    """gunicorn's logger, with one JSON object per access line on stdout."""

    def access(self, resp, req, wsgi_environ, request_time):
        if not self.access_log_enabled:
            return
        headers = {name.lower(): value for name, value in (resp.headers or [])}
        record = {
            "event": "access",
            "method": wsgi_environ.get("REQUEST_METHOD"),
            "path": redact_path(wsgi_environ.get("PATH_INFO")),
            "status": resp.status_code,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            # The app echoes the router's X-Request-ID (or the one it made) in the response.
            "request_id": headers.get("x-request-id") or wsgi_environ.get("HTTP_X_REQUEST_ID"),
            "at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }
        self.access_log.info(json.dumps(record, ensure_ascii=True))
