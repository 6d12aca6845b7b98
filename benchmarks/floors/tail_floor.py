"""Floor of `history --limit 20` and `gifters`: the ledger's last lines read and parsed.

    python benchmarks/floors/tail_floor.py LEDGER [COUNT]

JSON: the file read backwards from its end in blocks until COUNT (default 20)
transaction lines are in hand, and those parsed. SQLite: the last COUNT bodies
by seq, parsed. Standard library only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stored import connect, json_last_lines


def main() -> None:
    ledger = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    if ledger.suffix == ".sqlite":
        connection = connect(ledger)
        texts = [
            body for (body,) in connection.execute("SELECT body FROM transactions ORDER BY seq DESC LIMIT ?", (count,))
        ]
        connection.close()
    else:
        texts = json_last_lines(ledger, count)
    print(len([json.loads(text) for text in texts]))


if __name__ == "__main__":
    main()
