"""What the hash chain says the ledger holds, and the checks a write makes against it.

Every transaction records, under ``state``, a digest of the rates in force after
it and of the full stored state of each account it changed. The chain's hashes
cover those digests, so the head of a ledger (its rates and accounts, which
every write builds on) can be checked against the history without replaying
it: an account's stored state must have the digest its last transaction
recorded, and the rates in force the digest the last transaction recorded.

A write calls ``begin_write`` once before its first change (``rules.execute``
does). A ledger written before transactions recorded states gets the full check
(``verify_book``) and then one checkpoint: a rates transaction with no changes
that records the rates and every account, so later writes have something to
check against.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from coinpurse.core.model import GENESIS_HASH, AccountState, DamagedRecord, Lot, Transaction, chain_hash
from coinpurse.core.money import decimal_str

if TYPE_CHECKING:
    from coinpurse.core.book import Book
    from coinpurse.core.rates import Rates

CHECKPOINT_SOURCE = "checkpoint"  # details.source of the transaction that first records a ledger's states
CHECKPOINT_REASON = (
    "the rates in force and every account's state, recorded into the chain before the first write "
    "that records them with each transaction"
)
DIGEST_BYTES = 16  # 128 bits: a digest names one state; the chain's sha256 is what resists forgery
VERIFY_HINT = "nothing was written; 'coinpurse verify' shows every problem"

# How much of the stored history a write checks before it builds on it (set by the storage layer).
HISTORY_TRUSTED = "trusted"  # unchanged since coinpurse wrote it (a JSON checksum that matches; SQLite)
HISTORY_LINKS = "links"  # read whole anyway: every record's shape and hash link (TOML)
HISTORY_FULL = "full"  # possibly edited or damaged: every record and verify_book (a JSON checksum mismatch)


# ----- the digests ------------------------------------------------------------------

_BLAKE2B: Any = None  # found on first use: reads never hash


def _digest(text: str) -> str:
    global _BLAKE2B
    if _BLAKE2B is None:
        from hashlib import blake2b

        _BLAKE2B = blake2b
    digest: str = _BLAKE2B(text.encode(), digest_size=DIGEST_BYTES).hexdigest()
    return digest


_NUMBERS: dict[Decimal, str] = {}  # by value: a lot's cost is digested again with every state of its account


def _number(value: Decimal) -> str:
    """A decimal by value: 100, 100.0 and 100.00 give the same text."""
    text = _NUMBERS.get(value)
    if text is None:
        text = decimal_str(value)
        if text[-1] == "0" and "." in text:
            text = text.rstrip("0").rstrip(".")
        if text == "-0":
            text = "0"
        if len(_NUMBERS) >= 4096:
            _NUMBERS.clear()
        _NUMBERS[value] = text
    return text


def state_digest(state: AccountState) -> str:
    """The digest of an account's full stored state: coins, diamonds, cash, lots and payout day.

    A line of text per lot after the balances; the free-form parts (a lot's source,
    the day) are length-prefixed, so no two states give the same text.
    """
    day = state.payout_day
    paid = _number(state.paid_that_day) if day else ""
    text = f"{state.coins} {state.diamonds} {_number(state.cash)} {len(day)}:{day} {paid}"
    if state.lots:
        text += "\n" + _lot_lines(state.lots)
    return _digest(text)


# A viewer may hold hundreds of unspent lots, and each buy or gift makes a new tuple of
# them that shares every other Lot object with the one before. So each Lot's line is made
# once and found by the object's id; the Lot is kept with it, so that no other object
# can take that id while the line is cached.
_LOT_LINES: dict[int, str] = {}
_LOTS_KEPT: dict[int, Lot] = {}
_LOT_CACHE_SIZE = 1 << 16


def _lot_lines(lots: tuple[Lot, ...]) -> str:
    # A buy adds the last lot and a gift changes the first: those are the ones seen first.
    for lot in (lots[0], lots[-1]):
        if id(lot) not in _LOT_LINES:
            _remember(lot)
    try:
        return "\n".join(map(_LOT_LINES.__getitem__, map(id, lots)))  # in C: a map and a join
    except KeyError:  # lots read from a file, or after the cache was cleared
        pass
    if len(lots) > _LOT_CACHE_SIZE // 2:
        return "\n".join([_lot_line(lot) for lot in lots])
    if len(_LOT_LINES) + len(lots) > _LOT_CACHE_SIZE:
        _forget_lots()
    for lot in lots:
        if id(lot) not in _LOT_LINES:
            _remember(lot)
    return "\n".join(map(_LOT_LINES.__getitem__, map(id, lots)))


def _lot_line(lot: Lot) -> str:
    source, coins, cost = lot
    return f"{len(source)}:{source} {coins} {_number(cost)}"


def _remember(lot: Lot) -> None:
    if len(_LOT_LINES) >= _LOT_CACHE_SIZE:
        _forget_lots()
    _LOT_LINES[id(lot)] = _lot_line(lot)
    _LOTS_KEPT[id(lot)] = lot


def _forget_lots() -> None:
    _LOT_LINES.clear()
    _LOTS_KEPT.clear()


_RATES_SEEN: tuple[Any, str, str] | None = None  # the last rates digested: a book's rates rarely change


# The currency every ledger coinpurse makes has: implied in the digest of the rates, so that
# digests recorded before the currency was covered stay what they were.
_IMPLIED_CURRENCY = "USD"


def rates_digest(rates: Rates, currency: str = _IMPLIED_CURRENCY) -> str:
    """The digest of a set of rates and the ledger's currency, by value and in no particular order.

    Computed once per Rates object. Channels and gifts are taken sorted: their
    order is only how ``rates`` lists them, and ``verify`` rebuilds the rates
    before a change in another order. The currency names what every price and
    payout is in, so an edited currency code in the head shows as changed rates;
    the usual one is implied rather than written into the digested text.
    """
    global _RATES_SEEN
    if _RATES_SEEN is not None and _RATES_SEEN[0] is rates and _RATES_SEEN[1] == currency:
        return _RATES_SEEN[2]
    import json

    payout = rates.payout
    values = [
        sorted(
            [c.name, _number(c.coin_price), c.custom_min, c.custom_max, sorted([p.coins, _number(p.price)] for p in c.packages)]
            for c in rates.channels
        ),
        sorted([g.name.casefold(), g.name, g.coins] for g in rates.gifts),
        _number(rates.diamonds_per_coin),
        [_number(payout.cash_per_diamond), _number(payout.minimum), _number(payout.daily_maximum), _number(payout.fee_percent)],
    ]
    if currency != _IMPLIED_CURRENCY:
        values.append(currency)
    digest = _digest(json.dumps(values, separators=(",", ":"), ensure_ascii=False))
    _RATES_SEEN = (rates, currency, digest)
    return digest


def recorded_state(rates: Rates, states: Mapping[str, AccountState], currency: str) -> dict[str, Any]:
    """What a transaction records it leaves behind: the rates in force (with the currency) and each changed account's state."""
    return {"rates": rates_digest(rates, currency), "accounts": {name: state_digest(states[name]) for name in sorted(states)}}


def is_checkpoint(tx: Transaction) -> bool:
    return tx.kind == "rates" and tx.details.get("source") == CHECKPOINT_SOURCE


# ----- checks before a write --------------------------------------------------------


class HeadGuard:
    """A write's view of which stored accounts agree with the chain; the book asks it before the rules read one."""

    def __init__(self, book: Book, trusted: set[str]) -> None:
        self.book = book
        self.trusted = trusted  # checked against the chain, or written by this run
        # The history as it was stored: this run's own transactions record only trusted accounts.
        self.stored_length = book.head().length

    def check(self, name: str) -> None:
        """Refuse unless the stored state of ``name`` (or its absence) is what the chain last recorded."""
        book = self.book
        stored = book.stored_account(name)
        position = book.last_state_record(name, self.stored_length)
        recorded = None
        if position is not None:
            tx = _linked(book, position, f"the last to record account {name!r}")
            recorded = (tx.state or {}).get("accounts", {}).get(name)
            where = f"transaction {tx.id!r} (#{position})"
        if recorded is None and stored is None:
            self.trusted.add(name)  # a new account
            return
        if recorded is None:
            raise DamagedRecord(f"account {name!r} is stored, but no transaction in the history recorded it; {VERIFY_HINT}")
        if stored is None:
            raise DamagedRecord(f"account {name!r} is missing from the stored accounts, but {where} recorded it; {VERIFY_HINT}")
        if state_digest(stored) != recorded:
            raise DamagedRecord(
                f"the stored state of account {name!r} is not the one {where} recorded: "
                f"it was changed outside coinpurse; {VERIFY_HINT}"
            )
        self.trusted.add(name)


def begin_write(book: Book) -> HeadGuard:
    """Check what a write builds on (once per book); returns the guard the book then consults."""
    length = book.head().length
    head_tx = book.transaction_at(length) if length else None
    legacy = head_tx is not None and head_tx.state is None
    if legacy or book.history_check == HISTORY_FULL:
        _full_check(book)
        guard = HeadGuard(book, set(book.all_accounts()))  # verify_book found them equal to the replayed history
        if legacy:
            assert head_tx is not None
            _append_checkpoint(book, head_tx)
        return guard
    if book.history_check == HISTORY_LINKS:
        _check_every_link(book)
    if head_tx is not None:
        head_tx = _linked(book, length, "the last one")
        if rates_digest(book.rates, book.currency) != (head_tx.state or {}).get("rates"):
            raise DamagedRecord(
                f"the rates in force are not the ones the last transaction {head_tx.id!r} (#{length}) recorded, "
                f"or the currency {book.currency} is not: "
                f"they were changed outside coinpurse; {VERIFY_HINT}"
            )
    return HeadGuard(book, set())


def _linked(book: Book, position: int, what: str) -> Transaction:
    """The transaction at ``position``, refused unless its hash links it to the ones before and after it."""
    tx = book.transaction_at(position)
    previous = GENESIS_HASH if position == 1 else book.transaction_at(position - 1).hash
    if chain_hash(previous, tx.content()) != tx.hash:
        raise DamagedRecord(f"transaction {tx.id!r} (#{position}), {what}, does not match its hash; {VERIFY_HINT}")
    if position < book.head().length:
        following = book.transaction_at(position + 1)
        if chain_hash(tx.hash, following.content()) != following.hash:
            raise DamagedRecord(
                f"transaction {following.id!r} (#{position + 1}) does not link to the one before it; {VERIFY_HINT}"
            )
    return tx


def check_link(tx: Transaction, position: int, previous: str) -> str:
    """Refuse a transaction whose hash does not link its content to ``previous``; returns its hash."""
    if chain_hash(previous, tx.content()) != tx.hash:
        raise DamagedRecord(f"transaction {tx.id!r} (#{position}) does not match its hash; {VERIFY_HINT}")
    return tx.hash


def _check_every_link(book: Book) -> None:
    previous = GENESIS_HASH
    for position, tx in enumerate(book.iter_transactions(), start=1):  # reading each one checks its shape
        previous = check_link(tx, position, previous)


def _full_check(book: Book) -> None:
    from coinpurse.core.verify import verify_book

    report = verify_book(book)
    if not report.ok:
        raise DamagedRecord(f"{report.summary()}; {VERIFY_HINT}")


def _append_checkpoint(book: Book, head_tx: Transaction) -> None:
    """Record the rates in force and every account's state into the chain, at the time of the last transaction."""
    accounts = book.all_accounts()
    details = {"source": CHECKPOINT_SOURCE, "changes": [], "reason": CHECKPOINT_REASON}
    tx = Transaction.sealed(
        book.next_auto_id(), "rates", head_tx.at, {}, book.rates.to_dict(), (), details, {},
        head_tx.hash, recorded_state(book.rates, accounts, book.currency),
    )  # fmt: skip
    book.append(tx, {})
