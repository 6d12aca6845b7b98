"""JSON and TOML ledger files: parse, check, and write in a stable, diffable layout."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from coinpurse.core.book import MemoryBook
from coinpurse.core.model import DamagedRecord, Transaction, reusable_encoder, transaction_from_dict
from coinpurse.core.textdata import JSON_DECODER, FloatInText, line_of, loads_json, loads_toml
from coinpurse.errors import LedgerUnusable
from coinpurse.storage.document import SCHEMA_VERSION, book_from_document, document_head, transaction_dicts

_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "))


def _dump_line(value: Any) -> str:
    return _LINE_ENCODER.encode(value)


def _line_encoder() -> Callable[[Any], str]:
    """The line encoder for many values: one reusable C encoder when there is one (the same text, made faster)."""
    global _FAST_LINE
    if _FAST_LINE is None:
        _FAST_LINE = reusable_encoder(_LINE_ENCODER)
    return _FAST_LINE


_FAST_LINE: Callable[[Any], str] | None = None


def render_json(book: MemoryBook) -> bytes:
    """Indented JSON with one account and one transaction per line, so diffs stay small."""
    head = document_head(book)
    lines = ["{"]
    lines.append(f'  "schema": {head["schema"]},')
    lines.append(f'  "currency": {_dump_line(head["currency"])},')
    rates = json.dumps(head["rates"], ensure_ascii=False, indent=2).replace("\n", "\n  ")
    lines.append(f'  "rates": {rates},')
    accounts = head["accounts"]
    if accounts:
        lines.append('  "accounts": {')
        items = [f"    {_dump_line(name)}: {_dump_line(state)}" for name, state in accounts.items()]
        lines.append(",\n".join(items))
        lines.append("  },")
    else:
        lines.append('  "accounts": {},')
    kept = book.lines if isinstance(book, LinedBook) else []
    transactions = transaction_dicts(book, len(kept))
    if kept or transactions:
        lines.append('  "transactions": [')
        encode = _line_encoder()
        if kept:  # the history's lines as read, then the new transactions
            lines.append(",\n".join(kept) + ("," if transactions else ""))
        if transactions:
            lines.append("    " + ",\n    ".join([encode(tx) for tx in transactions]))
        lines.append("  ]")
    else:
        lines.append('  "transactions": []')
    lines.append("}\n")  # the file ends with a newline; one join, with no copy of the whole text to add it
    return "\n".join(lines).encode()


def render_toml(book: MemoryBook) -> bytes:
    import tomli_w  # only writers of TOML ledgers pay for it

    document = document_head(book)
    document["transactions"] = transaction_dicts(book)
    return tomli_w.dumps(document).encode()


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def parse_document(path: Path, data: bytes) -> Any:
    if not data.strip():
        raise LedgerUnusable(f"{path}: the ledger file is empty", code="ledger_damaged")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LedgerUnusable(f"{path}: not UTF-8 text (byte {error.start})", code="ledger_damaged") from None
    if path.suffix.lower() == ".toml":
        import tomllib

        try:
            return loads_toml(text)
        except tomllib.TOMLDecodeError as error:
            raise LedgerUnusable(f"{path}: not valid TOML: {error}", code="ledger_damaged") from None
        except FloatInText as error:
            raise _float_found(path, text, error) from None
        except (ValueError, RecursionError) as error:  # a number of thousands of digits, or absurd nesting
            raise LedgerUnusable(f"{path}: not a usable TOML document: {error}", code="ledger_damaged") from None
    try:
        document = loads_json(text)
    except json.JSONDecodeError as error:
        raise LedgerUnusable(f"{path}:{error.lineno}: not valid JSON: {error.msg}", code="ledger_damaged") from None
    except FloatInText as error:
        raise _float_found(path, text, error) from None
    except (ValueError, RecursionError) as error:  # a number of thousands of digits, or absurd nesting
        raise LedgerUnusable(f"{path}: not a usable JSON document: {error}", code="ledger_damaged") from None
    if _ESCAPED_SURROGATE.search(text) and not _encodable(document):
        raise LedgerUnusable(f"{path}: holds a lone surrogate escape (\\ud800-\\udfff)", code="ledger_damaged")
    return document


# coinpurse writes non-ASCII text as is, so escaped surrogates only come from other
# writers; a lone one can't be printed or written back as UTF-8.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _encodable(document: Any) -> bool:
    try:
        json.dumps(document, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return False
    return True


def _float_found(path: Path, text: str, error: FloatInText) -> LedgerUnusable:
    line = line_of(text, error.literal)
    where = f"{path}:{line}" if line is not None else str(path)
    return LedgerUnusable(
        f"{where}: a number with a fraction ({error.literal}) where coinpurse stores whole numbers or strings",
        code="ledger_damaged",
    )


def read_file_book(path: Path, data: bytes) -> tuple[MemoryBook, int]:
    try:
        document = parse_document(path, data)
        book, version = book_from_document(document)
    except DamagedRecord as error:
        raise LedgerUnusable(f"{path}: {error}", code="ledger_damaged") from None
    except RecursionError:  # parsed, but too deep for the checks after
        raise LedgerUnusable(f"{path}: holds data nested too deep to handle", code="ledger_damaged") from None
    return book, version


# Writing to a JSON ledger in coinpurse's layout (one transaction per line after a
# `"transactions": [` line, each opening with its id). A writer still parses and
# checks every line, so damage anywhere stops a write as before, but in chunks: it
# keeps the lines' text rather than every transaction as dicts, parses a line again
# only when it is looked up, and writes the lines back as they were. At 100,000
# transactions that is a third of the memory. Any other layout is read in full.

_HISTORY_OPENER = b'\n  "transactions": [\n'
_HISTORY_CLOSER = b"\n  ]\n}\n"
_ESCAPED_SURROGATE_BYTES = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_CHUNK = 2000  # lines parsed at a time


class LinedBook(MemoryBook):
    """A JSON ledger read for a write: the history kept as its lines, each parsed when used."""

    def __init__(
        self, currency: str, rates: Any, accounts: dict[str, Any], lines: list[str], index: dict[str, int]
    ) -> None:
        super().__init__(currency, rates, accounts, list(lines))  # a line until it is parsed, then a Transaction
        self.lines = lines  # the history's lines as read, written back as they are
        self._index = index

    def record(self, position: int) -> Transaction:
        raw = self.records[position]
        if isinstance(raw, str):
            data = JSON_DECODER.decode(raw)
            self.records[position] = transaction_from_dict(data, f"transaction {position + 1}")
        return super().record(position)


def read_lined_book(path: Path, data: bytes) -> tuple[MemoryBook, int] | None:
    """The book for a write, if the file is in coinpurse's layout and sound; None means: read it in full."""
    if path.suffix.lower() != ".json" or not data.endswith(_HISTORY_CLOSER):
        return None
    start = data.rfind(_HISTORY_OPENER)
    if start < 0 or _ESCAPED_SURROGATE_BYTES.search(data):
        return None
    try:
        head = loads_json(data[: start + 1] + b'  "transactions": []\n}\n')
        lines = data[start + len(_HISTORY_OPENER) : len(data) - len(_HISTORY_CLOSER)].decode("utf-8").split(",\n")
        if not isinstance(head, dict) or head.get("schema") != SCHEMA_VERSION:
            return None
        book, version = book_from_document(head)
        index: dict[str, int] = {}
        for first in range(0, len(lines), _CHUNK):
            chunk = lines[first : first + _CHUNK]
            records = loads_json("[" + ",".join(chunk) + "]")
            if len(records) != len(chunk):
                return None
            # Each line holds exactly its own transaction, opening with its id.
            for position, (line, record) in enumerate(zip(chunk, records, strict=True), start=first):
                tx_id = record.get("id") if isinstance(record, dict) else None
                if not isinstance(tx_id, str) or not line.startswith(f'    {{"id": "{tx_id}"') or line[-1] != "}":
                    return None
                index.setdefault(tx_id, position)
    except (ValueError, DamagedRecord, RecursionError):  # the full read reports it properly
        return None
    return LinedBook(book.currency, book.rates, book.accounts, lines, index), version


def render(path: Path, book: MemoryBook) -> bytes:
    return render_toml(book) if path.suffix.lower() == ".toml" else render_json(book)


# Reading only the head of a JSON ledger. The writer above puts the history last,
# one transaction per line after a `"transactions": [` line, so commands that need
# no history (balance, rates) can stop there instead of parsing every transaction;
# at 100,000 transactions that is 20 times faster and 30 times less memory. A file
# in any other layout, in an older schema, or not ending the way the writer ends
# it (a truncated file) gets the full parse, and so does any use of the history.

_HISTORY_OPENERS = ('  "transactions": [\n', '  "transactions": []\n')
_ENDINGS = (b"\n  ]\n}\n", b'\n  "transactions": []\n}\n')
_HEAD_LIMIT = 64 * 1024 * 1024  # a head larger than this is read the ordinary way


class LazyHistoryBook(MemoryBook):
    """A JSON ledger read up to its history; the history is parsed the first time it is used."""

    def __init__(self, path: Path, head: MemoryBook) -> None:
        super().__init__(head.currency, head.rates, head.accounts, [])
        self.path = path
        self._loaded: list[Any] | None = None

    @property
    def records(self) -> list[Any]:
        if self._loaded is None:
            from coinpurse.storage import _read_bytes

            data = _read_bytes(self.path)
            if data is None:
                raise LedgerUnusable(f"{self.path}: the ledger disappeared while being read", code="ledger_unreadable")
            full, _ = read_file_book(self.path, data)
            # The whole file is the truth, should it have been replaced since the head was read.
            self.currency, self.rates, self.accounts = full.currency, full.rates, full.accounts
            self._loaded = full.records
        return self._loaded

    @records.setter
    def records(self, value: list[Any]) -> None:
        if value or getattr(self, "_loaded", None) is not None:
            self._loaded = value


def read_json_head(path: Path) -> MemoryBook | None:
    """The ledger without parsing its history, or None if this file needs the full parse."""
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size < 64:
                return None
            file.seek(size - 32)
            if not file.read().endswith(_ENDINGS):
                return None
            file.seek(0)
            head: list[bytes] = []
            read = 0
            while True:
                raw = file.readline(_HEAD_LIMIT - read + 1)  # bounded: a file of one huge line is never read whole
                read += len(raw)
                if not raw or read > _HEAD_LIMIT:
                    return None
                if raw.decode("utf-8") in _HISTORY_OPENERS:
                    break
                head.append(raw)
    except (OSError, UnicodeDecodeError):
        return None  # the full parse reports it properly
    try:
        document = loads_json(b"".join(head) + b'  "transactions": []\n}\n')
    except (ValueError, DamagedRecord, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA_VERSION:
        return None
    try:
        book, _ = book_from_document(document)
    except (DamagedRecord, RecursionError):
        return None
    return LazyHistoryBook(path, book)
