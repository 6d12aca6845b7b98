"""Floor of `apply` onto SQLite: COUNT transactions of 4 postings each written in one SQLite commit.

    python benchmarks/floors/apply_floor_sqlite.py OUT.sqlite COUNT

A new file (OUT and its -wal/-shm are removed first) with coinpurse's two big
tables: each transaction's compact JSON body (a gift of the size a real one
has, its text filled into a template) and its sha256, and an (account, seq) row
per posting; WAL mode, synchronous=FULL, one commit. No rules, no chain, no
encoding: what storing the rows costs. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

SCHEMA = """
CREATE TABLE transactions (seq INTEGER PRIMARY KEY, body TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE postings (account TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (account, seq)) WITHOUT ROWID;
"""


def body(seq: int) -> dict[str, object]:
    """A gift-shaped transaction of the size coinpurse stores (about 900 bytes as text)."""
    viewer, creator = f"viewer{seq % 200:05d}", f"creator{seq % 20:04d}"
    digest = f"{seq:032x}"
    return {
        "id": f"op-{seq}", "kind": "gift", "at": "2026-03-01T12:00:00Z",
        "request": {"sender": viewer, "recipient": creator, "gift": "Rose", "count": 1 + seq % 5, "stream": "bench"},
        "rates": {"gift": {"name": "Rose", "coins": 1}, "diamonds_per_coin": 1, "diamond_value": "0.005"},
        "postings": [
            {"account": viewer, "commodity": "COIN", "amount": -5},
            {"account": "platform:coin-issue", "commodity": "COIN", "amount": 5},
            {"account": "platform:diamond-issue", "commodity": "DIAMOND", "amount": -5},
            {"account": creator, "commodity": "DIAMOND", "amount": 5},
        ],
        "details": {"coins": 5, "diamonds": 5, "paid": "0.071", "worth": "0.025", "platform_kept": "0.046"},
        "after": {viewer: {"coins": seq % 700, "diamonds": 0}, creator: {"coins": 0, "diamonds": seq}},
        "state": {"rates": digest, "accounts": {creator: digest, viewer: digest}, "root": digest},
    }  # fmt: skip


def template(encode: Callable[[object], str]) -> Callable[[int], str]:
    """The text ``encode(body(seq))`` gives, made by filling in a template (about a microsecond, not tens).

    The floor is the cost of putting a transaction's bytes down, not of building
    and encoding them, which is coinpurse's work.
    """
    marks = {
        "op-1": "op-%(seq)d",
        "viewer00001": "%(viewer)s",
        "creator0001": "%(creator)s",
        "0" * 31 + "1": "%(digest)s",
    }
    text = encode(body(1)).replace("%", "%%")
    for seen, mark in marks.items():
        text = text.replace(seen, mark)
    text = text.replace('"count":2', '"count":%(count)d').replace('"count": 2', '"count": %(count)d')
    text = text.replace('"diamonds":1}', '"diamonds":%(seq)d}').replace('"diamonds": 1}', '"diamonds": %(seq)d}')
    text = text.replace('"coins":1,"diamonds":0', '"coins":%(coins)d,"diamonds":0')
    text = text.replace('"coins": 1, "diamonds": 0', '"coins": %(coins)d, "diamonds": 0')

    def fill(seq: int) -> str:
        values = {
            "seq": seq,
            "viewer": f"viewer{seq % 200:05d}",
            "creator": f"creator{seq % 20:04d}",
            "digest": f"{seq:032x}",
        }
        return text % {**values, "count": 1 + seq % 5, "coins": seq % 700}

    return fill


def main() -> None:
    out, count = Path(sys.argv[1]), int(sys.argv[2])
    for path in (out, Path(f"{out}-wal"), Path(f"{out}-shm")):
        path.unlink(missing_ok=True)
    text_of = template(json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode)
    sha256 = hashlib.sha256
    connection = sqlite3.connect(out, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.executescript(SCHEMA)
    connection.execute("BEGIN IMMEDIATE")
    platform = ("platform:coin-issue", "platform:diamond-issue")
    for seq in range(1, count + 1):
        text = text_of(seq)
        connection.execute("INSERT INTO transactions VALUES (?, ?, ?)", (seq, text, sha256(text.encode()).hexdigest()))
        accounts = (f"viewer{seq % 200:05d}", *platform, f"creator{seq % 20:04d}")
        connection.executemany("INSERT OR IGNORE INTO postings VALUES (?, ?)", [(account, seq) for account in accounts])
    connection.execute("COMMIT")
    connection.close()


if __name__ == "__main__":
    main()
