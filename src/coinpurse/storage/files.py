"""JSON and TOML ledger files: parse, check, and write in a stable, diffable layout."""

from __future__ import annotations

import json
import os
import re
import weakref
from collections.abc import Container, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coinpurse.core.book import MISSING, MemoryBook, touched_accounts
from coinpurse.core.chain import HISTORY_FULL, HISTORY_LINKS
from coinpurse.core.model import (
    GENESIS_HASH,
    AccountState,
    BalanceAfter,
    DamagedRecord,
    Transaction,
    account_from_dict,
    transaction_from_dict,
)
from coinpurse.core.patterns import ACCOUNT_NAME
from coinpurse.errors import LedgerUnusable
from coinpurse.formats.textdata import JSON_DECODER, FloatInText, line_of, loads_json, loads_toml
from coinpurse.speedups import jsonfile
from coinpurse.speedups.jsontext import line_json
from coinpurse.storage.document import (
    HISTORY_CHECKSUM,
    SCHEMA_VERSION,
    book_from_document,
    document_head,
    transaction_dicts,
)

if TYPE_CHECKING:
    from coinpurse.core.rates import Rates


def render_json(book: MemoryBook) -> bytes:
    """Indented JSON with one account and one transaction per line, so diffs stay small."""
    return b"".join(render_json_pieces(book))


def render_json_pieces(book: MemoryBook) -> list[bytes | memoryview]:
    """The bytes of ``render_json`` in the pieces they are made of: the history read is one, as read."""
    lines = ["{"]
    lines.append(f'  "schema": {SCHEMA_VERSION},')
    lines.append(f'  "currency": {line_json(book.currency)},')
    rates = json.dumps(book.rates.to_dict(), ensure_ascii=False, indent=2).replace("\n", "\n  ")
    lines.append(f'  "rates": {rates},')
    if book.accounts:
        lines.append('  "accounts": {')
        written = book.kept_accounts() if isinstance(book, LinedBook) else {}
        items = [
            written.get(name) or f"    {line_json(name)}: {line_json(state.to_dict())}"
            for name, state in sorted(book.accounts.items())
        ]  # in the order and form of document_head
        lines.append(",\n".join(items))
        lines.append("  },")
    else:
        lines.append('  "accounts": {},')
    # The history: the lines as read, as the very bytes read (no copy until the final join), then the
    # new transactions; only those are hashed, on top of the checksum of what was read.
    kept = book.kept_history() if isinstance(book, LinedBook) else None
    count = book.stored_count if isinstance(book, LinedBook) else 0
    separator = _LINE_SEPARATOR.encode()
    # The new lines in blocks of whole lines, to be joined by separators (a write's own are kept so).
    if isinstance(book, LinedBook):
        added = book.added_blocks()
    else:
        new_lines = ["    " + line_json(tx) for tx in transaction_dicts(book, count)]
        added = [_LINE_SEPARATOR.join(new_lines).encode()] if new_lines else []
    if kept is not None:
        assert isinstance(book, LinedBook)
        history = book.history_digest.copy()
    else:
        import hashlib

        history = hashlib.sha256()
    for number, block in enumerate(added):
        if number or count:
            history.update(separator)
        history.update(block)
    lines.append(f'  "{HISTORY_CHECKSUM}": "{history.hexdigest()}",')
    if not kept and not added:
        lines.append('  "transactions": []')
        lines.append("}\n")
        return ["\n".join(lines).encode()]
    lines.append('  "transactions": [\n')
    pieces: list[bytes | memoryview] = ["\n".join(lines).encode()]
    if kept:
        pieces.append(kept)
    for number, block in enumerate(added):
        if number or kept:
            pieces.append(separator)
        pieces.append(block)
    pieces.append(_HISTORY_CLOSER)
    return pieces


def render_toml(book: MemoryBook) -> bytes:
    import tomli_w  # only writers of TOML ledgers pay for it

    document = document_head(book)
    document["transactions"] = transaction_dicts(book)
    return tomli_w.dumps(document).encode()


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
    # Before a write: a TOML history is read whole anyway, so each record's shape and link is checked;
    # a JSON file read this way did not keep the checksum it was written with, so it gets the full check.
    book.history_check = HISTORY_LINKS if path.suffix.lower() == ".toml" else HISTORY_FULL
    return book, version


# Writing to a JSON ledger in coinpurse's layout (one transaction per line after a
# `"transactions": [` line, each opening with its id). The head carries the sha256
# of the history's bytes (every line, joined by ",\n"). A write whose file still has
# the checksum it was written with trusts the lines without parsing them: it keeps
# them as the one span of bytes read, finds a line by a byte search (an id, the
# newest lines from the end) and parses only the lines found, and writes the span
# back as it was, hashing only what it appends. Any other file (a checksum that does
# not match, another layout, an older schema) is read in full and gets the full check
# before a write (core.chain), so no write goes over a damaged or edited history.
# The byte-level pieces are speedups.jsonfile.

_HISTORY_CLOSER = jsonfile.HISTORY_CLOSER
_LINE_SEPARATOR = jsonfile.LINE_SEPARATOR
_BLOCK_LINES = 1024  # a write's new lines are kept joined this many at a time (LinedBook.append)
_SEARCHES_BEFORE_INDEX = 16  # id lookups by a search of the bytes, before one pass indexes every id


class LinedBook(MemoryBook):
    """A JSON ledger read for a write: the history kept as the bytes read, each line parsed when used."""

    def __init__(
        self,
        head: MemoryBook,
        data: bytes,
        span: tuple[int, int],
        count: int,
        history: Any,
        account_lines: dict[str, str],
    ) -> None:
        super().__init__(head.currency, head.rates, head.accounts, [None] * count)  # None until parsed
        self._account_lines = {name: (head.accounts[name], line) for name, line in account_lines.items()}
        self.stored_count = count  # the transactions read; the records after them are this write's
        self.history_digest = history  # sha256 of the lines as read, to be updated with what is appended
        self._data, self._span = data, span  # the file as read, and where its history is in it
        self._starts = jsonfile.LineStarts(data, span, count)
        self._ids: dict[str, int] = {}  # ids found so far, and those appended
        self._all_ids = not count  # whether _ids holds every stored id
        self._searches = 0
        # This write's transactions, as the lines the file will hold (see append): the latest one by one,
        # the others joined by separators, _BLOCK_LINES a time, with where each of their lines starts.
        self._added: list[bytes] = []
        self._blocks: list[tuple[bytes, list[int]]] = []

    @classmethod
    def new(cls, book: MemoryBook) -> LinedBook:
        """A new ledger's book for its first write: no lines read, and those appended kept as lines."""
        import hashlib

        return cls(book, b"", (0, 0), 0, hashlib.sha256(), {})

    def append(self, tx: Transaction, states: Mapping[str, AccountState], rates: Rates | None = None) -> None:
        """Keeps the transaction as the line the file will hold, not as the object: one takes several kB,
        and a bulk apply makes a hundred thousand. A read of it parses the line again, as for those read."""
        super().append(tx, states, rates)
        self._added.append(b"    " + line_json(tx.to_dict()).encode())
        self.records[-1] = None
        if len(self._added) == _BLOCK_LINES:  # one block, written as it is: no copy of every line at the end
            starts, at = [], 0
            for line in self._added:
                starts.append(at)
                at += len(line) + len(_LINE_SEPARATOR)
            starts.append(at)  # where a next line would start: each line ends a separator before the next start
            self._blocks.append((_LINE_SEPARATOR.encode().join(self._added), starts))
            self._added = []

    def added_blocks(self) -> list[bytes]:
        """The lines of the transactions this write appended, in order and as the file holds them (indented),
        in blocks of whole lines, each joined by separators."""
        blocks = [block for block, _ in self._blocks]
        if self._added:
            blocks.append(_LINE_SEPARATOR.encode().join(self._added))
        return blocks

    def kept_accounts(self) -> dict[str, str]:
        """The line of each account as read, for those still in the state read (the writer's own text of it)."""
        accounts = self.accounts
        return {name: line for name, (state, line) in self._account_lines.items() if accounts.get(name) is state}

    def kept_history(self) -> memoryview:
        """The history's lines as they were read, as bytes."""
        return memoryview(self._data)[self._span[0] : self._span[1]]

    def line(self, index: int) -> str:
        """The stored line of the transaction at ``index`` (from 0), as text (or the line of one appended)."""
        if index >= self.stored_count:
            block, place = divmod(index - self.stored_count, _BLOCK_LINES)
            if block == len(self._blocks):
                return self._added[place].decode()
            data, starts = self._blocks[block]
            return data[starts[place] : starts[place + 1] - len(_LINE_SEPARATOR)].decode()
        start, end = self._starts.bounds(index)
        return str(memoryview(self._data)[start:end], "utf-8")

    def record(self, position: int) -> Transaction:
        if self.records[position] is None:
            line = self.line(position)
            try:
                data = JSON_DECODER.decode(line)
            except (ValueError, RecursionError):  # ValueError: not UTF-8 or JSON, a float
                raise DamagedRecord(f"transaction {position + 1} can't be read as JSON") from None
            if "\\u" in line and _ESCAPED_SURROGATE.search(line) and not _encodable(data):
                raise DamagedRecord(f"transaction {position + 1} holds a lone surrogate escape (\\ud800-\\udfff)")
            self.records[position] = transaction_from_dict(data, f"transaction {position + 1}")
        return super().record(position)

    def _id_index(self) -> dict[str, int]:
        return self._ids  # appended ids go in here; stored ones are found by find

    def find(self, tx_id: str) -> Transaction | None:
        position = self._ids.get(tx_id)
        if position is None and not self._all_ids:
            if self._searches < _SEARCHES_BEFORE_INDEX and jsonfile.plain_id(tx_id):
                self._searches += 1
                position = self._starts.find_id(tx_id)
                if position is not None:
                    self._ids[tx_id] = position
            else:
                for stored_id, at in self._starts.ids():
                    self._ids.setdefault(stored_id, at)
                self._all_ids = True
                position = self._ids.get(tx_id)
        if position is None:
            return None
        tx = self.record(position)
        if tx.id != tx_id:  # the line's opening says one id, its content another
            raise DamagedRecord(f"transaction {position + 1} opens with the id {tx_id!r}, but its id is {tx.id!r}")
        return tx

    def search_state_record(self, name: str, within: int) -> int | None:
        """A substring search from the newest line back, so that only the line found is parsed."""
        if not jsonfile.may_record(self._data, self._span, name):  # an account never recorded
            return None
        for index in range(within - 1, -1, -1):
            if index >= self.stored_count:
                accounts = super().recorded_accounts(index)
                if accounts is not None and name in accounts:
                    return index + 1
                continue
            line = self.line(index)
            at = jsonfile.state_offset(line)
            if at is None:
                return None  # recorded before states were: nothing older records one either
            if jsonfile.records_state_of(line, at, name) and name in _state_in(line, at, index)["accounts"]:
                return index + 1
        return None

    def recorded_accounts(self, index: int) -> Any:
        if index >= self.stored_count:
            return super().recorded_accounts(index)
        line = self.line(index)
        at = jsonfile.state_offset(line)
        return None if at is None else _state_in(line, at, index)["accounts"]


def _state_in(line: str, at: int, index: int) -> Any:
    try:
        state, _ = JSON_DECODER.raw_decode(line, at)
    except ValueError:
        state = None
    if not (isinstance(state, dict) and isinstance(state.get("accounts"), dict)):
        raise DamagedRecord(f"transaction {index + 1}: its state can't be read")
    return state


def read_lined_book(path: Path, data: bytes) -> tuple[MemoryBook, int] | None:
    """The book for a write, if the file is in coinpurse's layout with its history unchanged; None: read it in full."""
    if path.suffix.lower() != ".json":
        return None
    span = jsonfile.history_span(data)
    if span is None:
        return None
    head_bytes = jsonfile.head_of(data, span)
    if jsonfile.ESCAPED_SURROGATE.search(head_bytes):
        return None
    try:
        head = loads_json(head_bytes)
    except (ValueError, RecursionError):  # the full read reports it properly
        return None
    if not isinstance(head, dict) or head.get("schema") != SCHEMA_VERSION:
        return None
    count = jsonfile.line_count(data, span)
    if count is None or not jsonfile.ids_as_written(data, span, count):
        return None
    history = jsonfile.history_digest(data, span)
    if head.get(HISTORY_CHECKSUM) != history.hexdigest():
        return None
    try:
        book, version = book_from_document(head)
    except (ValueError, DamagedRecord):
        return None
    return LinedBook(book, data, span, count, history, _written_account_lines(book, head_bytes)), version


def _written_account_lines(book: MemoryBook, head: bytes) -> dict[str, str]:
    """The head's line of each account, to be written back for the accounts a write leaves as they were.

    The write checks every stored account against the chain first, so such a line holds the values
    the chain recorded; a line coinpurse wrote is the text it would make again.
    """
    found = jsonfile.account_lines(head)
    if found is None or found.keys() != book.accounts.keys():
        return {}
    return found


def render(path: Path, book: MemoryBook) -> bytes:
    return render_toml(book) if path.suffix.lower() == ".toml" else render_json(book)


def render_pieces(path: Path, book: MemoryBook) -> list[bytes | memoryview]:
    """What ``render`` gives, in pieces to write one after the other (a JSON history read is not copied again)."""
    return [render_toml(book)] if path.suffix.lower() == ".toml" else render_json_pieces(book)


# Reading only the head of a JSON ledger. The writer above puts the history last,
# one transaction per line after a `"transactions": [` line, so commands that need
# no history (balance, rates) can stop there instead of parsing every transaction
# (speedups.jsonfile; docs/performance.md). A file in any other layout, in an older
# schema, or not ending the way the writer ends it (a truncated file) gets the full
# parse, and so does any use of the history.


class LazyHistoryBook(MemoryBook):
    """A JSON ledger read up to its history; the history is parsed the first time it is used.

    The history is read from the very file the head came from, still open, so head
    and history are one version of the ledger: a writer replaces the file by a
    rename and never changes an open one.
    """

    def __init__(
        self,
        path: Path,
        head: MemoryBook,
        fd: int,
        stamp: tuple[int, int],
        span: tuple[int, int],
        account_values: dict[str, str] | None = None,
    ) -> None:
        # Each account's JSON value as read, parsed when asked for (jsonfile.head_without_accounts): one
        # account's balance parses its own line, not thousands; every account's parses them all, once.
        self._unparsed = account_values
        self._parsed: dict[str, AccountState] = {}
        super().__init__(head.currency, head.rates, head.accounts, [])
        self.path = path
        self._loaded: list[Any] | None = None
        self._fd = fd
        self._stamp = stamp  # the file as the head was read from it
        self._span = span  # where the history's lines are in it
        self._closer = weakref.finalize(self, os.close, fd)  # also when the book is dropped unclosed

    @property  # MemoryBook's plain attribute, here parsed on first use
    def accounts(self) -> dict[str, AccountState]:
        if self._unparsed is not None:
            self._accounts = {name: self._account_parsed(name, value) for name, value in self._unparsed.items()}
            self._unparsed = None
        return self._accounts

    @accounts.setter
    def accounts(self, value: dict[str, AccountState]) -> None:
        self._accounts = value

    def _account_parsed(self, name: str, value: str) -> AccountState:
        """One account's state from its value as read, checked as a whole read checks it (book_from_document)."""
        found = self._parsed.get(name)
        if found is None:
            what = f"account {name!r}"
            if not ACCOUNT_NAME.fullmatch(name):
                raise DamagedRecord(f"account name {name!r} is neither a handle nor a platform account")
            try:
                raw = loads_json(value)
            except ValueError:
                raise DamagedRecord(f"{what} is not valid JSON") from None
            found = self._parsed[name] = account_from_dict(raw, what)
        return found

    def stored_account(self, name: str) -> AccountState | None:
        unparsed = self._unparsed
        if unparsed is None:
            return super().stored_account(name)
        value = unparsed.get(name)
        return None if value is None else self._account_parsed(name, value)

    def account(self, name: str) -> AccountState:
        guard = self.guard
        if guard is not None and name not in guard.trusted:
            guard.check(name)
        return self.stored_account(name) or AccountState()

    def has_account(self, name: str) -> bool:
        unparsed = self._unparsed
        return name in unparsed if unparsed is not None else super().has_account(name)

    @property
    def records(self) -> list[Any]:
        if self._loaded is None:
            full, _ = read_file_book(self.path, self._whole_file())
            self._loaded = full.records
            self.close()
        return self._loaded

    @records.setter
    def records(self, value: list[Any]) -> None:
        if value or getattr(self, "_loaded", None) is not None:
            self._loaded = value

    def transactions(
        self, account: str | None = None, kind: str | None = None, limit: int | None = None
    ) -> list[Transaction]:
        """Read from the history's lines, newest first, parsing only those that can match; else in full."""
        if self._loaded is None:
            found = self._from_lines(account, kind, limit)
            if found is not None:
                return found
        return super().transactions(account, kind, limit)

    def _from_lines(self, account: str | None, kind: str | None, limit: int | None) -> list[Transaction] | None:
        """None where a line read is not as coinpurse writes it: the full parse then reports what is wrong."""
        if account is not None:
            needle: bytes | None = jsonfile.name_needle(account)
        else:
            needle = None if kind is None else jsonfile.kind_needle(kind)
        wanted = None if kind is None else kind.encode()
        found: list[Transaction] = []
        self._check_open()
        try:
            for line in jsonfile.newest_lines(self._read, self._span, needle):
                if wanted is not None and jsonfile.line_kind(line) != wanted:
                    continue
                if b"\\u" in line and jsonfile.ESCAPED_SURROGATE.search(line):
                    return None
                tx = transaction_from_dict(JSON_DECODER.decode(line.decode("utf-8")))
                if (kind is None or tx.kind == kind) and (account is None or _touches(tx, account)):
                    found.append(tx)
                    if limit is not None and len(found) >= limit:
                        break
        except (
            jsonfile.OtherLayout,
            ValueError,
            DamagedRecord,
            RecursionError,
        ):  # ValueError: not UTF-8 or JSON, a float
            return None
        self._check_open()
        found.reverse()
        return found

    def find(self, tx_id: str) -> Transaction | None:
        """Found by a byte search of the history's lines for its id, newest first, parsing only the lines that
        hold it (``explain`` reads one transaction of a long history); else, as any book, from the full parse."""
        if self._loaded is None and jsonfile.plain_id(tx_id):
            needle = b'"id": "' + tx_id.encode() + b'"'  # any spelling of the id key a line may hold
            self._check_open()
            try:
                for line in jsonfile.newest_lines(self._read, self._span, needle):
                    tx = transaction_from_dict(JSON_DECODER.decode(line.decode("utf-8")))
                    if tx.id == tx_id:  # as the full parse reads the line (a key given twice: its last)
                        return tx
            except (jsonfile.OtherLayout, ValueError, DamagedRecord, RecursionError):
                return super().find(tx_id)  # an escape, a line not as written, damage: the full parse says
            self._check_open()
            return None
        return super().find(tx_id)

    def stream_within(
        self,
        stream: str,
        low: int = 1,
        high: int | None = None,
        account: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
    ) -> list[Transaction]:
        """A stream's transactions over the whole history from the lines that can be them, newest first, as
        ``transactions`` reads an account's: its gifts (``gifters --stream``) from the lines naming the stream,
        with their reversals from every line in turn; a span, or a name a line may spell otherwise: in full."""
        whole = low <= 1 and high is None
        if self._loaded is None and whole and kind in (None, "gift", "reversal") and _PLAIN_STREAM.fullmatch(stream):
            if kind == "gift":
                found = self._stream_gifts_from_lines(stream, account, limit)
            else:
                found = self._stream_from_lines(stream, account, kind, limit)
            if found is not None:
                return found
        return super().stream_within(stream, low, high, account, kind, limit)

    def _stream_from_lines(
        self, stream: str, account: str | None, kind: str | None, limit: int | None
    ) -> list[Transaction] | None:
        """Every line newest first: a reversal waits for its gift's line (older), which says whether it is
        the stream's; a line that may spell a name otherwise (any \\u) sends the read to the full parse."""
        named, reversal = jsonfile.name_needle(stream), b"reversal"
        found: list[
            list[Any]
        ] = []  # [transaction, the stream's (True), not (False), or not known yet (None)], newest first
        waiting: dict[bytes, list[list[Any]]] = {}  # a gift's line opening -> the reversals of it found so far
        self._check_open()
        try:
            for line in jsonfile.newest_lines(self._read, self._span):
                if b"\\u" in line:
                    return None
                opening = line[: line.find(b'"', len(_ID_LINE_OPENER)) + 1]
                of_stream = named in line
                is_reversal = jsonfile.line_kind(line) == reversal
                if not (of_stream or is_reversal or opening in waiting):
                    continue
                tx = transaction_from_dict(JSON_DECODER.decode(line.decode("utf-8")))
                ours = tx.kind == "gift" and tx.details.get("stream") == stream
                for entry in waiting.pop(opening, ()):
                    entry[1] = ours
                touches = account is None or _touches(tx, account)
                if ours and kind != "reversal" and touches:
                    found.append([tx, True])
                elif tx.kind == "reversal" and kind != "gift" and touches:
                    original = tx.details.get("original")
                    if isinstance(original, str):
                        entry = [tx, None]
                        found.append(entry)
                        waiting.setdefault(_ID_LINE_OPENER + original.encode() + b'"', []).append(entry)
                if limit is not None and _settled(found, limit):
                    break
        except (
            jsonfile.OtherLayout,
            ValueError,
            DamagedRecord,
            RecursionError,
        ):  # as _from_lines: the full parse says why
            return None
        self._check_open()
        shown = [tx for tx, ours in found if ours][:limit]
        shown.reverse()
        return shown

    def _stream_gifts_from_lines(self, stream: str, account: str | None, limit: int | None) -> list[Transaction] | None:
        found: list[Transaction] = []
        gift = b"gift"
        self._check_open()
        try:
            for line in jsonfile.newest_lines(self._read, self._span, jsonfile.name_needle(stream)):
                if jsonfile.line_kind(line) != gift:
                    continue
                if b"\\u" in line and jsonfile.ESCAPED_SURROGATE.search(line):
                    return None
                tx = transaction_from_dict(JSON_DECODER.decode(line.decode("utf-8")))
                if (
                    tx.kind == "gift"
                    and tx.details.get("stream") == stream
                    and (account is None or _touches(tx, account))
                ):
                    found.append(tx)
                    if limit is not None and len(found) >= limit:
                        break
        except (
            jsonfile.OtherLayout,
            ValueError,
            DamagedRecord,
            RecursionError,
        ):  # as _from_lines: the full parse says why
            return None
        self._check_open()
        found.reverse()
        return found

    # By time, from the file's end: the line where a moment falls is found by halving the history's bytes
    # (times never go back along it), then only the lines wanted are read and parsed. A line not as the
    # writer writes it (an escape, another layout) sends the read to the full parse, as _from_lines does.

    def stamped_within(self, since: str | None, until: str | None, account: str | None = None) -> list[Transaction]:
        if self._loaded is None:
            try:
                self._check_open()
                low = self._span[0] if since is None else self._boundary(since, inclusive=False)
                high = self._span[1] if until is None else self._boundary(until, inclusive=True)
                if low >= high:
                    return []
                if account is None:
                    lines = jsonfile.lines_between(self._read, self._span, low, high)
                    found = [self._line_transaction(line) for line in lines]
                else:
                    span = (low, jsonfile.lines_before(self._span, high)[1])
                    needle = jsonfile.name_needle(account)
                    found = [self._line_transaction(line) for line in jsonfile.newest_lines(self._read, span, needle)]
                    found.reverse()
                self._check_open()
                return [tx for tx in found if account is None or _touches(tx, account)]
            except _READ_BACK_FAILS:
                pass
        return super().stamped_within(since, until, account)

    def last_stamped(self, moment: str | None, inclusive: bool = True) -> Transaction | None:
        if self._loaded is None:
            try:
                self._check_open()
                boundary = self._span[1] if moment is None else self._boundary(moment, inclusive)
                span = jsonfile.lines_before(self._span, boundary)
                return next((self._line_transaction(line) for line in jsonfile.newest_lines(self._read, span)), None)
            except _READ_BACK_FAILS:
                pass
        return super().last_stamped(moment, inclusive)

    def balance_stamped(
        self, name: str, moment: str | None, inclusive: bool = True
    ) -> tuple[Transaction | None, BalanceAfter | None]:
        """From the newest line before the moment back: that line, then only the lines naming the account."""
        if self._loaded is None:
            try:
                self._check_open()
                boundary = self._span[1] if moment is None else self._boundary(moment, inclusive)
                span = jsonfile.lines_before(self._span, boundary)
                last = next((self._line_transaction(line) for line in jsonfile.newest_lines(self._read, span)), None)
                if last is None:
                    return None, None
                found = last.balance_after(name)
                if found is None:
                    for line in jsonfile.newest_lines(self._read, span, jsonfile.name_needle(name)):
                        found = self._line_transaction(line).balance_after(name)
                        if found is not None:
                            break
                self._check_open()
                return last, found
            except _READ_BACK_FAILS:
                pass
        return super().balance_stamped(name, moment, inclusive)

    def stream_stamped(
        self, stream: str, since: str | None, until: str | None, account: str | None = None
    ) -> list[Transaction]:
        """The span's lines from its two edges: those naming the stream and the reversals parsed, each
        reversal's gift found by its id (``find``: a byte search of the lines)."""
        if self._loaded is None and (since is not None or until is not None) and _PLAIN_STREAM.fullmatch(stream):
            try:
                self._check_open()
                low = self._span[0] if since is None else self._boundary(since, inclusive=False)
                high = self._span[1] if until is None else self._boundary(until, inclusive=True)
                named, reversal = jsonfile.name_needle(stream), b"reversal"
                found = []
                for line in jsonfile.lines_between(self._read, self._span, low, high):
                    kind = jsonfile.line_kind(line)
                    if not ((kind == b"gift" and named in line) or kind == reversal):
                        continue
                    tx = self._line_transaction(line)
                    if self._of_stream(tx, stream) and (account is None or _touches(tx, account)):
                        found.append(tx)
                self._check_open()
                return found
            except _READ_BACK_FAILS:
                pass
        return super().stream_stamped(stream, since, until, account)

    def stamped_tail(self, since: str) -> list[Transaction] | None:
        """The lines from ``since`` to the end, each checked whole (a damaged one: None, so the full parse
        names it with its position); no line before them is read but the few the halving reads."""
        if self._loaded is None:
            try:
                self._check_open()
                boundary = self._boundary(since, inclusive=False)
                lines = jsonfile.lines_between(self._read, self._span, boundary, self._span[1])
                found = [self._line_transaction(line) for line in lines]
                self._check_open()
                return found
            except _READ_BACK_FAILS:
                pass
        return None

    def _boundary(self, moment: str, inclusive: bool) -> int:
        return jsonfile.time_boundary(self._read, self._span, moment, inclusive)

    def _line_transaction(self, line: bytes) -> Transaction:
        if b"\\u" in line and jsonfile.ESCAPED_SURROGATE.search(line):
            raise jsonfile.OtherLayout
        return transaction_from_dict(JSON_DECODER.decode(line.decode("utf-8")))

    def _read(self, offset: int, size: int) -> bytes:
        try:
            return os.pread(self._fd, size, offset)
        except OSError as error:
            raise LedgerUnusable(f"{self.path}: can't read it: {error.strerror}", code="ledger_unreadable") from None

    def _check_open(self) -> None:
        """The file is still open, and as the head was read from it."""
        try:
            if not self._closer.alive:
                raise LedgerUnusable(
                    f"{self.path}: its history was asked for after the read ended", code="ledger_unreadable"
                )
            if _stamp_of(self._fd) != self._stamp:
                raise LedgerUnusable(
                    f"{self.path}: the file was changed in place while being read (coinpurse replaces it whole); try again",
                    code="ledger_unreadable",
                )
        except OSError as error:
            raise LedgerUnusable(f"{self.path}: can't read it: {error.strerror}", code="ledger_unreadable") from None

    def _whole_file(self) -> bytes:
        self._check_open()
        try:
            with os.fdopen(self._fd, "rb", closefd=False) as file:
                file.seek(0)
                return file.read()
        except OSError as error:
            raise LedgerUnusable(f"{self.path}: can't read it: {error.strerror}", code="ledger_unreadable") from None

    def close(self) -> None:
        self._closer()

    # ----- what verify reads: the history streamed line by line --------------------
    #
    # In coinpurse's layout each line after the head holds one transaction, so verify
    # parses one line at a time instead of the whole document. A line not in that
    # layout (or one the full parse would refuse) sends the read to the full parse,
    # which refuses the file as before or reads the rest in another layout.

    def _lines(self) -> Iterator[tuple[int, str]]:
        """(position, text) of each line of the history from the open file; _NotInLayout where it leaves the layout."""
        if self._loaded is not None or not self._closer.alive or _stamp_of(self._fd) != self._stamp:
            raise _NotInLayout
        lines = _file_lines(self._fd)
        for raw in lines:
            if raw == b'  "transactions": [':
                break
            if raw == b'  "transactions": []':
                if next(lines, None) == b"}" and next(lines, None) is None:
                    return
                raise _NotInLayout
        else:
            raise _NotInLayout
        ended = False  # the line before ended the history (no comma after it)
        for position, raw in enumerate(lines, start=1):
            if ended:
                if raw == b"  ]" and next(lines, None) == b"}" and next(lines, None) is None:
                    return
                raise _NotInLayout
            if raw.endswith(b"},"):
                raw = raw[:-1]
            elif raw.endswith(b"}"):
                ended = True
            else:
                raise _NotInLayout
            if not raw.startswith(b'    {"id": "') or jsonfile.ESCAPED_SURROGATE.search(raw):
                raise _NotInLayout
            try:
                yield position, raw.decode("utf-8")
            except UnicodeDecodeError:
                raise _NotInLayout from None
        raise _NotInLayout

    def verify_records(self, start: int = 0) -> Iterator[tuple[int, Any, Any]]:
        kept = self._kept_records(start)
        if kept is not None:
            yield from kept
            return
        done = start  # transactions passed or yielded
        lines = self._lines()
        try:
            for position, line in lines:
                if position <= start:
                    continue
                data = _parsed_line(line)
                done = position
                yield position, data, data.pop("hash", MISSING)
        except _NotInLayout:
            yield from MemoryBook.verify_records(self, done)  # the full parse: refuses the file as before, or reads it

    def records_from(self, since: str | None = None) -> Iterator[tuple[int, Any]]:
        """The lines streamed from the open file, none kept; one before ``since`` is passed by its opening
        ``"at": "…"`` (written right after the id and kind) without being parsed, where that is its only
        ``"at"`` and it holds no escape (so no other spelling of the key can say another time)."""
        done = 0  # the transactions passed or yielded
        try:
            for position, line in self._lines():
                if since is not None and line.count('"at"') == 1 and "\\u" not in line:
                    start = line.find(_AT_OPENING, 12)
                    if start > 0 and line[start + len(_AT_OPENING) : start + len(_AT_OPENING) + 20] < since:
                        done = position
                        continue
                data = _parsed_line(line)
                at = data.get("at")
                if since is None or not isinstance(at, str) or at >= since:  # a time not text: the reader says so
                    yield position, data
                done = position
        except _NotInLayout:  # the full parse from there: refuses the file as before, or reads it
            low = 0 if since is None else self.count_until(since, inclusive=False)
            for position, record in MemoryBook.records_from(self, None):
                if position > max(low, done):
                    yield position, record

    def history_count(self) -> int:
        try:
            return sum(1 for _ in self._lines())
        except _NotInLayout:
            return len(self.records)

    def first_of_kind(self, kind: str, after: int = 0) -> tuple[int, Transaction] | None:
        """Only the line that names the kind right after its id is parsed."""
        opener = f'", "kind": {line_json(kind)}, '
        try:
            for position, line in self._lines():
                if position > after and line.startswith(opener, line.find('"', 12)):
                    return position, transaction_from_dict(_parsed_line(line), f"transaction {position}")
        except (_NotInLayout, DamagedRecord):
            return super().first_of_kind(kind, after)
        return None

    _scan: tuple[str, int, str, list[str], set[str]] | None = None

    def position_of_hash(self, tx_hash: str) -> int | None:
        """One pass over the lines without parsing them, for the line that ends with the hash. The lines from it
        on, the hash before it and the ids up to it are kept for the rest of ``verify --after``."""
        ending = f'"hash": "{tx_hash}"}}'
        ids: set[str] = set()
        found: tuple[int, str, list[str]] | None = None
        previous = GENESIS_HASH
        try:
            for position, line in self._lines():
                if found is not None:
                    found[2].append(line)
                    continue
                ids.add(_stored_id(line))
                if line.endswith(ending):
                    found = (position, previous, [line])
                previous = line[-66:-2]
        except _NotInLayout:
            self._scan = None
            return super().position_of_hash(tx_hash)
        if found is None:
            return None
        self._scan = (tx_hash, found[0], found[1], found[2], ids)
        return found[0]

    def _scanned(self, position: int) -> tuple[str, int, str, list[str], set[str]] | None:
        scan = self._scan
        return scan if scan is not None and scan[1] == position else None

    def hash_at(self, position: int) -> str:
        scan = self._scanned(position + 1)
        return scan[2] if scan is not None else super().hash_at(position)

    def transaction_at(self, position: int) -> Transaction:
        scan = self._scan
        if scan is not None and self._loaded is None and scan[1] <= position < scan[1] + len(scan[3]):
            try:
                data = _parsed_line(scan[3][position - scan[1]])
            except _NotInLayout:
                return super().transaction_at(position)  # the full parse refuses the file, as before
            return transaction_from_dict(data, f"transaction {position}")
        return super().transaction_at(position)

    def _kept_records(self, start: int) -> Iterator[tuple[int, Any, Any]] | None:
        """The lines after ``start`` as kept by ``position_of_hash``, parsed one at a time; None if not kept."""
        scan = self._scanned(start)
        if scan is None:
            return None
        return self._kept_lines(start, scan[3])

    def _kept_lines(self, start: int, lines: list[str]) -> Iterator[tuple[int, Any, Any]]:
        for offset, line in enumerate(lines[1:], start=1):
            try:
                data = _parsed_line(line)
            except _NotInLayout:
                yield from MemoryBook.verify_records(self, start + offset - 1)
                return
            yield start + offset, data, data.pop("hash", MISSING)

    def history_backwards(self, start: int) -> Iterator[Transaction]:
        scan = self._scanned(start)
        if scan is None:
            yield from super().history_backwards(start)
            return
        for position in range(start + len(scan[3]) - 1, start, -1):
            yield self.transaction_at(position)

    def account_redeems(self, name: str, within: int) -> Iterator[Transaction]:
        """One pass over the lines, parsing only the redeems whose request names the account."""
        kind = '", "kind": "redeem", '
        request = f'"request": {{"account": {line_json(name)}'
        found: list[tuple[int, str]] = []
        try:
            for position, line in self._lines():
                if position > within:
                    break
                if line.startswith(kind, line.find('"', 12)) and request in line:
                    found.append((position, line))
        except _NotInLayout:
            yield from super().account_redeems(name, within)
            return
        for position, line in reversed(found):
            try:
                data = _parsed_line(line)
            except _NotInLayout:
                raise DamagedRecord(f"transaction {position} can't be read") from None
            tx = transaction_from_dict(data, f"transaction {position}")
            if tx.kind == "redeem" and tx.request.get("account") == name:
                yield tx

    def ids_within(self, position: int) -> Container[str]:
        scan = self._scanned(position)
        return scan[4] if scan is not None else super().ids_within(position)


_AT_OPENING = '", "at": "'  # how a stored line spells its time, after its id and kind


class _NotInLayout(Exception):
    """The file leaves coinpurse's layout here: read it the ordinary way."""


# What sends a read from the file's end to the full parse: a line not as the writer writes it (an escape,
# another layout), not JSON or UTF-8 (ValueError), or a record the full parse must name.
_READ_BACK_FAILS = (jsonfile.OtherLayout, _NotInLayout, ValueError, DamagedRecord, RecursionError)


def _file_lines(fd: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """The lines of an open file from its start, without their newlines, read by offset (its position is left alone)."""
    offset, partial = 0, b""
    while True:
        data = os.pread(fd, chunk, offset)
        if not data:
            break
        offset += len(data)
        lines = (partial + data).split(b"\n")
        partial = lines.pop()
        yield from lines
    if partial:
        yield partial


def _stored_id(line: str) -> str:
    """A line's id as the full parse reads it: the one it opens with, unless another ``"id"`` or an escape
    in the line could make the parse's another (then the line is parsed)."""
    if line.count('"id"') == 1 and "\\u" not in line:
        return jsonfile.line_id(line)
    return str(_parsed_line(line)["id"])


def _parsed_line(line: str) -> Any:
    """A line of the history as the full parse reads it; _NotInLayout where that parse would refuse the file."""
    try:
        data = JSON_DECODER.decode(line)
    except (ValueError, RecursionError):
        raise _NotInLayout from None
    if data.__class__ is not dict or data.get("id").__class__ is not str:
        raise _NotInLayout
    return data


def _stamp_of(fd: int) -> tuple[int, int]:
    """What changes when a file is written in place."""
    status = os.fstat(fd)
    return status.st_size, status.st_mtime_ns


def read_json_head(path: Path) -> MemoryBook | None:
    """The ledger without parsing its history, or None if this file needs the full parse."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO there must not hang the read
    except OSError:
        return None  # the full read reports it properly
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return None  # the full read refuses it
        stamp = _stamp_of(fd)
        found = _head_book(fd)
    except BaseException:
        os.close(fd)
        raise
    if found is None:
        os.close(fd)
        return None
    return LazyHistoryBook(path, found[0], fd, stamp, found[1], found[2])


def _head_book(fd: int) -> tuple[MemoryBook, tuple[int, int], dict[str, str] | None] | None:
    """The head's book, where the history is, and each account's value as read (its accounts then parsed later)."""
    try:
        with os.fdopen(fd, "rb", closefd=False) as file:
            read = jsonfile.read_head(file, os.fstat(fd).st_size)
    except (OSError, UnicodeDecodeError):
        return None  # the full parse reports it properly
    if read is None:
        return None
    head, span = read
    values = None
    without = jsonfile.head_without_accounts(head)
    if without is not None:
        head, values = without
    try:
        document = loads_json(head)
    except (ValueError, DamagedRecord, RecursionError):
        return None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA_VERSION:
        return None
    try:
        book, _ = book_from_document(document)
    except (DamagedRecord, RecursionError):
        return None
    return book, span, values


_ID_LINE_OPENER = b'    {"id": "'  # how the writer opens a transaction's line (jsonfile checks each line read)


def _settled(found: list[list[Any]], limit: int) -> bool:
    """The newest ``limit`` of the stream's are known: that many found before any reversal still waiting for its gift."""
    count = 0
    for _, ours in found:
        if ours is None:
            return False
        count += bool(ours)
        if count >= limit:
            return True
    return False


# Printable ASCII but ", / and \: a line can spell such a name only as it is, in quotes, or with a \u escape.
_PLAIN_STREAM = re.compile(r"[ !#-.0-\[\]-~]+")


def _touches(tx: Transaction, account: str) -> bool:
    recorded = tx.state.accounts if tx.state is not None else ()
    return account in touched_accounts((p.account for p in tx.postings), (b.account for b in tx.after), recorded)
