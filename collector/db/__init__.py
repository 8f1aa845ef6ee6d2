"""The database: tables from form specs, create_all, the one INSERT, the collector's own tables. Never imports the web layer."""
