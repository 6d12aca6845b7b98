"""How big a file coinpurse reads whole may be, checked before reading it.

JSON and TOML ledgers, scenarios and rates files are read whole and parsed in
memory: measured here, a JSON ledger takes about 7 times its size to read or
write, a TOML one about 13 times. A file over the limit is refused from its
size alone, so a 1 GB file costs no memory to refuse. SQLite ledgers are never
read whole and have no such limit.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from coinpurse.core.settings import whole_number_setting
from coinpurse.errors import CoinpurseError

MAX_FILE_VARIABLE = "COINPURSE_MAX_FILE_MB"
DEFAULT_MAX_FILE_MB = 256  # about 300,000 transactions of a JSON ledger, or 1.7 million scenario ops
MB = 1_000_000
_MOST_MB = 1_000_000  # a terabyte: any setting beyond is a typo


def max_file_bytes() -> int:
    return whole_number_setting(MAX_FILE_VARIABLE, DEFAULT_MAX_FILE_MB, _MOST_MB, "megabytes") * MB


def read_bounded(
    path: Path, refuse: Callable[[str], CoinpurseError], advice: str = "", *, fd: int | None = None
) -> bytes:
    """The file's bytes, if it is within the limit; else ``refuse(message)`` is raised before reading it.

    ``fd``: read that open file (from its start) rather than opening ``path``.
    OSError (a missing file, a folder, no permission) is the caller's to word.
    """
    limit = max_file_bytes()
    if fd is not None:
        os.lseek(fd, 0, os.SEEK_SET)
    with path.open("rb") if fd is None else open(fd, "rb", closefd=False) as file:
        size = os.fstat(file.fileno()).st_size
        if size <= limit:
            # At most one byte past the limit: a file that grew meanwhile, or one whose size says
            # nothing (a link to /dev/zero, a pipe), is refused once it passes it, not read to the end.
            data = file.read(limit + 1)
            if len(data) <= limit:
                return data
            raise refuse(
                f"{path}: the file holds more than the {_megabytes(limit)} that coinpurse reads whole "
                f"({MAX_FILE_VARIABLE}); it was read no further{advice}"
            )
    raise refuse(
        f"{path}: the file is {_megabytes(size)}, over the {_megabytes(limit)} that coinpurse reads whole "
        f"({MAX_FILE_VARIABLE}); nothing was read{advice}"
    )


def _megabytes(size: int) -> str:
    return f"{-(-size // MB):,} MB"  # rounded up: a file just over the limit never shows as equal to it
