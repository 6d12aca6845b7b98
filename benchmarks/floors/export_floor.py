"""The scan floor of ``export`` from SQLite: read every stored body, oldest first, and parse it.

    python benchmarks/floors/export_floor.py LEDGER.sqlite

Nothing is checked, built or written: this is the least any export of the whole
history can do, the time the streaming export is measured against (within 2x).
Prints the transactions read.
"""

from __future__ import annotations

import json
import sqlite3
import sys


def main(path: str) -> int:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    loads = json.loads
    count = 0
    for (body,) in db.execute("SELECT body FROM transactions ORDER BY seq"):
        loads(body)
        count += 1
    db.close()
    print(count)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
