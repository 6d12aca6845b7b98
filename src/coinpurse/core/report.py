"""The platform report: what a span of history took in, paid out and kept, and what is owed at its end.

One pass over the transactions of the span (oldest first) adds each into the
totals of the whole span, of its period (a UTC day, ISO week or month), of its
channel and of its creator; nothing else of the history is kept. What is owed
(the liabilities) comes from the accounts' stored states, as they are after the
last transaction, rolled back through the transactions after the span when it
ends earlier.

The figures, where each comes from:

- cash in: what viewers paid for coins (``buy``), by channel;
- refunded: the cash a ``refund`` gave back; it also claws back diamonds;
- diamonds issued: those ``gift`` created, less those a ``reversal`` or a refund's
  clawback took back (each given on its own too);
- paid out: the cash creators received for diamonds (``redeem``: its net, after
  the fee, which the platform keeps);
- kept: cash in - paid out - refunded, and that as a percentage of cash in. The ledger books a
  buy's whole price to platform:revenue, so this includes what app stores took;
- store fees: what app stores took of the buys' prices, each buy's at the fee its rates recorded
  (``channel.CHANNEL.store_fee_percent``), rounded half up to the cent; a buy whose rates recorded
  none is counted in ``store_fee_unrecorded_buys`` and adds nothing (no fee is guessed). A refund
  gives back the whole price; whether a store returns its fee is not recorded, so it is not;
- kept after store fees: kept - store fees, what the platform itself kept.

Every amount is an exact ``Decimal``; percentages are rounded half up to two
places (``PERCENT_PLACES``), and are ``None`` when there is no cash in to divide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from coinpurse.core.kinds import (
    BuyRecord,
    GiftRecord,
    PayoutApproveRecord,
    PayoutHoldRecord,
    PayoutReturnRecord,
    RedeemRecord,
    RefundRecord,
    ReversalRecord,
    SponsorFundRecord,
    SponsorWithdrawRecord,
    WrongPart,
    record_from_dicts,
)
from coinpurse.core.model import DamagedRecord, Transaction
from coinpurse.core.money import ZERO, exact_arithmetic, tidy
from coinpurse.core.names import is_platform_account
from coinpurse.core.patterns import HASH_FORMAT, TIME_FORMAT
from coinpurse.core.rates import store_fee
from coinpurse.core.statement import Anchor
from coinpurse.errors import BadInput

if TYPE_CHECKING:
    from coinpurse.core.book import Book
    from coinpurse.core.model import AccountState

PERIODS = ("day", "week", "month")  # what --by takes
PERCENT_PLACES = Decimal("0.01")  # percentages are rounded half up to this
ROUNDING = "half up, to 0.01 percent"  # said in the JSON, so a reader knows how


def check_period(by: str) -> str:
    """``--by`` as a period name, or bad input (exit 2) naming the choices."""
    period = by.strip().casefold()
    if period not in PERIODS:
        raise BadInput(f"--by takes day, week or month, not {by!r}", code="bad_period")
    return period


def period_of(at: str, by: str) -> str:
    """The period a stored time falls in: ``2026-11-30`` (day), ``2026-W49`` (ISO week, Monday first), ``2026-11``."""
    if by == "day":
        return at[:10]
    if by == "month":
        return at[:7]
    year, week, _ = date.fromisoformat(at[:10]).isocalendar()
    return f"{year:04d}-W{week:02d}"


def _first_day(name: str, by: str) -> date:
    if by == "day":
        return date.fromisoformat(name)
    if by == "month":
        return date(int(name[:4]), int(name[5:7]), 1)
    return date.fromisocalendar(int(name[:4]), int(name[6:]), 1)


def periods_between(first: str, last: str, by: str) -> Iterator[str]:
    """Every period from ``first`` to ``last`` (inclusive), so a quiet period shows as one with nothing in it."""
    day = _first_day(first, by)
    end = _first_day(last, by)
    while day <= end:
        yield period_of(day.isoformat(), by)
        if by == "day":
            day += timedelta(days=1)
        elif by == "week":
            day += timedelta(days=7)
        else:
            day = date(day.year + day.month // 12, day.month % 12 + 1, 1)


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole``, rounded as ``ROUNDING`` says; None when ``whole`` is zero."""
    if not whole:
        return None
    return (part * 100 / whole).quantize(PERCENT_PLACES, rounding=ROUND_HALF_UP)


# ----- what the report holds: immutable, made once the pass is done -----------------------


class Figures(NamedTuple):
    """The platform's money over a span (the whole window, or one period of it)."""

    buys: int = 0
    coins_sold: int = 0
    cash_in: Decimal = ZERO  # what viewers paid
    refunds: int = 0
    refunded: Decimal = ZERO  # the cash refunds gave back
    gifts: int = 0
    diamonds_issued: int = 0  # by gifts
    diamonds_reversed: int = 0  # given back by reversals of gifts
    diamonds_clawed_back: int = 0  # taken back by refunds
    payouts: int = 0
    diamonds_redeemed: int = 0
    payout_cash: Decimal = ZERO  # the diamonds' cash before the fee
    payout_fees: Decimal = ZERO  # kept by the platform
    paid_out: Decimal = ZERO  # what creators received: payout_cash - payout_fees
    store_fees: Decimal = ZERO  # what app stores took of the buys' prices, at the fees the buys recorded
    store_fee_unrecorded_buys: int = 0  # buys whose rates recorded no store fee (made before the key existed)

    @property
    def diamonds_net(self) -> int:
        return self.diamonds_issued - self.diamonds_reversed - self.diamonds_clawed_back

    @property
    def kept(self) -> Decimal:
        return self.cash_in - self.paid_out - self.refunded

    @property
    def kept_percent(self) -> Decimal | None:
        return percent(self.kept, self.cash_in)

    @property
    def kept_after_store_fees(self) -> Decimal:
        return self.kept - self.store_fees

    @property
    def kept_after_store_fees_percent(self) -> Decimal | None:
        return percent(self.kept_after_store_fees, self.cash_in)


class Period(NamedTuple):
    name: str  # 2026-11-30, 2026-W49 or 2026-11
    figures: Figures


class ChannelFigures(NamedTuple):
    """Coins sold and cash taken on one sales channel (app, web ...), and what refunds of its buys gave back."""

    channel: str
    buys: int
    coins_sold: int
    cash_in: Decimal
    refunds: int
    refunded: Decimal
    store_fees: Decimal = ZERO  # what the channel's app store took of its buys' prices
    store_fee_unrecorded_buys: int = 0  # its buys whose rates recorded no store fee

    @property
    def net(self) -> Decimal:
        """What reached the platform of the channel's cash in, once its store was paid."""
        return self.cash_in - self.store_fees


class CreatorFigures(NamedTuple):
    """What one creator earned over the window: diamonds (net of those taken back) and cash paid out."""

    account: str
    gifts: int  # gifts received
    diamonds_received: int
    diamonds_taken_back: int  # by reversals and refunds' clawbacks
    payouts: int
    diamonds_redeemed: int
    paid_out: Decimal
    share_of_viewer_cash: Decimal | None  # paid_out as a percentage of the window's cash in

    @property
    def diamonds(self) -> int:
        return self.diamonds_received - self.diamonds_taken_back


class SponsorFigures(NamedTuple):
    """What one sponsor's budget took in and paid over the window, and what its bonuses bought."""

    sponsor: str
    funded: Decimal
    withdrawn: Decimal
    bonuses: int  # gifts whose bonus the budget paid
    bonus_diamonds: int
    spent: Decimal  # the bonuses' cash, at the payout rate each gift recorded
    returned: Decimal  # bonus cash back from reversals and refunds' clawbacks
    creators: int  # creators its bonuses reached


class PendingPayouts(NamedTuple):
    """Payouts asked for but held, not yet settled: how many, and the cash they fixed (see ``pending_payouts``)."""

    payouts: int = 0
    cash: Decimal = ZERO
    # Holds expired by then whose release (payout-expire) is not recorded yet: (creator, diamonds). Their
    # diamonds are the creator's again, as ``balance`` counts them, though still on the pending account.
    released: tuple[tuple[str, int], ...] = ()


class Liabilities(NamedTuple):
    """What the platform owes at the window's end."""

    coins: int  # unspent, held by users
    coin_cost: Decimal  # what those coins cost, first in first out (the lots they are in)
    diamonds: int  # unredeemed, held by users (those who hold some)
    diamonds_owed: int  # diamonds users owe back after a refund's clawback (not netted against the above)
    cash_per_diamond: Decimal  # the payout rate in force now
    diamond_value: Decimal  # diamonds × cash_per_diamond
    pending: PendingPayouts

    @property
    def total(self) -> Decimal:
        return self.coin_cost + self.diamond_value + self.pending.cash


class PlatformReport(NamedTuple):
    since: str | None
    until: str | None
    by: str
    currency: str
    totals: Figures
    periods: tuple[Period, ...]  # every period from the first with a transaction to the last, oldest first
    channels: tuple[ChannelFigures, ...]  # by name
    creators: tuple[CreatorFigures, ...]  # most diamonds first, then most paid out, then by name
    liabilities: Liabilities  # as at ``until``; without it, after the last transaction
    sponsors: tuple[SponsorFigures, ...] = ()  # by name: the sponsors whose budget moved in the window
    anchor: Anchor | None = None  # the ledger's last transaction at or before ``until`` (see ``anchor_of``)
    stream: StreamFigures | None = None  # a report of one live stream's gifts (see ``stream_report``)


# ----- the pass ---------------------------------------------------------------------------


class _Tally:
    """Running totals of one span (mutable while the pass adds to them), frozen into ``Figures``."""

    __slots__ = Figures._fields

    def __init__(self) -> None:
        self.buys = self.coins_sold = self.refunds = self.gifts = self.payouts = 0
        self.diamonds_issued = self.diamonds_reversed = self.diamonds_clawed_back = self.diamonds_redeemed = 0
        self.cash_in = self.refunded = self.payout_cash = self.payout_fees = self.paid_out = ZERO
        self.store_fees = ZERO
        self.store_fee_unrecorded_buys = 0

    def frozen(self) -> Figures:
        return Figures(*(getattr(self, name) for name in Figures._fields))


class _Creator:
    __slots__ = ("diamonds_received", "diamonds_redeemed", "diamonds_taken_back", "gifts", "paid_out", "payouts")

    def __init__(self) -> None:
        self.gifts = self.diamonds_received = self.diamonds_taken_back = self.payouts = self.diamonds_redeemed = 0
        self.paid_out = ZERO


class _Rollback:
    """What the transactions after the window changed, to take back off the accounts' states now."""

    def __init__(self) -> None:
        self.coins = 0
        self.coin_cost = ZERO
        self.diamonds: dict[str, int] = {}  # by account: whether one held or owed diamonds depends on each one's

    def add(self, record: Any) -> None:
        """Take a transaction's changes to users' coins, their cost and diamonds (as its postings make them)."""
        diamonds = self.diamonds
        if isinstance(record, BuyRecord):
            self.coins += record.request.coins
            self.coin_cost += record.details.price
        elif isinstance(record, GiftRecord):
            d = record.details
            self.coins -= d.coins
            self.coin_cost -= d.paid
            bonus = d.diamonds + (d.bonus.paid_diamonds if d.bonus is not None else 0)
            diamonds[record.request.recipient] = diamonds.get(record.request.recipient, 0) + bonus
        elif isinstance(record, RedeemRecord):
            diamonds[record.request.account] = diamonds.get(record.request.account, 0) - record.details.diamonds
        elif isinstance(record, ReversalRecord):
            v = record.details
            self.coins += v.coins
            for lot in v.lots:
                self.coin_cost += lot.cost
            back = v.diamonds + (v.bonus.diamonds if v.bonus is not None else 0)
            diamonds[v.recipient] = diamonds.get(v.recipient, 0) - back
        elif isinstance(record, PayoutHoldRecord):  # its diamonds leave the creator for pending
            diamonds[record.request.account] = diamonds.get(record.request.account, 0) - record.details.diamonds
        elif record.kind in ("payout-reject", "payout-expire", "payout-return"):  # they come back
            diamonds[record.details.account] = diamonds.get(record.details.account, 0) + record.details.diamonds
        elif isinstance(record, RefundRecord):
            f = record.details
            self.coins -= f.unspent
            self.coin_cost -= f.unspent_cost
            for claw in f.clawbacks:
                diamonds[claw.creator] = diamonds.get(claw.creator, 0) - claw.diamonds - claw.bonus_back


_READ_KINDS = frozenset(
    {"buy", "gift", "redeem", "refund", "reversal", "sponsor-fund", "sponsor-withdraw"}
    | {"payout-hold", "payout-approve", "payout-reject", "payout-expire", "payout-return"}
)  # the kinds that move what the report counts


def read_record(position: int, record: Any) -> tuple[str, Any]:
    """A stored record's time and typed payload (``core.kinds``), checking only those; None for a kind the
    report does not count (rates changes, kinds this version does not know). ``DamagedRecord`` if unreadable."""
    if isinstance(record, Transaction):
        return record.at, record.payload if record.kind in _READ_KINDS else None
    what = f"transaction {position}"
    if record.__class__ is not dict:
        raise DamagedRecord(f"{what} is not a table")
    at, kind = record.get("at"), record.get("kind")
    if at.__class__ is not str or not TIME_FORMAT.fullmatch(at):
        raise DamagedRecord(f"{what}: its time {at!r} is not a stored time")
    if kind not in _READ_KINDS:
        return at, None
    try:
        return at, record_from_dicts(kind, record.get("request"), record.get("rates"), record.get("details"))
    except WrongPart as wrong:
        raise DamagedRecord(f"{what} ({record.get('id')!r}): {wrong.part} is not what a {kind} records") from None


ChannelOf = Callable[[str], "str | None"]  # (buy id) -> the channel of that buy, or None when it can't be found
UNKNOWN_CHANNEL = "(unknown)"  # a refund's buy that can't be found (not in this ledger)


@exact_arithmetic
def build_report(
    records: Iterable[tuple[int, Any]],
    accounts: Iterable[tuple[str, AccountState]],
    *,
    since: str | None,
    until: str | None,
    by: str,
    currency: str,
    cash_per_diamond: Decimal,
    channel_of: ChannelOf,
    pending: PendingPayouts,
) -> PlatformReport:
    """The report of the stored ``records`` from ``since`` on (``Book.records_from``: oldest first; those
    after ``until`` only roll the liabilities back), with ``accounts`` the states after the last of them.

    Its anchor is the last of the records at or before ``until``; None when there is none from ``since`` on
    (the caller then looks before ``since``: see ``Ledger.report``)."""
    total = _Tally()
    periods: dict[str, _Tally] = {}
    channels: dict[str, list[Any]] = {}  # name -> [buys, coins, cash, refunds, refunded, store fees, unrecorded]
    creators: dict[str, _Creator] = {}
    sponsors: dict[str, list[Any]] = {}  # name -> [funded, withdrawn, bonuses, diamonds, spent, returned, creators]
    rollback = _Rollback()
    fees: dict[tuple[Decimal, Decimal], Decimal] = {}  # (price, store fee percent) -> the store's fee
    refunded_buys: list[tuple[str, Decimal]] = []  # refunds are few; each one's channel is its buy's
    seen_day, seen_period = "", ""  # the period of the last day met: most transactions share their neighbour's
    tally = total

    def creator(name: str) -> _Creator:
        found = creators.get(name)
        if found is None:
            found = creators[name] = _Creator()
        return found

    def sponsor(name: str) -> list[Any]:
        found = sponsors.get(name)
        if found is None:
            found = sponsors[name] = [ZERO, ZERO, 0, 0, ZERO, ZERO, set()]
        return found

    last: tuple[int, Any] | None = None  # the last stored record at or before ``until``: the anchor
    for position, stored in records:
        at, record = read_record(position, stored)
        if until is not None and at > until:
            if record is not None:
                rollback.add(record)
            continue
        last = position, stored
        if record is None:
            continue
        if at[:10] != seen_day:
            seen_day = at[:10]
            name = period_of(at, by)
            if name != seen_period:
                seen_period = name
                tally = periods.get(name) or periods.setdefault(name, _Tally())
        if isinstance(record, GiftRecord):
            d = record.details
            for t in (total, tally):
                t.gifts += 1
                t.diamonds_issued += d.diamonds
            c = creator(record.request.recipient)
            c.gifts += 1
            c.diamonds_received += d.diamonds
            if d.bonus is not None and d.bonus.paid:  # the sponsor's bonus diamonds are issued with the gift's
                b = d.bonus
                for t in (total, tally):
                    t.diamonds_issued += b.diamonds
                c.diamonds_received += b.diamonds
                budget = sponsor(b.sponsor)
                budget[2] += 1
                budget[3] += b.diamonds
                budget[4] += b.cash
                budget[6].add(record.request.recipient)
        elif isinstance(record, BuyRecord):
            price, coins = record.details.price, record.request.coins
            fee_percent = record.rates.store_fee_percent
            fee = ZERO
            if fee_percent is not None:  # buys repeat a few package prices: each fee is worked out once
                known = fees.get((price, fee_percent))
                fee = fees[price, fee_percent] = store_fee(price, fee_percent) if known is None else known
            unrecorded = 1 if fee_percent is None else 0
            for t in (total, tally):
                t.buys += 1
                t.coins_sold += coins
                t.cash_in += price
                t.store_fees += fee
                t.store_fee_unrecorded_buys += unrecorded
            row = channels.get(record.rates.channel)
            if row is None:
                row = channels[record.rates.channel] = [0, 0, ZERO, 0, ZERO, ZERO, 0]
            row[0] += 1
            row[1] += coins
            row[2] += price
            row[5] += fee
            row[6] += unrecorded
        elif isinstance(record, RedeemRecord):
            r = record.details
            for t in (total, tally):
                t.payouts += 1
                t.diamonds_redeemed += r.diamonds
                t.payout_cash += r.cash
                t.payout_fees += r.fee
                t.paid_out += r.net
            c = creator(record.request.account)
            c.payouts += 1
            c.diamonds_redeemed += r.diamonds
            c.paid_out += r.net
        elif isinstance(record, (PayoutApproveRecord, PayoutReturnRecord)):  # a held payout paid, or sent back
            p, sign = record.details, 1 if isinstance(record, PayoutApproveRecord) else -1
            for t in (total, tally):
                t.payouts += sign
                t.diamonds_redeemed += sign * p.diamonds
                t.payout_cash += sign * p.cash
                t.payout_fees += sign * p.fee
                t.paid_out += sign * p.net
            c = creator(p.account)
            c.payouts += sign
            c.diamonds_redeemed += sign * p.diamonds
            c.paid_out += sign * p.net
        elif isinstance(record, RefundRecord):
            f = record.details
            clawed = 0
            for claw in f.clawbacks:
                clawed += claw.diamonds + claw.bonus_back
                if claw.diamonds or claw.bonus_back:
                    creator(claw.creator).diamonds_taken_back += claw.diamonds + claw.bonus_back
                if claw.sponsor is not None:
                    sponsor(claw.sponsor)[5] += claw.bonus_cash
            for t in (total, tally):
                t.refunds += 1
                t.refunded += f.price
                t.diamonds_clawed_back += clawed
            refunded_buys.append((record.request.buy, f.price))
        elif isinstance(record, ReversalRecord):
            v = record.details
            back = v.diamonds + (v.bonus.diamonds if v.bonus is not None else 0)
            for t in (total, tally):
                t.diamonds_reversed += back
            creator(v.recipient).diamonds_taken_back += back
            if v.bonus is not None:
                sponsor(v.bonus.sponsor)[5] += v.bonus.cash
        elif isinstance(record, SponsorWithdrawRecord):  # before its base class, a fund
            sponsor(record.details.sponsor)[1] += record.details.cash
        elif isinstance(record, SponsorFundRecord):
            sponsor(record.details.sponsor)[0] += record.details.cash
    for buy, price in refunded_buys:  # after the pass: a store may read its whole history to find a buy
        channel = channel_of(buy) or UNKNOWN_CHANNEL
        row = channels.get(channel)
        if row is None:
            row = channels[channel] = [0, 0, ZERO, 0, ZERO, ZERO, 0]
        row[3] += 1
        row[4] += price
    totals = total.frozen()
    filled: tuple[Period, ...] = ()
    if periods:
        names = list(periods)  # met in time order
        empty = Figures()
        filled = tuple(
            Period(name, periods[name].frozen() if name in periods else empty)
            for name in periods_between(names[0], names[-1], by)
        )
    cash_in = totals.cash_in
    creator_rows = sorted(
        (
            CreatorFigures(
                name, c.gifts, c.diamonds_received, c.diamonds_taken_back, c.payouts, c.diamonds_redeemed,
                tidy(c.paid_out), percent(c.paid_out, cash_in),
            )
            for name, c in creators.items()
        ),
        key=lambda row: (-row.diamonds, -row.paid_out, row.account),
    )  # fmt: skip
    channel_rows = tuple(ChannelFigures(name, *row) for name, row in sorted(channels.items()))
    liabilities = _liabilities(accounts, rollback, cash_per_diamond, pending)
    sponsor_rows = tuple(
        SponsorFigures(name, tidy(row[0]), tidy(row[1]), row[2], row[3], tidy(row[4]), tidy(row[5]), len(row[6]))
        for name, row in sorted(sponsors.items())
    )
    return PlatformReport(
        since, until, by, currency, totals, filled, channel_rows, tuple(creator_rows), liabilities, sponsor_rows,
        None if last is None else anchor_of(*last),
    )  # fmt: skip


def anchor_of(position: int, stored: Any) -> Anchor:
    """The id, time and hash of a stored record (as ``Book.records_from`` gives it), checking the two not read yet."""
    if isinstance(stored, Transaction):
        return Anchor.of(stored)
    tx_id, at, tx_hash = stored.get("id"), stored["at"], stored.get("hash")
    if tx_id.__class__ is not str or tx_hash.__class__ is not str or not HASH_FORMAT.fullmatch(tx_hash):
        raise DamagedRecord(f"transaction {position}: its id {tx_id!r} or hash {tx_hash!r} is not what is stored")
    return Anchor(tx_id, at, tx_hash)


def _liabilities(
    accounts: Iterable[tuple[str, AccountState]],
    rollback: _Rollback,
    cash_per_diamond: Decimal,
    pending: PendingPayouts,
) -> Liabilities:
    coins, cost, held, owed = -rollback.coins, -rollback.coin_cost, 0, 0
    later = rollback.diamonds
    released: dict[str, int] = {}
    for creator, back in pending.released:
        released[creator] = released.get(creator, 0) + back
    for name, state in accounts:
        if is_platform_account(name):
            continue
        coins += state.coins
        for lot in state.lots:
            cost += lot.cost
        diamonds = state.diamonds - later.get(name, 0) if later else state.diamonds
        if released:
            diamonds += released.get(name, 0)
        if diamonds > 0:
            held += diamonds
        else:
            owed -= diamonds
    return Liabilities(coins, tidy(cost), held, owed, cash_per_diamond, tidy(held * cash_per_diamond), pending)


def pending_payouts(book: Book, at: str | None) -> PendingPayouts:
    """Payouts held and not yet settled at ``at`` (without it: now): the one place that reads them.

    A hold asked for by then counts unless an approval, rejection or recorded expiry came by then,
    or its review ran out by then: an expired hold's diamonds are the creator's again, and until its
    release is written they are listed in ``released``, for the liabilities to count as the creator's.
    """
    from coinpurse.core import clock
    from coinpurse.core.payouts import every_status

    when = at or clock.now()
    count, cash = 0, ZERO
    released: list[tuple[str, int]] = []
    for status in every_status(book, when):
        held = status.record.details
        if status.hold.at > when:
            continue
        settled = status.settled_by
        if settled is not None and settled.at <= when:
            continue
        if held.expires <= when:  # expired, its release not written by then: the creator's diamonds again
            released.append((status.record.request.account, held.diamonds))
            continue
        count += 1
        cash += held.cash
    return PendingPayouts(count, tidy(cash), tuple(released))


# ----- one live stream's report -------------------------------------------------------------


class StreamFigures(NamedTuple):
    """What one live stream's gifts in the window took from the viewers and gave the creators.

    ``paid`` is what the viewers' coins of those gifts cost them (the lots drawn), ``diamond_value`` the
    gifts' diamonds at the payout rate each recorded; what reversals and refunds' clawbacks took back of
    the stream's gifts is netted out of both, and the platform's take is the rest of the cash.
    """

    stream: str
    gifts: int
    items: int  # gifts sent, counting -n
    coins: int
    diamonds: int  # the gifts' own diamonds (a sponsor's bonus diamonds are not the viewers')
    bonus_diamonds: int  # paid by sponsors' budgets with the stream's gifts
    paid: Decimal
    diamond_value: Decimal
    diamonds_taken_back: int  # by reversals and refunds' clawbacks of the stream's gifts
    paid_back: Decimal  # of ``paid``, what the viewers got back (the coins or the cash of the gifts taken back)
    value_taken_back: Decimal
    creators: int  # creators its gifts reached

    @property
    def diamonds_net(self) -> int:
        return self.diamonds - self.diamonds_taken_back

    @property
    def paid_net(self) -> Decimal:
        return self.paid - self.paid_back

    @property
    def value_net(self) -> Decimal:
        return self.diamond_value - self.value_taken_back

    @property
    def platform_take(self) -> Decimal:
        return self.paid_net - self.value_net

    @property
    def platform_take_percent(self) -> Decimal | None:
        return percent(self.platform_take, self.paid_net)


LEFT_OUT_OF_A_STREAM = ("buys", "payouts", "refunded cash", "liabilities")  # they belong to no stream


@exact_arithmetic
def stream_report(
    book: Book, stream: str, since: str | None, until: str | None, by: str, anchor: Anchor | None
) -> PlatformReport:
    """The report of one live stream's gifts from ``since`` to ``until``: those gifts, the reversals of them
    and the refunds' clawbacks of them (``Book.stream_within``, SQLite's index of gifts by stream; refunds
    are few). Buys, payouts, a refund's cash and the liabilities belong to no stream: they are left out
    (no channels, no payouts, the liabilities all zero); a refund counts for its clawbacks of the stream's
    gifts only. ``anchor`` is the ledger's last transaction at or before ``until``, as the whole report's."""
    from coinpurse.core.statement import clawbacks_of, gift_lot_cost

    found = book.stream_stamped(stream, since, until)
    clawbacks = clawbacks_of(book, since, until, stream=stream)
    made = build_report(
        ((0, tx) for tx in found), (), since=since, until=until, by=by, currency=book.currency,
        cash_per_diamond=book.rates.payout.cash_per_diamond, channel_of=lambda _: None, pending=PendingPayouts(),
    )  # fmt: skip
    gifts: dict[str, GiftRecord] = {}
    row: list[Any] = [0, 0, 0, 0, 0, ZERO, ZERO, 0, ZERO, ZERO]
    reached: set[str] = set()
    for tx in found:
        record = tx.payload
        if isinstance(record, GiftRecord):
            d = record.details
            gifts[tx.id] = record
            reached.add(record.request.recipient)
            bonus = d.bonus.diamonds if d.bonus is not None and d.bonus.paid else 0
            for index, amount in enumerate((1, d.count, d.coins, d.diamonds, bonus, d.paid, d.diamond_value)):
                row[index] += amount
        elif isinstance(record, ReversalRecord):
            v = record.details
            gift = gifts.get(v.original) or _gift_record(book, v.original)
            row[7] += v.diamonds
            row[8] += sum((lot.cost for lot in v.lots), ZERO)
            row[9] += ZERO if gift is None else gift.details.diamond_value
    for tx, claw in clawbacks:
        refund = tx.payload
        row[7] += claw.diamonds
        row[8] += gift_lot_cost(book, claw.gift, refund.request.buy) if isinstance(refund, RefundRecord) else ZERO
        row[9] += claw.value
    gifts_, items, coins, diamonds, bonus = row[:5]
    figures = StreamFigures(
        stream,
        gifts_,
        items,
        coins,
        diamonds,
        bonus,
        tidy(row[5]),
        tidy(row[6]),
        row[7],
        tidy(row[8]),
        tidy(row[9]),
        len(reached),
    )
    made = _with_clawbacks(made, clawbacks)
    return made._replace(channels=(), anchor=anchor, stream=figures)


def _gift_record(book: Book, gift_id: str) -> GiftRecord | None:
    found = book.find(gift_id)
    return found.payload if found is not None and isinstance(found.payload, GiftRecord) else None


def _with_clawbacks(made: PlatformReport, clawbacks: list[tuple[Transaction, Any]]) -> PlatformReport:
    """The report with the clawbacks of the stream's gifts added in: diamonds clawed back in the totals and
    each one's period, taken back from each creator, bonus cash back to each sponsor."""
    if not clawbacks:
        return made
    by = made.by
    periods = {p.name: p.figures for p in made.periods}
    creators = {c.account: c for c in made.creators}
    sponsors = {b.sponsor: b for b in made.sponsors}
    totals = made.totals
    for tx, claw in clawbacks:
        back = claw.diamonds + claw.bonus_back
        totals = totals._replace(diamonds_clawed_back=totals.diamonds_clawed_back + back)
        name = period_of(tx.at, by)
        figures = periods.get(name, Figures())
        periods[name] = figures._replace(diamonds_clawed_back=figures.diamonds_clawed_back + back)
        c = creators.get(claw.creator) or CreatorFigures(claw.creator, 0, 0, 0, 0, 0, ZERO, None)
        creators[claw.creator] = c._replace(diamonds_taken_back=c.diamonds_taken_back + back)
        if claw.sponsor is not None:
            b = sponsors.get(claw.sponsor) or SponsorFigures(claw.sponsor, ZERO, ZERO, 0, 0, ZERO, ZERO, 0)
            sponsors[claw.sponsor] = b._replace(returned=tidy(b.returned + claw.bonus_cash))
    names = sorted(periods)  # period names sort as their times do
    filled = tuple(Period(name, periods.get(name, Figures())) for name in periods_between(names[0], names[-1], by))
    ranked = sorted(creators.values(), key=lambda row: (-row.diamonds, -row.paid_out, row.account))
    return made._replace(
        totals=totals,
        periods=filled,
        creators=tuple(ranked),
        sponsors=tuple(sponsors[name] for name in sorted(sponsors)),
    )
