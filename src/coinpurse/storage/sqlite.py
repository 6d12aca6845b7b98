"""The SQLite ledger (``.sqlite``): the same book, answered by indexed queries.

A JSON or TOML ledger is read whole and rewritten whole on every change, so its
cost grows with the history. Here an operation reads the few accounts it needs,
finds ids through an index and appends one row, whatever the history's length.

Tables:
  meta(key, value)            schema, currency, rates (JSON)
  accounts(name, ...)         one row per account state: coins, diamonds, cash, lots, payouts
  transactions(seq, body, hash, id, kind, at)
                              the history in order; ``body`` is the stored transaction without its
                              hash, and id, kind and at are generated from it, so no edit of a
                              column can make them disagree (the id index is what makes retries safe)
  postings(account, seq)      which transactions touch an account, for history by account
  gifts_by_stream             an index of the gifts tagged with a live stream, by stream and seq, so
                              ``--stream`` reads that stream's gifts only (untagged gifts are not in it)
  account_digests(bucket, name, digest)
  bucket_digests(bucket, digest)
                              every account's state digest by bucket, and each bucket's digest: the
                              tree whose root each transaction records (core.chain), so a write checks
                              the accounts it reads against the chain without walking the history

The file must hold exactly these tables and indexes (checked on every open), so
a hand-made column or trigger can't stand in for them; ``verify`` checks every
row of them against the stored bodies.

Writers keep the recipe of the file formats: they hold ``<ledger>.lock``, and
their change is one SQLite transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``), so a
crash leaves the old state or the new one, and a refused operation rolls back
without writing a byte. A new ledger is built in a temp file and renamed into place.

The ledger is in WAL mode: a reader works from one snapshot for a whole command
and never blocks a writer, nor a writer a reader. A write ends with a checkpoint,
and the last connection to close folds the WAL back, so the ledger is one file
again when nobody uses it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing, contextmanager
from decimal import Decimal
from itertools import groupby, repeat
from operator import itemgetter, mul
from pathlib import Path
from typing import Any, Protocol

from coinpurse.core.book import Book, Head
from coinpurse.core.book import touched_accounts as accounts_touched
from coinpurse.core.chain import BUCKETS, EMPTY_BUCKET, VERIFY_HINT, AccountTree, bucket_of, is_digest
from coinpurse.core.model import (
    AccountState,
    DamagedRecord,
    Transaction,
    account_from_dict,
    balance_state,
    cost_of_lot,
    transaction_from_dict,
)
from coinpurse.core.money import MAX_UNITS, ZERO, decimal_str
from coinpurse.core.names import is_user_account
from coinpurse.core.rates import Rates, rates_from_dict
from coinpurse.errors import BadInput, LedgerUnusable
from coinpurse.formats.textdata import JSON_DECODER, loads_json
from coinpurse.speedups.jsontext import compact_json as _dumps
from coinpurse.speedups.lotcosts import coin_pattern, lot_cost_counts
from coinpurse.storage.document import SCHEMA_VERSION, newer_schema, stored_currency

_LARGEST_INTEGER = (1 << 63) - 1  # SQLite's (and PostgreSQL's bigint)


class Database(Protocol):
    """What the book asks of a connection: sqlite3's, or storage.postgres's, which answers the same calls."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...

    def executemany(self, sql: str, parameters: Any, /) -> Any: ...


BUSY_TIMEOUT_SECONDS = 10  # how long SQLite waits for a lock a process outside coinpurse holds
MINIMUM_SQLITE = (3, 31, 0)  # generated columns

_META_AND_ACCOUNTS = """
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
"""
_POSTINGS = """
CREATE TABLE postings (account TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (account, seq)) WITHOUT ROWID;
"""
_ACCOUNT_TREE = """
CREATE TABLE account_digests (
    bucket INTEGER NOT NULL,
    name TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (bucket, name)
) WITHOUT ROWID;
CREATE TABLE bucket_digests (bucket INTEGER PRIMARY KEY, digest TEXT NOT NULL);
"""
# Schema 2 kept id, kind and at as plain columns beside the body.
TRANSACTIONS_2 = """
CREATE TABLE transactions (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    body TEXT NOT NULL,
    hash TEXT NOT NULL
);
"""
_TRANSACTIONS = """
CREATE TABLE transactions (
    seq INTEGER PRIMARY KEY,
    body TEXT NOT NULL,
    hash TEXT NOT NULL,
    id TEXT NOT NULL GENERATED ALWAYS AS (json_extract(body, '$.id')) STORED,
    kind TEXT GENERATED ALWAYS AS (json_extract(body, '$.kind')) STORED,
    at TEXT GENERATED ALWAYS AS (json_extract(body, '$.at')) STORED
);
CREATE UNIQUE INDEX transactions_by_id ON transactions (id);
"""
SCHEMA_2 = _META_AND_ACCOUNTS + TRANSACTIONS_2 + _POSTINGS  # read as it is; the first write moves it to SCHEMA
SCHEMA_3 = _META_AND_ACCOUNTS + _TRANSACTIONS + _POSTINGS + _ACCOUNT_TREE
# Schema 4 admits the kinds that take money back (refunds, reversals), and finds them by an
# index of the kinds that are rare: "is this gift reversed?" reads those, not the whole
# history, and the many buys, gifts and redeems pay nothing for it on write.
COMMON_KINDS = ("buy", "gift", "redeem")
_RARE_KINDS_WHERE = (
    "kind NOT IN ('buy', 'gift', 'redeem')"  # said the same way in the queries, so SQLite uses the index
)
_RARE_KINDS = f"""
CREATE INDEX transactions_of_rare_kinds ON transactions (kind, seq) WHERE {_RARE_KINDS_WHERE};
"""
SCHEMA_4 = SCHEMA_3 + _RARE_KINDS
# The gifts of one live stream (history, gifters and export --stream) are found by an index of the
# stream each gift's body records, in seq order, so a stream's leaderboard or its newest gifts cost
# what the stream holds, not the history. Gifts without a stream, and other kinds, are not in it.
_STREAM_OF_GIFT = "json_extract(body, '$.details.stream')"  # said the same way in the queries, so SQLite uses the index


def _stream_of(table: str) -> str:
    """The indexed expression, of the named table's body: SQLite matches it to the index column for column."""
    return _STREAM_OF_GIFT.replace("(body", f"({table}.body")


_STREAM_GIFTS_WHERE = f"kind = 'gift' AND {_STREAM_OF_GIFT} IS NOT NULL"
_STREAM_GIFTS = f"""
CREATE INDEX gifts_by_stream ON transactions ({_STREAM_OF_GIFT}, seq) WHERE {_STREAM_GIFTS_WHERE};
"""
# Schema 5 admits held payouts and sponsored gifts, and adds the index of gifts by stream (a hold is
# found through the index of rare kinds).
SCHEMA = SCHEMA_4 + _STREAM_GIFTS
LAYOUTS = {
    2: SCHEMA_2,
    3: SCHEMA_3,
    4: SCHEMA_4,
    SCHEMA_VERSION: SCHEMA,
}  # the exact layout of each schema version's file


def _account_row(name: str, state: AccountState) -> tuple[Any, ...]:
    lots = _dumps([lot.to_list() for lot in state.lots]) if state.lots else None
    paid = decimal_str(state.paid_that_day) if state.payout_day else None
    return (name, state.coins, state.diamonds, decimal_str(state.cash), lots, state.payout_day or None, paid)


def _account_from_row(row: tuple[Any, ...]) -> AccountState:
    name, coins, diamonds, cash, lots, payout_day, paid = row
    if not isinstance(name, str):
        raise DamagedRecord(f"an account's name is {name!r}, not text")
    data: dict[str, Any] = {"coins": coins, "diamonds": diamonds, "cash": cash}
    what = f"account {name!r}"
    if lots is not None:
        data["lots"] = _loads(lots, f"{what}.lots")
    if payout_day is not None:
        data["payouts"] = {"day": payout_day, "total": paid}
    return account_from_dict(data, what)


_STORED_COINS = coin_pattern(len(str(MAX_UNITS - 1)))  # a lot's coins as the writer spells them, in range


def _coin_cost(name: Any, lots: Any, costs: dict[str, Decimal]) -> Decimal:
    """An account row's lots' cost, from their text (speedups.lotcosts), or else parsed and checked as a row is.

    ``costs`` holds the cost texts already checked, and gets those checked here.
    """
    counts = lot_cost_counts(lots, _STORED_COINS) if isinstance(lots, str) else None
    if counts is not None:
        try:
            if not counts.keys() <= costs.keys():
                new = counts.keys() - costs.keys()
                costs.update(zip(new, map(cost_of_lot, new, repeat(f"account {name!r}")), strict=True))
        except DamagedRecord:
            pass  # the full parse says which lot
        else:
            return sum(map(mul, map(costs.__getitem__, counts), counts.values()), ZERO)
    state = _account_from_row((name, 0, 0, "0", lots, None, None))
    return sum((lot.cost for lot in state.lots), ZERO)


def _loads(text: Any, what: str) -> Any:
    if not isinstance(text, str):
        raise DamagedRecord(f"{what} is not text")
    try:
        return loads_json(text)
    except ValueError:  # invalid JSON, or a float
        raise DamagedRecord(f"{what} is not valid JSON") from None


def touched_accounts(tx: Mapping[str, Any]) -> set[str]:
    """The accounts a stored transaction is indexed under (core.book.touched_accounts)."""
    postings = tx.get("postings", ())
    posted = [p.get("account") for p in postings if isinstance(p, dict)] if isinstance(postings, list | tuple) else []
    after, state = tx.get("after"), tx.get("state")
    recorded = state.get("accounts") if isinstance(state, dict) else None
    return accounts_touched(
        posted, after if isinstance(after, dict) else (), recorded if isinstance(recorded, dict) else ()
    )


def _transaction_rows(seq: int, tx: Mapping[str, Any]) -> tuple[tuple[Any, ...], list[tuple[str, int]]]:
    content = {key: value for key, value in tx.items() if key != "hash"}
    row = (seq, _dumps(content), tx["hash"])
    return row, [(name, seq) for name in sorted(touched_accounts(tx))]


_INSERT_TRANSACTION = "INSERT INTO transactions (seq, body, hash) VALUES (?, ?, ?)"
_INSERT_POSTINGS = "INSERT INTO postings VALUES (?, ?)"
_SAVE_ACCOUNT_DIGEST = "INSERT OR REPLACE INTO account_digests VALUES (?, ?, ?)"
_SAVE_BUCKET_DIGEST = "INSERT OR REPLACE INTO bucket_digests VALUES (?, ?)"


def _layout_of(connection: sqlite3.Connection) -> list[tuple[Any, ...]]:
    # sqlite_stat tables (made by ANALYZE) only steer the query planner.
    query = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type, name"
    return connection.execute(query).fetchall()


_EXPECTED_LAYOUTS: dict[int, list[tuple[Any, ...]]] = {}


def _expected_layout(version: int) -> list[tuple[Any, ...]]:
    """What sqlite_master holds in a file of this schema version: made once in memory, the way a ledger is made."""
    if version not in _EXPECTED_LAYOUTS:
        with closing(sqlite3.connect(":memory:")) as scratch:
            scratch.executescript(LAYOUTS[version])
            _EXPECTED_LAYOUTS[version] = _layout_of(scratch)
    return _EXPECTED_LAYOUTS[version]


def _check_layout(connection: sqlite3.Connection, version: int) -> None:
    """Exactly coinpurse's tables and indexes: a rebuilt table, an extra trigger or a dropped index is refused."""
    found, expected = _layout_of(connection), _expected_layout(version)
    if found == expected:
        return
    have = {(row[0], row[1]): row for row in found}
    want = {(row[0], row[1]): row for row in expected}
    for key in sorted(set(have) | set(want), key=lambda key: (key[0] != "table", key)):  # a changed table first
        if have.get(key) != want.get(key):
            kind, name = key
            how = (
                "is missing" if key not in have else "is not one coinpurse makes" if key not in want else "was changed"
            )
            raise DamagedRecord(
                f"its {kind} {name!r} {how}: the file was changed outside coinpurse "
                f"(a schema {version} ledger holds exactly coinpurse's own tables and indexes)"
            )


class SqliteBook(Book):
    """A ledger in a SQLite file; the caller owns the connection's transaction."""

    def __init__(self, connection: Database, path: Path) -> None:
        self.db = connection
        self.path = path
        self.changed = False
        meta = dict(self._rows("SELECT key, value FROM meta"))
        version = meta.get("schema")
        if version is None or not str(version).isdigit():
            raise DamagedRecord("it is not a coinpurse ledger (no schema version)")
        self.version = int(version)
        if self.version > SCHEMA_VERSION:
            raise newer_schema(self.version)
        if self.version not in LAYOUTS:
            raise DamagedRecord(f"schema version {self.version} is not one this coinpurse can read")
        self._check_layout()
        self.currency = stored_currency(meta.get("currency"))
        try:
            self.rates = rates_from_dict(_loads(meta.get("rates"), "'rates'"))
        except BadInput as error:
            raise DamagedRecord(f"its rates are invalid: {error.message}") from None
        self._states: dict[str, AccountState] = {}  # read or written during this use of the book

    # How the rows are written, said once for every store that keeps these tables.
    _SAVE_ACCOUNT = "INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?)"
    _SAVE_ACCOUNT_DIGEST = "INSERT OR REPLACE INTO account_digests VALUES (?, ?, ?)"
    _SAVE_BUCKET_DIGEST = "INSERT OR REPLACE INTO bucket_digests VALUES (?, ?)"

    def _check_layout(self) -> None:
        assert isinstance(self.db, sqlite3.Connection)
        _check_layout(self.db, self.version)

    def _derived_check(self, start: int) -> DerivedCheck:
        return DerivedCheck(self._reader(), start)

    def _rows(self, sql: str, parameters: Iterable[Any] = ()) -> list[Any]:
        rows: list[Any] = self._reader().execute(sql, tuple(parameters)).fetchall()
        return rows

    def _reader(self) -> Database:
        """The connection, for a query of what is stored (a write's book saves what it holds first)."""
        return self.db

    def _query(self, sql: str, parameters: tuple[Any, ...]) -> list[Any]:
        """A query of rows that what a write holds unsaved cannot change (a write's book saves nothing first)."""
        rows: list[Any] = self.db.execute(sql, parameters).fetchall()
        return rows

    def account(self, name: str) -> AccountState:
        guard = self.guard
        if guard is not None and name not in guard.trusted:
            guard.check(name)
        state = self._states.get(name)
        if state is None:  # a write keeps every account it changed in _states, so the stored row is the one wanted
            rows = self._query("SELECT * FROM accounts WHERE name = ?", (name,))
            state = _account_from_row(rows[0]) if rows else AccountState()
            self._states[name] = state
        return state

    def stored_account(self, name: str) -> AccountState | None:
        rows = self._rows("SELECT * FROM accounts WHERE name = ?", (name,))
        return _account_from_row(rows[0]) if rows else None

    def has_account(self, name: str) -> bool:
        return bool(self._rows("SELECT 1 FROM accounts WHERE name = ?", (name,)))

    def user_accounts(self) -> list[str]:
        return [name for (name,) in self._rows("SELECT name FROM accounts ORDER BY name") if is_user_account(name)]

    def platform_accounts(self) -> dict[str, AccountState]:
        rows = self._rows("SELECT * FROM accounts WHERE name >= 'platform:' AND name < 'platform;' ORDER BY name")
        return {row[0]: _account_from_row(row) for row in rows}

    def all_accounts(self) -> dict[str, AccountState]:
        return {row[0]: _account_from_row(row) for row in self._rows("SELECT * FROM accounts ORDER BY name")}

    def stored_balances(self) -> dict[str, AccountState]:
        # Without the lots: a viewer's can be thousands, and parsing them was most of an export --since.
        rows = self._rows("SELECT name, coins, diamonds, cash FROM accounts ORDER BY name")
        return {name: balance_state(name, coins, diamonds, cash) for name, coins, diamonds, cash in rows}

    def coin_costs(self) -> dict[str, Decimal]:
        rows = self._rows("SELECT name, lots FROM accounts WHERE lots IS NOT NULL ORDER BY name")
        costs: dict[str, Decimal] = {}  # each cost's text, checked once (a few prices make most lots)
        return {name: _coin_cost(name, lots, costs) for name, lots in rows}

    def _transaction(self, seq: int, body: Any, hash_: Any) -> Transaction:
        data = _loads(body, f"transaction {seq}")
        if not isinstance(data, dict):
            raise DamagedRecord(f"transaction {seq} is not a table")
        data["hash"] = hash_
        return transaction_from_dict(data, f"transaction {seq}")

    def find(self, tx_id: str) -> Transaction | None:
        return self._find_stored(tx_id)

    def _find_stored(self, tx_id: str) -> Transaction | None:
        """The stored transaction with that id, by the id index (what a write holds unsaved is not looked at)."""
        rows = self._query("SELECT seq, body, hash FROM transactions WHERE id = ?", (tx_id,))
        if not rows:
            return None
        tx = self._transaction(*rows[0])
        if tx.id != tx_id:  # only a damaged index can say so; never answer a retry with another transaction
            raise DamagedRecord(f"the id index gives transaction {rows[0][0]} for {tx_id!r}, but its id is {tx.id!r}")
        return tx

    def transaction_at(self, position: int) -> Transaction:
        rows = self._rows("SELECT seq, body, hash FROM transactions WHERE seq = ?", (position,))
        if not rows:
            raise DamagedRecord(f"transaction {position} is missing")
        return self._transaction(*rows[0])

    def stored_account_tree(self) -> AccountTree:
        if self.version < 3:  # schema 2 keeps no tree beside the accounts: made from them, as a file's is
            from coinpurse.core.chain import state_digest

            return AccountTree.of({name: state_digest(state, seen_again=False) for name, state in self.iter_accounts()})
        digests = [EMPTY_BUCKET] * BUCKETS
        for bucket, digest in self._rows("SELECT bucket, digest FROM bucket_digests"):
            if not (isinstance(bucket, int) and 0 <= bucket < BUCKETS):
                raise DamagedRecord(
                    f"bucket_digests holds a bucket {bucket!r}, which no account can have; {VERIFY_HINT}"
                )
            if not is_digest(digest):
                raise DamagedRecord(
                    f"bucket_digests holds {digest!r} for bucket {bucket}, which is not a digest; {VERIFY_HINT}"
                )
            digests[bucket] = digest
        return AccountTree(digests, self._bucket_entries)

    def _bucket_entries(self, bucket: int) -> dict[str, str]:
        return dict(self._rows("SELECT name, digest FROM account_digests WHERE bucket = ?", (bucket,)))

    def new_account_tree(self) -> AccountTree:
        self.db.execute("DELETE FROM account_digests")
        self.db.execute("DELETE FROM bucket_digests")
        return super().new_account_tree()

    def last_state_record(self, name: str, within: int) -> int | None:
        # Only to name an account when the tree disagrees with the chain: the index is not in the chain.
        rows = self._rows("SELECT max(seq) FROM postings WHERE account = ? AND seq <= ?", (name, within))
        return rows[0][0] if rows else None

    def head(self) -> Head:
        rows = self._rows("SELECT seq, at, hash FROM transactions ORDER BY seq DESC LIMIT 1")
        return Head(*rows[0]) if rows else Head()

    def iter_transactions(self) -> Iterator[Transaction]:
        for row in self._reader().execute("SELECT seq, body, hash FROM transactions ORDER BY seq"):
            yield self._transaction(*row)

    def iter_transaction_dicts(self, low: int = 1, high: int | None = None) -> Iterator[dict[str, Any]]:
        """The stored history as plain dicts, oldest first, exactly as a file format keeps it; with ``low`` or
        ``high``, only the transactions at those positions and between (a range of the seq key)."""
        if low <= 1 and high is None:
            rows = self._reader().execute("SELECT seq, body, hash FROM transactions ORDER BY seq")
        else:
            query = "SELECT seq, body, hash FROM transactions WHERE seq BETWEEN ? AND ? ORDER BY seq"
            rows = self._reader().execute(query, (low, _LARGEST_INTEGER if high is None else high))
        for seq, body, hash_ in rows:
            data = _loads(body, f"transaction {seq}")
            if not isinstance(data, dict):
                raise DamagedRecord(f"transaction {seq} is not a table")
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
            if kind not in COMMON_KINDS:
                where.append("t." + _RARE_KINDS_WHERE)
        sql = f"SELECT t.seq, t.body, t.hash FROM {table}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        if limit is None:
            rows = self._rows(sql + " ORDER BY t.seq", parameters)
        else:  # SQLite's integers are 64-bit: a larger limit asks for every row
            rows = self._rows(sql + " ORDER BY t.seq DESC LIMIT ?", [*parameters, min(limit, _LARGEST_INTEGER)])[::-1]
        return [self._transaction(*row) for row in rows]

    # The past, by the seq order of times (they never go backwards along seq): each step one indexed lookup.

    def time_at(self, position: int) -> str:
        rows = self._rows("SELECT at FROM transactions WHERE seq = ?", (position,))
        if not rows or not isinstance(rows[0][0], str):
            raise DamagedRecord(f"transaction {position} is missing")
        return rows[0][0]

    def positions_touching(self, name: str, within: int) -> Iterator[int]:
        # The postings index lists the transactions that give the account a balance after, newest first.
        rows = self._reader().execute(
            "SELECT seq FROM postings WHERE account = ? AND seq <= ? ORDER BY seq DESC", (name, within)
        )
        return (seq for (seq,) in rows)

    def transactions_within(
        self, low: int, high: int, account: str | None = None, kind: str | None = None, limit: int | None = None
    ) -> list[Transaction]:
        where, parameters = [], []
        if account is not None:
            table = "postings p JOIN transactions t ON t.seq = p.seq"
            where.append("p.account = ? AND p.seq BETWEEN ? AND ?")
            parameters += [account, low, high]
        else:
            table = "transactions t"
            where.append("t.seq BETWEEN ? AND ?")
            parameters += [low, high]
        if kind is not None:
            where.append("t.kind = ?")
            parameters.append(kind)
        sql = f"SELECT t.seq, t.body, t.hash FROM {table} WHERE " + " AND ".join(where)
        order = "p.seq" if account is not None else "t.seq"  # the index's own order: no sort of the span
        if limit is None:
            rows = self._rows(f"{sql} ORDER BY {order}", parameters)
        else:
            rows = self._rows(f"{sql} ORDER BY {order} DESC LIMIT ?", [*parameters, min(limit, _LARGEST_INTEGER)])[::-1]
        return [self._transaction(*row) for row in rows]

    def records_from(self, since: str | None = None) -> Iterator[tuple[int, Any]]:
        # One seq range read by a cursor, found by halving over seq (each step one indexed lookup).
        low = 1 if since is None else self.count_until(since, inclusive=False) + 1
        for seq, body, hash_ in self._reader().execute(
            "SELECT seq, body, hash FROM transactions WHERE seq >= ? ORDER BY seq", (low,)
        ):
            record = _loads(body, f"transaction {seq}")
            if record.__class__ is dict:  # with its hash, as a file's line holds it
                record["hash"] = hash_
            yield seq, record

    def stream_within(
        self,
        stream: str,
        low: int = 1,
        high: int | None = None,
        account: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
    ) -> list[Transaction]:
        # The stream's gifts through their index; the reversals of them through the index of rare kinds,
        # each one's gift found by its id. Both read in seq order, then merged.
        if kind not in (None, "gift", "reversal"):
            return []
        touching = (
            " AND EXISTS (SELECT 1 FROM postings p WHERE p.account = ? AND p.seq = t.seq)"
            if account is not None
            else ""
        )
        wanted = [] if account is None else [account]
        cap = [_LARGEST_INTEGER if limit is None else min(limit, _LARGEST_INTEGER)]
        high = _LARGEST_INTEGER if high is None else high
        rows: list[Any] = []
        if kind in (None, "gift"):
            gifts = (
                "SELECT t.seq, t.body, t.hash FROM transactions t WHERE t.kind = 'gift' AND "
                f"{_stream_of('t')} = ? AND t.seq BETWEEN ? AND ?{touching} ORDER BY t.seq DESC LIMIT ?"
            )
            rows += self._rows(gifts, [stream, low, high, *wanted, *cap])
        if kind in (None, "reversal"):
            reversals = (
                f"SELECT t.seq, t.body, t.hash FROM transactions t WHERE t.kind = 'reversal' AND t.{_RARE_KINDS_WHERE} "
                "AND t.seq BETWEEN ? AND ? AND EXISTS (SELECT 1 FROM transactions g WHERE "
                "g.id = json_extract(t.body, '$.details.original') AND g.kind = 'gift' AND "
                f"{_stream_of('g')} = ?){touching} ORDER BY t.seq DESC LIMIT ?"
            )
            rows += self._rows(reversals, [low, high, stream, *wanted, *cap])
        rows.sort(key=lambda row: row[0] if isinstance(row[0], int) else 0)
        if limit is not None:
            rows = rows[-limit:] if limit > 0 else []
        return [self._transaction(*row) for row in rows]

    def next_auto_id(self) -> str:
        number = self.head().length + 1
        while self._rows("SELECT 1 FROM transactions WHERE id = ?", (f"tx-{number}",)):
            number += 1
        return f"tx-{number}"

    def append(self, tx: Transaction, states: Mapping[str, AccountState], rates: Rates | None = None) -> None:
        raise TypeError("a SQLite ledger is written through storage.sqlite.writing()")

    # ----- what verify reads ------------------------------------------------------

    # The UNIQUE index on the id column, which SQLite keeps in step with the table
    # (its integrity check says otherwise) and which verify holds against each body's
    # id: no two stored transactions have one id unless verify reports that column.
    # Schema 2's id column is a plain one, which may say another id than the body
    # before the transactions ``verify --after`` reads: there the ids are the bodies'.
    @property
    def ids_unique_in_store(self) -> bool:  # type: ignore[override]
        return self.version >= 3

    _derived: DerivedCheck | None = None

    def verify_records(self, start: int = 0) -> Iterator[tuple[int, Any, Any]]:
        """One pass over the rows after seq ``start``; each body is parsed once, for the walk and for the
        check of what SQLite derives from it (``derived_data_problems(start)`` then reports it)."""
        check = self._derived = self._derived_check(start)
        for seq, data, hash_ in check.rows():
            if data is None:
                raise DamagedRecord(f"transaction {seq} {check.why}")
            yield seq, data, hash_

    def derived_data_problems(self, start: int = 0) -> Iterator[tuple[str, str, int | None]]:
        """Every row SQLite derives from the stored bodies, checked against them (see ``DerivedCheck``).

        After ``verify_records(start)``: what that walk found, then the rows it did not reach.
        From a ``start`` past 0 SQLite's own integrity check of the whole file is left out.
        """
        check = self._derived
        self._derived = None
        if check is None or check.start != start:
            check = self._derived_check(start)
        return check.problems()

    def history_count(self) -> int:
        return self.head().length

    def iter_accounts(self) -> Iterator[tuple[str, AccountState]]:
        for row in self._reader().execute("SELECT * FROM accounts ORDER BY name"):
            yield row[0], _account_from_row(row)

    def account_count(self) -> int:
        return int(self._rows("SELECT count(*) FROM accounts")[0][0])

    def first_of_kind(self, kind: str, after: int = 0) -> tuple[int, Transaction] | None:
        # The kind column is derived from the body; verify checks the one it finds against its own walk.
        rows = self._rows(
            "SELECT seq, body, hash FROM transactions WHERE kind = ? AND seq > ? ORDER BY seq LIMIT 1", (kind, after)
        )
        if not rows:
            return None
        try:
            return rows[0][0], self._transaction(*rows[0])
        except DamagedRecord:
            return None

    def position_of_hash(self, tx_hash: str) -> int | None:
        # No index on hash: read back from the newest, so the cost is that of the transactions after it.
        for seq, stored in self._reader().execute("SELECT seq, hash FROM transactions ORDER BY seq DESC"):
            if stored == tx_hash:
                return int(seq)
        return None

    def hash_at(self, position: int) -> str:
        rows = self._rows("SELECT hash FROM transactions WHERE seq = ?", (position,))
        if not rows or not isinstance(rows[0][0], str):
            raise DamagedRecord(f"transaction {position} is missing")
        return str(rows[0][0])

    def history_backwards(self, start: int) -> Iterator[Transaction]:
        for row in self._reader().execute(
            "SELECT seq, body, hash FROM transactions WHERE seq > ? ORDER BY seq DESC", (start,)
        ):
            yield self._transaction(*row)

    def account_redeems(self, name: str, within: int) -> Iterator[Transaction]:
        query = (
            "SELECT t.seq, t.body, t.hash FROM postings p JOIN transactions t ON t.seq = p.seq "
            "WHERE p.account = ? AND p.seq <= ? AND t.kind = 'redeem' ORDER BY p.seq DESC"
        )
        for row in self._reader().execute(query, (name, within)):
            yield self._transaction(*row)

    def account_tree_problems(self) -> Iterator[tuple[str, str, int | None]]:
        return check_account_tree(self._reader())


_HASH_AT_END = len(',"hash":""}') + 64


def _body(tx: Transaction) -> str:
    """What the body column holds: the stored transaction without its hash, as compact JSON."""
    stored = tx.to_dict()
    if tx._sealed and next(reversed(stored)) == "hash":  # as sealed: the hash last, so its text ends the encoding
        text = _dumps(stored)
        if text.endswith(f',"hash":"{tx.hash}"}}') and len(tx.hash) == 64:
            return text[:-_HASH_AT_END] + "}"
    return _dumps({key: value for key, value in stored.items() if key != "hash"})


class SqliteWriteBook(SqliteBook):
    """The book of one write (one SQLite transaction): what the write makes is kept in memory and saved once.

    Inside one write the rows its own transactions make need not be read back:
    the new transactions wait in memory (saved every ``_SAVE_EVERY``), and each
    account row and state digest the write changed, and each bucket digest, is
    saved once, when the write ends (``save``) or before any query that could
    read them. The head, the accounts read and the tree are the write's own from
    the first read on: no other writer runs meanwhile (the lock, BEGIN IMMEDIATE).
    """

    _SAVE_EVERY = 250  # few enough that what waits stays small (a transaction held is a few kB)

    def __init__(self, connection: Database, path: Path) -> None:
        self._head: Head | None = None
        self._new: list[Transaction] = []  # appended, not yet saved
        self._new_ids: dict[str, Transaction] = {}
        self._made_ids: set[str] = set()  # every id this write made, saved or not
        self._stored_before: int | None = None  # how many transactions the ledger held before this write
        self._changed_accounts: set[str] = set()
        self._changed_digests: dict[str, str] = {}
        self._absent: set[str] = set()  # accounts found to have no row (see stored_account)
        super().__init__(connection, path)

    def _reader(self) -> Database:
        self.save()  # any other query sees everything this write made
        return self.db

    def stored_account(self, name: str) -> AccountState | None:
        if name in self._changed_accounts:
            return self._states[name]
        if name in self._absent:
            return None
        rows = self._query("SELECT * FROM accounts WHERE name = ?", (name,))
        if not rows:
            # Asked for every user of every op (the pending account that holds their payouts, rarely made):
            # an account no row holds stays so until this write appends a state of it.
            self._absent.add(name)
            return None
        return _account_from_row(rows[0])

    def has_account(self, name: str) -> bool:
        # Asked for every account of every op: what this write holds unsaved answers without saving it first.
        if name in self._changed_accounts:
            return True
        return bool(self._query("SELECT 1 FROM accounts WHERE name = ?", (name,)))

    def _bucket_entries(self, bucket: int) -> dict[str, str]:
        # A bucket is read once, before this write changes it (the tree keeps it from then on).
        return dict(self._query("SELECT name, digest FROM account_digests WHERE bucket = ?", (bucket,)))

    def find(self, tx_id: str) -> Transaction | None:
        new = self._new_ids.get(tx_id)
        if new is not None:
            return new
        if tx_id not in self._made_ids and self._stored_before == 0:
            return None  # a new ledger holds only what this write made
        return self._find_stored(tx_id)  # the unsaved ones are in _new_ids

    def head(self) -> Head:
        if self._head is None:
            rows = self._query("SELECT seq, at, hash FROM transactions ORDER BY seq DESC LIMIT 1", ())
            self._head = Head(*rows[0]) if rows else Head()
            self._stored_before = self._head.length
        return self._head

    def transaction_at(self, position: int) -> Transaction:
        first_new = self.head().length - len(self._new) + 1
        if position >= first_new and position - first_new < len(self._new):
            return self._new[position - first_new]
        return super().transaction_at(position)

    def next_auto_id(self) -> str:
        number = self.head().length + 1
        while self.find(f"tx-{number}") is not None:
            number += 1
        return f"tx-{number}"

    def new_account_tree(self) -> AccountTree:
        self.save()
        self._changed_digests.clear()
        return super().new_account_tree()

    def append(self, tx: Transaction, states: Mapping[str, AccountState], rates: Rates | None = None) -> None:
        length = self.head().length + 1
        self._head = Head(length, tx.at, tx.hash)
        self._new.append(tx)
        self._new_ids[tx.id] = tx
        self._made_ids.add(tx.id)
        self._states.update(states)
        self._changed_accounts.update(states)
        if self._absent:
            self._absent.difference_update(states)
        if self._tree is not None and tx.state is not None:
            self._changed_digests.update(tx.state.accounts)
        if rates is not None:
            self.db.execute("UPDATE meta SET value = ? WHERE key = 'rates'", (_dumps(rates.to_dict()),))
            self.rates = rates
        self.changed = True
        if len(self._new) >= self._SAVE_EVERY:
            self._save_new()

    def _save_new(self) -> None:
        """The new transactions' rows and their postings index."""
        new = self._new
        if not new:
            return
        seq = self.head().length - len(new)
        rows: list[tuple[Any, ...]] = []
        links: list[tuple[str, int]] = []
        for tx in new:
            seq += 1
            rows.append((seq, _body(tx), tx.hash))
            state = tx.state
            touched = accounts_touched(
                [p.account for p in tx.postings], tx.to_dict()["after"], () if state is None else state.accounts
            )
            links.extend([(name, seq) for name in sorted(touched)])
        _insert_history(self.db, rows, links)
        self._new = []
        self._new_ids = {}

    def save(self) -> None:
        """Everything this write made, into the tables: called before the commit (and before other queries)."""
        self._save_new()
        if self._changed_accounts:
            states = self._states
            self.db.executemany(
                self._SAVE_ACCOUNT,
                [_account_row(name, states[name]) for name in sorted(self._changed_accounts)],
            )
            self._changed_accounts = set()
        if self._tree is not None and (self._changed_digests or self._tree.changed):
            digests = self._changed_digests
            self.db.executemany(
                self._SAVE_ACCOUNT_DIGEST, [(bucket_of(name), name, digests[name]) for name in sorted(digests)]
            )
            self.db.executemany(self._SAVE_BUCKET_DIGEST, self._tree.take_changed().items())
            self._changed_digests = {}


# ----- checking what is derived from the bodies ----------------------------------


class DerivedCheck:
    """The rows after seq ``start`` read once, oldest first: each body parsed, and what SQLite derives from it
    (seq without gaps, the id, kind and at columns, the postings index) checked against it on the way.

    The problems found are kept (no more than verify reports), so memory stays flat.
    """

    KEPT = 64

    def __init__(self, connection: Database, start: int, after: int | None = None) -> None:
        self.db = connection
        self.start = start  # how many transactions are before the first row read
        self.after = (start or None) if after is None else after  # the rows read are after this seq (None: all of them)
        self.found: list[tuple[str, str, int | None]] = []
        self.reached = start  # the last seq read
        self.position = start
        self.why = ""  # what is wrong with the last body read, when it can't be read
        self._listed: Iterator[tuple[int, set[str]]] | None = None
        self._pending: tuple[int, set[str]] | None = None
        self._done = False

    def _keep(self, problems: Iterable[tuple[str, str, int | None]]) -> None:
        for problem in problems:
            if len(self.found) < self.KEPT:
                self.found.append(problem)

    def rows(self) -> Iterator[tuple[int, dict[str, Any] | None, Any]]:
        """(seq, parsed body or None, hash) for each row, its derived data checked."""
        self._listed = _postings_by_seq(self.db, self.after)
        self._pending = next(self._listed, None)
        previous = self.start if self.after is None else self.after
        query = "SELECT seq, id, kind, at, body, hash FROM transactions"
        rows = (
            self.db.execute(query + " ORDER BY seq")
            if self.after is None
            else self.db.execute(query + " WHERE seq > ? ORDER BY seq", (self.after,))
        )
        decode = JSON_DECODER.decode
        for seq, tx_id, kind, at, body, hash_ in rows:
            self.position += 1
            position = self.position
            if seq != previous + 1:
                self._keep(
                    [
                        (
                            "seq_gap",
                            f"it is stored as seq {seq} after seq {previous}; the rows must be numbered 1, 2, 3 ... without gaps",
                            position,
                        )
                    ]
                )
            previous = self.reached = seq
            pending = self._pending
            while pending is not None and pending[0] < seq:
                self._keep(_orphan_postings(*pending))
                pending = next(self._listed, None)
            indexed: set[str] = set()
            if pending is not None and pending[0] == seq:
                indexed = pending[1]
                pending = next(self._listed, None)
            self._pending = pending
            try:
                data = decode(body) if body.__class__ is str else None
                self.why = "is not text" if data is None else "is not a table"
            except ValueError:  # invalid JSON, or a float: the walk of the history reports it
                data, self.why = None, "is not valid JSON"
            if data.__class__ is not dict:
                yield seq, None, hash_
                continue
            if tx_id != data.get("id") or kind != data.get("kind") or at != data.get("at"):
                for column, value in (("id", tx_id), ("kind", kind), ("at", at)):
                    if value != data.get(column):
                        self._keep(
                            [
                                (
                                    "column_mismatch",
                                    f"its {column} column says {value!r}, but its stored body says {data.get(column)!r}",
                                    position,
                                )
                            ]
                        )
            touched = touched_accounts(data)
            if touched != indexed:
                for name in sorted(touched - indexed):
                    self._keep(
                        [
                            (
                                "postings_index_missing",
                                f"the postings index lacks {name!r}, so history and gifters of {name!r} leave it out",
                                position,
                            )
                        ]
                    )
                for name in sorted(indexed - touched):
                    self._keep(
                        [
                            (
                                "postings_index_extra",
                                f"the postings index lists it under {name!r}, which it does not touch",
                                position,
                            )
                        ]
                    )
            yield seq, data, hash_
        self._done = True

    def problems(self) -> Iterator[tuple[str, str, int | None]]:
        """SQLite's own integrity check (from the start only), what the walk found, then the rows it did not reach."""
        if self.start == 0:
            yield from self.store_problems()
        if not self._done:
            for _ in self.rows_after_reached():
                pass
        yield from self.found
        pending = self._pending
        while pending is not None:
            yield from _orphan_postings(*pending)
            pending = next(self._listed, None) if self._listed is not None else None

    def store_problems(self) -> Iterator[tuple[str, str, int | None]]:
        """The database's own check of its files (SQLite's integrity check)."""
        for (line,) in self.db.execute("PRAGMA integrity_check(20)"):
            if line != "ok":
                yield "sqlite_damaged", f"SQLite's integrity check: {line}", None

    def rows_after_reached(self) -> Iterator[Any]:
        """Go on from where the walk stopped (a damaged record), checking only the derived data."""
        if self._listed is None:
            yield from self.rows()
            return
        rest = type(self)(self.db, self.position, self.reached)
        rest.position, rest.found = self.position, self.found
        yield from rest.rows()
        self._listed, self._pending, self._done = rest._listed, rest._pending, True


def check_account_tree(connection: Database, *, has_tree: bool | None = None) -> Iterator[tuple[str, str, int | None]]:
    """account_digests must hold each stored account's state digest in its bucket, and bucket_digests each bucket's digest."""
    if has_tree is None:
        has_tree = bool(connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'account_digests'").fetchall())
    if not has_tree:
        return  # schema 2 has none: its first write records one
    digest = StoredDigests()
    try:  # one account at a time: only the digests are kept
        digests = {row[0]: digest(row) for row in connection.execute("SELECT * FROM accounts")}
    except DamagedRecord:
        return  # the accounts themselves can't be read: verify reports that
    entries, buckets = _digest_rows(digests)
    want = {(bucket, name): digest for bucket, name, digest in entries}
    have = {(bucket, name): digest for bucket, name, digest in connection.execute("SELECT * FROM account_digests")}
    for key in sorted(set(want) | set(have), key=lambda key: (str(key[1]), str(key[0]))):
        if have.get(key) != want.get(key):
            bucket, name = key
            if key not in have:
                what = f"lacks the state digest of account {name!r}"
            elif key not in want:
                what = f"holds a digest for {name!r} in bucket {bucket!r}, which no stored account has there"
            else:
                what = f"holds {have[key]!r} for account {name!r}, not the digest of its stored state"
            yield "account_digest_mismatch", f"account_digests {what}", None
    stored_buckets = dict(connection.execute("SELECT bucket, digest FROM bucket_digests"))
    for bucket in sorted(set(buckets) | set(stored_buckets), key=str):
        if stored_buckets.get(bucket) != buckets.get(bucket):
            yield (
                "bucket_digest_mismatch",
                f"bucket_digests holds {stored_buckets.get(bucket)!r} for bucket {bucket!r}, not the digest of its accounts",
                None,
            )


class StoredDigests:
    """The state digest of a stored account row: ``state_digest(_account_from_row(row), seen_again=False)``.

    A million transactions leave a quarter of a million lots in the accounts, and
    ``verify`` (``verify --after`` too) digests each one at the end. A row whose lots
    are in the common form (each [source, coins, cost] with text, an int and a
    decimal's text, as ``_plain_lots`` takes them) has its lots' lines made straight
    from the parsed lists, each cost's text found by the stored text: no Lot nor
    Decimal is made per lot. Any other row goes the whole way, which says what is wrong.
    """

    def __init__(self) -> None:
        self.costs: dict[str, str | None] = {}  # a cost's stored text -> its text in a digest (None: not plain)

    def __call__(self, row: tuple[Any, ...]) -> str:
        from coinpurse.core.chain import digest_with_lot_lines, state_digest

        lines = self._lot_lines(row[4])
        if lines is None:
            return state_digest(_account_from_row(row), seen_again=False)
        return digest_with_lot_lines(_account_from_row((*row[:4], None, *row[5:])), lines)

    def _lot_lines(self, text: Any) -> str | None:
        """The lines of the lots stored as ``text``, or None where they are not plain (or none)."""
        if text.__class__ is not str:
            return None
        try:
            raw = loads_json(text)
        except ValueError:
            return None
        if raw.__class__ is not list or not raw:
            return None
        if {lot.__class__ for lot in raw} != {list} or set(map(len, raw)) != {3}:  # checked in C, as _plain_lots
            return None
        sources, coins, costs = zip(*raw, strict=True)
        if set(map(type, sources)) != {str} or set(map(type, coins)) != {int} or set(map(type, costs)) != {str}:
            return None
        if max(map(abs, coins)) >= MAX_UNITS:
            return None
        known, cost_of = self.costs, self._cost
        numbers = [known.get(cost) or cost_of(cost) for cost in costs]
        if None in numbers:
            return None
        return "\n".join(
            [
                f"{len(source)}:{source} {count} {number}"
                for source, count, number in zip(sources, coins, numbers, strict=True)
            ]
        )

    def _cost(self, cost: str) -> str | None:
        from coinpurse.core.chain import number_text

        try:
            value = Decimal(cost)
            number = number_text(value) if abs(value) < MAX_UNITS else None
        except ArithmeticError:  # not a number's text, or a NaN
            number = None
        if len(self.costs) < 1 << 16:
            self.costs[cost] = number
        return number


def _postings_by_seq(connection: Database, after: int | None = None) -> Iterator[tuple[int, set[str]]]:
    """The postings index by seq: all of it (a row at seq 0 or below is no transaction's), or after seq ``after``."""
    if after is not None:
        yield from _postings_after(connection, after)
        return
    else:
        rows = connection.execute("SELECT seq, account FROM postings ORDER BY seq, account")
    for seq, group in groupby(rows, key=itemgetter(0)):
        yield seq, {account for _, account in group}


def _postings_after(connection: Database, after: int) -> Iterator[tuple[int, set[str]]]:
    """The index's rows after seq ``after``, by seq, through its key (account, seq) only: one seek per account name
    in it and one range per name, so the cost follows the accounts and the rows after ``after``, not the history."""
    by_seq: dict[int, set[str]] = {}
    name: Any = None
    next_name = "SELECT account FROM postings WHERE account > ? ORDER BY account LIMIT 1"
    while True:
        row = (
            connection.execute(next_name, (name,)).fetchone()
            if name is not None
            else connection.execute("SELECT account FROM postings ORDER BY account LIMIT 1").fetchone()
        )
        if row is None:
            break
        name = row[0]
        for (seq,) in connection.execute("SELECT seq FROM postings WHERE account = ? AND seq > ?", (name, after)):
            by_seq.setdefault(seq, set()).add(name)
    for seq in sorted(by_seq, key=lambda seq: (not isinstance(seq, int), seq if isinstance(seq, int) else 0)):
        yield seq, by_seq[seq]


def _orphan_postings(seq: int, accounts: set[str]) -> Iterator[tuple[str, str, int | None]]:
    names = ", ".join(repr(name) for name in sorted(accounts))
    yield (
        "postings_index_extra",
        f"the postings index lists seq {seq} under {names}, but no transaction is stored there",
        None,
    )


# ----- connections ----------------------------------------------------------------


def _unusable(path: Path, error: sqlite3.Error) -> LedgerUnusable:
    text = str(error)
    if isinstance(error, sqlite3.OperationalError) and "locked" in text:
        return LedgerUnusable(f"{path} is busy; gave up after {BUSY_TIMEOUT_SECONDS:g} s", code="lock_timeout")
    if isinstance(error, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        return LedgerUnusable(f"{path}: not a SQLite database, or a damaged one ({text})", code="ledger_damaged")
    if "no such table" in text or "no such column" in text:
        return LedgerUnusable(f"{path}: it is not a coinpurse ledger ({text})", code="ledger_damaged")
    if "readonly" in text or "unable to open" in text:
        return LedgerUnusable(
            f"{path}: SQLite can't work beside it ({text}): a write, or a read while a writer's {path.name}-wal "
            f"is there, needs to create {path.name}-wal and {path.name}-shm in its folder",
            code="ledger_unreadable",
        )
    return LedgerUnusable(f"{path}: SQLite error: {text}", code="ledger_unreadable")


def _check_library() -> None:
    if sqlite3.sqlite_version_info < MINIMUM_SQLITE:
        needed = ".".join(map(str, MINIMUM_SQLITE))
        raise LedgerUnusable(
            f"SQLite ledgers need SQLite {needed} or later with its JSON functions; this Python has {sqlite3.sqlite_version}",
            code="sqlite_too_old",
        )


def _read_only_here(path: Path) -> bool:
    """Nobody can write this ledger from here: a read-only file or folder (or file system).

    Such a ledger is read as it stands (SQLite's ``immutable``): a WAL reader would
    otherwise need to create ``-shm`` and ``-wal`` files it could not remove
    afterwards. Not when a writer left a journal, which must be read with the file.
    """
    if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK):
        return False
    return not any(os.path.lexists(f"{path}{suffix}") for suffix in ("-wal", "-journal"))


def _open(path: Path, *, for_writing: bool) -> sqlite3.Connection:
    """Open an existing ledger; never creates one."""
    _check_library()
    if path.is_dir():
        raise LedgerUnusable(f"{path}: is a folder, not a ledger file", code="ledger_unreadable")
    try:
        if path.stat().st_size == 0:
            raise LedgerUnusable(f"{path}: the ledger file is empty", code="ledger_damaged")
    except OSError as error:
        raise LedgerUnusable(f"{path}: can't read it: {error.strerror}", code="ledger_unreadable") from None
    _check_companions(path)
    # Read-write even to read, so that the last reader to leave can fold the WAL back
    # into the file and remove it (and roll back a crashed writer's journal).
    query = "mode=ro&immutable=1" if not for_writing and _read_only_here(path) else "mode=rw"
    uri = "file:" + _quote(os.path.abspath(path)) + "?" + query
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
    except sqlite3.Error as error:
        raise _unusable(path, error) from None
    return connection


_COMPANIONS = ("-wal", "-shm", "-journal")


def _check_companions(path: Path) -> None:
    """SQLite's files beside the ledger must be plain files of their own, as the lock file must.

    SQLite writes into ``-wal``, ``-shm`` and ``-journal`` (the shared memory
    index is rewritten by any reader), so a hard link planted there would get
    another file overwritten, and a link or a FIFO is nothing SQLite can use.
    """
    import stat

    real = os.path.realpath(path)  # SQLite names them after the file a link points to
    for suffix in _COMPANIONS:
        companion = Path(f"{real}{suffix}")
        try:
            info = os.lstat(companion)
        except FileNotFoundError:
            continue
        except OSError as error:
            raise LedgerUnusable(
                f"{path}: can't check {companion}: {error.strerror}", code="ledger_unreadable"
            ) from None
        why = None
        if stat.S_ISLNK(info.st_mode):
            why = "is a symbolic link"
        elif not stat.S_ISREG(info.st_mode):
            why = "is not a regular file"
        elif info.st_nlink > 1:
            why = f"has {info.st_nlink} names (a hard link to another file)"
        if why is not None:
            raise LedgerUnusable(
                f"{path}: SQLite's file {companion} {why}; nothing was read or written: "
                "remove it if no coinpurse command is running, and SQLite makes a new one",
                code="companion_unsafe",
            )


def _quote(path: str) -> str:
    """The path for a SQLite URI, byte by byte: a file name that is not UTF-8 reaches Python as lone surrogates."""
    from urllib.parse import quote

    return quote(os.fsencode(path))


@contextmanager
def _errors_named(path: Path) -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as error:
        raise _unusable(path, error) from None
    except DamagedRecord as error:
        raise LedgerUnusable(f"{path}: {error}", code="ledger_damaged") from None


def _snapshot(path: Path) -> SqliteBook:
    """A book whose every query sees one version of the ledger: one read transaction, begun by reading meta."""
    connection = _open(path, for_writing=False)
    try:
        connection.execute("BEGIN")
        return SqliteBook(connection, path)
    except BaseException:
        connection.close()
        raise


def open_for_reading(path: Path) -> SqliteBook:
    """An existing ledger as one snapshot; the read transaction ends when the book is dropped."""
    with _errors_named(path):
        return _snapshot(path)


@contextmanager
def reading(path: Path) -> Iterator[Book]:
    """An existing ledger as one snapshot for the block; writers go on meanwhile (WAL)."""
    with _errors_named(path):
        book = _snapshot(path)
        try:
            yield book
        finally:
            assert isinstance(book.db, sqlite3.Connection)
            book.db.close()  # ends the read transaction


@contextmanager
def writing(path: Path, new_book: Book, *, dry_run: bool = False) -> Iterator[Book]:
    """Yield the book inside one SQLite transaction; commit only if the block ends well and changed it.

    The caller holds ``<ledger>.lock``. A missing ledger is built in a temp file,
    renamed into place only once the first change is committed. A ledger of an older
    schema is moved to the current one inside the same transaction, and kept as it
    was in ``<ledger>.v<N>.bak`` when that change is committed.
    """
    if not path.exists():
        with _new_ledger(path, new_book, dry_run=dry_run) as book:
            yield book
        return
    with _errors_named(path):
        connection = _open(path, for_writing=True)
        backup: Path | None = None
        try:
            connection.execute("BEGIN IMMEDIATE")
            book = SqliteWriteBook(connection, path)
            version = book.version
            if version < SCHEMA_VERSION:
                backup = _copy_of(path)  # the file as it is, before anything changes it
                _migrate(connection, path, version)
                book = SqliteWriteBook(connection, path)
            try:
                yield book
                if book.changed and not dry_run:
                    book.save()
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            if book.changed and not dry_run:
                if backup is not None:
                    _keep_backup(backup, path, version)
                connection.execute("COMMIT")
                _settle(connection)
            else:
                connection.execute("ROLLBACK")
        finally:
            connection.close()
            if backup is not None:
                _remove(backup)


def _settle(connection: sqlite3.Connection) -> None:
    """After a commit: WAL mode from now on, and as much of the WAL as no reader needs copied back into the file.

    Never waits: a reader keeps its snapshot, and the last connection to close
    folds the rest back and removes ``-wal`` and ``-shm``.
    """
    try:
        connection.execute("PRAGMA busy_timeout = 0")
        if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            connection.execute("PRAGMA journal_mode = WAL")  # a schema-2 file, on its first write
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except sqlite3.OperationalError:
        pass  # a reader of a rollback-journal file holds it: the next write tries again


# ----- older schemas to the current one -----------------------------------------


def _migrate(connection: sqlite3.Connection, path: Path, version: int) -> None:
    """Lift the file one schema at a time to the current one, in the caller's transaction."""
    try:
        if version == 2:
            _migrate_2_to_3(connection)
        if version <= 3:
            for statement in _statements(_RARE_KINDS):  # 3 to 4
                connection.execute(statement)
        for statement in _statements(_STREAM_GIFTS):  # 4 to 5: the index of gifts by stream
            connection.execute(statement)
        connection.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA_VERSION),))
    except (sqlite3.IntegrityError, sqlite3.OperationalError, DamagedRecord) as error:
        raise LedgerUnusable(
            f"{path}: can't move it from schema {version} to {SCHEMA_VERSION} ({error}); "
            "nothing was written; coinpurse verify names the damage",
            code="ledger_damaged",
        ) from None


def _migrate_2_to_3(connection: sqlite3.Connection) -> None:
    """Rebuild the derived columns and the postings index from the stored bodies.

    Nothing of the old columns or index survives, so a hand-edited id can't
    hide a transaction from the id lookup after the move.
    """
    connection.execute("ALTER TABLE transactions RENAME TO transactions_2")
    for statement in _statements(_TRANSACTIONS):
        connection.execute(statement)
    connection.execute(
        "INSERT INTO transactions (seq, body, hash) SELECT seq, body, hash FROM transactions_2 ORDER BY seq"
    )
    connection.execute("DROP TABLE transactions_2")
    connection.execute("DELETE FROM postings")
    batch: list[tuple[str, int]] = []
    for seq, body in connection.execute("SELECT seq, body FROM transactions ORDER BY seq"):
        batch.extend((name, seq) for name in sorted(touched_accounts(_loads(body, f"transaction {seq}"))))
        if len(batch) >= 10_000:
            connection.executemany(_INSERT_POSTINGS, batch)
            batch = []
    connection.executemany(_INSERT_POSTINGS, batch)
    for statement in _statements(_ACCOUNT_TREE):
        connection.execute(statement)
    accounts = {row[0]: _account_from_row(row) for row in connection.execute("SELECT * FROM accounts")}
    _save_tree(connection, accounts)  # the write's checks then hold these against the chain


def _statements(script: str) -> list[str]:
    return [statement for statement in script.split(";") if statement.strip()]


def _copy_of(path: Path) -> Path:
    """A consistent copy of the committed ledger in a temp file beside it, through a second connection."""
    from coinpurse.storage.atomic import fsync_path, temp_path

    temp = temp_path(path)
    os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        with closing(_open(path, for_writing=True)) as source, closing(sqlite3.connect(temp)) as copy:
            source.backup(copy)
        fsync_path(temp)
    except BaseException:
        _remove(temp)
        raise
    return temp


def _keep_backup(copy: Path, path: Path, version: int) -> None:
    """The ledger before its first rewrite in a newer schema, as the file formats keep it."""
    from coinpurse.storage.atomic import fsync_folder

    backup = path.with_name(f"{path.name}.v{version}.bak")
    if not backup.exists():
        os.replace(copy, backup)
        fsync_folder(path.parent)


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# ----- new ledgers ------------------------------------------------------------------


@contextmanager
def _new_ledger(path: Path, book: Book, *, dry_run: bool) -> Iterator[Book]:
    from coinpurse.storage.atomic import created_meanwhile, publish_new, temp_path

    temp = temp_path(path)
    try:
        with _errors_named(path):
            connection = create(temp, book.currency, book.rates, {}, ())
            try:
                connection.execute("BEGIN IMMEDIATE")
                fresh = SqliteWriteBook(connection, path)
                yield fresh
                if not fresh.changed or dry_run:
                    return
                fresh.save()
                connection.execute("COMMIT")
            finally:
                connection.close()  # the last connection: the WAL is folded into the temp file and removed
            try:
                publish_new(temp, path)  # never over a ledger another writer made meanwhile
            except FileExistsError:
                raise created_meanwhile(path) from None
    except OSError as error:
        raise LedgerUnusable(
            f"can't write {path}: {error.strerror}; the ledger was left as it was", code="write_failed"
        ) from None
    finally:
        _remove(temp)


def create(
    path: Path,
    currency: str,
    rates: Rates,
    accounts: Mapping[str, AccountState],
    transactions: Iterable[Mapping[str, Any]],
) -> sqlite3.Connection:
    """Write a whole ledger into a new SQLite file and return its open connection (autocommit, WAL mode).

    ``transactions`` are stored dicts with their hashes, oldest first.
    """
    _check_library()
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # private from the start, like JSON ledgers
    connection = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        connection.execute("PRAGMA journal_mode=OFF")  # a temp file: it is renamed into place only when complete
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("BEGIN")
        for statement in _statements(SCHEMA):
            connection.execute(statement)
        connection.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("schema", str(SCHEMA_VERSION)), ("currency", currency), ("rates", _dumps(rates.to_dict()))],
        )
        connection.executemany(
            "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?)",
            [_account_row(name, state) for name, state in sorted(accounts.items())],
        )
        _save_tree(connection, accounts)
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
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
    except BaseException:
        connection.close()
        raise
    return connection


def _insert_history(connection: Database, rows: list[tuple[Any, ...]], touched: list[tuple[str, int]]) -> None:
    connection.executemany(_INSERT_TRANSACTION, rows)
    connection.executemany(_INSERT_POSTINGS, touched)


def _tree_rows(accounts: Mapping[str, AccountState]) -> tuple[list[tuple[int, str, str]], dict[int, str]]:
    """The account_digests and bucket_digests rows a ledger with these accounts holds."""
    from coinpurse.core.chain import state_digest

    return _digest_rows({name: state_digest(state) for name, state in accounts.items()})


def _digest_rows(digests: Mapping[str, str]) -> tuple[list[tuple[int, str, str]], dict[int, str]]:
    tree = AccountTree.of(digests)
    entries = [(bucket_of(name), name, digest) for name, digest in sorted(digests.items())]
    buckets = {bucket: digest for bucket, digest in enumerate(tree.bucket_digests()) if digest != EMPTY_BUCKET}
    return entries, buckets


def _save_tree(connection: sqlite3.Connection, accounts: Mapping[str, AccountState]) -> None:
    entries, buckets = _tree_rows(accounts)
    connection.executemany(_SAVE_ACCOUNT_DIGEST, entries)
    connection.executemany(_SAVE_BUCKET_DIGEST, buckets.items())
