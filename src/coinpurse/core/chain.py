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

A write must also know that no account it touches was put back to an older
state the chain once recorded. So each transaction records, under
``state.root``, the root of a tree over every account's state digest (4,096
buckets by name, three levels of 16 above them): a store keeps the buckets'
digests, a write checks them against the root before it builds on them and
checks each account it reads against its bucket, and the cost stays the same
at any length of history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from coinpurse.core.model import GENESIS_HASH, AccountState, DamagedRecord, Lot, RecordedState, Transaction, chain_hash
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
# Every digest here is a blake2b of DIGEST_BYTES with no key: each starts as a copy of this
# one fresh hasher, which costs a third less than making one (a write makes a dozen per op).
_FRESH: Any = None


def _digest(text: str) -> str:
    hasher = (_FRESH or _fresh()).copy()
    hasher.update(text.encode())
    digest: str = hasher.hexdigest()
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


def state_digest(state: AccountState, *, seen_again: bool = True) -> str:
    """The digest of an account's full stored state: coins, diamonds, cash, lots and payout day.

    A line of text per lot after the balances; the free-form parts (a lot's source,
    the day) are length-prefixed, so no two states give the same text. A state
    digested once only (each stored account, when a tree is built) says
    ``seen_again=False``, and its lots' lines are not cached.
    """
    text = _balances_text(state)
    if state.lots:
        text += "\n" + (_lot_lines(state.lots) if seen_again else "\n".join([_lot_line(lot) for lot in state.lots]))
    return _digest(text)


def _balances_text(state: AccountState) -> str:
    day = state.payout_day
    paid = _number(state.paid_that_day) if day else ""
    return f"{state.coins} {state.diamonds} {_number(state.cash)} {len(day)}:{day} {paid}"


def digest_with_lot_lines(state: AccountState, lot_lines: str) -> str:
    """``state_digest`` of ``state`` with the lots whose lines (each ``_lot_line``, joined by newlines)
    are ``lot_lines``: for lots read as text (storage.sqlite.StoredDigests), not made into Lots."""
    return _digest(_balances_text(state) + "\n" + lot_lines)


def number_text(value: Decimal) -> str:
    """A decimal's text in a digest (a lot's cost in its line)."""
    return _number(value)


def account_digest(name: str, state: AccountState) -> str:
    """``state_digest`` of the state a write leaves ``name`` in, its lots' text made from the last one's.

    A viewer's lots grow with the history (a thousand and more after a million
    ops), and each buy adds one at the end while each gift draws from the front:
    so the text of the lots digested last for the account is kept, and the next
    one is made from it and the lots that differ (``_lots_text``).
    """
    lots = state.lots
    if not lots:
        return state_digest(state)
    day = state.payout_day
    paid = _number(state.paid_that_day) if day else ""
    head = f"{state.coins} {state.diamonds} {_number(state.cash)} {len(day)}:{day} {paid}\n"
    hasher = (_FRESH or _fresh()).copy()
    hasher.update(head.encode())
    hasher.update(_lots_text(name, lots))
    digest: str = hasher.hexdigest()
    return digest


# The text of each account's lots as last digested, by name: (the lots, their lines as bytes).
_LOTS_TEXT: dict[str, tuple[tuple[Lot, ...], bytes]] = {}
_LOTS_TEXT_ACCOUNTS = 4096


def _lots_text(name: str, lots: tuple[Lot, ...]) -> bytes:
    """The lines of ``lots`` joined by newlines, as ``state_digest`` digests them.

    Made from the text of the account's lots digested before when the new lots
    are those with more at the end (a buy) or those without some at the front and
    the first maybe changed (a gift); else in full. Lots compare by value, and a
    lot's line is made from its value alone, so the text is always the lines of ``lots``.
    """
    seen = _LOTS_TEXT.get(name)
    text = None
    if seen is not None:
        old, old_text = seen
        if lots is old:
            return old_text
        before, now = len(old), len(lots)
        if now > before and lots[:before] == old:
            text = old_text + b"\n" + "\n".join([_lot_line(lot) for lot in lots[before:]]).encode()
        elif 1 < now <= before and lots[1:] == old[before - now + 1 :]:
            start = -1
            for _ in range(before - now + 1):  # past the lines of the lots drawn and the first one left
                start = old_text.index(b"\n", start + 1)
            text = _lot_line(lots[0]).encode() + old_text[start:]
    if text is None:
        text = "\n".join([_lot_line(lot) for lot in lots]).encode()
    if len(_LOTS_TEXT) >= _LOTS_TEXT_ACCOUNTS and name not in _LOTS_TEXT:
        _LOTS_TEXT.clear()
    _LOTS_TEXT[name] = (lots, text)
    return text


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
    from coinpurse.speedups.jsontext import compact_json

    payout = rates.payout
    values = [
        sorted(
            [
                c.name,
                _number(c.coin_price),
                c.custom_min,
                c.custom_max,
                sorted([p.coins, _number(p.price)] for p in c.packages),
            ]
            for c in rates.channels
        ),
        sorted([g.name.casefold(), g.name, g.coins] for g in rates.gifts),
        _number(rates.diamonds_per_coin),
        [
            _number(payout.cash_per_diamond),
            _number(payout.minimum),
            _number(payout.daily_maximum),
            _number(payout.fee_percent),
        ],
    ]
    if currency != _IMPLIED_CURRENCY:
        values.append(currency)
    if rates.review_days is not None:  # rates that never set it digest as they did before it existed
        values.append(f"review_days {rates.review_days}")
    fees = sorted(
        f"store_fee_percent {c.name} {_number(c.store_fee_percent)}"
        for c in rates.channels
        if c.store_fee_percent is not None
    )
    if fees:  # likewise: rates that set no store fee digest as they did before the key existed
        values.append(fees)
    digest = _digest(compact_json(values))
    _RATES_SEEN = (rates, currency, digest)
    return digest


def recorded_state(rates: Rates, states: Mapping[str, AccountState], currency: str, tree: AccountTree) -> RecordedState:
    """What a transaction records it leaves behind: the rates in force (with the currency), each changed
    account's state, and the root of every account's state (``tree`` is moved on to it)."""
    accounts = {name: account_digest(name, states[name]) for name in sorted(states)}
    tree.update(accounts)
    return RecordedState(rates_digest(rates, currency), accounts, tree.root())


# ----- the tree of every account's state ---------------------------------------------

BUCKETS = 4096  # an account's bucket: the first 12 bits of a digest of its name
_FAN = 16  # each node above the buckets digests 16 below it: 256 nodes, then 16, then the root
EMPTY_BUCKET = "0" * (2 * DIGEST_BYTES)
_BUCKET_NAMES: dict[str, int] = {}


def bucket_of(name: str) -> int:
    bucket = _BUCKET_NAMES.get(name)
    if bucket is None:
        bucket = int(_digest(name)[:3], 16)
        if len(_BUCKET_NAMES) >= 1 << 16:
            _BUCKET_NAMES.clear()
        _BUCKET_NAMES[name] = bucket
    return bucket


def bucket_digest(entries: Mapping[str, str]) -> str:
    """The digest of one bucket's accounts: a length-prefixed name and its state digest per line, by name."""
    return _bucket_node(entries).hex()


_EMPTY_NODE = bytes(DIGEST_BYTES)
_HEX_DIGITS = frozenset("0123456789abcdef")


def is_digest(value: object) -> bool:
    return isinstance(value, str) and len(value) == 2 * DIGEST_BYTES and _HEX_DIGITS.issuperset(value)


def _bucket_node(entries: Mapping[str, str]) -> bytes:
    if len(entries) == 1:  # most buckets: the text of one line, without a sort
        ((name, digest),) = entries.items()
        return _node(f"{len(name)}:{name} {digest}".encode())
    if not entries:
        return _EMPTY_NODE
    return _node("\n".join([f"{len(name)}:{name} {entries[name]}" for name in sorted(entries)]).encode())


class AccountTree:
    """Every account's state digest, by bucket, and the root the chain records over them.

    A store hands over the buckets' digests and a way to read one bucket's
    entries; a bucket read is refused unless its entries give its digest, so
    once the root matches the chain every entry read through the tree is one
    the chain vouches for. The nodes above the buckets are raw digests, made
    again only along the paths of the buckets that changed.
    """

    def __init__(self, digests: list[str], read_bucket: Callable[[int], dict[str, str]]) -> None:
        self._start([bytes.fromhex(digest) for digest in digests], read_bucket, {})

    def _start(
        self, buckets: list[bytes], read_bucket: Callable[[int], dict[str, str]], entries: dict[int, dict[str, str]]
    ) -> None:
        self._buckets = buckets  # BUCKETS of them: the store's, until one changes
        self._read_bucket = read_bucket
        self._entries = entries
        self._stale: set[int] = set()  # buckets whose digest must be made again
        self.changed: set[int] = set()  # buckets changed since the store last saved them
        self._levels = _levels_above(buckets)
        self._root = _node(b"".join(self._levels[0])).hex()

    @classmethod
    def of(cls, digests: Mapping[str, str]) -> AccountTree:
        """A whole tree in memory, from each account's state digest."""
        entries: dict[int, dict[str, str]] = {}
        for name, digest in digests.items():
            entries.setdefault(bucket_of(name), {})[name] = digest
        buckets = [_EMPTY_NODE] * BUCKETS
        for bucket, held in entries.items():
            buckets[bucket] = _bucket_node(held)
        tree = cls.__new__(cls)
        tree._start(buckets, _no_entries, entries)  # a bucket not held is empty, and its digest says so
        return tree

    def bucket_digests(self) -> list[str]:
        """Each bucket's digest, in hex, as a store keeps them."""
        self.root()
        return [node.hex() for node in self._buckets]

    def entries(self, bucket: int) -> dict[str, str]:
        held = self._entries.get(bucket)
        if held is None:
            held = self._read_bucket(bucket)
            for name, digest in held.items():  # each line of the bucket's text must be one entry, and in its bucket
                if not (isinstance(name, str) and is_digest(digest) and bucket_of(name) == bucket):
                    raise DamagedRecord(
                        f"the stored digests of the accounts in bucket {bucket} hold {name!r}: {digest!r}, "
                        f"which is not an account's state digest in that bucket; {VERIFY_HINT}"
                    )
            if _bucket_node(held) != self._buckets[bucket]:
                raise DamagedRecord(
                    f"the stored digests of the accounts in bucket {bucket} do not give the digest stored for it: "
                    f"they were changed outside coinpurse; {VERIFY_HINT}"
                )
            self._entries[bucket] = held
        return held

    def recorded(self, name: str) -> str | None:
        """The state digest the tree holds for ``name``; None for an account it does not hold."""
        return self.entries(bucket_of(name)).get(name)

    def update(self, digests: Mapping[str, str]) -> None:
        held_by, stale, buckets_of = self._entries, self._stale, _BUCKET_NAMES
        for name, digest in digests.items():
            bucket = buckets_of.get(name)
            if bucket is None:
                bucket = bucket_of(name)
            held = held_by.get(bucket)
            if held is None:
                held = self.entries(bucket)  # read and checked once
            held[name] = digest
            stale.add(bucket)

    def remove(self, names: Iterable[str]) -> None:
        """Take accounts out of the tree (``verify --after`` takes it back to before they were made)."""
        for name in names:
            bucket = bucket_of(name)
            if self.entries(bucket).pop(name, None) is not None:
                self._stale.add(bucket)

    def root(self) -> str:
        stale = self._stale
        if stale:
            buckets, entries = self._buckets, self._entries
            for bucket in stale:
                buckets[bucket] = _bucket_node(entries[bucket])
            self.changed |= stale
            self._stale = set()
            self._remake(stale)
        return self._root

    def _remake(self, stale: set[int]) -> None:
        """The nodes above the changed buckets, level by level, and the root."""
        fresh = _FRESH or _fresh()
        below: list[bytes] = self._buckets
        changed: set[int] | list[int] = stale
        join = b"".join
        for level in reversed(self._levels):
            parents = {child // _FAN for child in changed}
            for parent in parents:
                start = parent * _FAN
                hasher = fresh.copy()
                hasher.update(join(below[start : start + _FAN]))
                level[parent] = hasher.digest()
            below, changed = level, parents
        hasher = fresh.copy()
        hasher.update(join(self._levels[0]))
        self._root = hasher.hexdigest()

    def take_changed(self) -> dict[int, str]:
        """The buckets changed since the last call, with their digests, for the store to save."""
        self.root()
        changed = {bucket: self._buckets[bucket].hex() for bucket in sorted(self.changed)}
        self.changed = set()
        return changed


def _no_entries(bucket: int) -> dict[str, str]:
    return {}


def _node(data: bytes) -> bytes:
    hasher = (_FRESH or _fresh()).copy()
    hasher.update(data)
    node: bytes = hasher.digest()
    return node


def _fresh() -> Any:
    global _FRESH
    _FRESH = _blake2b()(digest_size=DIGEST_BYTES)
    return _FRESH


def _blake2b() -> Any:
    global _BLAKE2B
    from hashlib import blake2b

    _BLAKE2B = blake2b
    return blake2b


def _levels_above(buckets: list[bytes]) -> list[list[bytes]]:
    """The levels of nodes above the buckets, the root's children first."""
    levels: list[list[bytes]] = []
    below = buckets
    while len(below) > _FAN:
        below = [_node(b"".join(below[start : start + _FAN])) for start in range(0, len(below), _FAN)]
        levels.insert(0, below)
    return levels


_EMPTY_ROOT: list[str] = []  # made on first use


def empty_root() -> str:
    """The root a ledger with no accounts has."""
    if not _EMPTY_ROOT:
        _EMPTY_ROOT.append(AccountTree.of({}).root())
    return _EMPTY_ROOT[0]


def is_checkpoint(tx: Transaction) -> bool:
    return tx.kind == "rates" and tx.details.get("source") == CHECKPOINT_SOURCE


# ----- checks before a write --------------------------------------------------------


class HeadGuard:
    """A write's view of which stored accounts agree with the chain; the book asks it before the rules read one."""

    def __init__(self, book: Book, trusted: set[str]) -> None:
        self.book = book
        self.trusted = trusted  # checked against the chain, or written by this run

    def check(self, name: str) -> None:
        """Refuse unless the stored state of ``name`` (or its absence) is what the chain last recorded."""
        stored = self.book.stored_account(name)
        recorded = self.book.account_tree().recorded(name)
        if recorded is None and stored is None:
            self.trusted.add(name)  # a new account
            return
        if recorded is None:
            raise DamagedRecord(
                f"account {name!r} is stored, but no transaction in the history recorded it; {VERIFY_HINT}"
            )
        if stored is None:
            raise DamagedRecord(
                f"account {name!r} is missing from the stored accounts, but the history recorded it; {VERIFY_HINT}"
            )
        if state_digest(stored) != recorded:
            raise DamagedRecord(
                f"the stored state of account {name!r} is not the one the history last recorded: "
                f"it was changed outside coinpurse; {VERIFY_HINT}"
            )
        self.trusted.add(name)


def begin_write(book: Book) -> HeadGuard:
    """Check what a write builds on (once per book); returns the guard the book then consults."""
    length = book.head().length
    head_tx = book.transaction_at(length) if length else None
    legacy = head_tx is not None and (head_tx.state is None or head_tx.state.root is None)
    if legacy or book.history_check == HISTORY_FULL:
        _full_check(book)
        if legacy:
            assert head_tx is not None
            _append_checkpoint(book, head_tx)
        return HeadGuard(book, set(book.all_accounts()))  # verify_book found them equal to the replayed history
    if book.history_check == HISTORY_LINKS:
        _check_every_link(book)
    recorded_root = empty_root()
    if head_tx is not None:
        head_tx = _linked(book, length, "the last one")
        state = head_tx.state
        assert state is not None and state.root is not None  # else the ledger is one from before (above)
        if rates_digest(book.rates, book.currency) != state.rates:
            raise DamagedRecord(
                f"the rates in force are not the ones the last transaction {head_tx.id!r} (#{length}) recorded, "
                f"or the currency {book.currency} is not: "
                f"they were changed outside coinpurse; {VERIFY_HINT}"
            )
        recorded_root = state.root
    if book.account_tree().root() != recorded_root:
        _name_a_changed_account(book)
        where = "the last transaction" if head_tx is None else f"the last transaction {head_tx.id!r} (#{length})"
        raise DamagedRecord(
            f"the stored accounts are not the ones {where} recorded: "
            f"an account or its digest was changed outside coinpurse; {VERIFY_HINT}"
        )
    # A tree made from every stored account has just been checked whole: each of them agrees with the chain.
    return HeadGuard(book, set(book.all_accounts()) if book.tree_from_stored_accounts else set())


def _name_a_changed_account(book: Book) -> None:
    """On a tree that disagrees with the chain: refuse naming the first stored account whose last record differs."""
    length = book.head().length
    for name, stored in book.all_accounts().items():
        position = book.last_state_record(name, length)
        if position is None:
            raise DamagedRecord(
                f"account {name!r} is stored, but no transaction in the history recorded it; {VERIFY_HINT}"
            )
        tx = _linked(book, position, f"the last to record account {name!r}")
        if tx.state is None or tx.state.accounts.get(name) != state_digest(stored):
            raise DamagedRecord(
                f"the stored state of account {name!r} is not the one transaction {tx.id!r} (#{position}) recorded: "
                f"it was changed outside coinpurse; {VERIFY_HINT}"
            )


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
    from coinpurse.core.kinds import RatesDetails, RatesRecord

    accounts = book.all_accounts()
    payload = RatesRecord.made({}, book.rates, RatesDetails(CHECKPOINT_SOURCE, (), CHECKPOINT_REASON))
    tree = book.new_account_tree()
    tx = Transaction.sealed(
        book.next_auto_id(), head_tx.at, payload, (), {}, head_tx.hash,
        recorded_state(book.rates, accounts, book.currency, tree),
    )  # fmt: skip
    book.append(tx, {})
