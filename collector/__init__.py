"""The collector: form files in, typed PostgreSQL rows out, nothing lost."""
