"""A small HTTP load generator for the fault tests: real sockets, real cookies, no redirects."""

import http.cookiejar
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from tests.helpers import hidden_inputs, sign_in_over_http, valid_intake


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 303 is the answer we want to see, not follow


class FormClient:
    """One RA's browser: its own cookie jar, a fresh form before each submission."""

    def __init__(self, base_url, invite_url=None):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())
        if invite_url:
            status, _page = sign_in_over_http(self.opener, invite_url)
            assert status == 303, f"invite link refused: {status}"

    def fresh_form(self):
        """Open the intake form; return its hidden inputs (csrf_token, submission_id)."""
        with self.opener.open(self.base_url + "/forms/intake", timeout=30) as page:
            return hidden_inputs(page.read().decode())

    def post(self, hidden, **changes):
        """Submit a valid entry; return (status, Location header or '')."""
        body = urllib.parse.urlencode({**valid_intake(**changes), **hidden}, doseq=True).encode()
        try:
            with self.opener.open(self.base_url + "/forms/intake", data=body, timeout=30) as response:
                return response.status, response.headers.get("Location", "")
        except urllib.error.HTTPError as answer:
            return answer.code, answer.headers.get("Location", "")


class Load:
    """Several clients submitting in a loop until stopped; every answer is recorded."""

    def __init__(self, base_url, invite_url=None, clients=4):
        self.base_url, self.invite_url, self.clients = base_url, invite_url, clients
        self.results = []          # (submission_id, status) for every answered POST
        self.unanswered = 0        # connection errors: the client would keep its draft
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = []

    def start(self):
        self._stop.clear()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(self.clients)]
        for thread in self._threads:
            thread.start()

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self):
        client = FormClient(self.base_url, self.invite_url)
        while not self._stop.is_set():
            try:
                hidden = client.fresh_form()
                status, _location = client.post(hidden)
            except OSError:
                with self._lock:
                    self.unanswered += 1
                time.sleep(0.05)
                continue
            with self._lock:
                self.results.append((hidden["submission_id"], status))

    def acknowledged(self, *statuses):
        """Return the submission ids answered with one of `statuses`."""
        return {sid for sid, status in self.results if status in statuses}


class ConnectionSampler:
    """Sample the app's connections in pg_stat_activity until stopped; keep the peak."""

    def __init__(self, engine, application_name="collector", interval=0.02):
        self.engine, self.application_name, self.interval = engine, application_name, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self):
        from sqlalchemy import text
        query = text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :name")
        while not self._stop.is_set():
            try:
                # Autocommit: pg_stat_activity is a snapshot per transaction.
                with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    while not self._stop.is_set():
                        count = conn.execute(query, {"name": self.application_name}).scalar()
                        self.peak = max(self.peak, count)
                        time.sleep(self.interval)
            except Exception:  # the database is down on purpose; try again shortly
                time.sleep(self.interval)
