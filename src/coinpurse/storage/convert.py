"""Write a whole book into a new ledger of any format: ``convert`` and bulk builds.

The history is copied as it is read, one checked record at a time: into a
SQLite file in batches, or as a JSON file's lines (written beside it while their
checksum is taken, then put after the head that records it), so a copy holds no
more of the history than the source's reader does. A TOML file is made whole.

The new file appears only when complete (temp file, fsync, then a hard link
that fails if the target exists), so a crash or a lost race leaves no half
ledger and never replaces someone else's; the next convert or write to that
target removes a killed one's temp file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coinpurse.core.book import Book, MemoryBook
from coinpurse.core.model import GENESIS_HASH, transaction_from_dict
from coinpurse.errors import LedgerUnusable, Refused

if TYPE_CHECKING:
    from coinpurse.core.scenario import Progress

PROGRESS_EVERY = 500  # transactions between two progress reports


def stored_records(book: Book, low: int = 1, high: int | None = None) -> Iterator[Any]:
    """The history as stored, oldest first, unchecked: dicts as read (a file's or SQLite's), or the
    transactions a ledger in memory made; with ``low`` or ``high``, those at positions ``low`` to ``high``."""
    from itertools import islice

    from coinpurse.storage.sqlite import SqliteBook

    whole = low <= 1 and high is None
    if isinstance(book, SqliteBook):
        return book.iter_transaction_dicts(low, high)
    if isinstance(book, MemoryBook):
        return iter(book.records) if whole else islice(book.records, low - 1, high)
    return iter(book.iter_transactions()) if whole else islice(book.iter_transactions(), low - 1, high)


def stored_transactions(book: Book) -> Iterator[dict[str, Any]]:
    """The history as stored dicts with their hashes, checked record by record, oldest first.

    Each record's shape and hash link is checked: the copy is written with a fresh
    history checksum, so a broken chain copied over would look sound to its writes.
    """
    from coinpurse.core.chain import check_link

    previous = GENESIS_HASH
    for position, record in enumerate(stored_records(book), start=1):
        if not isinstance(record, dict):
            record = record.to_dict()
        tx = transaction_from_dict(record, f"transaction {position}")  # refuse to copy a damaged record
        previous = check_link(tx, position, previous)
        yield record


def save_new(target: Path, book: Book, on_progress: Progress | None = None) -> int:
    """Write ``book`` as a new ledger at ``target`` (format by suffix); returns the transactions written.

    It holds the target's lock, as any writer of that ledger would, so that it can
    remove the temp files a killed convert left without touching a running one's.
    """
    from coinpurse.storage import is_sqlite, make_ledger_folder, real_ledger_path
    from coinpurse.storage.atomic import clean_stray_temps, publish_new, temp_path
    from coinpurse.storage.lock import locked
    from coinpurse.storage.urls import LedgerUrl

    if isinstance(target, LedgerUrl):  # one database transaction under the ledger's lock: all of it or nothing
        from coinpurse.storage.postgres import save_new as save_on_server

        records = _Counted(stored_transactions(book), book.head().length, on_progress)
        save_on_server(target, book.currency, book.rates, book.all_accounts(), records)
        return records.count
    shown, target = target, real_ledger_path(target)
    make_ledger_folder(target)  # as for any new ledger
    with locked(target):
        clean_stray_temps(target)
        temp = temp_path(target)
        try:
            records = _Counted(stored_transactions(book), book.head().length, on_progress)
            if is_sqlite(target):
                _save_sqlite(temp, book, records)
            elif target.suffix.lower() == ".json":
                _save_json(temp, target, book, records)
            else:
                _save_file(temp, target, book, records)
            count = records.count
            try:
                publish_new(temp, target)  # never replaces an existing ledger
            except FileExistsError:
                raise Refused(
                    f"{shown} already exists; convert writes only new ledgers", code="target_exists"
                ) from None
            return count
        except OSError as error:
            raise LedgerUnusable(f"can't write {target}: {error.strerror}", code="write_failed") from None
        finally:
            try:
                os.unlink(temp)
            except OSError:
                pass


def _save_sqlite(temp: Path, book: Book, records: _Counted) -> None:
    from coinpurse.storage.sqlite import create

    create(temp, book.currency, book.rates, book.all_accounts(), records).close()


def _save_file(temp: Path, target: Path, book: Book, records: _Counted) -> None:
    from coinpurse.storage.files import render

    copy = MemoryBook(book.currency, book.rates, book.all_accounts(), list(records))
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        _write_all(fd, render(target, copy))
    finally:
        os.close(fd)


def _save_json(temp: Path, target: Path, book: Book, records: _Counted) -> None:
    """The JSON layout ``storage.files.render_json`` writes, its history streamed.

    The head records the checksum of the history's lines, so the lines go first
    into a file of their own while they are hashed; the ledger's file is then the
    head (render_json's, of the book without its history, with that checksum) and
    those lines copied after it.
    """
    import hashlib

    from coinpurse.speedups.jsonfile import EMPTY_HISTORY, HISTORY_CLOSER, LINE_SEPARATOR
    from coinpurse.speedups.jsontext import line_json
    from coinpurse.storage.atomic import temp_path
    from coinpurse.storage.files import render_json

    lines = temp_path(target)  # a temp name of the target: a killed convert's is cleaned like the other
    digest = hashlib.sha256()
    count = 0
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        lines_fd = os.open(lines, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            held: list[str] = []
            size = 0
            separator = "    "
            for record in records:
                piece = separator + line_json(record)
                separator = LINE_SEPARATOR + "    "
                held.append(piece)
                size += len(piece)
                count += 1
                if size >= 1 << 20:
                    _write_all(lines_fd, _hashed(digest, held))
                    held.clear()
                    size = 0
            _write_all(lines_fd, _hashed(digest, held))
            empty = render_json(MemoryBook(book.currency, book.rates, book.all_accounts(), []))
            if not count:
                _write_all(fd, empty)
                return
            before = f'"history_sha256": "{hashlib.sha256().hexdigest()}",'.encode()
            head = empty[: -len(EMPTY_HISTORY)]
            at = head.rindex(before)
            head = head[:at] + f'"history_sha256": "{digest.hexdigest()}",'.encode() + head[at + len(before) :]
            _write_all(fd, head + EMPTY_HISTORY[: EMPTY_HISTORY.index(b"[") + 1] + b"\n")
            os.lseek(lines_fd, 0, os.SEEK_SET)
            while chunk := os.read(lines_fd, 1 << 20):
                _write_all(fd, chunk)
            _write_all(fd, HISTORY_CLOSER)
        finally:
            os.close(lines_fd)
            os.unlink(lines)
    finally:
        os.close(fd)


def _hashed(digest: Any, pieces: list[str]) -> bytes:
    data = "".join(pieces).encode()
    digest.update(data)
    return data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class _Counted:
    """The records passed on as they come, counted, with progress every PROGRESS_EVERY."""

    def __init__(self, items: Iterator[dict[str, Any]], total: int, on_progress: Progress | None) -> None:
        self.items = items
        self.total = total
        self.on_progress = on_progress
        self.count = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        report, total = self.on_progress, self.total
        for item in self.items:
            self.count += 1
            yield item
            if report is not None and self.count % PROGRESS_EVERY == 0:
                report(self.count, max(total, self.count))
        if report is not None and self.count % PROGRESS_EVERY:
            report(self.count, max(total, self.count))
