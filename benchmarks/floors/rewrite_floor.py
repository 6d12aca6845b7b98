"""Floor of one write to a JSON ledger: the file read whole, written again beside it, fsynced and renamed over it.

    python benchmarks/floors/rewrite_floor.py LEDGER

The same bytes go back (the ledger is unchanged), through a temp file in the
same folder, fsync, os.replace and an fsync of the folder: what coinpurse's
atomic write of a JSON ledger costs without any parsing. Standard library only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    ledger = Path(sys.argv[1])
    data = ledger.read_bytes()
    temp = ledger.with_name(f".{ledger.name}.floor.tmp")
    with temp.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temp, ledger)
    folder = os.open(ledger.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


if __name__ == "__main__":
    main()
