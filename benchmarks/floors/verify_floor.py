"""The streaming floor of ``coinpurse verify``: the least any full check of a ledger's chain must do.

    python benchmarks/floors/verify_floor.py LEDGER.sqlite|LEDGER.json

Streams every stored transaction, parses it, encodes it canonically and runs the
sha256 chain over it, and nothing else (no rules, no state digests, no shape
checks). A verify that checks everything is measured against this: see
docs/performance.md. Prints the count and the head hash; the head hash must be
the one ``coinpurse verify`` prints.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from collections.abc import Iterator
from typing import Any

GENESIS = "0" * 64
_DECODER = json.JSONDecoder()
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sqlite_bodies(path: str) -> Iterator[tuple[dict[str, Any], str]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    for body, stored_hash in connection.execute("SELECT body, hash FROM transactions ORDER BY seq"):
        yield _DECODER.decode(body), stored_hash


def json_bodies(path: str) -> Iterator[tuple[dict[str, Any], str]]:
    """One transaction per line after the ``"transactions": [`` line (coinpurse's layout)."""
    with open(path, encoding="utf-8") as file:
        for line in file:
            if line == '  "transactions": [\n':
                break
        for line in file:
            if not line.startswith("    {"):
                break
            data = _DECODER.decode(line.rstrip().rstrip(","))
            yield data, data.pop("hash")


def main(path: str) -> None:
    bodies = sqlite_bodies(path) if path.endswith(".sqlite") else json_bodies(path)
    encode, sha256 = _CANONICAL.encode, hashlib.sha256
    previous, count = GENESIS, 0
    for content, stored_hash in bodies:
        previous = sha256(f"{previous}\n{encode(content)}".encode()).hexdigest()
        if previous != stored_hash:
            raise SystemExit(f"transaction {count + 1}: the chain breaks")
        count += 1
    print(count, previous)


if __name__ == "__main__":
    main(sys.argv[1])
