"""gunicorn settings for `gunicorn app:app` (gunicorn reads this file from the working directory).

Each setting says why it has its value; the numbers come from Heroku's limits.
"""

import os

# Heroku tells the web process which port to take; locally stay on loopback.
bind = f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000"

# Heroku sets WEB_CONCURRENCY from the dyno size; collector/ops/config.py divides
# the database's connection budget by the same number.
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))

# Sync workers, chosen by measurement (bench/, 2 cores, 8 clients, 2 workers,
# 2026-11-21): sync 1166 submissions/s, p99 10.5 ms, 2 database connections;
# gthread with 4 threads 1178/s, p99 17.2 ms, 8 connections. Same throughput,
# worse tail and four times the connections: sync it is. A sync worker needs
# at most one database connection.
worker_class = "sync"

# Sync workers close each connection after the response, so keep-alive is
# unused; should the worker class change, stay above the router's 90 s idle
# timeout so the router never sends a request on a connection we just closed.
keepalive = 95

# Heroku's router gives up on a request after 30 s; kill a stuck worker a
# little before that so the RA gets our error page, not the router's H12.
timeout = 25

# On SIGTERM (deploys, restarts, daily cycling) Heroku waits 30 s before
# SIGKILL. Let in-flight submissions finish within 20 s, well inside that.
graceful_timeout = 20

# Build the app in each worker, after the fork: no database connection or
# pool can be shared between processes.
preload_app = False

# gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl by default:
# two servers on one machine (tests, the benchmark, `heroku local`) would take
# it from each other. Nothing here uses gunicornc, so open none.
control_socket_disable = True

# Access lines to stdout, where `heroku logs` reads them, as JSON with the
# same request id as the app's own lines (collector/ops/gunicorn_logging.py).
accesslog = "-"
logger_class = "collector.ops.gunicorn_logging.JsonAccessLogger"
