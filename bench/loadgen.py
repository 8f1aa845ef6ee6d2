"""Drive an app with N concurrent clients: Debian's wrk when installed, else our own.

The built-in generator runs one process per client (no GIL between them);
bench/run.py measures its capacity against a do-nothing server in the same
run, so the report shows it was not the bottleneck.
"""

import http.client
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

LUA = Path(__file__).with_name("submit.lua")


def have_wrk():
    return shutil.which("wrk") is not None


def run_load(url, body_template, cookie, clients, seconds, generator="auto"):
    """POST to `url` for `seconds`; return requests/s, p50 and p99 in ms, and error counts."""
    if generator == "wrk" or (generator == "auto" and have_wrk()):
        return _run_wrk(url, body_template, cookie, clients, seconds)
    return _run_builtin(url, body_template, cookie, clients, seconds)


def _run_wrk(url, body_template, cookie, clients, seconds):
    env = {**os.environ, "BENCH_BODY": body_template, "BENCH_COOKIE": cookie or ""}
    threads = min(clients, os.cpu_count() or 1)
    result = subprocess.run(["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{seconds}s",
                             "--latency", "-s", str(LUA), url],
                            env=env, capture_output=True, text=True, check=True)
    stats = json.loads(result.stdout.strip().splitlines()[-1])
    stats["rate"] = stats["requests"] / stats["seconds"]
    return stats


def _client(url, body_template, cookie, deadline, results):
    parts = urlsplit(url)
    latencies, errors = [], 0
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookie:
        headers["Cookie"] = cookie
    while time.monotonic() < deadline:
        body = body_template.replace("SUBMISSION_ID", str(uuid.uuid4()))
        started = time.perf_counter()
        try:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            connection.request("POST", parts.path or "/", body=body, headers=headers)
            status = connection.getresponse().status
            connection.close()
        except OSError:
            errors += 1
            continue
        latencies.append(time.perf_counter() - started)
        errors += status >= 400
    results.put((latencies, errors))


def _run_builtin(url, body_template, cookie, clients, seconds):
    results = multiprocessing.Queue()
    deadline = time.monotonic() + seconds
    workers = [multiprocessing.Process(target=_client, args=(url, body_template, cookie,
                                                             deadline, results))
               for _ in range(clients)]
    for worker in workers:
        worker.start()
    collected = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    latencies = sorted(l for batch, _ in collected for l in batch)
    cut = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"requests": len(latencies), "seconds": seconds, "rate": len(latencies) / seconds,
            "p50_ms": statistics.median(latencies) * 1000 if latencies else 0.0,
            "p99_ms": cut(0.99) if latencies else 0.0, "socket_errors": 0,
            "status_errors": sum(errors for _, errors in collected)}
