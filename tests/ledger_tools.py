"""Helpers for tests that edit ledger files by hand, as a tamperer would."""

from __future__ import annotations

import json
import sqlite3
import tomllib
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

import tomli_w

from coinpurse.core.model import Amount, Transaction
from coinpurse.formats.export import journal_account


def load(path: Path) -> dict[str, Any]:
    if is_server(path):
        return _load_postgres(path)
    if path.suffix == ".toml":
        return tomllib.loads(path.read_text())
    if path.suffix == ".sqlite":
        return _load_sqlite(path)
    return json.loads(path.read_text())


def save(path: Path, document: dict[str, Any]) -> None:
    if is_server(path):
        _save_postgres(path, document)
    elif path.suffix == ".toml":
        path.write_text(tomli_w.dumps(document))
    elif path.suffix == ".sqlite":
        _save_sqlite(path, document)
    else:
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False))


def is_server(path: Path) -> bool:
    from coinpurse.storage.urls import LedgerUrl

    return isinstance(path, LedgerUrl)


def in_tables(path: Path) -> bool:
    """The ledger is kept in tables (SQLite, PostgreSQL): a write reads only the rows it touches."""
    return path.suffix == ".sqlite" or is_server(path)


def put_in_place(source: Path, target: Path) -> None:
    """Put one ledger in place of another, as a forger with access to the storage would: a file copied over,
    or a schema renamed in place of the other."""
    if not is_server(target):
        import shutil

        shutil.copyfile(source, target)
        return
    with _server(target) as db, db.transaction():
        db.execute(f"DROP SCHEMA IF EXISTS {target.schema} CASCADE")  # type: ignore[attr-defined]
        db.execute(f"ALTER SCHEMA {source.schema} RENAME TO {target.schema}")  # type: ignore[attr-defined]


def restore(path: Path, data: bytes) -> None:
    """Put back what ``path.read_bytes()`` gave earlier: a file's bytes, or a PostgreSQL ledger's rows."""
    if not is_server(path):
        path.write_bytes(data)
        return
    import ast

    from coinpurse.storage.postgres import SCHEMA, _statements

    tables: dict[str, list[tuple[Any, ...]]] = {}
    current: list[tuple[Any, ...]] = []
    for line in data.decode().splitlines():
        if line.startswith("-- "):
            current = tables.setdefault(line[3:], [])
        elif line:
            current.append(ast.literal_eval(line))
    with _server(path) as db, db.transaction():
        db.execute(f"DROP SCHEMA IF EXISTS {path.schema} CASCADE")  # type: ignore[attr-defined]
        db.execute(f"CREATE SCHEMA {path.schema}")  # type: ignore[attr-defined]
        for statement in _statements(SCHEMA):
            db.execute(statement)
        with db.cursor() as cursor:
            for table, rows in tables.items():
                if table == "transactions":
                    rows = [row[:3] for row in rows]
                    sql = "INSERT INTO transactions (seq, body, hash) VALUES (%s, %s, %s)"
                else:
                    sql = f"INSERT INTO {table} VALUES ({', '.join(['%s'] * len(rows[0]))})" if rows else ""
                if rows:
                    cursor.executemany(sql, rows)


# A PostgreSQL ledger as the same document, read and written with plain SQL and no checks (as a SQLite one below).


def _server(path: Any) -> Any:
    from coinpurse.storage.postgres import connect

    return connect(path)


def _load_postgres(path: Any) -> dict[str, Any]:
    with _server(path) as db:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        accounts: dict[str, Any] = {}
        for name, coins, diamonds, cash, lots, day, paid in db.execute("SELECT * FROM accounts ORDER BY name"):
            state: dict[str, Any] = {"coins": coins, "diamonds": diamonds, "cash": cash}
            if lots is not None:
                state["lots"] = json.loads(lots)
            if day is not None:
                state["payouts"] = {"day": day, "total": paid}
            accounts[name] = state
        transactions = [
            {**json.loads(body), "hash": hash_}
            for body, hash_ in db.execute("SELECT body, hash FROM transactions ORDER BY seq")
        ]
    return {
        "schema": int(meta["schema"]),
        "currency": meta["currency"],
        "rates": json.loads(meta["rates"]),
        "accounts": accounts,
        "transactions": transactions,
    }


def _save_postgres(path: Any, document: dict[str, Any]) -> None:
    """The document's rows in place of the schema's, the tree of account digests kept as it was (as an edit in SQL)."""
    from coinpurse.storage.postgres import SCHEMA, _statements
    from coinpurse.storage.sqlite import touched_accounts

    def text(value: Any) -> Any:
        return value if isinstance(value, (str, int)) or value is None else json.dumps(value)

    with _server(path) as db, db.transaction():
        tree = (
            db.execute("SELECT * FROM account_digests").fetchall(),
            db.execute("SELECT * FROM bucket_digests").fetchall(),
        )
        db.execute(f"DROP SCHEMA {path.schema} CASCADE")
        db.execute(f"CREATE SCHEMA {path.schema}")
        for statement in _statements(SCHEMA):
            db.execute(statement)
        with db.cursor() as cursor:
            cursor.executemany("INSERT INTO account_digests VALUES (%s, %s, %s)", tree[0])
            cursor.executemany("INSERT INTO bucket_digests VALUES (%s, %s)", tree[1])
            cursor.executemany(
                "INSERT INTO meta VALUES (%s, %s)",
                [
                    ("schema", str(document["schema"])),
                    ("currency", text(document["currency"])),
                    ("rates", json.dumps(document["rates"])),
                ],
            )
            for name, state in document["accounts"].items():
                payouts = state.get("payouts") or {}
                cursor.execute(
                        "INSERT INTO accounts VALUES (%s, %s, %s, %s, %s, %s, %s)",
                        (name, text(state.get("coins")), text(state.get("diamonds")), text(state.get("cash")),
                         json.dumps(state["lots"]) if "lots" in state else None, payouts.get("day"), payouts.get("total")),
                    )  # fmt: skip
            for seq, tx in enumerate(document["transactions"], start=1):
                body = json.dumps({key: value for key, value in tx.items() if key != "hash"})
                cursor.execute(
                    "INSERT INTO transactions (seq, body, hash) VALUES (%s, %s, %s)", (seq, body, text(tx.get("hash")))
                )
                for name in sorted(touched_accounts(tx)):
                    cursor.execute("INSERT INTO postings VALUES (%s, %s) ON CONFLICT DO NOTHING", (name, seq))


# A SQLite ledger as the same document, read and written with plain SQL and no
# checks, so a test can damage it the way a hand edit would.


def _load_sqlite(path: Path) -> dict[str, Any]:
    with closing(sqlite3.connect(path)) as db:
        meta = dict(db.execute("SELECT key, value FROM meta"))
        accounts: dict[str, Any] = {}
        for name, coins, diamonds, cash, lots, day, paid in db.execute("SELECT * FROM accounts ORDER BY name"):
            state: dict[str, Any] = {"coins": coins, "diamonds": diamonds, "cash": cash}
            if lots is not None:
                state["lots"] = json.loads(lots)
            if day is not None:
                state["payouts"] = {"day": day, "total": paid}
            accounts[name] = state
        transactions = [
            {**json.loads(body), "hash": hash_}
            for body, hash_ in db.execute("SELECT body, hash FROM transactions ORDER BY seq")
        ]
    return {
        "schema": int(meta["schema"]),
        "currency": meta["currency"],
        "rates": json.loads(meta["rates"]),
        "accounts": accounts,
        "transactions": transactions,
    }


def as_sqlite_schema_2(path: Path) -> None:
    """The SQLite ledger in schema 2's layout, as an older coinpurse wrote it."""
    from coinpurse.storage.sqlite import TRANSACTIONS_2

    with closing(sqlite3.connect(path)) as db, db:
        if str(
            db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0]
        ) == "2" and "GENERATED" not in str(
            db.execute("SELECT sql FROM sqlite_master WHERE name = 'transactions'").fetchone()[0]
        ):
            return
        for statement in (
            "ALTER TABLE transactions RENAME TO original",
            TRANSACTIONS_2,  # the table as coinpurse made it then: id, kind and at were plain columns
            "INSERT INTO transactions (seq, id, kind, at, body, hash) SELECT seq, id, kind, at, body, hash FROM original",
            "DROP TABLE original",
            "DROP TABLE account_digests",  # schema 2 had no tree of the accounts' states
            "DROP TABLE bucket_digests",
            "UPDATE meta SET value = '2' WHERE key = 'schema'",
        ):
            db.execute(statement)


def _tree_rows_of(path: Path, document: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The tree of the accounts' states the file holds, kept as it was, as an edit of other rows in SQL keeps it;
    for a file that holds none, the one coinpurse would make of the document's accounts."""
    with closing(sqlite3.connect(path)) as db:
        try:
            return db.execute("SELECT * FROM account_digests").fetchall(), db.execute(
                "SELECT * FROM bucket_digests"
            ).fetchall()
        except sqlite3.OperationalError:
            pass  # schema 2, or not a ledger yet
    from coinpurse.core.model import account_from_dict
    from coinpurse.storage.sqlite import _tree_rows

    try:
        accounts = {name: account_from_dict(state, name) for name, state in document["accounts"].items()}
    except Exception:  # a document edited to be unreadable: no tree to make
        return [], []
    entries, buckets = _tree_rows(accounts)
    return entries, list(buckets.items())


def _save_sqlite(path: Path, document: dict[str, Any]) -> None:
    from coinpurse.storage.sqlite import SCHEMA, touched_accounts

    def text(value: Any) -> Any:
        return value if isinstance(value, (str, int)) or value is None else json.dumps(value)

    tree = _tree_rows_of(path, document)
    path.unlink()
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(SCHEMA)
        db.executemany("INSERT INTO account_digests VALUES (?, ?, ?)", tree[0])
        db.executemany("INSERT INTO bucket_digests VALUES (?, ?)", tree[1])
        db.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [("schema", str(document["schema"])), ("currency", text(document["currency"])),
             ("rates", json.dumps(document["rates"]))],
        )  # fmt: skip
        for name, state in document["accounts"].items():
            payouts = state.get("payouts") or {}
            db.execute(
                "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, text(state.get("coins")), text(state.get("diamonds")), text(state.get("cash")),
                 json.dumps(state["lots"]) if "lots" in state else None, payouts.get("day"), payouts.get("total")),
            )  # fmt: skip
        for seq, tx in enumerate(document["transactions"], start=1):
            body = json.dumps({key: value for key, value in tx.items() if key != "hash"})
            db.execute("INSERT INTO transactions (seq, body, hash) VALUES (?, ?, ?)", (seq, body, text(tx.get("hash"))))
            for name in sorted(touched_accounts(tx)):
                db.execute("INSERT OR IGNORE INTO postings VALUES (?, ?)", (name, seq))
    schema = document["schema"]
    if isinstance(schema, int) and not isinstance(schema, bool) and schema <= 2:
        as_sqlite_schema_2(path)  # the layout an older coinpurse wrote with that version


def seed(cli) -> None:  # type: ignore[no-untyped-def]
    """A small economy touching every kind, lots and a payout."""
    for args in (
        ("buy", "alice", "700"),
        ("gift", "alice", "mia", "rose", "-n", "5"),
        ("buy", "bob", "17500"),
        ("buy", "bob", "3500", "--channel", "web"),
        ("gift", "bob", "mia", "interstellar", "-n", "2"),
        ("redeem", "mia", "20000"),
        ("buy", "carol", "1234", "--channel", "web"),
        ("gift", "carol", "mia", "finger heart", "-n", "3"),
    ):
        result = cli(*args)
        assert result.exit_code == 0, result.output


# How many generated inputs the fuzz tests tried, reported at the end of the session.
FUZZ_COUNTS: dict[str, int] = {}


def rechain(document: dict[str, Any]) -> None:
    """Recompute every transaction's hash in order, as a forger would after editing stored strings."""
    from coinpurse.core.model import GENESIS_HASH, chain_hash

    previous = GENESIS_HASH
    for tx in document["transactions"]:
        tx["hash"] = previous = chain_hash(previous, {key: value for key, value in tx.items() if key != "hash"})


def balances_by_account(transactions: Iterable[Transaction]) -> dict[tuple[str, str], Amount]:
    """Sum of postings per (journal account, commodity), for checking an export against the ledger."""
    totals: dict[tuple[str, str], Amount] = {}
    for tx in transactions:
        for p in tx.postings:
            key = (journal_account(p.account), p.commodity)
            totals[key] = totals.get(key, 0) + p.amount
    return totals
