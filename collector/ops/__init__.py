"""Operations: configuration, JSON logs, the failed-write record, replay, export files, gunicorn's access log."""
