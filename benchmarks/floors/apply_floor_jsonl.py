"""Floor of `apply` onto JSON: COUNT transactions appended as JSON lines with a sha256 chain, then fsync.

    python benchmarks/floors/apply_floor_jsonl.py OUT.jsonl COUNT

Each transaction (the gift apply_floor_sqlite.py stores, its texts filled into
templates) is hashed in its canonical text (sorted keys), chained to the one
before, and written as one line in coinpurse's line layout with the hash last;
the file is fsynced once at the end. No rules, no encoding: what hashing and
writing the history costs. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apply_floor_sqlite import template


def main() -> None:
    out, count = Path(sys.argv[1]), int(sys.argv[2])
    canonical = template(json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode)
    line = template(json.JSONEncoder(separators=(", ", ": "), ensure_ascii=False).encode)
    sha256 = hashlib.sha256
    previous = "0" * 64
    with out.open("w", encoding="utf-8") as file:
        for seq in range(1, count + 1):
            previous = sha256(f"{previous}\n{canonical(seq)}".encode()).hexdigest()
            file.write(f'{line(seq)[:-1]}, "hash": "{previous}"}}\n')
        file.flush()
        os.fsync(file.fileno())


if __name__ == "__main__":
    main()
