"""The floor under one write to a JSON ledger: read the whole file, write it to a temp file, fsync, rename.

    python benchmarks/floors/rewrite_floor.py LEDGER.json

What any write that rewrites the file whole must do at least; ``gift`` on a JSON
ledger is measured against it (docs/performance.md). The file is replaced by its
own bytes, so it is left as it was; still, run it on a copy.
"""

from __future__ import annotations

import os
import sys


def rewrite(path: str) -> int:
    with open(path, "rb") as file:
        data = file.read()
    temp = f"{path}.floor-{os.getpid()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    folder = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return len(data)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(f"rewrote {rewrite(sys.argv[1]):,} bytes")
