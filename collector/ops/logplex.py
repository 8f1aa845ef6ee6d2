"""Undo what Heroku's log router does to a long line: rejoin its 10,000-byte chunks.

Collectors before part lines wrote every failed-write record as one line, and
Logplex cut a line over 10,000 bytes into chunks, each a log line of its own
with its own `<time> app[web.1]: ` prefix (or a syslog drain's). A chunk of
exactly 10,000 bytes that carries the event and is not a whole record by
itself starts a chain; the following lines of the same
source are its continuation until one is shorter. Logplex may drop a chunk,
and an old record has no checksum: a rejoined record may lack a piece
without looking broken, so replay prints it for a person to check.
"""

import re

# `2026-11-21T10:00:00.000000+00:00 app[web.1]: ` (heroku logs), or a syslog drain's
# `<190>1 2026-11-21T10:00:00+00:00 host app web.1 - `, octet count or not in front.
# Group 1 or 2 is the source.
PREFIX = re.compile(r"^(?:\S+ +([\w.-]+\[[\w.-]+\]): ?"
                    r"|(?:[0-9]+ )?<[0-9]{1,3}>[0-9]{1,2} \S+ \S+ (\S+ \S+) \S+ )?")
CHUNK = 10_000


def rejoined(numbered_lines, starts_record):
    """Yield (first line number, text, lines joined) for `numbered_lines`, chunks rejoined.

    `starts_record(payload)` says whether a chunk of exactly CHUNK bytes is the
    cut-off start of a record (a whole record of that size is not).
    """
    chains = {}  # source -> [first line number, [text, payloads…], lines joined]
    for number, text in numbered_lines:
        match = PREFIX.match(text)
        source, payload = match.group(1) or match.group(2), text[match.end():]
        if source in chains:
            chain = chains[source]
            chain[1].append(payload)  # joined once at the end: linear in the chain's length
            chain[2] += 1
            if _size(payload) != CHUNK:
                yield _joined(chains.pop(source))
        elif _size(payload) == CHUNK and starts_record(payload):
            chains[source] = [number, [text], 1]
        else:
            yield number, text, 1
    yield from sorted(_joined(chain) for chain in chains.values())  # the input ended mid-chain


def _joined(chain):
    number, texts, count = chain
    return number, "".join(texts), count


def _size(payload):
    return len(payload.encode("utf-8", "surrogateescape"))
