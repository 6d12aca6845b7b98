"""The history in formats other tools read: CSV, a plain-text journal, and JSON.

Each format is written as it is read: ``csv_chunks``, ``journal_chunks`` and
``json_chunks`` take the transactions one at a time, oldest first, and give the
text in pieces of about ``CHUNK_CHARS`` characters, so an export of any length
holds one piece at a time (``to_csv``, ``to_journal`` and ``to_json`` join them).

The journal follows the syntax hledger and ledger-cli share, strictly enough for
``hledger check --strict`` and ``ledger --pedantic``: every account, commodity
and metadata tag is declared before its first use, each entry is dated with the
transaction id as its code, ``; key: value`` metadata lines, and postings per
commodity that balance. Each user's last COIN and DIAMOND posting in an entry
carries a balance assertion (``= 695 COIN``): the balance coinpurse recorded
after that transaction, which both tools check again. Users' accounts are
``users:<handle>``, so the platform's accounts (``platform:...``) sort apart.

A journal of part of the history (``export --since``) opens with an ``Opening``
entry: every account's balance in every commodity at that moment, so the
assertions after it still hold. Its postings balance by themselves, as every
transaction's do. A journal of one live stream's gifts carries no assertions: its
balances are only what those gifts moved.

The CSV and the journal read a stored transaction as a ``StoredView``: only the
parts they write, each checked as it is read (``verify`` checks whole records and
the chain); the JSON export writes whole records, checked as the history reads them.

Every string read from the ledger is escaped for the format it goes to (see
``coinpurse.core.safetext``): a CSV text cell never starts a formula, and no
name can end a journal line, start a comment or split an account from its amount.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

from coinpurse.core.model import (
    Amount,
    BalanceAfter,
    DamagedRecord,
    Posting,
    RecordedState,
    Transaction,
    _plain_posting,
    posting_from_dict,
)
from coinpurse.core.money import COIN, DIAMOND
from coinpurse.core.names import is_user_account
from coinpurse.core.patterns import ID_FORMAT, TIME_FORMAT
from coinpurse.core.safetext import _FORMULA_STARTS, csv_text, file_name_text, journal_text, json_text
from coinpurse.core.sentences import summary
from coinpurse.speedups.indentjson import _QUOTE, indented_json

FORMATS = ("csv", "journal", "json")
CSV_HEADER = ("id", "at", "kind", "account", "commodity", "amount")
CHUNK_CHARS = 1 << 17  # pieces of about 128K characters: few writes, little held
JOURNAL_TAGS = ("id", "kind", "time")  # the metadata each entry carries, declared for ledger --pedantic
_ASSERTED = (COIN, DIAMOND)  # users' balances after each transaction are stored for these


def journal_account(name: str) -> str:
    return journal_text(f"users:{name}" if is_user_account(name) else name)  # platform:... and sponsor:... as they are


_PLAIN_COMMODITY = re.compile(r"[A-Za-z]+")
_UNQUOTABLE = re.compile(r'["\\]')  # ledger-cli reads a backslash in a quoted symbol as an escape


def journal_commodity(commodity: str) -> str:
    """A commodity symbol both tools read alike: letters as they are, anything else in double quotes."""
    if _PLAIN_COMMODITY.fullmatch(commodity):
        return commodity
    return '"' + _UNQUOTABLE.sub("", journal_text(commodity)) + '"'


def amount_text(amount: Amount) -> str:
    return str(amount) if amount.__class__ is int else format(Decimal(amount), "f")


class StoredView:
    """A stored transaction (a dict as read) as the CSV and journal exports read it, each part checked when read.

    It answers what they ask of a ``Transaction`` (id, kind, at, postings, payload,
    balance_after) without building the whole typed transaction: the journal's
    description needs the typed record, the CSV not even that.
    """

    __slots__ = ("_data", "_what", "at", "id", "kind", "postings")

    def __init__(self, data: Any, position: int) -> None:
        what = f"transaction {position}"
        if data.__class__ is not dict:
            raise DamagedRecord(f"{what} is not a table")
        self._data, self._what = data, what
        for key in ("id", "kind", "at"):
            if data.get(key).__class__ is not str:
                raise DamagedRecord(f"{what}: {key} is missing or not text")
        self.id, self.kind, self.at = data["id"], data["kind"], data["at"]
        if not (ID_FORMAT.fullmatch(self.id) and TIME_FORMAT.fullmatch(self.at)):  # both are written as they are
            bad = (
                f"id {self.id!r} is not a valid id"
                if not ID_FORMAT.fullmatch(self.id)
                else (f"time {self.at!r} is not a UTC time such as 2026-03-01T12:00:00Z")
            )
            raise DamagedRecord(f"{what} ({self.id!r}): {bad}")
        postings = data.get("postings")
        if postings.__class__ is not list:
            raise DamagedRecord(f"{what}: postings is missing or not a list")
        self.postings: tuple[Posting, ...] = tuple(
            _plain_posting(p) or posting_from_dict(p, f"{what}.postings[{i}]")  # named only when not plain
            for i, p in enumerate(postings)
        )

    @property
    def payload(self) -> Any:
        from coinpurse.core.kinds import WrongPart, record_from_dicts

        data = self._data
        try:
            return record_from_dicts(self.kind, data.get("request"), data.get("rates"), data.get("details"))
        except WrongPart as wrong:
            raise DamagedRecord(f"{self._what} ({self.id!r}): {wrong.part} is not what a {self.kind} records") from None

    def balance_after(self, name: str) -> BalanceAfter | None:
        after = self._data.get("after")
        if after.__class__ is not dict:
            raise DamagedRecord(f"{self._what} ({self.id!r}): after is missing or not a table")
        entry = after.get(name)
        if entry is None:
            return None
        coins, diamonds = (entry.get("coins"), entry.get("diamonds")) if entry.__class__ is dict else (None, None)
        if coins.__class__ is not int or diamonds.__class__ is not int:
            raise DamagedRecord(f"{self._what} ({self.id!r}): after.{name} is not whole coins and diamonds")
        return BalanceAfter(name, coins, diamonds)


def stored_views(records: Iterable[Any], start: int = 1) -> Iterator[StoredView | Transaction]:
    """Stored records (dicts) as views; transactions made in memory as they are. ``start``: the first one's position."""
    for position, record in enumerate(records, start=start):
        yield record if isinstance(record, Transaction) else StoredView(record, position)


class _Memo(dict[str, str]):
    """A function of a string remembered per string (names repeat on every line), bounded in size."""

    LIMIT = 50_000

    def __init__(self, function: Callable[[str], str]) -> None:
        super().__init__()
        self.function = function

    def __missing__(self, key: str) -> str:
        if len(self) >= self.LIMIT:
            self.clear()
        value = self[key] = self.function(key)
        return value


def _batched(pieces: Iterable[str]) -> Iterator[str]:
    """The pieces joined into chunks of at least CHUNK_CHARS characters (the last may be shorter)."""
    held: list[str] = []
    size = 0
    for piece in pieces:
        held.append(piece)
        size += len(piece)
        if size >= CHUNK_CHARS:
            yield "".join(held)
            held.clear()
            size = 0
    if held:
        yield "".join(held)


def _plain_or(escape: Callable[[str], str]) -> Callable[[str], str]:
    """``escape``, skipped for text it would leave as it is: printable ASCII (no control character at all)."""

    def escaped(text: str) -> str:
        return text if text.isascii() and text.isprintable() else escape(text)

    return escaped


def _csv_cell(text: str) -> str:
    """``csv_text``, skipped for printable ASCII that can't start a formula (what nearly every id and time is)."""
    return text if text.isascii() and text.isprintable() and not text.startswith(_FORMULA_STARTS) else csv_text(text)


def csv_chunks(transactions: Iterable[Transaction | StoredView]) -> Iterator[str]:
    """One row per posting, with a header; amounts exact, as in the ledger.

    Only text cells are guarded against formulas: an amount is always a number
    coinpurse formats itself, so a negative one stays a number a spreadsheet can add.
    """
    return _batched(_csv_pieces(transactions))


def _csv_pieces(transactions: Iterable[Transaction | StoredView]) -> Iterator[str]:
    rows: list[str] = []
    writer = csv.writer(_Appender(rows), lineterminator="\n")
    writer.writerow(CSV_HEADER)
    yield rows.pop()
    cell = _Memo(csv_text)  # accounts, commodities and kinds repeat
    for tx in transactions:
        tx_cells = (_csv_cell(tx.id), _csv_cell(tx.at), cell[tx.kind])
        writer.writerows(
            [
                (*tx_cells, cell[account], cell[commodity], amount_text(amount))
                for account, commodity, amount in tx.postings
            ]
        )
        yield "".join(rows)
        rows.clear()


class _Appender:
    """A file for csv.writer that keeps each row it writes in a list."""

    def __init__(self, rows: list[str]) -> None:
        self.write = rows.append


def describe(tx: Transaction | StoredView) -> str:
    """The journal's description of a transaction: its kind's summary (see core.sentences), made safe for the journal."""
    return journal_text(summary(tx.payload))


class Opening(NamedTuple):
    """Where a journal of part of the history starts: every account's balance per commodity at ``at``."""

    at: str  # a stored time: the moment the exported part starts from
    balances: Mapping[tuple[str, str], Amount]  # (account, commodity) -> its balance then; zero ones may be left out


def journal_chunks(
    transactions: Iterable[Transaction | StoredView],
    source: str = "",
    accounts: Iterable[str] = (),
    currency: str | None = None,
    opening: Opening | None = None,
    assertions: bool = True,
    heading: str = "",
) -> Iterator[str]:
    """The journal: declarations of ``accounts`` (the ledger's names) and the commodities, then an entry per transaction.

    An account or commodity not declared up front (none, in a sound ledger: every
    account a transaction posts to is stored) is declared just before the first
    entry that uses it. ``opening`` comes first when given; ``assertions`` false
    leaves out the balance assertions (for a part of the history whose balances are
    not the accounts'); ``heading`` is a comment line saying which part it is.
    """
    return _batched(_journal_pieces(transactions, source, accounts, currency, opening, assertions, heading))


def _journal_pieces(
    transactions: Iterable[Transaction | StoredView],
    source: str,
    accounts: Iterable[str],
    currency: str | None,
    opening: Opening | None = None,
    assertions: bool = True,
    heading: str = "",
) -> Iterator[str]:
    account_name = _Memo(journal_account)
    commodity_name = _Memo(journal_commodity)
    declared_accounts = sorted({account_name[name] for name in accounts})
    commodities = [COIN, DIAMOND] if currency is None else [COIN, DIAMOND, currency]
    declared = set(declared_accounts) | {commodity_name[c] for c in commodities}
    lines = [
        f"; coinpurse journal export{' of ' + journal_text(file_name_text(source)) if source else ''}",
        "; users' holdings are positive; the platform carries the opposite side",
        "; each user's coins and diamonds after a transaction, as coinpurse recorded them, are balance assertions (= ...)"
        if assertions
        else "; no balance assertions: these entries are not all that moved the accounts' balances",
        *([f"; {journal_text(heading)}"] if heading else []),
        "",
    ]
    if declared_accounts:
        lines += [*(f"account {name}" for name in declared_accounts), ""]
    lines += [*(f"commodity {commodity_name[c]}" for c in commodities), ""]
    lines += [f"tag {tag}" for tag in JOURNAL_TAGS]
    yield "\n".join(lines) + "\n"
    if opening is not None:
        yield _opening_entry(opening, account_name, commodity_name, declared)
    text = _plain_or(journal_text)
    for tx in transactions:
        tx_id, at = text(tx.id), text(tx.at)
        header = f"{at[:10]} ({tx_id}) {describe(tx)}"
        meta = f"    ; id: {tx_id}\n    ; kind: {text(tx.kind)}\n    ; time: {at}\n"
        postings = tx.postings
        if not postings:  # a rates change moves nothing: kept as a comment, which both tools skip
            yield f"\n; {header}\n{meta.replace('    ;', ';;')}"
            continue
        names = [account_name[p.account] for p in postings]
        width = max(map(len, names)) + 4
        symbols = [commodity_name[p.commodity] for p in postings]
        new = [name for name in (*names, *symbols) if name not in declared]
        entry = [_declarations(new, declared, names)] if new else []
        entry += ["\n", header, "\n", meta]
        asserted = _assertions(tx) if assertions else None
        for i, (name, symbol, p) in enumerate(zip(names, symbols, postings, strict=True)):
            line = f"    {name:<{width}}{amount_text(p.amount)} {symbol}"
            if asserted and (p.account, p.commodity) in asserted and asserted[p.account, p.commodity][0] == i:
                line += f" = {asserted[p.account, p.commodity][1]} {symbol}"
            entry.append(line)
            entry.append("\n")
        yield "".join(entry)


def _opening_entry(opening: Opening, account_name: _Memo, commodity_name: _Memo, declared: set[str]) -> str:
    """The first entry of a journal of part of the history: each nonzero balance at ``opening.at``, users' coins and
    diamonds asserted as the entries after it assert them; empty when every balance was zero (nothing came before)."""
    held = sorted(
        ((account, commodity, amount) for (account, commodity), amount in opening.balances.items() if amount),
        key=lambda held: (not is_user_account(held[0]), held[0], _COMMODITY_ORDER.get(held[1], 2), held[1]),
    )
    if not held:
        return ""
    names = [account_name[account] for account, _, _ in held]
    symbols = [commodity_name[commodity] for _, commodity, _ in held]
    new = [name for name in (*names, *symbols) if name not in declared]
    at = journal_text(opening.at)
    entry = [_declarations(new, declared, names)] if new else []
    entry += ["\n", f"{at[:10]} (opening) balances at {at}\n", f"    ; kind: opening\n    ; time: {at}\n"]
    width = max(map(len, names)) + 4
    for name, symbol, (account, commodity, amount) in zip(names, symbols, held, strict=True):
        line = f"    {name:<{width}}{amount_text(amount)} {symbol}"
        if commodity in _ASSERTED and is_user_account(account):
            line += f" = {amount_text(amount)} {symbol}"
        entry.append(line + "\n")
    return "".join(entry)


_COMMODITY_ORDER = {COIN: 0, DIAMOND: 1}


def _declarations(new: list[str], declared: set[str], accounts: list[str]) -> str:
    """Directives for names first seen in this entry, so that both tools still read them as declared."""
    lines = []
    for name in dict.fromkeys(new):
        lines.append(f"{'account' if name in accounts else 'commodity'} {name}\n")
        declared.add(name)
    return "\n" + "".join(lines)


def _assertions(tx: Transaction | StoredView) -> dict[tuple[str, str], tuple[int, int]]:
    """For each user's last COIN and DIAMOND posting in ``tx``: its position and the balance recorded after ``tx``."""
    found: dict[tuple[str, str], tuple[int, int]] = {}
    for i, (account, commodity, _) in enumerate(tx.postings):
        if commodity in _ASSERTED and is_user_account(account):
            after = tx.balance_after(account)
            if after is not None:
                found[account, commodity] = (i, after.coins if commodity == COIN else after.diamonds)
    return found


def json_chunks(transactions: Iterable[Transaction], currency: str) -> Iterator[str]:
    """``{"currency": ..., "transactions": [...]}`` indented by 2, as ``json.dumps`` writes it, one transaction at a time."""
    return _batched(_json_pieces(transactions, currency))


def _json_pieces(transactions: Iterable[Transaction], currency: str) -> Iterator[str]:
    start = json_text(indented_json({"currency": currency}))[:-2] + ',\n  "transactions": '
    separator = "[\n    "
    for tx in transactions:
        yield start + separator + json_text(transaction_json(tx))
        start, separator = "", ",\n    "
    yield (start + "[]\n}\n") if start else "\n  ]\n}\n"


def transaction_json(tx: Transaction) -> str:
    """``indented_json(tx.output(), level=2)``: a transaction as the JSON export writes it, built from its parts.

    The parts every transaction has in the same layout (its id, time and kind, its
    postings, the balances after it, its state and hash) are written straight into
    their lines, without the dict ``output`` builds nor a walk of it; a part in any
    other layout, and request, rates and details, go through ``indented_json``. So
    the text is always ``indented_json``'s (tests/test_export_json_text.py).
    """
    quote = _QUOTE
    stored = tx._stored  # the record it was read from or sealed as: checked, never changed
    postings = tx.postings
    if not _AMOUNT_CLASSES.issuperset([amount.__class__ for _, _, amount in postings]):
        return indented_json(tx.output(), level=2)  # no such amount passes the checks; written as output() says
    if postings:
        lines = [
            f'{{\n          "account": {quote(account)},\n          "commodity": {quote(commodity)},\n'
            f'          "amount": {amount if amount.__class__ is int else quote(format(amount, "f"))}\n        }}'
            for account, commodity, amount in postings
        ]
        postings_text = "[\n        " + ",\n        ".join(lines) + "\n      ]"
    else:
        postings_text = "[]"
    return (
        f'{{\n      "id": {quote(tx.id)},\n      "kind": {quote(tx.kind)},\n      "at": {quote(tx.at)},\n'
        f'      "request": {indented_json(stored["request"], level=3)},\n'
        f'      "rates": {indented_json(stored["rates"], level=3)},\n'
        f'      "postings": {postings_text},\n'
        f'      "details": {indented_json(stored["details"], level=3)},\n'
        f'      "after": {_after_json(stored["after"])},\n'
        f'      "state": {_state_json(tx.state)},\n'
        f'      "hash": {quote(tx.hash)}\n    }}'
    )


def _after_json(after: dict[str, Any]) -> str:
    """The balances after a transaction, as ``indented_json`` writes them three indents deep."""
    if not after:
        return "{}"
    lines = []
    for name, entry in after.items():
        if entry.__class__ is dict and list(entry) == _AFTER_KEYS:
            coins, diamonds = entry["coins"], entry["diamonds"]
            if coins.__class__ is int and diamonds.__class__ is int:
                lines.append(
                    f'{_QUOTE(name)}: {{\n          "coins": {coins},\n          "diamonds": {diamonds}\n        }}'
                )
                continue
        lines.append(f"{_QUOTE(name)}: {indented_json(entry, level=4)}")
    return "{\n        " + ",\n        ".join(lines) + "\n      }"


_AFTER_KEYS = ["coins", "diamonds"]
_AMOUNT_CLASSES = frozenset((int, Decimal))


def _state_json(state: RecordedState | None) -> str:
    """A transaction's recorded state (null where none was recorded), as ``indented_json`` writes it."""
    if state is None:
        return "null"
    quote = _QUOTE
    text = f'{{\n        "rates": {quote(state.rates)},\n        "accounts": '
    if state.accounts:
        text += (
            "{\n          "
            + ",\n          ".join(f"{quote(name)}: {quote(digest)}" for name, digest in state.accounts.items())
            + "\n        }"
        )
    else:
        text += "{}"
    if state.root is not None:
        text += f',\n        "root": {quote(state.root)}'
    return text + "\n      }"


def to_csv(transactions: Iterable[Transaction]) -> str:
    return "".join(csv_chunks(transactions))


def to_journal(
    transactions: Iterable[Transaction], source: str = "", accounts: Iterable[str] = (), currency: str | None = None
) -> str:
    return "".join(journal_chunks(transactions, source, accounts, currency))


def to_json(transactions: Iterable[Transaction], currency: str) -> str:
    return "".join(json_chunks(transactions, currency))
