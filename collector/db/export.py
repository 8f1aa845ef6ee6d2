"""Export a form's rows as CSV with PostgreSQL's COPY, so memory stays flat.

Two flavours, both documented in the README:
- exact (default): every value as stored, for R, Stata, pandas;
- excel_safe: text cells that start with = + - @ tab or CR get a leading '
  so a spreadsheet shows them instead of running them as formulas (OWASP
  CSV injection). Numbers, dates and codes are never changed.
"""

import queue
import threading

from collector.db.schema import metadata_columns

TEXT_TYPES = ("text", "long_text", "email", "choice")
FORMULA_START = r"^[=+\-@\t\r]"
CHUNK_BYTES = 256 * 1024


def copy_sql(spec, excel_safe=False):
    """Return the COPY statement that writes the form's rows as CSV with a header."""
    columns = [c.name for c in metadata_columns()]
    for field in spec.fields:
        if excel_safe and field.type in TEXT_TYPES:
            columns.append(_defused(field.name))
        else:
            columns.append(field.name)
    if excel_safe:
        columns[columns.index("entered_by")] = _defused("entered_by")
    return (f"COPY (SELECT {', '.join(columns)} FROM {spec.name} ORDER BY id) "
            "TO STDOUT WITH (FORMAT csv, HEADER true)")


def _defused(column):
    return f"CASE WHEN {column} ~ '{FORMULA_START}' THEN '''' || {column} ELSE {column} END AS {column}"


def copy_to(engine, sql, sink):
    """Run COPY … TO STDOUT into `sink` (anything with write(bytes)); return the row count."""
    connection = engine.raw_connection()
    try:
        with connection.cursor() as cursor:
            cursor.copy_expert(sql, sink)
            rows = cursor.rowcount
        connection.commit()
        return rows
    finally:
        connection.close()


class _ChunkedSink:
    """Collect COPY's per-row writes into chunks for a bounded queue."""

    def __init__(self, chunks, cancelled):
        self.chunks, self.cancelled, self.buffer = chunks, cancelled, bytearray()

    def write(self, data):
        self.buffer += data
        if len(self.buffer) >= CHUNK_BYTES:
            self.flush()

    def flush(self):
        if self.buffer:
            self._put(bytes(self.buffer))
            self.buffer.clear()

    def _put(self, item):
        while not self.cancelled.is_set():
            try:
                self.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue
        raise ConnectionAbortedError("the client went away")  # aborts the COPY


def stream_csv(engine, sql, logger):
    """Yield the CSV in chunks while COPY runs in a thread; at most 8 chunks wait in memory."""
    chunks, cancelled, done = queue.Queue(maxsize=8), threading.Event(), object()

    def produce():
        sink = _ChunkedSink(chunks, cancelled)
        result = done
        try:
            copy_to(engine, sql, sink)
            sink.flush()
        except Exception as error:
            if not cancelled.is_set():
                logger.exception("export failed")
            result = error
        finally:
            if not cancelled.is_set():
                chunks.put(result)

    worker = threading.Thread(target=produce, daemon=True)
    worker.start()
    try:
        while (chunk := chunks.get()) is not done:
            if isinstance(chunk, Exception):
                # Abort the response: a truncated download must fail, not look complete.
                raise RuntimeError("export failed while streaming") from chunk
            yield chunk
    finally:
        cancelled.set()  # the client stopped reading: stop the COPY too


class ProgressWriter:
    """Write to `target`, calling report(lines, bytes, seconds) about once a second.

    COPY writes one row per call, so rows are counted as calls; the clock is
    read only every few thousand rows to keep the per-row cost near zero.
    """

    CHECK_EVERY = 4096

    def __init__(self, target, report, clock, interval=1.0):
        self.target, self.report, self.clock, self.interval = target, report, clock, interval
        self.lines = self.bytes = 0
        self.started = self.last = clock()

    def write(self, data):
        self.target.write(data)
        self.bytes += len(data)
        self.lines += 1
        if self.lines % self.CHECK_EVERY == 0:
            now = self.clock()
            if now - self.last >= self.interval:
                self.last = now
                self.report(self.lines, self.bytes, now - self.started)
