"""The form language: read and check form files, parse and validate values. Imports neither Flask nor SQLAlchemy."""
