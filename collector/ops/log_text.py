"""Read a log as numbered text lines, whatever encoding the PI's shell saved it in.

Windows PowerShell 5.1 writes `heroku logs > held.log` as UTF-16LE with a BOM
and CRLF line ends; read as UTF-8, every record would be skipped. The BOM
decides the encoding; without one, NUL bytes in every other place mean UTF-16
(a UTF-8 log never has them: JSON escapes NUL as \\u0000).
"""

import codecs
from itertools import chain

BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"))


def text_lines(lines):
    """Yield (line number, text without its line end) for `lines` (bytes or str)."""
    lines = iter(lines)
    first = next(lines, None)
    if first is None:
        return
    if isinstance(first, str):
        texts = chain([first.removeprefix("\ufeff")], lines)
    else:
        encoding, bom = _encoding(first)
        rest = chain([first[bom:]], lines)
        texts = _utf8(rest) if encoding == "utf-8" else _decoded(rest, encoding)
    for number, text in enumerate(texts, 1):
        yield number, text.rstrip("\r\n")


def _encoding(first):
    """Return (encoding, length of its BOM) from the first bytes of the log."""
    for bom, encoding in BOMS:
        if first.startswith(bom):
            return encoding, len(bom)
    odd, even, pairs = first[1::2].count(0), first[0::2].count(0), len(first) // 2
    # Only a line that is nearly all ASCII in UTF-16: NUL junk in a UTF-8 log stays UTF-8.
    if odd * 10 >= pairs * 9 and even * 10 < pairs:
        return "utf-16-le", 0
    if even * 10 >= pairs * 9 and odd * 10 < pairs:
        return "utf-16-be", 0
    return "utf-8", 0


def _utf8(chunks):
    """Yield each line as text; bytes that are not UTF-8 are kept (surrogateescape)."""
    for chunk in chunks:
        yield chunk.decode("utf-8", "surrogateescape")


def _decoded(chunks, encoding):
    """Yield the lines of UTF-16 bytes that arrive in arbitrary pieces (split at b"\\n")."""
    # A broken surrogate becomes a visible \\x escape: it can only make a record unreadable.
    decoder = codecs.getincrementaldecoder(encoding)("backslashreplace")
    pending = []  # pieces of the line not yet ended: joined once, so a long line stays linear
    for chunk in chain(chunks, [None]):
        *complete, last = decoder.decode(chunk or b"", final=chunk is None).split("\n")
        if complete:
            yield "".join(pending) + complete[0] + "\n"
            pending = []
            yield from (line + "\n" for line in complete[1:])
        pending.append(last)
    if "".join(pending):
        yield "".join(pending)
