"""Where ledgers live and how they are read and written safely.

Writers follow one recipe: lock ``<ledger>.lock``, read and check, apply in
memory, write a temp file, fsync, ``os.replace``, fsync the folder, unlock.
A writer works on the ledger's real path (symbolic links followed), so a link
and its target are one ledger with one lock.
Readers take no lock; the atomic replace means they see the old file or the new.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from coinpurse.core.book import Book, MemoryBook
from coinpurse.core.model import DamagedRecord
from coinpurse.errors import BadInput, LedgerUnusable
from coinpurse.storage.document import SCHEMA_VERSION, new_book
from coinpurse.storage.urls import LedgerUrl, is_url

LEDGER_VARIABLE = "COINPURSE_LEDGER"
FILE_SUFFIXES = (".json", ".toml")
SQLITE_SUFFIX = ".sqlite"
SUFFIXES = (*FILE_SUFFIXES, SQLITE_SUFFIX)


def default_ledger_path() -> Path:
    from platformdirs import user_data_path  # only when no ledger is named

    return user_data_path("coinpurse", appauthor=False) / "ledger.json"


def resolve_ledger_path(option: str | os.PathLike[str] | None = None) -> Path:
    """``--ledger``, else ``COINPURSE_LEDGER``, else ledger.json in the user data folder."""
    raw = option if option not in (None, "") else os.environ.get(LEDGER_VARIABLE) or None
    if isinstance(raw, LedgerUrl):
        return raw
    if raw is not None and is_url(raw):
        return LedgerUrl(str(raw))
    path = Path(raw) if raw is not None else default_ledger_path()
    check_suffix(path)
    return path


def check_suffix(path: Path) -> None:
    if isinstance(path, LedgerUrl):
        return
    if path.suffix.lower() not in SUFFIXES:
        raise BadInput(
            f"{path}: unknown ledger format {path.suffix or '(no suffix)'!r}; use {', '.join(SUFFIXES)}",
            code="unknown_suffix",
        )


def real_ledger_path(path: Path) -> Path:
    """The file a ledger path names, so that every path to one ledger shares its lock and its writes.

    A path through a symbolic link (the file or a folder) becomes the real file's
    absolute path: the write then goes into that file and the link stays a link.
    Any other path is kept as given, so messages name it as the user wrote it.
    """
    if isinstance(path, LedgerUrl):
        return path
    if os.path.realpath(path) == os.path.abspath(path):
        return path
    try:
        real = path.resolve()
    except (RuntimeError, OSError):  # a loop of links (RuntimeError before Python 3.13)
        raise LedgerUnusable(f"{path}: its symbolic links form a loop", code="ledger_unreadable") from None
    if real.suffix.lower() != path.suffix.lower():
        raise BadInput(
            f"{path} is a link to {real}, which is not a {path.suffix} ledger; use the real path",
            code="unknown_suffix",
        )
    return real


def make_ledger_folder(path: Path) -> None:
    """Create a ledger's missing folders, owner only (0700)."""
    from coinpurse.storage.atomic import make_private_folders

    try:
        make_private_folders(path.parent)
    except OSError as error:
        raise LedgerUnusable(f"{path}: can't create its folder: {error.strerror}", code="ledger_unreadable") from None


def _read_bytes(path: Path, fd: int | None = None) -> bytes | None:
    """The file's bytes (of ``fd`` if given), or None when there is no ledger yet; a file too big is refused unread."""
    from coinpurse.storage.limits import read_bounded

    opened = None
    try:
        if fd is None:
            # Without blocking: a FIFO put where the ledger should be would otherwise hang the read.
            fd = opened = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        _refuse_unless_regular(path, fd)
        return read_bounded(
            path,
            _too_big,
            advice="; raise it if this machine has the memory, or keep a ledger this big in SQLite",
            fd=fd,
        )
    except MemoryError:
        raise LedgerUnusable(f"{path}: too big to read into memory; nothing was read", code="ledger_too_big") from None
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise LedgerUnusable(f"{path}: is a folder, not a ledger file", code="ledger_unreadable") from None
    except NotADirectoryError:
        raise LedgerUnusable(f"{path}: a part of the path is not a folder", code="ledger_unreadable") from None
    except OSError as error:
        raise LedgerUnusable(f"{path}: can't read it: {error.strerror}", code="ledger_unreadable") from None
    finally:
        if opened is not None:
            os.close(opened)


def _refuse_unless_regular(path: Path, fd: int) -> None:
    """A ledger is a regular file: a folder, FIFO, socket or device there is refused, never read."""
    import stat

    mode = os.fstat(fd).st_mode
    if stat.S_ISDIR(mode):
        raise IsADirectoryError
    if not stat.S_ISREG(mode):
        raise LedgerUnusable(
            f"{path}: is not a regular file (a FIFO, a socket or a device), not a ledger file", code="ledger_unreadable"
        )


def _too_big(message: str) -> LedgerUnusable:
    return LedgerUnusable(message, code="ledger_too_big")


def _load(
    path: Path, *, for_writing: bool = False, locked_fd: int | None = None
) -> tuple[MemoryBook, bytes | None, int]:
    """The book, the bytes it came from (None if new) and their schema version.

    A writer passes the file it locked (``locked_fd``) and reads that very file.
    """
    from coinpurse.storage.files import read_file_book, read_lined_book

    data = _read_bytes(path, locked_fd)
    if data is None:
        if for_writing and path.suffix.lower() == ".json":
            from coinpurse.storage.files import LinedBook

            return LinedBook.new(new_book()), None, SCHEMA_VERSION
        return new_book(), None, SCHEMA_VERSION
    lined = read_lined_book(path, data) if for_writing else None
    book, version = lined or read_file_book(path, data)
    return book, data, version


def is_sqlite(path: Path) -> bool:
    return path.suffix.lower() == SQLITE_SUFFIX


def is_postgres(path: Path) -> bool:
    return isinstance(path, LedgerUrl)


def read_book(path: Path) -> Book:
    """The ledger for reading, as one version of it; a missing one reads as an empty economy and is not created.

    Accounts and history come from one open file (JSON, TOML) or one read
    transaction (SQLite), held until the book is dropped; ``reading`` ends it sooner.
    """
    check_suffix(path)
    if isinstance(path, LedgerUrl):
        from coinpurse.storage.postgres import open_for_reading as open_on_server

        return open_on_server(path)
    if is_sqlite(path):
        if not os.path.lexists(path):
            return new_book()
        from coinpurse.storage.sqlite import open_for_reading

        return open_for_reading(path)
    if path.suffix.lower() == ".json":
        from coinpurse.storage.files import read_json_head

        head_only = read_json_head(path)
        if head_only is not None:
            return head_only
    return _load(path)[0]


@contextmanager
def reading(path: Path) -> Iterator[Book]:
    """The ledger for reading, as one consistent snapshot for the block; damaged records name the file."""
    check_suffix(path)
    with damaged_records_named(path):
        if isinstance(path, LedgerUrl):
            from coinpurse.storage.postgres import reading as read_on_server

            with read_on_server(path) as book:
                yield book
            return
        if is_sqlite(path) and os.path.lexists(path):
            from coinpurse.storage.sqlite import reading as sqlite_reading

            with sqlite_reading(path) as book:
                yield book
            return
        book = read_book(path)
        try:
            yield book
        finally:
            _close(book)


def _close(book: Book) -> None:
    """Let go of the open file a lazily read JSON ledger keeps for its history."""
    from coinpurse.storage.files import LazyHistoryBook

    if isinstance(book, LazyHistoryBook):
        book.close()


@contextmanager
def damaged_records_named(path: Path) -> Iterator[None]:
    """Report a damaged stored record found midway as an unusable ledger naming the file."""
    try:
        yield
    except DamagedRecord as error:
        raise LedgerUnusable(f"{path}: {error}", code="ledger_damaged") from None
    except RecursionError:  # a record nested too deep for the checks or the hash
        raise LedgerUnusable(f"{path}: holds data nested too deep to handle", code="ledger_damaged") from None
    except MemoryError:
        raise LedgerUnusable(
            f"{path}: ran out of memory using this ledger; nothing was written", code="out_of_memory"
        ) from None


@contextmanager
def write_book(path: Path, *, dry_run: bool = False) -> Iterator[Book]:
    """Lock, load and yield the book; save it only if the block ends without error and changed it."""
    from coinpurse.storage.atomic import clean_stray_temps, write_atomic  # writers only
    from coinpurse.storage.lock import locked

    check_suffix(path)
    if isinstance(path, LedgerUrl):  # the database coordinates its writers: no lock file, no folder
        from coinpurse.storage.postgres import writing as write_on_server

        with damaged_records_named(path), write_on_server(path, new_book(), dry_run=dry_run) as stored:
            yield stored
        return
    path = real_ledger_path(path)
    make_ledger_folder(path)
    _refuse_read_only(path)
    if is_sqlite(path):
        from coinpurse.storage.sqlite import writing

        with locked(path), damaged_records_named(path):
            clean_stray_temps(path)  # a new ledger's temp file, left by a writer that was killed
            with writing(path, new_book(), dry_run=dry_run) as stored:
                yield stored
        return
    with locked(path, replaced_on_write=True) as locked_fd, damaged_records_named(path):
        book, original, version = _load(path, for_writing=True, locked_fd=locked_fd)
        if locked_fd is None and original is not None:
            # There was no ledger to lock, yet one was read: it came meanwhile, and this writer holds no lock on it.
            from coinpurse.storage.atomic import created_meanwhile

            raise created_meanwhile(path)
        count_before = len(book.records)
        rates_before = book.rates
        yield book
        if dry_run or (len(book.records) == count_before and book.rates is rates_before):
            return
        from coinpurse.storage.files import render_pieces

        data = render_pieces(path, book)
        clean_stray_temps(path)
        if locked_fd is not None:
            _refuse_if_replaced(path, locked_fd)
        if original is not None and version < SCHEMA_VERSION:
            _back_up(path, original, version)
        write_atomic(path, data, new=original is None)


def _refuse_if_replaced(path: Path, locked_fd: int) -> None:
    """The file read and locked must still be the ledger: one moved or copied there meanwhile is not written over."""
    from coinpurse.storage.lock import still_at_path

    if not still_at_path(locked_fd, path):
        raise LedgerUnusable(
            f"{path} was replaced by another file while this write ran; nothing was written: run the command again",
            code="write_conflict",
        )


def _refuse_read_only(path: Path) -> None:
    """A write-protected ledger stays as it is: the atomic rename would otherwise replace it.

    The mode bits are checked as well as access, so root is refused the same way.
    """
    import stat

    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return  # missing (a new ledger) or unreadable: reading it says why
    if not mode & 0o222 or not os.access(path, os.W_OK):
        raise LedgerUnusable(f"{path}: the ledger file is read-only; nothing was written", code="ledger_read_only")


def _back_up(path: Path, original: bytes, version: int) -> None:
    """Keep the file as it was before its first rewrite in a newer schema."""
    from coinpurse.storage.atomic import write_atomic

    backup = path.with_name(f"{path.name}.v{version}.bak")
    if not backup.exists():
        write_atomic(backup, original)
