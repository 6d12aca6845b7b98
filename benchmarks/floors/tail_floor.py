"""The floor under a read of a JSON ledger's newest transactions: its last lines, read from the end.

    python benchmarks/floors/tail_floor.py LEDGER.json [LINES]

Prints the last LINES lines (20 by default) and nothing else; ``history --limit``
on a JSON ledger is measured against it (docs/performance.md).
"""

from __future__ import annotations

import os
import sys

BLOCK = 64 * 1024


def tail(path: str, count: int) -> list[bytes]:
    with open(path, "rb") as file:
        end = file.seek(0, os.SEEK_END)
        data = b""
        while end > 0 and data.count(b"\n") <= count:
            start = max(0, end - BLOCK)
            file.seek(start)
            data = file.read(end - start) + data
            end = start
    return data.split(b"\n")[-count - 1 :]


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.stdout.buffer.write(b"\n".join(tail(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 20)))
