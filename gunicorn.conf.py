"""gunicorn settings for `gunicorn app:app` (gunicorn reads this file from the working directory).

Each setting says why it has its value; the numbers come from Heroku's limits.
"""

import os

# Heroku tells the web process which port to take; locally stay on loopback.
bind = f"0.0.0.0:{os.environ['PORT']}" if os.environ.get("PORT") else "127.0.0.1:8000"

# Heroku sets WEB_CONCURRENCY from the dyno size; collector/config.py divides
# the database's connection budget by the same number.
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))

# Sync workers: one request per process at a time, so a worker never needs
# more than one database connection and a slow request cannot starve others
# inside the same process.
worker_class = "sync"

# Heroku's router gives up on a request after 30 s; kill a stuck worker a
# little before that so the RA gets our error page, not the router's H12.
timeout = 25

# On SIGTERM (deploys, restarts, daily cycling) Heroku waits 30 s before
# SIGKILL. Let in-flight submissions finish within 20 s, well inside that.
graceful_timeout = 20

# Build the app in each worker, after the fork: no database connection or
# pool can be shared between processes.
preload_app = False

# Access lines to stdout, where `heroku logs` reads them, as JSON with the
# same request id as the app's own lines (collector/gunicorn_logging.py).
accesslog = "-"
logger_class = "collector.gunicorn_logging.JsonAccessLogger"
