"""One row in the PI area: its values, its history, and Edit, Review and Withdraw.

Being built (issue 12): the rows page links here already.
"""

from flask import abort

from collector.web.admin import bp


@bp.get("/forms/<name>/rows/<int:row_id>")
def row_page(name, row_id):
    """Show one row (not built yet)."""
    abort(404)
