"""A JSON ledger in coinpurse's layout, read in pieces: its head, its history's lines, its ending.

The writer (storage.files) puts the history last, one transaction per line after a
``"transactions": [`` line, each line opening with its id and recording its state
after everything but its hash. So a read that needs no history (balance, rates)
stops at that line, and a write keeps the history's lines as bytes, checked by
the checksum in the head. Each function here answers None where the bytes are not
in that layout; the caller then parses the whole file. tests/test_speedups.py
checks that each piece agrees with a full parse. Measurements: docs/performance.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO, Any

HISTORY_OPENER = b'\n  "transactions": [\n'
HISTORY_CLOSER = b"\n  ]\n}\n"
EMPTY_HISTORY = b'  "transactions": []\n}\n'
LINE_SEPARATOR = ",\n"
ENDINGS = (HISTORY_CLOSER, b"\n" + EMPTY_HISTORY)  # how a file the writer wrote ends
TAIL_SIZE = 32  # enough bytes from the end to tell an ending
HEAD_LIMIT = 64 * 1024 * 1024  # a head larger than this is read the ordinary way
_HISTORY_LINES = ('  "transactions": [\n', '  "transactions": []\n')  # the head's last line, read line by line
_ID_OPENER = '    {"id": "'
_STATE_KEY = '"state": {"rates": "'
ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")  # such a file is read in full


def ends_as_written(tail: bytes) -> bool:
    """Whether the last bytes of a file end the way the writer ends one (a truncated file does not)."""
    return tail.endswith(ENDINGS)


def history_span(data: bytes) -> tuple[int, int] | None:
    """Where the history's lines are in the bytes of a whole file: [start, end)."""
    if not data.endswith(HISTORY_CLOSER):
        return None
    start = data.rfind(HISTORY_OPENER)
    if start < 0:
        return None
    return start + len(HISTORY_OPENER), len(data) - len(HISTORY_CLOSER)


def head_of(data: bytes, span: tuple[int, int]) -> bytes:
    """The file with its history left out: a JSON document of everything but the transactions."""
    return data[: span[0] - len(HISTORY_OPENER) + 1] + EMPTY_HISTORY


def history_digest(data: bytes, span: tuple[int, int]) -> Any:
    """The sha256 of the history's bytes, as the head's ``history_sha256`` records it (more can be added)."""
    import hashlib  # writes only: a read of the head never hashes

    return hashlib.sha256(memoryview(data)[span[0] : span[1]])


def history_lines(data: bytes, span: tuple[int, int]) -> list[str] | None:
    """The history's lines, one transaction each; None if one does not open with its id."""
    lines = str(memoryview(data)[span[0] : span[1]], "utf-8").split(LINE_SEPARATOR)
    if not all(line.startswith(_ID_OPENER) and line[-1:] == "}" for line in lines):
        return None
    return lines


def line_id(line: str) -> str:
    """The id of a line of the history, as it stands in the line (ids hold no escapes)."""
    return line[len(_ID_OPENER) : line.find('"', len(_ID_OPENER))]


def state_offset(line: str) -> int | None:
    """Where the value of a line's recorded state begins, or None for a line from before states."""
    at = line.rfind(_STATE_KEY)
    return None if at < 0 else at + len('"state": ')


def may_record(data: bytes, span: tuple[int, int], name: str) -> bool:
    """False if no line of the history can record ``name``'s state: one search in C, no parse."""
    return data.find(f'"{name}": "'.encode(), *span) >= 0


def records_state_of(line: str, offset: int, name: str) -> bool:
    """False if the state from ``offset`` surely does not hold ``name``; True: parse it to be sure."""
    return line.find(f'"{name}": "', offset) >= 0


def read_head(file: IO[bytes], size: int) -> tuple[bytes, tuple[int, int]] | None:
    """The head of an open file of ``size`` bytes, read line by line up to its history, as a whole document,
    and where the history's lines are in the file: [start, end), empty for a history written as ``[]``."""
    if size < 64:
        return None
    file.seek(size - TAIL_SIZE)
    tail = file.read()
    if not ends_as_written(tail):
        return None
    file.seek(0)
    head: list[bytes] = []
    read = 0
    while True:
        raw = file.readline(HEAD_LIMIT - read + 1)  # bounded: a file of one huge line is never read whole
        read += len(raw)
        if not raw or read > HEAD_LIMIT:
            return None
        line = raw.decode("utf-8")
        if line in _HISTORY_LINES:
            if line == _HISTORY_LINES[1]:
                span = (read, read)
                if size != read + len(EMPTY_HISTORY) - len(line):
                    return None  # more after an empty history
            else:
                span = (read, size - len(HISTORY_CLOSER))
                if not tail.endswith(HISTORY_CLOSER) or span[1] <= span[0]:
                    return None
            return b"".join(head) + EMPTY_HISTORY, span
        head.append(raw)


# Reading a history's lines from its end, without reading (or splitting) the rest. Each line of the
# writer's layout is one transaction: ``    {"id": "ID", "kind": "KIND", ...}`` followed by ``,`` but
# for the newest. JSON text holds no raw newline, so the newlines are exactly the lines' ends. A
# needle narrows the lines read to those holding its bytes: the quoted name of an account (a name
# coinpurse writes never needs an escape), or a kind where the writer puts it. A line in another
# layout raises OtherLayout; so does a needle's search over text with a ``\u`` escape, which could
# spell the name another way. The caller then reads the whole file.

_LINE_BYTES = _ID_OPENER.encode()
_KIND_KEY = b'", "kind": "'
FIRST_BLOCK = 64 * 1024
LAST_BLOCK = 4 * 1024 * 1024


class OtherLayout(Exception):
    """The bytes are not a history as coinpurse writes it."""


def kind_needle(kind: str) -> bytes:
    """The bytes a line of a transaction of ``kind`` holds where the writer puts its kind."""
    return _KIND_KEY + kind.encode() + b'", '


def name_needle(name: str) -> bytes:
    """The bytes any line naming ``name`` holds: the name as a JSON string."""
    return b'"' + name.encode() + b'"'


def line_kind(line: bytes) -> bytes:
    """The kind of a line in the writer's layout, as it stands in the line."""
    at = line.find(b'"', len(_LINE_BYTES))
    if at < 0 or not line.startswith(_KIND_KEY, at):
        raise OtherLayout
    start = at + len(_KIND_KEY)
    end = line.find(b'"', start)
    if end < 0 or b"\\" in line[start:end]:
        raise OtherLayout
    return line[start:end]


def newest_lines(
    read: Callable[[int, int], bytes],
    span: tuple[int, int],
    needle: bytes | None = None,
    *,
    first_block: int = FIRST_BLOCK,
    last_block: int = LAST_BLOCK,
) -> Iterator[bytes]:
    """The history's lines in ``span`` of a file, newest first (holding ``needle``, if given), without their ``,``.

    ``read(offset, size)`` reads the file; blocks are read from the end, each twice the one before,
    and each ends where the oldest line of the block after it begins (so a line is never joined).
    """
    start, pos = span
    size = first_block
    newest = True
    while pos > start:
        low = max(start, pos - size)
        size = min(size * 2, last_block)
        chunk = read(low, pos - low)
        if len(chunk) != pos - low:
            raise OtherLayout  # the file is shorter than it said
        first = 0
        if low > start:
            first = chunk.find(b"\n") + 1
            if first == 0:
                size = max(size, 2 * (pos - low))
                continue  # a line longer than the block: read again from further back
        if needle is not None and chunk.find(b"\\u", first) >= 0:
            raise OtherLayout
        end = len(chunk)
        while True:
            if needle is not None:
                hit = chunk.rfind(needle, first, end)
                if hit < 0:
                    break
                end = chunk.find(b"\n", hit)
                if end < 0:
                    end = len(chunk)
                newest = newest and end == len(chunk)
            begin = max(first, chunk.rfind(b"\n", first, end) + 1)
            line = chunk[begin:end]
            if newest:
                newest = False
            elif line[-1:] == b",":
                line = line[:-1]
            else:
                raise OtherLayout
            if not (line.startswith(_LINE_BYTES) and line[-1:] == b"}"):
                raise OtherLayout
            yield line
            if begin == first:
                break
            end = begin - 1
        newest = False
        pos = low + first - 1  # the next block ends with the line before, and its comma
