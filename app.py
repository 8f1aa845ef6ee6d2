"""The collector's web app: `gunicorn app:app` serves it.

The factory lives in collector/web/factory.py so that manage.py and the tests can
build apps with their own settings without importing this module, which
builds the one app gunicorn serves, from the environment.
"""

from collector.web.factory import create_app, create_app_or_exit

__all__ = ["app", "create_app"]

app = create_app_or_exit()
