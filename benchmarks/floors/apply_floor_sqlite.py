"""Floor of `apply` onto SQLite: COUNT transactions of 4 postings each written in one SQLite commit.

    python benchmarks/floors/apply_floor_sqlite.py OUT.sqlite COUNT

A new file (OUT and its -wal/-shm are removed first) with coinpurse's two big
tables: each transaction's compact JSON body (about the size a real one has)
and its sha256, and a (account, seq) row per posting; WAL mode,
synchronous=FULL, one commit. No rules, no chain: what storing the rows costs.
Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from pathlib import Path

SCHEMA = """
CREATE TABLE transactions (seq INTEGER PRIMARY KEY, body TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE postings (account TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (account, seq)) WITHOUT ROWID;
"""


def body(seq: int) -> dict[str, object]:
    """A gift-shaped transaction of the size coinpurse stores (about 800 bytes)."""
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


def main() -> None:
    out, count = Path(sys.argv[1]), int(sys.argv[2])
    for path in (out, Path(f"{out}-wal"), Path(f"{out}-shm")):
        path.unlink(missing_ok=True)
    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    sha256 = hashlib.sha256
    connection = sqlite3.connect(out, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.executescript(SCHEMA)
    connection.execute("BEGIN IMMEDIATE")
    for seq in range(1, count + 1):
        tx = body(seq)
        text = encode(tx)
        connection.execute("INSERT INTO transactions VALUES (?, ?, ?)", (seq, text, sha256(text.encode()).hexdigest()))
        connection.executemany("INSERT OR IGNORE INTO postings VALUES (?, ?)", [(p["account"], seq) for p in tx["postings"]])
    connection.execute("COMMIT")
    connection.close()


if __name__ == "__main__":
    main()
