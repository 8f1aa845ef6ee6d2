"""Error pages: a plain message for the RA, never a stack trace."""

from flask import render_template
from werkzeug.exceptions import HTTPException

from collector.db.database import db


def register_error_handlers(app):
    """Answer HTTP errors and unexpected exceptions with a readable page."""

    @app.errorhandler(HTTPException)
    def http_error(error):
        return render_template("message.html", title=error.name,
                               message=error.description), error.code

    @app.errorhandler(Exception)
    def unexpected_error(error):
        # A failed request must not leave a broken transaction for the next one.
        db.session.rollback()
        app.logger.exception("unhandled error")
        return render_template("message.html", title="Something went wrong",
                               message="The server hit an error. Nothing you entered on this "
                                       "page was saved by this request; please try again."), 500
