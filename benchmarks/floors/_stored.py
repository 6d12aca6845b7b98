"""What the floors read: a ledger's stored transactions, from a coinpurse JSON file or SQLite file.

Standard library only, so a floor costs what reading the bytes costs, not what
importing coinpurse costs.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

GENESIS = "0" * 64
HISTORY_OPENS = '  "transactions": ['


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection (no -wal or -shm made beside a file nobody writes)."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def sqlite_bodies(path: Path, after_seq: int = 0) -> Iterator[tuple[str, str]]:
    """(body, hash) of every transaction after ``after_seq``, oldest first, one row at a time."""
    connection = connect(path)
    try:
        yield from connection.execute("SELECT body, hash FROM transactions WHERE seq > ? ORDER BY seq", (after_seq,))
    finally:
        connection.close()


def json_lines(path: Path) -> Iterator[str]:
    """Each transaction line of a JSON ledger in coinpurse's layout, oldest first, read as a stream."""
    with path.open(encoding="utf-8") as file:
        for line in file:
            if line.startswith(HISTORY_OPENS):
                break
        for line in file:
            text = line.strip()
            if text.startswith("{"):
                yield text.removesuffix(",")


def json_head(path: Path) -> dict[str, object]:
    """The document up to its history (schema, rates, accounts), parsed, the history left unread."""
    head = []
    with path.open(encoding="utf-8") as file:
        for line in file:
            if line.startswith(HISTORY_OPENS):
                break
            head.append(line)
    decoded: dict[str, object] = json.loads("".join(head) + '"transactions": []}')
    return decoded


def json_last_lines(path: Path, count: int) -> list[str]:
    """The last ``count`` transaction lines of a JSON ledger, read backwards from its end in blocks."""
    with path.open("rb") as file:
        end = file.seek(0, os.SEEK_END)
        block, data = 1 << 16, b""
        position = end
        while position > 0 and data.count(b"\n") <= count + 2:
            step = min(block, position)
            position -= step
            file.seek(position)
            data = file.read(step) + data
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines()]
    found = [line.removesuffix(",") for line in lines if line.startswith('{"id"')]
    return found[-count:]
