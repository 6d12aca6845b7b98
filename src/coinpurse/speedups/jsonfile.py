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


def read_head(file: IO[bytes], size: int) -> bytes | None:
    """The head of an open file of ``size`` bytes, read line by line up to its history, as a whole document."""
    if size < 64:
        return None
    file.seek(size - TAIL_SIZE)
    if not ends_as_written(file.read()):
        return None
    file.seek(0)
    head: list[bytes] = []
    read = 0
    while True:
        raw = file.readline(HEAD_LIMIT - read + 1)  # bounded: a file of one huge line is never read whole
        read += len(raw)
        if not raw or read > HEAD_LIMIT:
            return None
        if raw.decode("utf-8") in _HISTORY_LINES:
            return b"".join(head) + EMPTY_HISTORY
        head.append(raw)
