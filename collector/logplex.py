"""Undo what Heroku's log router does to a long line: rejoin its 10,000-byte chunks.

Collectors before part lines wrote every failed-write record as one line, and
Logplex cut a line over 10,000 bytes into chunks, each a log line of its own
with its own `<time> app[web.1]: ` prefix. A chunk of exactly 10,000 bytes
that carries the event starts a chain; the following lines of the same
source are its continuation until one is shorter. Logplex may drop a chunk,
and an old record has no checksum: a rejoined record may lack a piece
without looking broken, so replay prints it for a person to check.
"""

import re

# `2026-11-21T10:00:00.000000+00:00 app[web.1]: `; group 1 is the source.
PREFIX = re.compile(r"^(?:\S+ +([\w.-]+\[[\w.-]+\]): ?)?")
CHUNK = 10_000


def rejoined(numbered_lines, starts_record):
    """Yield (first line number, text, lines joined) for `numbered_lines`, chunks rejoined.

    `starts_record(payload)` says whether a chunk may begin a record.
    """
    chains = {}  # source -> [first line number, joined text, lines joined]
    for number, text in numbered_lines:
        match = PREFIX.match(text)
        source, payload = match.group(1), text[match.end():]
        if source in chains:
            chain = chains[source]
            chain[1:] = chain[1] + payload, chain[2] + 1
            if _size(payload) != CHUNK:
                yield tuple(chains.pop(source))
        elif _size(payload) == CHUNK and starts_record(payload):
            chains[source] = [number, text, 1]
        else:
            yield number, text, 1
    yield from sorted(tuple(chain) for chain in chains.values())  # the input ended mid-chain


def _size(payload):
    return len(payload.encode("utf-8", "surrogateescape"))
