"""Floor of `verify`: every stored transaction parsed, encoded canonically and hashed into the chain, as a stream.

    python benchmarks/floors/verify_floor.py LEDGER [--last N]

Reads one transaction at a time (JSON lines, or SQLite bodies by seq), parses
it, encodes its content with sorted keys and takes the sha256 chained to the
one before, as coinpurse's hash chain does; exits 1 if a hash differs, so the
floor is known to do the real work. With --last N, only the last N
transactions, from the stored hash of the one before them (what `verify
--after` re-checks). No rules, balances or state roots. Prints the count and
the head hash. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stored import GENESIS, connect, json_last_lines, json_lines, sqlite_bodies


def stored(ledger: Path, last: int | None) -> tuple[str, Iterator[tuple[dict[str, object], str]]]:
    """The hash before the first transaction read, and each (content, stored hash) pair."""
    loads = json.loads
    if ledger.suffix == ".sqlite":
        after, previous = 0, GENESIS
        if last is not None:
            connection = connect(ledger)
            row = connection.execute(
                "SELECT seq, hash FROM transactions ORDER BY seq DESC LIMIT 1 OFFSET ?", (last,)
            ).fetchone()
            connection.close()
            if row is not None:
                after, previous = row
        return previous, ((loads(body), digest) for body, digest in sqlite_bodies(ledger, after))

    previous, texts = GENESIS, None
    if last is not None:
        before = json_last_lines(ledger, last + 1)
        texts = before
        if len(before) > last:  # the one before the last N gives the hash they chain from
            previous, texts = loads(before[0])["hash"], before[1:]

    def lines() -> Iterator[tuple[dict[str, object], str]]:
        for text in json_lines(ledger) if texts is None else texts:
            content = loads(text)
            yield content, content.pop("hash")

    return previous, lines()


def main() -> None:
    ledger = Path(sys.argv[1])
    last = int(sys.argv[sys.argv.index("--last") + 1]) if "--last" in sys.argv else None
    canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode
    sha256 = hashlib.sha256
    previous, pairs = stored(ledger, last)
    checked = 0
    for content, digest in pairs:
        previous = sha256(f"{previous}\n{canonical(content)}".encode()).hexdigest()
        if previous != digest:
            sys.exit(f"transaction {content.get('id')}: the hash differs")
        checked += 1
    print(checked, previous)  # the head hash: the one `coinpurse verify` prints


if __name__ == "__main__":
    main()
