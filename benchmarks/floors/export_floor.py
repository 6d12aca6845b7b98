"""Floor of `export`: every stored body read and parsed, as a stream (the scan every format needs).

    python benchmarks/floors/export_floor.py LEDGER

JSON: the history's lines read and parsed one by one. SQLite: the bodies by
seq. Nothing is formatted or written. Standard library only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stored import json_lines, sqlite_bodies


def main() -> None:
    ledger = Path(sys.argv[1])
    loads = json.loads
    texts = (body for body, _ in sqlite_bodies(ledger)) if ledger.suffix == ".sqlite" else json_lines(ledger)
    postings = 0
    for text in texts:
        postings += len(loads(text)["postings"])
    print(postings)


if __name__ == "__main__":
    main()
