"""Build the Flask app: configuration, extensions, form registry, routes.

create_app() only reads configuration and form files; it never talks to the
database, so building an app is cheap and safe anywhere.
"""

import os
import sys

from flask import Flask
from flask_heroku import Heroku
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from collector.db import readback
from collector.db.database import db
from collector.forms.spec_checks import SpecError
from collector.ops import logs
from collector.ops.config import PROJECT_ROOT, ConfigError, load_config
from collector.web import access, security
from collector.web import admin_edit, admin_record  # noqa: F401  (register the row routes on the blueprint)
from collector.web.admin import bp as admin_blueprint
from collector.web.errors import register_error_handlers
from collector.web.registry import load_registry
from collector.web.views import bp as forms_blueprint

csrf = CSRFProtect()


def create_app(overrides=None, environ=None):
    """Build the app from the environment (or `environ`), then apply `overrides`."""
    # templates/, static/ and instance/ sit at the top of the repository.
    app = Flask("app", root_path=str(PROJECT_ROOT), instance_path=str(PROJECT_ROOT / "instance"))
    app.config.update(load_config(os.environ if environ is None else environ, app.instance_path))
    app.config.update(overrides or {})
    # flask-heroku only fills settings that are still unset (setdefault), so it
    # runs after ours and cannot put Heroku's raw postgres:// URL back.
    Heroku(app)
    # Heroku's router is one proxy hop: trust its X-Forwarded-For/-Proto/-Port.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_port=1)
    app.wsgi_app = security.BodyWithoutLength(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])
    app.extensions["collector"] = load_registry(app.config["FORMS_DIR"])
    db.init_app(app)
    with app.app_context():
        readback.install(db.engine)  # BC, year 10000 and infinity read back as text
    app.add_template_filter(readback.local_time)
    logs.configure_logging(app)
    # Order matters: a request id first (every answer carries it), then the HTTPS
    # redirect (a plain-HTTP POST on Heroku is redirected, not refused), then the
    # cross-origin refusal, then CSRF: a post from another site must get the plain
    # refusal, never CSRF's "values kept" form with a fresh token and cookie.
    app.before_request(logs.assign_request_id)
    # An invite code in an address is in the router's log already: switch it
    # off before anything else answers (even the HTTPS redirect).
    app.before_request(access.switch_off_codes_in_addresses)
    app.before_request(security.redirect_to_https)
    app.before_request(security.refuse_cross_origin)
    csrf.init_app(app)
    app.before_request(security.refuse_huge_forms)
    app.after_request(logs.return_request_id)
    app.after_request(security.add_security_headers)
    register_error_handlers(app)
    app.register_blueprint(forms_blueprint)
    app.register_blueprint(admin_blueprint)
    return app


def create_app_or_exit():
    """Return the app, or exit non-zero with one clear line when configuration is wrong."""
    try:
        return create_app()
    except (ConfigError, SpecError) as error:
        sys.stderr.write(f"collector: cannot start: {error}\n")
        sys.stderr.flush()
        # 3 is gunicorn's "worker failed to boot": the master stops instead of
        # respawning a worker that can never start.
        sys.exit(3)


