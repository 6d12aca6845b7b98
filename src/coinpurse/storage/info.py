"""What ``coinpurse info`` tells about a ledger file, read cheaply: never the whole history parsed.

A JSON ledger in the writer's layout gives its accounts from its head and its
history's count and last hash from its lines (counted, not parsed); a SQLite
ledger from its tables. Any other file (TOML, an older schema, a layout the
writer did not make) is read the ordinary way.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
from pathlib import Path
from typing import BinaryIO, NamedTuple

from coinpurse.core.book import Head
from coinpurse.core.model import GENESIS_HASH


class FileFacts(NamedTuple):
    schema: int
    size: int
    transactions: int
    accounts: int
    head_hash: str | None  # None for an empty history
    last_at: str | None


_LAST_TX = re.compile(rb'\A    \{"id": "[^\n]*?"at": "([^"]*)"[^\n]*"hash": "([0-9a-f]{64})"\}\Z')


def file_facts(path: Path) -> FileFacts | None:
    """The facts of the ledger at ``path``, or None when there is none."""
    from coinpurse.storage import check_suffix, is_postgres, is_sqlite

    check_suffix(path)
    if is_postgres(path):
        from coinpurse.storage.postgres import facts as server_facts
        from coinpurse.storage.urls import LedgerUrl

        assert isinstance(path, LedgerUrl)
        found = server_facts(path)
        return None if found is None else FileFacts(*found)
    if not os.path.lexists(path):
        return None
    if is_sqlite(path):
        from coinpurse.storage.sqlite import SqliteBook, reading

        with reading(path) as book:
            assert isinstance(book, SqliteBook)
            head = book.head()
            return FileFacts(book.version, os.stat(path).st_size, head.length, len(book.user_accounts()), *_ends(head))
    facts = _json_facts(path) if path.suffix.lower() == ".json" else None
    if facts is not None:
        return facts
    from coinpurse.storage import _load, damaged_records_named

    with damaged_records_named(path):
        book, data, version = _load(path)
        head = book.head()
        return FileFacts(version, len(data or b""), head.length, len(book.user_accounts()), *_ends(head))


def _ends(head: Head) -> tuple[str | None, str | None]:
    return (None, None) if head.hash == GENESIS_HASH else (head.hash, head.at)


_LINE_OPENER = b'\n    {"id": "'  # how each history line starts; nothing in the head starts so (see speedups.jsonfile)
_CHUNK = 1 << 20


def _json_facts(path: Path) -> FileFacts | None:
    """The facts of a JSON ledger in the writer's layout, read in chunks: the lines counted, the last one parsed."""
    from coinpurse.speedups import jsonfile
    from coinpurse.storage.document import SCHEMA_VERSION
    from coinpurse.storage.files import LazyHistoryBook, read_json_head

    book = read_json_head(path)
    if not isinstance(book, LazyHistoryBook):
        return None
    try:
        accounts = len(book.user_accounts())
        with os.fdopen(book._fd, "rb", closefd=False) as file:  # the very file the head came from
            size = os.fstat(file.fileno()).st_size
            file.seek(max(size - jsonfile.TAIL_SIZE, 0))
            tail = file.read()
            if tail.endswith(b"\n" + jsonfile.EMPTY_HISTORY):
                return FileFacts(SCHEMA_VERSION, size, 0, accounts, None, None)
            if not tail.endswith(jsonfile.HISTORY_CLOSER):
                return None
            count, last = _count_lines(file, size)
    finally:
        book.close()
    found = _LAST_TX.search(last) if last is not None else None
    if found is None:
        return None
    return FileFacts(SCHEMA_VERSION, size, count, accounts, found[2].decode(), found[1].decode())


def _count_lines(file: BinaryIO, size: int) -> tuple[int, bytes | None]:
    """How many history lines the file has, and the last one (without the file's closing bytes)."""
    from coinpurse.speedups import jsonfile

    file.seek(0)
    count, carry, last_start, read = 0, b"", -1, 0
    while chunk := file.read(_CHUNK):
        window = carry + chunk
        offset = read - len(carry)
        position = window.find(_LINE_OPENER)
        while position >= 0:
            count += 1
            last_start = offset + position
            position = window.find(_LINE_OPENER, position + 1)
        read += len(chunk)
        carry = window[-(len(_LINE_OPENER) - 1) :]
    if last_start < 0:
        return 0, None
    file.seek(last_start + 1)
    return count, file.read(size - len(jsonfile.HISTORY_CLOSER) - last_start - 1)


class LockState(NamedTuple):
    locked: bool
    holder: int | None  # the PID the holder wrote, when it did


def lock_state(ledger: Path) -> LockState:
    """Whether a writer holds the ledger's lock now; the lock file is never created or written."""
    from coinpurse.storage.lock import lock_path
    from coinpurse.storage.urls import LedgerUrl

    if isinstance(ledger, LedgerUrl):  # no lock file: a writer holds the ledger's advisory lock
        from coinpurse.storage.postgres import writer_active

        return LockState(writer_active(ledger), None)
    try:
        fd = os.open(lock_path(ledger), os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return LockState(False, None)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                return LockState(False, None)
            text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            return LockState(True, int(text) if text.isdigit() else None)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return LockState(False, None)
    finally:
        os.close(fd)
