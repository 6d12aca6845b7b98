"""Write a whole book into a new ledger of any format: ``convert`` and bulk builds.

The new file appears only when complete (temp file, fsync, then a hard link
that fails if the target exists), so a crash or a lost race leaves no half
ledger and never replaces someone else's; the next convert or write to that
target removes a killed one's temp file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from coinpurse.core.book import Book, MemoryBook
from coinpurse.core.model import GENESIS_HASH, transaction_from_dict
from coinpurse.errors import LedgerUnusable, Refused


def stored_transactions(book: Book) -> Iterator[dict[str, Any]]:
    """The history as stored dicts with their hashes, checked record by record, oldest first.

    Each record's shape and hash link is checked: the copy is written with a fresh
    history checksum, so a broken chain copied over would look sound to its writes.
    """
    from coinpurse.core.chain import check_link
    from coinpurse.storage.sqlite import SqliteBook

    if isinstance(book, SqliteBook):
        raw: Iterator[Any] = book.iter_transaction_dicts()
    elif isinstance(book, MemoryBook):
        raw = iter(book.records)
    else:
        raw = (tx.to_dict() for tx in book.iter_transactions())
    previous = GENESIS_HASH
    for position, record in enumerate(raw, start=1):
        if not isinstance(record, dict):
            record = record.to_dict()
        tx = transaction_from_dict(record, f"transaction {position}")  # refuse to copy a damaged record
        previous = check_link(tx, position, previous)
        yield record


def save_new(target: Path, book: Book) -> int:
    """Write ``book`` as a new ledger at ``target`` (format by suffix); returns the transactions written.

    It holds the target's lock, as any writer of that ledger would, so that it can
    remove the temp files a killed convert left without touching a running one's.
    """
    from coinpurse.storage import is_sqlite, make_ledger_folder, real_ledger_path
    from coinpurse.storage.atomic import clean_stray_temps, publish_new, temp_path
    from coinpurse.storage.lock import locked

    shown, target = target, real_ledger_path(target)
    make_ledger_folder(target)  # as for any new ledger
    with locked(target):
        clean_stray_temps(target)
        temp = temp_path(target)
        try:
            count = _save_sqlite(temp, book) if is_sqlite(target) else _save_file(temp, target, book)
            try:
                publish_new(temp, target)  # never replaces an existing ledger
            except FileExistsError:
                raise Refused(f"{shown} already exists; convert writes only new ledgers", code="target_exists") from None
            return count
        except OSError as error:
            raise LedgerUnusable(f"can't write {target}: {error.strerror}", code="write_failed") from None
        finally:
            try:
                os.unlink(temp)
            except OSError:
                pass


def _save_sqlite(temp: Path, book: Book) -> int:
    from coinpurse.storage.sqlite import create

    counted = _Counted(stored_transactions(book))
    create(temp, book.currency, book.rates, book.all_accounts(), counted).close()
    return counted.count


def _save_file(temp: Path, target: Path, book: Book) -> int:
    from coinpurse.storage.files import render

    records = list(stored_transactions(book))
    copy = MemoryBook(book.currency, book.rates, book.all_accounts(), records)
    data = render(target, copy)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    return len(records)


class _Counted:
    def __init__(self, items: Iterator[dict[str, Any]]) -> None:
        self.items = items
        self.count = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for item in self.items:
            self.count += 1
            yield item


