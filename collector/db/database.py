"""The Flask-SQLAlchemy handle, bound to an app in create_app()."""

from flask_sqlalchemy import SQLAlchemy

# Only the engine is used: tables are built from form files (schema.py), so
# there are no declarative models, and inserts go through SQLAlchemy Core.
db = SQLAlchemy()
