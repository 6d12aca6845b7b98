"""A creator's statement for a span of time: balances at its edges, gifts, what was taken back, payouts.

``make_statement`` reads only what the span needs from a ``Book``: the creator's
transactions from the first position stamped at or after ``since`` to the last at
or before ``until`` (on SQLite, through the postings index), and the creator's
balances at those two edges (``Book.balance_within``). Every figure comes from
what each transaction recorded (a gift's diamonds, their worth at the payout rate
it recorded, what its coins cost the viewers), so a rates change never rewrites
an earlier statement. What refunds (with clawback) and reversals took back in the
span is listed and netted out of the diamonds earned and of the share of the
viewers' cash that reached the creator (``Share``).

The statement names the last transaction of the ledger in the span (its
``anchor``): the same ledger and span give the same statement, and
``verify --anchor HASH`` checks later that the chain still holds it.

Payouts are read by kind through ``PAYOUT_READERS``: each reader turns one
transaction of its kind into the creator's ``Payout`` rows with a ``status``
(a redeem is ``paid``), so another kind of payout is one function and one entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from coinpurse.core.book import Book
from coinpurse.core.kinds import Clawback, GiftRecord, RedeemRecord, RefundRecord, ReversalRecord
from coinpurse.core.model import Transaction
from coinpurse.core.money import ZERO, decimal_str, exact_arithmetic, money_str
from coinpurse.errors import BadInput

SHARE_STEP = Decimal("0.0001")  # as `rates` shows a channel's creator share
DEFAULT_TOP = 10  # gifters shown


class Anchor(NamedTuple):
    """A transaction a statement stands on: its id, time and hash."""

    id: str
    at: str
    hash: str

    @classmethod
    def of(cls, tx: Transaction) -> Anchor:
        return cls(tx.id, tx.at, tx.hash)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "hash": self.hash}


class Edge(NamedTuple):
    """The creator's coins and diamonds right after ``as_of``, the ledger's last transaction before an edge."""

    as_of: Anchor | None  # None: before the first transaction
    coins: int
    diamonds: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": None if self.as_of is None else {"id": self.as_of.id, "at": self.as_of.at},
            "coins": self.coins,
            "diamonds": self.diamonds,
        }


class GiftTotal(NamedTuple):
    """Gifts received, summed under one name: a gift, a stream (None: gifts sent outside any stream) or a gifter."""

    name: str | None
    gifts: int  # gift transactions (a gift of -n 5 counts once)
    items: int  # gifts sent, counting -n
    coins: int
    diamonds: int
    diamond_value: Decimal  # at the payout rate each gift recorded
    paid: Decimal  # what the viewers' coins of those gifts cost them (the lots drawn)

    def to_dict(self, key: str) -> dict[str, Any]:
        return {
            key: self.name, "gifts": self.gifts, "items": self.items, "coins": self.coins, "diamonds": self.diamonds,
            "diamond_value": money_str(self.diamond_value), "paid": money_str(self.paid),
        }  # fmt: skip


class TakenBack(NamedTuple):
    """Diamonds a refund's clawback or a reversal took back from the creator."""

    id: str
    kind: str  # refund or reversal
    at: str
    viewer: str  # whose purchase was refunded, or whose gift was reversed
    gifts: tuple[str, ...]  # the gifts whose diamonds went back
    diamonds: int
    diamond_value: Decimal  # at the payout rate those gifts recorded
    paid: Decimal  # what the viewer had paid for the coins those diamonds came from (the gifts' lots)
    reason: str | None  # a reversal's reason; None for a refund

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "at": self.at, "viewer": self.viewer, "gifts": list(self.gifts),
            "diamonds": self.diamonds, "diamond_value": money_str(self.diamond_value), "paid": money_str(self.paid),
            "reason": self.reason,
        }  # fmt: skip


class Payout(NamedTuple):
    """Diamonds turned into cash for the creator, or on the way to it."""

    id: str
    kind: str  # the transaction's kind: redeem, or a payout kind
    at: str
    status: str  # paid (a redeem); a held payout says so here
    diamonds: int
    cash: Decimal
    fee: Decimal
    net: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "at": self.at, "status": self.status, "diamonds": self.diamonds,
            "cash": money_str(self.cash), "fee": money_str(self.fee), "net": money_str(self.net),
        }  # fmt: skip


PayoutReader = Callable[[Transaction, str], Iterable[Payout]]


def _redeemed(tx: Transaction, creator: str) -> Iterable[Payout]:
    record = tx.payload
    if isinstance(record, RedeemRecord) and record.request.account == creator:
        d = record.details
        yield Payout(tx.id, tx.kind, tx.at, "paid", d.diamonds, d.cash, d.fee, d.net)


_HELD_STATUS = {
    "payout-hold": "held",
    "payout-approve": "paid",
    "payout-reject": "rejected",
    "payout-expire": "expired",
    "payout-return": "returned",
}


def _held(tx: Transaction, creator: str) -> Iterable[Payout]:
    """A held payout's steps: asked for (held), then paid, rejected, expired or sent back by the bank."""
    record: Any = tx.payload  # a PayoutHoldRecord, or a settlement (its details: kinds.SettleDetails)
    d = record.details
    account = record.request.account if tx.kind == "payout-hold" else d.account
    if account == creator:
        yield Payout(tx.id, tx.kind, tx.at, _HELD_STATUS[tx.kind], d.diamonds, d.cash, d.fee, d.net)


# A transaction's kind -> the creator's payouts in it. A new kind of payout adds its reader here.
PAYOUT_READERS: dict[str, PayoutReader] = {"redeem": _redeemed}
PAYOUT_READERS.update(dict.fromkeys(_HELD_STATUS, _held))


class Share(NamedTuple):
    """Of the cash viewers paid for the coins of the gifts received, how much reached the creator as diamonds.

    Both sides are net of what was taken back: a reversed gift's coins went back to the viewer and a
    refund gave the cash back, so neither the diamonds nor the cash of those coins count.
    """

    diamond_value: Decimal
    paid: Decimal

    @property
    @exact_arithmetic
    def ratio(self) -> Decimal | None:
        if self.paid <= 0:  # nothing paid, or more given back than paid (earlier gifts refunded)
            return None
        return (self.diamond_value / self.paid).quantize(SHARE_STEP, rounding=ROUND_HALF_UP)

    def to_dict(self) -> dict[str, Any]:
        ratio = self.ratio
        return {
            "diamond_value": money_str(self.diamond_value),
            "paid": money_str(self.paid),
            "share": None if ratio is None else decimal_str(ratio),
        }


class Statement(NamedTuple):
    """A creator's statement from ``since`` to ``until`` (stored times, inclusive; None: open-ended)."""

    account: str
    currency: str
    since: str | None
    until: str | None
    anchor: Anchor | None  # the ledger's last transaction at or before ``until``; None for an empty history then
    transactions: int  # the creator's transactions in the span
    opening: Edge
    closing: Edge
    gifts: GiftTotal  # every gift received (name None)
    by_gift: tuple[GiftTotal, ...]
    by_stream: tuple[GiftTotal, ...]
    top_gifters: tuple[GiftTotal, ...]
    gifters: int  # how many viewers sent gifts (top_gifters may show fewer)
    taken_back: tuple[TakenBack, ...]
    payouts: tuple[Payout, ...]  # empty for one live stream's statement: a payout belongs to no stream
    stream: str | None = None  # one live stream's gifts only (see ``make_statement``)

    @property
    def taken_back_diamonds(self) -> int:
        return sum(row.diamonds for row in self.taken_back)

    @property
    @exact_arithmetic
    def taken_back_value(self) -> Decimal:
        return sum((row.diamond_value for row in self.taken_back), ZERO)

    @property
    def diamonds_earned(self) -> int:
        """Diamonds received, less those taken back."""
        return self.gifts.diamonds - self.taken_back_diamonds

    @property
    @exact_arithmetic
    def earned_value(self) -> Decimal:
        return self.gifts.diamond_value - self.taken_back_value

    @property
    @exact_arithmetic
    def taken_back_paid(self) -> Decimal:
        return sum((row.paid for row in self.taken_back), ZERO)

    @property
    @exact_arithmetic
    def share(self) -> Share:
        return Share(self.earned_value, self.gifts.paid - self.taken_back_paid)

    @exact_arithmetic
    def payout_totals(self) -> dict[str, dict[str, Any]]:
        """The payouts summed by status (paid, and any other a payout kind records), in the order first met."""
        totals: dict[str, list[Any]] = {}
        for payout in self.payouts:
            row = totals.setdefault(payout.status, [0, 0, ZERO, ZERO, ZERO])
            row[0] += 1
            row[1] += payout.diamonds
            row[2] += payout.cash
            row[3] += payout.fee
            row[4] += payout.net
        return {
            status: {
                "count": count,
                "diamonds": diamonds,
                "cash": money_str(cash),
                "fee": money_str(fee),
                "net": money_str(net),
            }
            for status, (count, diamonds, cash, fee, net) in totals.items()
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "currency": self.currency,
            "since": self.since,
            "until": self.until,
            "anchor": None if self.anchor is None else self.anchor.to_dict(),
            "transactions": self.transactions,
            "opening": self.opening.to_dict(),
            "closing": self.closing.to_dict(),
            "gifts": {key: value for key, value in self.gifts.to_dict("name").items() if key != "name"},
            "by_gift": [row.to_dict("gift") for row in self.by_gift],
            "by_stream": [row.to_dict("stream") for row in self.by_stream],
            "top_gifters": [row.to_dict("account") for row in self.top_gifters],
            "gifters": self.gifters,
            "taken_back": {
                "items": [row.to_dict() for row in self.taken_back],
                "diamonds": self.taken_back_diamonds,
                "diamond_value": money_str(self.taken_back_value),
                "paid": money_str(self.taken_back_paid),
            },
            "diamonds_earned": {"diamonds": self.diamonds_earned, "diamond_value": money_str(self.earned_value)},
            "payouts": (
                None
                if self.stream is not None
                else {"items": [row.to_dict() for row in self.payouts], "totals": self.payout_totals()}
            ),
            "share": self.share.to_dict(),
            "stream": self.stream,
        }

    def to_json(self) -> dict[str, Any]:
        """The same as ``to_dict()``: the documented JSON shape."""
        return self.to_dict()


# ----- reading a statement from a book ---------------------------------------------


def check_window(since: str | None, until: str | None) -> None:
    if since is not None and until is not None and since > until:  # stored times sort as text
        raise BadInput(f"the span starts after it ends: --since {since} is later than --until {until}", code="bad_time")


@exact_arithmetic
def make_statement(
    book: Book, creator: str, since: str | None, until: str | None, top: int = DEFAULT_TOP, stream: str | None = None
) -> Statement:
    """``creator``'s statement from ``since`` to ``until`` (stored times, inclusive), read from ``book``.

    With ``stream``, only that live stream's: the gifts tagged with it, and what reversals and refunds'
    clawbacks took back of those gifts (read through ``Book.stream_within`` and the refunds, which are
    few); payouts belong to no stream and are left out. The opening and closing balances stay the
    creator's whole balances: a balance is one, whatever stream its diamonds came from.
    """
    check_window(since, until)
    if stream is None:  # by time: a store that reads from its end reads only the span and what its edges need
        found = book.stamped_within(since, until, creator)
    else:
        found = _stream_found(book, creator, stream, since, until)
    opening = Edge(None, 0, 0) if since is None else _edge(book, creator, since, inclusive=False)
    closing = _edge(book, creator, until, inclusive=True)
    return Statement(
        creator, book.currency, since, until, closing.as_of, len(found), opening, closing,
        *_gifts_received(found, creator, top), _taken_back(book, found, creator, stream),
        () if stream is not None else _payouts(found, creator), stream,
    )  # fmt: skip


def _stream_found(book: Book, creator: str, stream: str, since: str | None, until: str | None) -> list[Transaction]:
    """The creator's transactions of one live stream in the span: its gifts and their reversals, and the
    refunds that clawed back diamonds of those gifts, in the order of the history."""
    found = book.stream_stamped(stream, since, until, creator)
    refunds = [tx for tx, _ in clawbacks_of(book, since, until, creator, stream)]
    if not refunds:
        return found
    merged = {id(tx): tx for tx in [*found, *refunds]}  # a refund clawing back several gifts counts once
    return sorted(merged.values(), key=lambda tx: tx.at)  # times never go back along the history: a stable sort


def clawbacks_of(
    book: Book, since: str | None, until: str | None, creator: str | None = None, stream: str | None = None
) -> list[tuple[Transaction, Clawback]]:
    """The refunds' clawbacks stamped from ``since`` to ``until`` (inclusive), oldest first: of ``creator``'s
    gifts when given, and of the gifts of one live ``stream`` when given. Refunds are few: they are read by
    kind (SQLite's index of rare kinds, a JSON file's lines naming the kind), each clawed gift by its id."""
    rows: list[tuple[Transaction, Clawback]] = []
    streams: dict[str, str | None] = {}
    for tx in book.transactions(kind="refund"):
        if (since is not None and tx.at < since) or (until is not None and tx.at > until):
            continue
        record = tx.payload
        if not isinstance(record, RefundRecord):
            continue
        for claw in record.details.clawbacks:
            if creator is not None and claw.creator != creator:
                continue
            if stream is not None:
                if claw.gift not in streams:
                    gift = _gift(book, claw.gift)
                    streams[claw.gift] = None if gift is None else gift.details.stream
                if streams[claw.gift] != stream:
                    continue
            rows.append((tx, claw))
    return rows


def _edge(book: Book, creator: str, moment: str | None, inclusive: bool) -> Edge:
    """The creator's balance after the ledger's last transaction stamped at or before ``moment`` (before
    it, without ``inclusive``; None: the newest)."""
    last, balance = book.balance_stamped(creator, moment, inclusive)
    if last is None:
        return Edge(None, 0, 0)
    as_of = Anchor.of(last)
    return Edge(as_of, 0, 0) if balance is None else Edge(as_of, balance.coins, balance.diamonds)


def _gifts_received(
    found: Sequence[Transaction], creator: str, top: int
) -> tuple[GiftTotal, tuple[GiftTotal, ...], tuple[GiftTotal, ...], tuple[GiftTotal, ...], int]:
    every: list[Any] = [0, 0, 0, 0, ZERO, ZERO]
    by_gift: dict[str, list[Any]] = {}
    by_stream: dict[str | None, list[Any]] = {}
    by_sender: dict[str, list[Any]] = {}
    for tx in found:
        record = tx.payload
        if not isinstance(record, GiftRecord) or record.request.recipient != creator:
            continue
        d = record.details
        for row in (every, by_gift.setdefault(d.gift, [0, 0, 0, 0, ZERO, ZERO]),
                    by_stream.setdefault(d.stream, [0, 0, 0, 0, ZERO, ZERO]),
                    by_sender.setdefault(record.request.sender, [0, 0, 0, 0, ZERO, ZERO])):  # fmt: skip
            row[0] += 1
            row[1] += d.count
            row[2] += d.coins
            row[3] += d.diamonds
            row[4] += d.diamond_value
            row[5] += d.paid
    senders = _ranked(by_sender)
    return GiftTotal(None, *every), _ranked(by_gift), _ranked(by_stream), senders[:top], len(senders)


def _ranked(totals: dict[Any, list[Any]]) -> tuple[GiftTotal, ...]:
    """Most diamonds first; ties by name, gifts outside any stream last."""
    rows = [GiftTotal(name, *row) for name, row in totals.items()]
    return tuple(sorted(rows, key=lambda row: (-row.diamonds, row.name is None, row.name or "")))


def _taken_back(
    book: Book, found: Sequence[Transaction], creator: str, stream: str | None = None
) -> tuple[TakenBack, ...]:
    rows = []
    for tx in found:
        record = tx.payload
        if isinstance(record, RefundRecord):
            mine = [
                c for c in record.details.clawbacks
                if c.creator == creator and (stream is None or _stream_of_gift(book, c.gift) == stream)
            ]  # fmt: skip
            if mine:
                buy = record.request.buy
                paid = sum((_lot_cost(book, c.gift, buy) for c in mine), ZERO)
                rows.append(TakenBack(
                    tx.id, tx.kind, tx.at, record.details.account, tuple(c.gift for c in mine),
                    sum(c.diamonds for c in mine), sum((c.value for c in mine), ZERO), paid, None,
                ))  # fmt: skip
        elif isinstance(record, ReversalRecord) and record.details.recipient == creator:
            d = record.details
            gift = _gift(book, d.original)
            value = ZERO if gift is None else gift.details.diamond_value
            paid = sum((lot.cost for lot in d.lots), ZERO)  # the lots restored, as the gift drew them
            rows.append(TakenBack(tx.id, tx.kind, tx.at, d.sender, (d.original,), d.diamonds, value, paid, d.reason))
    return tuple(rows)


def _gift(book: Book, gift_id: str) -> GiftRecord | None:
    """A gift a refund or reversal names (those are few: one look-up each)."""
    found = book.find(gift_id)
    return found.payload if found is not None and isinstance(found.payload, GiftRecord) else None


def _stream_of_gift(book: Book, gift_id: str) -> str | None:
    gift = _gift(book, gift_id)
    return None if gift is None else gift.details.stream


def gift_lot_cost(book: Book, gift_id: str, buy: str) -> Decimal:
    """What the coins of a refunded buy's lot cost in a gift (``_lot_cost``), for the platform report."""
    return _lot_cost(book, gift_id, buy)


def _lot_cost(book: Book, gift_id: str, buy: str) -> Decimal:
    """What the coins of a refunded buy's lot cost in a gift: the gift drew them and recorded their cost."""
    gift = _gift(book, gift_id)
    return ZERO if gift is None else sum((lot.cost for lot in gift.details.lots if lot.source == buy), ZERO)


def _payouts(found: Sequence[Transaction], creator: str) -> tuple[Payout, ...]:
    rows: list[Payout] = []
    for tx in found:
        reader = PAYOUT_READERS.get(tx.kind)
        if reader is not None:
            rows.extend(reader(tx, creator))
    return tuple(rows)
