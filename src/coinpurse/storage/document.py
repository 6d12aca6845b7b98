"""The ledger document: the schema, its versions, and how it maps to a book.

A document is the same dict in JSON and TOML:
``{"schema", "currency", "rates", "accounts", "transactions"}``; a JSON file
also carries ``history_sha256``, the checksum of its history's lines.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coinpurse.core.book import MemoryBook
from coinpurse.core.model import GENESIS_HASH, DamagedRecord, Transaction, account_from_dict, chain_hash
from coinpurse.core.patterns import ACCOUNT_NAME, HASH_FORMAT, is_currency_code
from coinpurse.core.rates import Rates, default_rates, rates_from_dict
from coinpurse.errors import BadInput

SCHEMA_VERSION = 5
DEFAULT_CURRENCY = "USD"
TOP_KEYS = ("schema", "currency", "rates", "accounts", "transactions")
HISTORY_CHECKSUM = "history_sha256"  # JSON only: see storage.files


def _migrate_1_to_2(document: dict[str, Any]) -> dict[str, Any]:
    """Version 1 had no hash chain: link every transaction to the one before."""
    previous = GENESIS_HASH
    chained = []
    transactions = document.get("transactions", [])
    if not isinstance(transactions, list):
        raise DamagedRecord("'transactions' must be a list")
    for position, raw in enumerate(transactions):
        if not isinstance(raw, dict):
            raise DamagedRecord(f"transaction {position + 1} is not a table")
        content = {key: value for key, value in raw.items() if key != "hash"}
        previous = chain_hash(previous, content)
        chained.append({**content, "hash": previous})
    return {**document, "schema": 2, "transactions": chained}


def _migrate_2_to_3(document: dict[str, Any]) -> dict[str, Any]:
    """Version 3 transactions record the state they leave behind, and SQLite files generate their
    id, kind and time columns from the stored body; a file's older transactions stay as they are.

    The first write of such a ledger checks it whole and records a checkpoint (core.chain).
    """
    return {**document, "schema": 3}


def _migrate_3_to_4(document: dict[str, Any]) -> dict[str, Any]:
    """Version 4 admits the kinds that take money back (refunds, reversals, held payouts) and the
    ones that come with them; a version-3 ledger holds none, so its content stays as it is.

    The bump is what makes a coinpurse that knows only version 3 refuse such a file
    instead of misreading a kind it has no rule for.
    """
    return {**document, "schema": 4}


def _migrate_4_to_5(document: dict[str, Any]) -> dict[str, Any]:
    """Version 5 admits held payouts (a hold, its approval, rejection, expiry and return) and
    sponsored gifts; a version-4 ledger holds none, so its content stays as it is.

    As from 3 to 4, the bump makes a coinpurse that knows only version 4 refuse such a file.
    """
    return {**document, "schema": 5}


# schema version -> the step that lifts a document to the next version
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _migrate_1_to_2,
    2: _migrate_2_to_3,
    3: _migrate_3_to_4,
    4: _migrate_4_to_5,
}


def newer_schema(version: int) -> DamagedRecord:
    return DamagedRecord(
        f"it is written in schema version {version}, and this coinpurse reads versions up to {SCHEMA_VERSION}; "
        f"a coinpurse that reads schema version {version} is needed (upgrade coinpurse; the file was not changed)"
    )


def migrate(document: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Bring a document to the current schema; returns it with its original version."""
    version = document.get("schema")
    if isinstance(version, bool) or not isinstance(version, int):
        raise DamagedRecord("the 'schema' version is missing or not a whole number")
    if version > SCHEMA_VERSION:
        raise newer_schema(version)
    original = version
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise DamagedRecord(f"schema version {version} is not one this coinpurse can read")
        document = step(document)
        version = document["schema"]
    return document, original


def book_from_document(document: Any) -> tuple[MemoryBook, int]:
    """The book in a document, and the schema version the document was written in."""
    if not isinstance(document, dict):
        raise DamagedRecord("it is not a coinpurse ledger (no top-level table)")
    if "schema" not in document or "transactions" not in document:
        raise DamagedRecord("it is not a coinpurse ledger (no 'schema' or 'transactions')")
    document, version = migrate(document)
    unknown = sorted(set(document) - {*TOP_KEYS, HISTORY_CHECKSUM})
    if unknown:
        raise DamagedRecord(f"unknown top-level key {unknown[0]!r}")
    checksum = document.get(HISTORY_CHECKSUM, "0" * 64)
    if not isinstance(checksum, str) or not HASH_FORMAT.fullmatch(checksum):
        raise DamagedRecord(f"'{HISTORY_CHECKSUM}' must be a sha256 hex digest")
    missing = [key for key in TOP_KEYS if key not in document]
    if missing:
        raise DamagedRecord(f"missing top-level key {missing[0]!r}")
    currency = stored_currency(document["currency"])
    try:
        rates = rates_from_dict(document["rates"])
    except BadInput as error:
        raise DamagedRecord(f"its rates are invalid: {error.message}") from None
    accounts_data = document["accounts"]
    if not isinstance(accounts_data, dict):
        raise DamagedRecord("'accounts' must be a table")
    accounts = {}
    for name, raw in accounts_data.items():
        if not ACCOUNT_NAME.fullmatch(name):
            raise DamagedRecord(f"account name {name!r} is neither a handle nor a platform account")
        accounts[name] = account_from_dict(raw, f"account {name!r}")
    transactions = document["transactions"]
    if not isinstance(transactions, list):
        raise DamagedRecord("'transactions' must be a list")
    for position, raw in enumerate(transactions):
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise DamagedRecord(f"transaction {position + 1} is not a table with an id")
    return MemoryBook(currency, rates, accounts, transactions), version


def stored_currency(value: object) -> str:
    """A ledger's currency as stored, checked: DamagedRecord if it is not a code."""
    if not is_currency_code(value):
        raise DamagedRecord(f"'currency' must be a code such as USD, not {value!r}")
    return value


def new_book(rates: Rates | None = None, currency: str = DEFAULT_CURRENCY) -> MemoryBook:
    return MemoryBook(currency, rates or default_rates(), {}, [])


def document_head(book: MemoryBook) -> dict[str, Any]:
    """Everything but the transactions, in file order."""
    return {
        "schema": SCHEMA_VERSION,
        "currency": book.currency,
        "rates": book.rates.to_dict(),
        "accounts": {name: state.to_dict() for name, state in sorted(book.accounts.items())},
    }


def transaction_dicts(book: MemoryBook, start: int = 0) -> list[dict[str, Any]]:
    """The stored transactions from position ``start`` on, as dicts."""
    return [raw.to_dict() if isinstance(raw, Transaction) else raw for raw in book.records[start:]]
