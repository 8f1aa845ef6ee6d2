"""Reserved names: our list must cover every word the running PostgreSQL reserves."""

from sqlalchemy import text

from collector.forms.names import RESERVED_WORDS


def test_reserved_words_cover_the_servers_reserved_keywords(engine):
    with engine.connect() as conn:
        server = set(conn.execute(text(
            "SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T')")).scalars())
    assert server - RESERVED_WORDS == set()
