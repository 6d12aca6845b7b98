"""The SQLite ledger (``.sqlite``): the same book, answered by indexed queries.

A JSON or TOML ledger is read whole and rewritten whole on every change, so its
cost grows with the history. Here an operation reads the few accounts it needs,
finds ids through an index and appends one row, whatever the history's length.

Tables:
  meta(key, value)            schema, currency, rates (JSON)
  accounts(name, ...)         one row per account state: coins, diamonds, cash, lots, payouts
  transactions(seq, id, ...)  the history in order; ``body`` is the stored transaction without its hash
  postings(account, seq)      which transactions touch an account, for history by account

Writers keep the recipe of the file formats: they hold ``<ledger>.lock``, and
their change is one SQLite transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), so a
crash leaves the old state or the new one, and a refused operation rolls back
without writing a byte. A new ledger is built in a temp file and renamed into place.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from coinpurse.core.book import Book, Head
from coinpurse.core.model import AccountState, DamagedRecord, Transaction, account_from_dict, transaction_from_dict
from coinpurse.core.money import decimal_str
from coinpurse.core.names import is_platform_account
from coinpurse.core.rates import Rates, rates_from_dict
from coinpurse.core.textdata import loads_json
from coinpurse.errors import BadInput, LedgerUnusable
from coinpurse.storage.document import SCHEMA_VERSION, newer_schema

BUSY_TIMEOUT_SECONDS = 10  # sqlite3 waits this long for a reader to let go

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE accounts (
    name TEXT PRIMARY KEY,
    coins INTEGER NOT NULL,
    diamonds INTEGER NOT NULL,
    cash TEXT NOT NULL,
    lots TEXT,
    payout_day TEXT,
    paid_that_day TEXT
) WITHOUT ROWID;
CREATE TABLE transactions (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    body TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE postings (account TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (account, seq)) WITHOUT ROWID;
"""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _account_row(name: str, state: AccountState) -> tuple[Any, ...]:
    lots = _dumps([lot.to_list() for lot in state.lots]) if state.lots else None
    paid = decimal_str(state.paid_that_day) if state.payout_day else None
    return (name, state.coins, state.diamonds, decimal_str(state.cash), lots, state.payout_day or None, paid)


def _account_from_row(row: tuple[Any, ...]) -> AccountState:
    name, coins, diamonds, cash, lots, payout_day, paid = row
    data: dict[str, Any] = {"coins": coins, "diamonds": diamonds, "cash": cash}
    what = f"account {name!r}"
    if lots is not None:
        data["lots"] = _loads(lots, f"{what}.lots")
    if payout_day is not None:
        data["payouts"] = {"day": payout_day, "total": paid}
    return account_from_dict(data, what)


def _loads(text: Any, what: str) -> Any:
    if not isinstance(text, str):
        raise DamagedRecord(f"{what} is not text")
    try:
        return loads_json(text)
    except ValueError:  # invalid JSON, or a float
        raise DamagedRecord(f"{what} is not valid JSON") from None


def touched_accounts(tx: Mapping[str, Any]) -> set[str]:
    """Accounts a transaction shows up under in history: its postings, its 'after' balances and the states it records."""
    names = {p["account"] for p in tx.get("postings", ()) if isinstance(p, dict) and isinstance(p.get("account"), str)}
    after = tx.get("after")
    if isinstance(after, dict):
        names.update(name for name in after if isinstance(name, str))
    state = tx.get("state")
    if isinstance(state, dict) and isinstance(state.get("accounts"), dict):
        names.update(name for name in state["accounts"] if isinstance(name, str))
    return names


def _transaction_rows(seq: int, tx: Mapping[str, Any]) -> tuple[tuple[Any, ...], list[tuple[str, int]]]:
    content = {key: value for key, value in tx.items() if key != "hash"}
    row = (seq, tx["id"], tx["kind"], tx["at"], _dumps(content), tx["hash"])
    return row, [(name, seq) for name in sorted(touched_accounts(tx))]


class SqliteBook(Book):
    """A ledger in a SQLite file; the caller owns the connection's transaction."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.db = connection
        self.path = path
        self.changed = False
        meta = dict(self._rows("SELECT key, value FROM meta"))
        version = meta.get("schema")
        if version is None or not str(version).isdigit():
            raise DamagedRecord("it is not a coinpurse ledger (no schema version)")
        if int(version) > SCHEMA_VERSION:
            raise newer_schema(int(version))
        currency = meta.get("currency")
        if not isinstance(currency, str) or not (3 <= len(currency) <= 8 and currency.isalpha() and currency.isupper()):
            raise DamagedRecord(f"'currency' must be a code such as USD, not {currency!r}")
        self.currency = currency
        try:
            self.rates = rates_from_dict(_loads(meta.get("rates"), "'rates'"))
        except BadInput as error:
            raise DamagedRecord(f"its rates are invalid: {error.message}") from None
        self._states: dict[str, AccountState] = {}  # read or written during this use of the book

    def _rows(self, sql: str, parameters: Iterable[Any] = ()) -> list[Any]:
        return self.db.execute(sql, tuple(parameters)).fetchall()

    def account(self, name: str) -> AccountState:
        guard = self.guard
        if guard is not None and name not in guard.trusted:
            guard.check(name)
        state = self._states.get(name)
        if state is None:
            rows = self._rows("SELECT * FROM accounts WHERE name = ?", (name,))
            state = _account_from_row(rows[0]) if rows else AccountState()
            self._states[name] = state
        return state

    def stored_account(self, name: str) -> AccountState | None:
        rows = self._rows("SELECT * FROM accounts WHERE name = ?", (name,))
        return _account_from_row(rows[0]) if rows else None

    def has_account(self, name: str) -> bool:
        return bool(self._rows("SELECT 1 FROM accounts WHERE name = ?", (name,)))

    def user_accounts(self) -> list[str]:
        return [name for (name,) in self._rows("SELECT name FROM accounts ORDER BY name") if not is_platform_account(name)]

    def platform_accounts(self) -> dict[str, AccountState]:
        rows = self._rows("SELECT * FROM accounts WHERE name >= 'platform:' AND name < 'platform;' ORDER BY name")
        return {row[0]: _account_from_row(row) for row in rows}

    def all_accounts(self) -> dict[str, AccountState]:
        return {row[0]: _account_from_row(row) for row in self._rows("SELECT * FROM accounts ORDER BY name")}

    def _transaction(self, seq: int, body: Any, hash_: Any) -> Transaction:
        data = _loads(body, f"transaction {seq}")
        if not isinstance(data, dict):
            raise DamagedRecord(f"transaction {seq} is not a table")
        data["hash"] = hash_
        return transaction_from_dict(data, f"transaction {seq}")

    def find(self, tx_id: str) -> Transaction | None:
        rows = self._rows("SELECT seq, body, hash FROM transactions WHERE id = ?", (tx_id,))
        return self._transaction(*rows[0]) if rows else None

    def transaction_at(self, position: int) -> Transaction:
        rows = self._rows("SELECT seq, body, hash FROM transactions WHERE seq = ?", (position,))
        if not rows:
            raise DamagedRecord(f"transaction {position} is missing")
        return self._transaction(*rows[0])

    def last_state_record(self, name: str, within: int) -> int | None:
        # The index lists every transaction that records an account's state (see touched_accounts).
        rows = self._rows("SELECT max(seq) FROM postings WHERE account = ? AND seq <= ?", (name, within))
        return rows[0][0] if rows else None

    def head(self) -> Head:
        rows = self._rows("SELECT seq, at, hash FROM transactions ORDER BY seq DESC LIMIT 1")
        return Head(*rows[0]) if rows else Head()

    def iter_transactions(self) -> Iterator[Transaction]:
        for row in self.db.execute("SELECT seq, body, hash FROM transactions ORDER BY seq"):
            yield self._transaction(*row)

    def iter_transaction_dicts(self) -> Iterator[dict[str, Any]]:
        """The stored history as plain dicts, oldest first, exactly as a file format keeps it."""
        for seq, body, hash_ in self.db.execute("SELECT seq, body, hash FROM transactions ORDER BY seq"):
            data = _loads(body, f"transaction {seq}")
            data["hash"] = hash_
            yield data

    def transactions(
        self, account: str | None = None, kind: str | None = None, limit: int | None = None
    ) -> list[Transaction]:
        where, parameters = [], []
        if account is not None:
            table = "postings p JOIN transactions t ON t.seq = p.seq"
            where.append("p.account = ?")
            parameters.append(account)
        else:
            table = "transactions t"
        if kind is not None:
            where.append("t.kind = ?")
            parameters.append(kind)
        sql = f"SELECT t.seq, t.body, t.hash FROM {table}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        if limit is None:
            rows = self._rows(sql + " ORDER BY t.seq", parameters)
        else:
            rows = self._rows(sql + " ORDER BY t.seq DESC LIMIT ?", [*parameters, limit])[::-1]
        return [self._transaction(*row) for row in rows]

    def next_auto_id(self) -> str:
        number = self.head().length + 1
        while self._rows("SELECT 1 FROM transactions WHERE id = ?", (f"tx-{number}",)):
            number += 1
        return f"tx-{number}"

    def append(self, tx: Transaction, states: Mapping[str, AccountState], rates: Rates | None = None) -> None:
        seq = self.head().length + 1
        row, touched = _transaction_rows(seq, tx.to_dict())
        self.db.execute("INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?)", row)
        self.db.executemany("INSERT INTO postings VALUES (?, ?)", touched)
        self.db.executemany(
            "INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?)",
            [_account_row(name, state) for name, state in states.items()],
        )
        self._states.update(states)
        if rates is not None:
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'rates'", (_dumps(rates.to_dict()),))
            self.rates = rates
        self.changed = True


def _unusable(path: Path, error: sqlite3.Error) -> LedgerUnusable:
    text = str(error)
    if isinstance(error, sqlite3.OperationalError) and "locked" in text:
        return LedgerUnusable(f"{path} is busy; gave up after {BUSY_TIMEOUT_SECONDS:g} s", code="lock_timeout")
    if isinstance(error, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        return LedgerUnusable(f"{path}: not a SQLite database, or a damaged one ({text})", code="ledger_damaged")
    if "no such table" in text or "no such column" in text:
        return LedgerUnusable(f"{path}: it is not a coinpurse ledger ({text})", code="ledger_damaged")
    return LedgerUnusable(f"{path}: SQLite error: {text}", code="ledger_unreadable")


def _open(path: Path, mode: str) -> sqlite3.Connection:
    """Open an existing ledger; ``mode=rw`` never creates one."""
    if path.is_dir():
        raise LedgerUnusable(f"{path}: is a folder, not a ledger file", code="ledger_unreadable")
    try:
        if path.stat().st_size == 0:
            raise LedgerUnusable(f"{path}: the ledger file is empty", code="ledger_damaged")
    except OSError as error:
        raise LedgerUnusable(f"{path}: can't read it: {error.strerror}", code="ledger_unreadable") from None
    uri = "file:" + _quote(os.path.abspath(path)) + f"?mode={mode}"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    except sqlite3.Error as error:
        raise _unusable(path, error) from None
    return connection


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path)


@contextmanager
def _errors_named(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as error:
        raise _unusable(path, error) from None
    except DamagedRecord as error:
        raise LedgerUnusable(f"{path}: {error}", code="ledger_damaged") from None


def open_for_reading(path: Path) -> SqliteBook:
    """An existing ledger, each query its own snapshot; the connection closes with the book."""
    with _errors_named(path):
        # Read-write (never create) so that a crashed writer's journal can be rolled
        # back; SQLite falls back to read-only for a write-protected file.
        return SqliteBook(_open(path, "rw"), path)


@contextmanager
def reading(path: Path) -> Iterator[Book]:
    """A consistent snapshot of an existing ledger for reading; writers wait until it ends."""
    with _errors_named(path):
        connection = _open(path, "rw")
        try:
            connection.execute("BEGIN")
            yield SqliteBook(connection, path)
        finally:
            connection.close()  # ends the read transaction


@contextmanager
def writing(path: Path, new_book: Book, *, dry_run: bool = False) -> Iterator[Book]:
    """Yield the book inside one SQLite transaction; commit only if the block ends well and changed it.

    The caller holds ``<ledger>.lock``. A missing ledger is built in a temp file,
    renamed into place only once the first change is committed.
    """
    if not path.exists():
        with _new_ledger(path, new_book, dry_run=dry_run) as book:
            yield book
        return
    with _errors_named(path):
        connection = _open(path, "rw")
        try:
            connection.execute("BEGIN IMMEDIATE")
            book = SqliteBook(connection, path)
            try:
                yield book
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            if book.changed and not dry_run:
                connection.execute("COMMIT")
            else:
                connection.execute("ROLLBACK")
        finally:
            connection.close()


@contextmanager
def _new_ledger(path: Path, book: Book, *, dry_run: bool) -> Iterator[Book]:
    from coinpurse.storage.atomic import fsync_folder, fsync_path, temp_prefix

    temp = path.with_name(f"{temp_prefix(path)}{os.urandom(6).hex()}.tmp")
    try:
        with _errors_named(path):
            connection = create(temp, book.currency, book.rates, {}, ())
            try:
                connection.execute("BEGIN IMMEDIATE")
                fresh = SqliteBook(connection, path)
                yield fresh
                if not fresh.changed or dry_run:
                    return
                connection.execute("COMMIT")
            finally:
                connection.close()
            fsync_path(temp)
            os.replace(temp, path)
            fsync_folder(path.parent)
    except OSError as error:
        raise LedgerUnusable(f"can't write {path}: {error.strerror}; the ledger was left as it was", code="write_failed") from None
    finally:
        try:
            os.unlink(temp)
        except OSError:
            pass




def create(
    path: Path,
    currency: str,
    rates: Rates,
    accounts: Mapping[str, AccountState],
    transactions: Iterable[Mapping[str, Any]],
) -> sqlite3.Connection:
    """Write a whole ledger into a new SQLite file and return its open connection (autocommit).

    ``transactions`` are stored dicts with their hashes, oldest first.
    """
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # private from the start, like JSON ledgers
    connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        connection.execute("PRAGMA journal_mode=OFF")  # a temp file: it is renamed into place only when complete
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("BEGIN")
        for statement in SCHEMA.split(";"):
            if statement.strip():
                connection.execute(statement)
        connection.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("schema", str(SCHEMA_VERSION)), ("currency", currency), ("rates", _dumps(rates.to_dict()))],
        )
        connection.executemany(
            "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?)",
            [_account_row(name, state) for name, state in sorted(accounts.items())],
        )
        batch: list[tuple[Any, ...]] = []
        touched: list[tuple[str, int]] = []
        for seq, tx in enumerate(transactions, start=1):
            row, links = _transaction_rows(seq, tx)
            batch.append(row)
            touched.extend(links)
            if len(batch) >= 10_000:
                _insert_history(connection, batch, touched)
                batch, touched = [], []
        _insert_history(connection, batch, touched)
        connection.execute("COMMIT")
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.execute("PRAGMA synchronous=FULL")
    except BaseException:
        connection.close()
        raise
    return connection


def _insert_history(connection: sqlite3.Connection, rows: list[tuple[Any, ...]], touched: list[tuple[str, int]]) -> None:
    connection.executemany("INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?)", rows)
    connection.executemany("INSERT INTO postings VALUES (?, ?)", touched)

