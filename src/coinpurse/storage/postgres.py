"""The PostgreSQL ledger (``postgresql://user@host:port/dbname``): the SQLite ledger's tables on a server.

One ledger per database, in the schema the URL's ``schema`` parameter names
(``public`` by default). The tables are SQLite's (storage.sqlite), column for
column, so the book is SQLite's too, asked through a connection that speaks
sqlite3's calls: every command, check and ``verify`` is the same code on both.
Text columns that are sorted or compared by range are ``COLLATE "C"``, so names
sort by code point as they do in SQLite and in the file formats.

Writers coordinate through the database, never a lock file: each write is one
database transaction that first takes a transaction-scoped advisory lock on the
ledger (``pg_advisory_xact_lock``), then reads, checks and appends, and commits.
Every transaction records the hash of the one before it, so appends to one
ledger are in one order anyway: the lock is that order, taken up front, so two
writers never both read a head and race to extend it. Readers take no lock: each
command reads one ``REPEATABLE READ`` snapshot and never waits for a writer.
The id column is UNIQUE in the database, so a retried ``--id`` replays from any
machine. The clock of a write is the server's (``COINPURSE_NOW`` still wins).

The driver is psycopg 3, an optional extra: ``pip install 'coinpurse[postgres]'``.
"""

from __future__ import annotations

import atexit
import os
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from typing import TYPE_CHECKING, Any

from coinpurse.core.book import Book
from coinpurse.core.model import DamagedRecord
from coinpurse.errors import BadInput, LedgerUnusable
from coinpurse.storage.document import SCHEMA_VERSION
from coinpurse.storage.sqlite import (
    _RARE_KINDS_WHERE,
    DerivedCheck,
    SqliteBook,
    SqliteWriteBook,
    _account_row,
    _statements,
    _transaction_rows,
    _tree_rows,
    check_account_tree,
)
from coinpurse.storage.urls import LedgerUrl

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import psycopg

    from coinpurse.core.model import AccountState
    from coinpurse.core.rates import Rates

EXTRA_HINT = "pip install 'coinpurse[postgres]'"
CONNECT_TIMEOUT_SECONDS = 10  # how long a command waits for the server to answer before it gives up (exit 3)
WRITE_ATTEMPTS = 5  # a serialization failure or deadlock (only an outside client's locks can cause one) is retried

_TEXT = 'TEXT COLLATE "C"'
# A gift's live stream, as SQLite's json_extract(body, '$.details.stream') says it (the queries are SQLite's,
# translated): the expression of the index of gifts by stream, so a stream's gifts are read by index here too.
_STREAM_OF_GIFT = "(body::jsonb #>> '{details,stream}')"
_JSON_EXTRACT_DETAIL = re.compile(r"json_extract\(([\w.]+), '\$\.details\.(\w+)'\)")  # SQLite's, of a detail
SCHEMA = f"""
CREATE TABLE meta (key {_TEXT} PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE accounts (
    name {_TEXT} PRIMARY KEY,
    coins BIGINT NOT NULL,
    diamonds BIGINT NOT NULL,
    cash TEXT NOT NULL,
    lots TEXT,
    payout_day TEXT,
    paid_that_day TEXT
);
CREATE TABLE transactions (
    seq BIGINT PRIMARY KEY,
    body TEXT NOT NULL,
    hash TEXT NOT NULL,
    id {_TEXT} NOT NULL GENERATED ALWAYS AS (body::json ->> 'id') STORED,
    kind {_TEXT} GENERATED ALWAYS AS (body::json ->> 'kind') STORED,
    at {_TEXT} GENERATED ALWAYS AS (body::json ->> 'at') STORED
);
CREATE UNIQUE INDEX transactions_by_id ON transactions (id);
CREATE TABLE postings (account {_TEXT} NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (account, seq));
CREATE TABLE account_digests (
    bucket INTEGER NOT NULL,
    name {_TEXT} NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (bucket, name)
);
CREATE TABLE bucket_digests (bucket INTEGER PRIMARY KEY, digest TEXT NOT NULL);
CREATE INDEX transactions_of_rare_kinds ON transactions (kind, seq) WHERE {_RARE_KINDS_WHERE};
CREATE INDEX gifts_by_stream ON transactions ({_STREAM_OF_GIFT}, seq) WHERE kind = 'gift' AND {_STREAM_OF_GIFT} IS NOT NULL;
"""
# Redeems are few beside buys and gifts, so the newest of them (history --kind redeem) were found by walking the
# history back from its end: SQLite scans its own pages in-process, PostgreSQL's walk of the heap through the
# seq index cost twice that and more (100k: 2.07x SQLite's command). This partial index finds them directly, and
# only a redeem pays for it on write. SQLite has none, so the schema version (every format's) stays 5: a schema 5
# ledger made before this index reads as it is, and its first write that commits adds it (_add_redeems_index).
REDEEMS_INDEX = "CREATE INDEX IF NOT EXISTS transactions_of_redeems ON transactions (seq) WHERE kind = 'redeem'"
SCHEMA += REDEEMS_INDEX + ";\n"
# How each older schema is moved to the next, in the write's own transaction: none yet,
# as the store began at schema 5; a later schema adds its step here (see _migrate).
MIGRATIONS: dict[int, str] = {}
TABLES = ("meta", "accounts", "transactions", "postings", "account_digests", "bucket_digests")


# ----- the driver and the connection ---------------------------------------------------


def _driver() -> Any:
    try:
        import psycopg
    except ImportError:
        raise BadInput(f"PostgreSQL ledgers need the psycopg driver: {EXTRA_HINT}", code="driver_missing") from None
    return psycopg


def connect(url: LedgerUrl) -> psycopg.Connection[Any]:
    """An autocommit connection to the ledger's database, its search path set to the ledger's schema."""
    driver = _driver()
    from psycopg.conninfo import conninfo_to_dict

    try:
        settings = conninfo_to_dict(url.conninfo)
    except driver.Error as error:
        raise BadInput(
            f"the PostgreSQL URL is not valid: {url.scrub(_first_line(error))}", code="invalid_url"
        ) from None
    options = str(settings.pop("options", "") or "")
    settings["options"] = f"{options} -c search_path={url.schema}".strip()
    settings.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    settings.setdefault("application_name", "coinpurse")
    try:
        connection: psycopg.Connection[Any] = driver.connect(autocommit=True, prepare_threshold=2, **settings)
    except driver.Error as error:
        raise _unreachable(url, error) from None
    return connection


# One idle connection is kept for the next command of this process on the same ledger (the library's
# calls, a batch of CLI runs in one process): a worker keeps one connection, not one per call.
_idle: list[tuple[tuple[str, str], Any]] = []
_left_by_parent: list[Any] = []  # a forked child must never close its parent's connection (it would end its session)


def _forget_after_fork() -> None:
    _left_by_parent.extend(raw for _, raw in _idle)
    _idle.clear()


def _close_idle() -> None:
    while _idle:
        _close_quietly(_idle.pop()[1])


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(_close_idle)


def _close_quietly(raw: Any) -> None:
    try:
        raw.close()
    except Exception:
        pass


def _take(url: LedgerUrl) -> tuple[psycopg.Connection[Any], bool]:
    """A connection for one command: the idle one kept for this ledger (and True), or a new one."""
    from psycopg.pq import TransactionStatus

    key = (url.conninfo, url.schema)
    while _idle:
        held, raw = _idle.pop()
        if held == key and not raw.closed and raw.info.transaction_status == TransactionStatus.IDLE:
            return raw, True
        _close_quietly(raw)
    return connect(url), False


def _give(url: LedgerUrl, raw: psycopg.Connection[Any]) -> None:
    """Keep a connection whose command ended cleanly for the next one (the one kept before is closed)."""
    from psycopg.pq import TransactionStatus

    if raw.closed or raw.info.transaction_status != TransactionStatus.IDLE:
        _close_quietly(raw)
        return
    _close_idle()
    _idle.append(((url.conninfo, url.schema), raw))


def _begun(url: LedgerUrl, begin: Any) -> psycopg.Connection[Any]:
    """A connection with ``begin(raw)`` done; a kept one the server dropped meanwhile (a restart) is replaced once."""
    driver = _driver()
    raw, reused = _take(url)
    try:
        begin(raw)
        return raw
    except driver.OperationalError:
        stale = reused and raw.broken  # the server went away since the last command; a busy lock is no reason
        _close_quietly(raw)
        if not stale:
            raise
    except BaseException:
        _close_quietly(raw)
        raise
    raw = connect(url)
    try:
        begin(raw)
    except BaseException:
        _close_quietly(raw)
        raise
    return raw


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _unreachable(url: LedgerUrl, error: BaseException) -> LedgerUnusable:
    reason = url.scrub(_first_line(error))
    return LedgerUnusable(
        f"{url}: can't reach the PostgreSQL server ({reason}); nothing was read or written", code="server_unreachable"
    )


def _failed(url: LedgerUrl, error: BaseException) -> LedgerUnusable:
    """A driver error midway as one line: what the server said, or the connection lost."""
    psycopg = _driver()
    reason = url.scrub(_first_line(error))
    if isinstance(error, psycopg.errors.SerializationFailure | psycopg.errors.DeadlockDetected):
        return LedgerUnusable(
            f"{url}: the server rolled the write back ({reason}); nothing was written: run it again",
            code="serialization_failure",
        )
    if isinstance(error, psycopg.errors.LockNotAvailable | psycopg.errors.QueryCanceled):
        return LedgerUnusable(f"{url} is busy: another writer held it too long ({reason})", code="lock_timeout")
    if isinstance(error, psycopg.errors.InsufficientPrivilege):
        return LedgerUnusable(f"{url}: the server refused ({reason})", code="ledger_unreadable")
    if isinstance(error, psycopg.OperationalError) and _connection_lost(error):
        return LedgerUnusable(
            f"{url}: lost the connection to the PostgreSQL server ({reason}); a write that was not acknowledged "
            "may or may not have been committed: run it again with the same --id, which replays it if it was",
            code="server_unreachable",
        )
    return LedgerUnusable(f"{url}: PostgreSQL error: {reason}", code="ledger_unreadable")


def _connection_lost(error: BaseException) -> bool:
    """No answer from the server (no SQLSTATE), a connection error (class 08), or the server shutting down."""
    state = getattr(error, "sqlstate", None)
    return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")


_cursor_names = count(1)
BATCH_ROWS = 2000  # rows a server-side cursor brings per round trip: what a walk of the history holds at once


class Connection:
    """psycopg's connection, asked as sqlite3's is: ``?`` parameters, ``execute(...).fetchall()``, rows iterated.

    A SELECT runs when its rows are asked for: all at once (``fetchall``, ``fetchone``),
    or iterated through a server-side cursor, a few thousand rows at a time, so a walk of
    the whole history (``verify``, ``convert``) holds no more of it than SQLite's does.
    """

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        text = _translated(sql)
        if text.lstrip()[:6].upper() == "SELECT":
            return _Rows(self.raw, text, tuple(parameters))
        return self.raw.execute(text, tuple(parameters) or None)

    def executemany(self, sql: str, parameters: Any) -> None:
        rows = list(parameters)
        if rows:
            with self.raw.cursor() as cursor:
                cursor.executemany(_translated(sql), rows)

    def close(self) -> None:
        self.raw.close()


_TRANSLATED: dict[str, str] = {}
_UPSERTS = {  # SQLite's INSERT OR REPLACE, as PostgreSQL says it
    "INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?)": (
        "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET coins = excluded.coins, "
        "diamonds = excluded.diamonds, cash = excluded.cash, lots = excluded.lots, payout_day = excluded.payout_day, "
        "paid_that_day = excluded.paid_that_day"
    ),
    "INSERT OR REPLACE INTO account_digests VALUES (?, ?, ?)": (
        "INSERT INTO account_digests VALUES (?, ?, ?) ON CONFLICT (bucket, name) DO UPDATE SET digest = excluded.digest"
    ),
    "INSERT OR REPLACE INTO bucket_digests VALUES (?, ?)": (
        "INSERT INTO bucket_digests VALUES (?, ?) ON CONFLICT (bucket) DO UPDATE SET digest = excluded.digest"
    ),
}


def _translated(sql: str) -> str:
    text = _TRANSLATED.get(sql)
    if text is None:
        text = _UPSERTS.get(sql, sql)
        text = _JSON_EXTRACT_DETAIL.sub(lambda m: f"({m.group(1)}::jsonb #>> '{{details,{m.group(2)}}}')", text)
        text = text.replace("%", "%%").replace("?", "%s")
        _TRANSLATED[sql] = text
    return text


class _Rows:
    def __init__(self, raw: psycopg.Connection[Any], sql: str, parameters: tuple[Any, ...]) -> None:
        self.raw, self.sql, self.parameters = raw, sql, parameters

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.raw.execute(self.sql, self.parameters or None).fetchall()

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.raw.execute(self.sql, self.parameters or None).fetchone()

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        cursor = self.raw.cursor(name=f"coinpurse_{next(_cursor_names)}")
        cursor.itersize = BATCH_ROWS
        try:
            cursor.execute(self.sql, self.parameters or None)
            yield from cursor
        finally:
            try:
                cursor.close()
            except Exception:
                pass  # the connection went away or the transaction ended: the cursor went with it


# ----- the book -----------------------------------------------------------------------


_LAYOUT_QUERY = """
SELECT 'column', c.relname::text, a.attname::text || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || CASE WHEN a.attgenerated <> '' THEN ' generated ' || pg_get_expr(d.adbin, d.adrelid)
               WHEN d.adbin IS NOT NULL THEN ' default ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END
       || coalesce(' collate ' || co.collname::text, '')
FROM pg_class c
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 100
WHERE c.relnamespace = to_regnamespace(%(schema)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
UNION ALL
SELECT 'index', c.relname::text, replace(pg_get_indexdef(c.oid), %(prefix)s, '')
FROM pg_class c WHERE c.relnamespace = to_regnamespace(%(schema)s) AND c.relkind = 'i'
UNION ALL
SELECT 'trigger', c.relname::text, t.tgname::text
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
WHERE c.relnamespace = to_regnamespace(%(schema)s) AND NOT t.tgisinternal
UNION ALL
SELECT 'rule', c.relname::text, r.rulename::text
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
WHERE c.relnamespace = to_regnamespace(%(schema)s) AND c.relkind <> 'v'
UNION ALL
SELECT 'policy', c.relname::text, 'row level security'
FROM pg_class c WHERE c.relnamespace = to_regnamespace(%(schema)s) AND (c.relrowsecurity OR c.relkind IN ('v', 'm', 'f'))
ORDER BY 1, 2, 3
"""
# The catalog rows a new ledger has (schema 5), as PostgreSQL 12 and later describe them, in Python's order.
_layout_checked: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
EXPECTED_LAYOUT = [
    ("column", "account_digests", "bucket integer not null"),
    ("column", "account_digests", "digest text not null"),
    ("column", "account_digests", "name text not null collate C"),
    ("column", "accounts", "cash text not null"),
    ("column", "accounts", "coins bigint not null"),
    ("column", "accounts", "diamonds bigint not null"),
    ("column", "accounts", "lots text"),
    ("column", "accounts", "name text not null collate C"),
    ("column", "accounts", "paid_that_day text"),
    ("column", "accounts", "payout_day text"),
    ("column", "bucket_digests", "bucket integer not null"),
    ("column", "bucket_digests", "digest text not null"),
    ("column", "meta", "key text not null collate C"),
    ("column", "meta", "value text not null"),
    ("column", "postings", "account text not null collate C"),
    ("column", "postings", "seq bigint not null"),
    ("column", "transactions", "at text generated ((body)::json ->> 'at'::text) collate C"),
    ("column", "transactions", "body text not null"),
    ("column", "transactions", "hash text not null"),
    ("column", "transactions", "id text not null generated ((body)::json ->> 'id'::text) collate C"),
    ("column", "transactions", "kind text generated ((body)::json ->> 'kind'::text) collate C"),
    ("column", "transactions", "seq bigint not null"),
    (
        "index",
        "account_digests_pkey",
        "CREATE UNIQUE INDEX account_digests_pkey ON account_digests USING btree (bucket, name)",
    ),
    ("index", "accounts_pkey", "CREATE UNIQUE INDEX accounts_pkey ON accounts USING btree (name)"),
    ("index", "bucket_digests_pkey", "CREATE UNIQUE INDEX bucket_digests_pkey ON bucket_digests USING btree (bucket)"),
    (
        "index",
        "gifts_by_stream",
        "CREATE INDEX gifts_by_stream ON transactions USING btree ((((body)::jsonb #>> '{details,stream}'::text[])), seq) "
        "WHERE ((kind = 'gift'::text) AND (((body)::jsonb #>> '{details,stream}'::text[]) IS NOT NULL))",
    ),
    ("index", "meta_pkey", "CREATE UNIQUE INDEX meta_pkey ON meta USING btree (key)"),
    ("index", "postings_pkey", "CREATE UNIQUE INDEX postings_pkey ON postings USING btree (account, seq)"),
    ("index", "transactions_by_id", "CREATE UNIQUE INDEX transactions_by_id ON transactions USING btree (id)"),
    (
        "index",
        "transactions_of_rare_kinds",
        "CREATE INDEX transactions_of_rare_kinds ON transactions USING btree (kind, seq) "
        "WHERE (kind <> ALL (ARRAY['buy'::text, 'gift'::text, 'redeem'::text]))",
    ),
    (
        "index",
        "transactions_of_redeems",
        "CREATE INDEX transactions_of_redeems ON transactions USING btree (seq) WHERE (kind = 'redeem'::text)",
    ),
    ("index", "transactions_pkey", "CREATE UNIQUE INDEX transactions_pkey ON transactions USING btree (seq)"),
]
# Schema 5 as the first PostgreSQL ledgers had it, before the index of redeems: still read, and lifted by a write.
LAYOUT_BEFORE_REDEEMS_INDEX = [row for row in EXPECTED_LAYOUT if row[1] != "transactions_of_redeems"]


def _layout_of(raw: psycopg.Connection[Any], schema: str) -> list[tuple[str, str, str]]:
    rows = raw.execute(_LAYOUT_QUERY, {"schema": schema, "prefix": f"{schema}."}).fetchall()
    return [tuple(row) for row in rows]


class PostgresBook(SqliteBook):
    """A ledger in a PostgreSQL schema; the caller owns the connection's transaction."""

    _SAVE_ACCOUNT = "INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?)"  # translated by Connection

    lacks_redeems_index = False  # a schema 5 ledger made before the index of redeems (see REDEEMS_INDEX)

    def __init__(self, connection: Connection, path: LedgerUrl) -> None:
        self.url = path
        super().__init__(connection, path)

    def _check_layout(self) -> None:
        """Exactly coinpurse's tables, columns and indexes; no trigger, rule or policy can stand in for them."""
        assert isinstance(self.db, Connection)
        raw, schema = self.db.raw, self.url.schema
        if self.version != SCHEMA_VERSION:  # an older schema's layout is checked by its migration
            return
        checked = _layout_checked.setdefault(raw, set())
        if schema in checked:  # once per connection: a command's own, or the one a process keeps (see _take)
            return
        # Both in Python's order: the catalog's ORDER BY follows the database's collation, which may not be C.
        found, expected = sorted(_layout_of(raw, schema)), sorted(EXPECTED_LAYOUT)
        if found == expected:
            checked.add(schema)
            return
        if found == sorted(LAYOUT_BEFORE_REDEEMS_INDEX):  # not kept as checked: the next write adds the index
            self.lacks_redeems_index = True
            return
        have, want = set(found), set(expected)
        for row in sorted(have ^ want, key=lambda row: (row[0] != "column", row)):
            kind, table, what = row
            how = "is not one coinpurse makes" if row in have else "is missing"
            raise DamagedRecord(
                f"its {kind} {what!r} of {table!r} {how}: the schema was changed outside coinpurse "
                f"(a schema {self.version} ledger holds exactly coinpurse's own tables and indexes)"
            )

    def clock_now(self, local: str) -> str:
        """The server's clock, one for every machine that writes (COINPURSE_NOW still fixes it)."""
        from coinpurse.core.clock import NOW_VARIABLE

        if os.environ.get(NOW_VARIABLE):
            return local
        assert isinstance(self.db, Connection)
        row = self.db.raw.execute(
            "SELECT to_char(statement_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        ).fetchone()
        return str(row[0]) if row else local

    def _derived_check(self, start: int) -> DerivedCheck:
        return _PostgresDerivedCheck(self._reader(), start)

    def account_tree_problems(self) -> Iterator[tuple[str, str, int | None]]:
        return check_account_tree(self._reader(), has_tree=True)


class _PostgresDerivedCheck(DerivedCheck):
    def store_problems(self) -> Iterator[tuple[str, str, int | None]]:
        return iter(())  # the server keeps its own files; the checks of every row are the same as SQLite's


class PostgresWriteBook(SqliteWriteBook, PostgresBook):
    """One write: one database transaction, holding the ledger's advisory lock."""

    def __init__(self, connection: Connection, path: LedgerUrl) -> None:
        self.url = path
        SqliteWriteBook.__init__(self, connection, path)

    def append(self, tx: Any, states: Mapping[str, AccountState], rates: Rates | None = None) -> None:
        SqliteWriteBook.append(self, tx, states, rates)

    _stored_names: dict[str, bool] | None = None

    def has_account(self, name: str) -> bool:
        """Without saving what the write holds first (each save is round trips, and rows updated again and
        again in one transaction leave versions every later lookup walks): an account this write changed is
        there, and the answer for any other is kept, since no other writer runs meanwhile."""
        if name in self._changed_accounts:
            return True
        known = self._stored_names
        if known is None:
            known = self._stored_names = {}
        found = known.get(name)
        if found is None:
            found = known[name] = bool(self._query("SELECT 1 FROM accounts WHERE name = ?", (name,)))
        return found


# ----- reading and writing -------------------------------------------------------------


def _has_ledger(raw: psycopg.Connection[Any]) -> bool:
    return raw.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone() == (True,)


def ledger_exists(url: LedgerUrl) -> bool:
    """Whether the URL's schema holds a ledger (its meta table)."""
    with _errors_named(url):
        raw = _begun(url, lambda raw: raw.execute("SELECT 1"))
        try:
            found = _has_ledger(raw)
        except BaseException:
            _close_quietly(raw)
            raise
        _give(url, raw)
        return found


@contextmanager
def _errors_named(url: LedgerUrl) -> Iterator[None]:
    psycopg = _driver()
    try:
        yield
    except psycopg.Error as error:
        raise _failed(url, error) from None
    except DamagedRecord as error:
        raise LedgerUnusable(f"{url}: {error}", code="ledger_damaged") from None


def _snapshot(url: LedgerUrl) -> PostgresBook | None:
    """One REPEATABLE READ snapshot of the ledger, or None when the database holds none."""
    connection = _begun(url, lambda raw: raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
    try:
        if not _has_ledger(connection):
            connection.execute("ROLLBACK")
            _give(url, connection)
            return None
        return PostgresBook(Connection(connection), url)
    except BaseException:
        _close_quietly(connection)
        raise


def open_for_reading(url: LedgerUrl) -> Book:
    """The ledger as one snapshot, held until the book is dropped; none reads as an empty economy."""
    from coinpurse.storage.document import new_book

    with _errors_named(url):
        book = _snapshot(url)
    if book is None:
        return new_book()
    # No block ends this book: its connection is closed when it is dropped (a finalizer, not __del__, so that
    # the connection is never collected first and warned about when the book is in a reference cycle).
    assert isinstance(book.db, Connection)
    weakref.finalize(book, _close_quietly, book.db.raw)
    return book


@contextmanager
def reading(url: LedgerUrl) -> Iterator[Book]:
    from coinpurse.storage.document import new_book

    with _errors_named(url):
        book = _snapshot(url)
        if book is None:
            yield new_book()
            return
        assert isinstance(book.db, Connection)
        raw = book.db.raw
        try:
            yield book
        except BaseException:
            _close_quietly(raw)
            raise
        try:
            raw.execute("ROLLBACK")  # ends the read transaction
        except Exception:
            _close_quietly(raw)
            return
        _give(url, raw)


def lock_key(url: LedgerUrl) -> str:
    """What the advisory lock of a ledger is named by: its schema (advisory locks are per database)."""
    return f"coinpurse ledger {url.schema}"


def _lock_timeout_ms() -> int:
    from coinpurse.storage.lock import lock_timeout

    return max(1, int(lock_timeout() * 1000))  # the same setting a file ledger's lock waits by


def _begin_write(raw: psycopg.Connection[Any], url: LedgerUrl) -> None:
    """Begin the write's transaction and wait for the ledger's lock: from here on no other writer runs."""
    # One round trip; the key is a plain name (the schema's, checked when the URL was read), so it is said inline.
    raw.execute(
        f"BEGIN; SET LOCAL lock_timeout = {_lock_timeout_ms()}; "
        f"SELECT pg_advisory_xact_lock(hashtextextended('{lock_key(url)}', 0)); SET LOCAL lock_timeout = 0"
    )


def _create_tables(raw: psycopg.Connection[Any], url: LedgerUrl, book: Book) -> None:
    from coinpurse.speedups.jsontext import compact_json

    raw.execute(f"CREATE SCHEMA IF NOT EXISTS {url.schema}")
    for statement in _statements(SCHEMA):
        raw.execute(statement)
    with raw.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO meta VALUES (%s, %s)",
            [
                ("schema", str(SCHEMA_VERSION)),
                ("currency", book.currency),
                ("rates", compact_json(book.rates.to_dict())),
            ],
        )


@contextmanager
def writing(url: LedgerUrl, new_book: Book, *, dry_run: bool = False) -> Iterator[Book]:
    """Yield the book inside one database transaction under the ledger's lock; commit only if the block ends
    well and changed it. A new ledger's tables are made in that transaction, so a refused first write leaves none.
    """
    psycopg = _driver()
    raw: Any = None
    clean = False
    try:
        with _errors_named(url):
            for attempt in range(WRITE_ATTEMPTS):
                try:
                    raw = _begun(url, lambda raw: _begin_write(raw, url))
                    break
                except (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected):
                    if attempt == WRITE_ATTEMPTS - 1:
                        raise
            if not _has_ledger(raw):
                _create_tables(raw, url, new_book)
            connection = Connection(raw)
            book = PostgresWriteBook(connection, url)
            if book.version < SCHEMA_VERSION:
                _migrate(raw, url, book.version)
                book = PostgresWriteBook(connection, url)
            try:
                yield book
                if book.changed and not dry_run:
                    book.save()
            except BaseException:
                if not raw.closed:
                    try:
                        raw.execute("ROLLBACK")
                    except psycopg.Error:
                        pass
                raise
            if book.changed and not dry_run:
                if book.lacks_redeems_index:  # in the write's transaction, under its lock: all of it or none
                    raw.execute(REDEEMS_INDEX)
                raw.execute("COMMIT")
            else:
                raw.execute("ROLLBACK")
            clean = True
    finally:
        if raw is not None:
            if clean:
                _give(url, raw)
            else:
                _close_quietly(raw)


def _migrate(raw: psycopg.Connection[Any], url: LedgerUrl, version: int) -> None:
    """Lift the schema one version at a time to the current one, inside the write's transaction."""
    for step in range(version, SCHEMA_VERSION):
        script = MIGRATIONS.get(step)
        if script is None:
            raise LedgerUnusable(
                f"{url}: schema version {version} is not one this coinpurse can move to {SCHEMA_VERSION}",
                code="ledger_damaged",
            )
        for statement in _statements(script):
            raw.execute(statement)
    raw.execute("UPDATE meta SET value = %s WHERE key = 'schema'", (str(SCHEMA_VERSION),))


def facts(url: LedgerUrl) -> tuple[int, int, int, int, str | None, str | None] | None:
    """What ``info`` tells (schema, size on the server, transactions, accounts, head hash, last time), or None."""
    from coinpurse.core.model import GENESIS_HASH

    with reading(url) as book:
        if not isinstance(book, PostgresBook):
            return None
        head = book.head()
        assert isinstance(book.db, Connection)
        size = book.db.raw.execute(
            "SELECT coalesce(sum(pg_total_relation_size(to_regclass(name))), 0)::bigint FROM unnest(%s::text[]) AS name",
            (list(TABLES),),
        ).fetchone()
        ends = (None, None) if head.hash == GENESIS_HASH else (head.hash, head.at)
        return (book.version, int(size[0]) if size else 0, head.length, len(book.user_accounts()), *ends)


_KEYS = {
    "meta": "key",
    "accounts": "name",
    "transactions": "seq",
    "postings": "account, seq",
    "account_digests": "bucket, name",
    "bucket_digests": "bucket",
}


def dump(url: LedgerUrl) -> bytes:
    """Every row of every table in key order, one line each (see LedgerUrl.read_bytes); a missing ledger
    is refused as a missing file is."""
    connection = connect(url)
    try:
        with _errors_named(url):
            connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            if not _has_ledger(connection):
                raise FileNotFoundError(2, "no ledger in this database", str(url))
            lines: list[str] = []
            for table in TABLES:
                lines.append(f"-- {table}")
                for row in connection.execute(f"SELECT * FROM {table} ORDER BY {_KEYS[table]}"):
                    lines.append(repr(tuple(row)))
            connection.execute("ROLLBACK")
            return "\n".join(lines).encode()
    finally:
        connection.close()


def writer_active(url: LedgerUrl) -> bool:
    """Whether a writer holds the ledger's advisory lock now."""
    connection = connect(url)
    try:
        with _errors_named(url):
            row = connection.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                "AND ((classid::bigint << 32) | objid::bigint) = (hashtextextended(%s, 0) & 'xffffffffffffffff'::bit(64)::bigint)",
                (lock_key(url),),
            ).fetchone()
            return bool(row and row[0])
    finally:
        connection.close()


# ----- whole ledgers (convert) ---------------------------------------------------------


def save_new(
    url: LedgerUrl,
    currency: str,
    rates: Rates,
    accounts: Mapping[str, AccountState],
    transactions: Iterable[Mapping[str, Any]],
) -> None:
    """Write a whole ledger into the URL's schema in one transaction, the history by COPY in batches;
    refused (nothing written) when the schema already holds a ledger."""
    from coinpurse.core.book import MemoryBook
    from coinpurse.errors import Refused

    raw = connect(url)
    try:
        with _errors_named(url):
            _begin_write(raw, url)
            if _has_ledger(raw):
                raw.execute("ROLLBACK")
                raise Refused(f"{url} already holds a ledger; convert writes only new ledgers", code="target_exists")
            _create_tables(raw, url, MemoryBook(currency, rates, {}, []))
            with raw.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO accounts VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [_account_row(name, state) for name, state in sorted(accounts.items())],
                )
                entries, buckets = _tree_rows(accounts)
                cursor.executemany("INSERT INTO account_digests VALUES (%s, %s, %s)", entries)
                cursor.executemany("INSERT INTO bucket_digests VALUES (%s, %s)", list(buckets.items()))
                rows: list[tuple[Any, ...]] = []
                links: list[tuple[str, int]] = []
                for seq, tx in enumerate(transactions, start=1):
                    row, touched = _transaction_rows(seq, tx)
                    rows.append(row)
                    links.extend(touched)
                    if len(rows) >= _COPY_BATCH:
                        _copy_history(cursor, rows, links)
                        rows, links = [], []
                _copy_history(cursor, rows, links)
            raw.execute("COMMIT")
    finally:
        raw.close()


_COPY_BATCH = 10_000


def _copy_history(cursor: psycopg.Cursor[Any], rows: list[tuple[Any, ...]], links: list[tuple[str, int]]) -> None:
    if not rows:
        return
    with cursor.copy("COPY transactions (seq, body, hash) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    with cursor.copy("COPY postings (account, seq) FROM STDIN") as copy:
        for link in links:
            copy.write_row(link)
