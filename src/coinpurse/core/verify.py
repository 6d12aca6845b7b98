"""The ledger checks itself: rebuild every balance from the history and compare.

``verify_book`` walks the whole history of any ``Book`` once, oldest first:

- it checks each transaction's structure, that its id is new, that its time is
  not earlier than the one before, that its hash links it to the one before, and
  that its postings balance per commodity;
- it runs the transaction's request through the rules again, against the
  balances rebuilt so far and at the rates the transaction recorded, and
  compares postings, details and balances-after with what is stored (this also
  re-checks every payout's minimum and daily maximum);
- it checks that the gift, package or payout rules it recorded were the rates in
  force at its time;
- it checks that a refund's lineage (its buy, and the gifts that spent the buy's
  coins, less those reversed) is what the buy and gift records before it give:
  the refunds are read ahead by kind, and only their buys are followed as the
  history streams past (``RefundLineages``);
- it advances the rebuilt balances with the states the rules made of it (the
  same rule code that recorded it: there is no second engine here), checks that
  the ``state`` the transaction recorded is the digest of the rates and of each
  changed account the replay gives, and at the end compares the rebuilt balances
  and rates with the stored ones (so the head agrees with the chain's last records);
- with anchors (hashes noted earlier, outside the file), it checks that the
  chain holds a transaction with each: a history rewritten before an anchor,
  however consistently, no longer does.

Each check is a small function returning its problems as data, run from one
list (``TRANSACTION_CHECKS`` per transaction, ``LEDGER_CHECKS`` at the end). The
report lists problems in the order found, and the first one names the first
transaction that is wrong. Nothing here raises on a bad ledger. A kind this
module does not know is reported, not crashed on; ``KIND_CHECKS`` is the hook
for new kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, NamedTuple

from coinpurse.core import requests as rq
from coinpurse.core.book import Book, MemoryBook, record_transaction
from coinpurse.core.chain import AccountTree, account_digest, is_checkpoint, rates_digest, state_digest
from coinpurse.core.kinds import (
    PAYOUT_KINDS,
    RULED_RECORDS,
    BuyRecord,
    GiftRecord,
    PayoutApproveRecord,
    PayoutExpireRecord,
    PayoutHoldRecord,
    PayoutRejectRecord,
    PayoutReturnRecord,
    RatesRecord,
    RedeemRecord,
    RefundRecord,
    ReversalRecord,
    payout_to_dict,
)
from coinpurse.core.model import (
    GENESIS_HASH,
    AccountState,
    DamagedRecord,
    Lot,
    Transaction,
    chain_hash,
    sums_by_commodity,
)
from coinpurse.core.money import COIN, DIAMOND, MAX_UNITS, ZERO, decimal_str
from coinpurse.core.patterns import HASH_FORMAT as _HASH
from coinpurse.core.patterns import ID_FORMAT as _ID
from coinpurse.core.patterns import TIME_FORMAT as _AT
from coinpurse.core.rates import Channel, Payout, Rates, rates_from_dict
from coinpurse.core.rates_edit import diff, edited
from coinpurse.core.rules import RULES, Plan, balances_after, posted_states
from coinpurse.core.rules import _check_limits as check_limits
from coinpurse.errors import CoinpurseError

RATES_KIND = "rates"  # a rates change; its details hold the new rates under "rates" (or "to")
MAX_PROBLEMS = 50  # enough to see a pattern, short enough to read


@dataclass(frozen=True)
class Problem:
    """One thing that is wrong: in a transaction (``tx_id``) or in a stored account."""

    code: str
    message: str
    tx_id: str | None = None
    position: int | None = None  # 1-based place in the history
    account: str | None = None

    def where(self) -> str:
        if self.tx_id is not None:
            return f"transaction {self.tx_id!r} (#{self.position})"
        if self.position is not None:
            return f"transaction #{self.position}"
        if self.account is not None:
            return f"account {self.account!r}"
        return "ledger"

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "transaction": self.tx_id,
            "position": self.position,
            "account": self.account,
        }


@dataclass(frozen=True)
class Anchor:
    """A hash noted outside the ledger, and the transaction of the chain that has it (None: none has)."""

    hash: str
    tx_id: str | None = None
    position: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"hash": self.hash, "transaction": self.tx_id, "position": self.position}


@dataclass(frozen=True)
class After:
    """``verify --after``: the transaction named by its hash, trusted with everything before it, and how much came after."""

    hash: str
    tx_id: str | None = None
    position: int | None = None  # None: no transaction of the chain has that hash
    checked: int = 0  # the transactions after it, checked
    whole: bool = False  # the states at it could not be proven, so the whole chain was checked instead

    def to_dict(self) -> dict[str, Any]:
        return {
            "hash": self.hash,
            "transaction": self.tx_id,
            "position": self.position,
            "trusted": self.position or 0,
            "checked": self.checked,
            "whole_chain": self.whole,
        }


@dataclass(frozen=True)
class VerifyReport:
    transactions: int
    accounts: int
    head_hash: str
    problems: tuple[Problem, ...] = ()
    truncated: bool = False  # more problems than MAX_PROBLEMS were found
    anchors: tuple[Anchor, ...] = ()
    after: After | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        if self.ok:
            anchored = "".join(f"; anchor {a.hash[:12]}… is {a.tx_id!r} (#{a.position})" for a in self.anchors)
            trusted = ""
            if self.after is not None and not self.after.whole:
                a = self.after
                trusted = (
                    f"; trusted up to {a.tx_id!r} (#{a.position:,}, hash {a.hash[:12]}…), "
                    f"checked the {a.checked:,} after it"
                )
            elif self.after is not None:
                trusted = f"; checked the whole chain, as the states at {self.after.tx_id!r} (#{self.after.position:,}) could not be proven"
            return (
                f"ok: {self.transactions:,} transactions, {self.accounts:,} accounts, "
                f"head hash {self.head_hash}{trusted}{anchored}"
            )
        first = self.problems[0]
        more = len(self.problems) - 1
        tail = f" ({more}{'+' if self.truncated else ''} more problem{'s' if more != 1 else ''})" if more else ""
        return f"{first.where()}: {first.message}{tail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "transactions": self.transactions,
            "accounts": self.accounts,
            "head_hash": self.head_hash,
            "first_problem": None if self.first is None else self.first.to_dict(),
            "problems": [p.to_dict() for p in self.problems],
            "truncated": self.truncated,
            "anchors": [a.to_dict() for a in self.anchors],
            "after": None if self.after is None else self.after.to_dict(),
        }


class _Stop(Exception):
    """Too many problems: stop collecting."""


@dataclass
class Replay:
    """What the walk has rebuilt so far; kind checks read it, and the walk advances it."""

    currency: str
    rates: Rates | None  # the rates in force now; None while unknown
    accounts: dict[str, AccountState] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    states_recorded: bool = False  # a transaction recorded its state: every later one must too
    tree: AccountTree | None = None  # every account's state digest, from the first transaction that records a root
    start: int = 0  # how many transactions before the walk's first were trusted (verify --after)
    # What the rules made of the transaction being checked (a Plan, or why they made none), made once for it.
    _planned: tuple[Transaction, Plan | Exception] | None = None
    find: ReversalHistory | None = None  # what a reversal's replay reads of the history (its gift, the sender's buys)
    reversed_gifts: set[str] = field(default_factory=set)  # the gifts a reversal walked so far undid
    payouts: dict[str, PayoutTrack] = field(default_factory=dict)  # each hold walked so far: its facts and state
    lineages: RefundLineages | None = None  # what the refunds ahead need of the buys and gifts walked so far

    def report(
        self,
        code: str,
        message: str,
        tx: Transaction | None = None,
        position: int | None = None,
        account: str | None = None,
    ) -> None:
        self.problems.append(Problem(code, message, None if tx is None else tx.id, position, account))
        if len(self.problems) >= MAX_PROBLEMS:
            raise _Stop

    def book(self, rates: Rates) -> MemoryBook:
        """A book over the rebuilt balances, for the rules to plan against (never appended to)."""
        return MemoryBook(self.currency, rates, self.accounts, [])

    def plan_of(self, tx: Transaction) -> Plan | Exception:
        """What the rules make of the transaction's request against the balances before it, at the rates it recorded."""
        if self._planned is None or self._planned[0] is not tx:
            self._planned = (tx, _plan(self, tx))
        return self._planned[1]


# A kind check compares a transaction with what the rules make of it and returns
# the problems as (code, message); it must not change the replay's balances.
KindCheck = Callable[[Replay, Transaction], list[tuple[str, str]]]
Found = list[tuple[str, str]]  # what a check of one transaction found: (code, message)


# ----- the rules, once more --------------------------------------------------------

_FILLER_PAYOUT = Payout(Decimal("0.005"), ZERO, Decimal(MAX_UNITS - 1), ZERO)


# What the replay needs of each kind a rule makes: its request in normal form, rates
# built only from what it recorded, and why those were not the rates in force (None: they were).


def _buy_request(record: BuyRecord) -> rq.Buy:
    r = record.request
    return rq.Buy.make(r.account, r.coins, r.channel)


def _buy_recorded_rates(record: BuyRecord, payout: Payout) -> Rates:
    """Rates built only from what it recorded, for the rules to replay it."""
    used = record.rates
    packages = () if used.package is None else (used.package,)
    coin_price = used.coin_price if used.coin_price is not None else Decimal(1)  # unused when a package sets the price
    if used.package is None and used.coin_price is None:
        raise ValueError("it records neither a package nor a per-coin price")
    channel = Channel(used.channel, packages, coin_price, 1, MAX_UNITS - 1, used.store_fee_percent)
    return Rates((channel,), (), Decimal(1), payout)


def _fee_text(fee: Decimal | None) -> str:
    return "none" if fee is None else f"{decimal_str(fee)}%"


def _buy_rates_problem(record: BuyRecord, rates: Rates, at: str) -> str | None:
    """Why the rates it recorded were not those in force at its time; None when they were."""
    used, coins = record.rates, record.request.coins
    channel = next((c for c in rates.channels if c.name == used.channel), None)
    if channel is None:
        return f"channel {used.channel!r} did not exist at {at}"
    if _fee_text(used.store_fee_percent) != _fee_text(channel.store_fee_percent):
        recorded, in_force = _fee_text(used.store_fee_percent), _fee_text(channel.store_fee_percent)
        return f"it records a store fee of {recorded}, but {channel.name}'s at {at} was {in_force}"
    if used.package is not None:
        found = channel.package_for(used.package.coins)
        if found is None or decimal_str(found.price) != decimal_str(used.package.price):
            package = used.package
            return f"a package of {package.coins} coins at {decimal_str(package.price)} did not exist on {channel.name} at {at}"
        return None
    if channel.package_for(coins) is not None:
        return f"{coins} coins is a {channel.name} package, but was charged per coin"
    if used.coin_price is None or decimal_str(used.coin_price) != decimal_str(channel.coin_price):
        shown = None if used.coin_price is None else decimal_str(used.coin_price)
        return f"per-coin price {shown} was not {channel.name}'s at {at}"
    if not channel.custom_min <= coins <= channel.custom_max:
        return f"{coins} coins was outside {channel.name}'s custom bounds at {at}"
    return None


def _gift_request(record: GiftRecord) -> rq.Gift:
    r = record.request
    return rq.Gift.make(r.sender, r.recipient, r.gift, r.count, r.stream)


def _gift_recorded_rates(record: GiftRecord, payout: Payout) -> Rates:
    used = record.rates
    return Rates((), (used.gift,), used.diamonds_per_coin, payout._replace(cash_per_diamond=used.cash_per_diamond))


def _gift_rates_problem(record: GiftRecord, rates: Rates, at: str) -> str | None:
    used = record.rates
    found = rates.find_gift(used.gift.name)
    if found is None or found.coins != used.gift.coins:
        return f"gift {used.gift.name!r} at {used.gift.coins} coins was not in the catalog at {at}"
    if (found.sponsor, found.bonus_diamonds) != (used.gift.sponsor, used.gift.bonus_diamonds):
        recorded = (
            "no sponsor"
            if used.gift.sponsor is None
            else f"sponsor {used.gift.sponsor} with {used.gift.bonus_diamonds} bonus diamonds"
        )
        return f"gift {used.gift.name!r} had not {recorded} in the catalog at {at}"
    in_force = (decimal_str(rates.diamonds_per_coin), decimal_str(rates.payout.cash_per_diamond))
    if (decimal_str(used.diamonds_per_coin), decimal_str(used.cash_per_diamond)) != in_force:
        return f"its conversion rates were not those in force at {at}"
    return None


def _redeem_request(record: RedeemRecord) -> rq.Redeem:
    r = record.request
    return rq.Redeem.make(r.account, r.diamonds, r.all)


def _redeem_recorded_rates(record: RedeemRecord, payout: Payout) -> Rates:
    return Rates((), (), Decimal(1), record.rates)


def _redeem_rates_problem(record: RedeemRecord, rates: Rates, at: str) -> str | None:
    if payout_to_dict(record.rates) != payout_to_dict(rates.payout):
        return f"its payout rules were not those in force at {at}"
    return None


class Replayer(NamedTuple):
    request: Callable[[Any], Any]
    recorded_rates: Callable[[Any, Payout], Rates]
    rates_problem: Callable[[Any, Rates, str], str | None]


REPLAYERS: dict[str, Replayer] = {
    "buy": Replayer(_buy_request, _buy_recorded_rates, _buy_rates_problem),
    "gift": Replayer(_gift_request, _gift_recorded_rates, _gift_rates_problem),
    "redeem": Replayer(_redeem_request, _redeem_recorded_rates, _redeem_rates_problem),
}


class ReversalHistory:
    """What the reversals in a history need of it, read before the walk (reading a file while it streams can't be done):
    the gifts they undo, by id, and every buy of their senders, oldest first."""

    def __init__(self, gifts: dict[str, Transaction], buys: dict[str, list[Transaction]]) -> None:
        self.gifts, self.buys = gifts, buys
        self.walked: set[str] = set()  # those of the gifts the walk has passed: a reversal comes after its gift

    @classmethod
    def of(cls, book: Book) -> ReversalHistory | None:
        try:
            return cls._read(book)
        except (DamagedRecord, CoinpurseError, KeyError, TypeError, ValueError, AttributeError):
            return None  # the walk names what is damaged; a reversal then finds no gift, and says so

    @classmethod
    def _read(cls, book: Book) -> ReversalHistory | None:
        reversals = book.transactions(kind="reversal")
        if not reversals:
            return None
        gifts: dict[str, Transaction] = {}
        buys: dict[str, list[Transaction]] = {}
        for reversal in reversals:
            original = reversal.request.get("original")
            gift = book.find(original) if isinstance(original, str) else None
            if gift is not None and isinstance(gift.payload, GiftRecord):
                gifts[gift.id] = gift
                sender = gift.payload.request.sender
                if sender not in buys:
                    buys[sender] = book.transactions(account=sender, kind="buy")
        return cls(gifts, buys)

    def find(self, tx_id: str) -> Transaction | None:
        return self.gifts.get(tx_id)

    def transactions(self, account: str | None = None, kind: str | None = None) -> list[Transaction]:
        return self.buys.get(account or "", []) if kind == "buy" else []


def _reversal_request(record: ReversalRecord) -> rq.Reverse:
    r = record.request
    return rq.Reverse.make(r.original, r.reason)


def _reversal_recorded_rates(record: ReversalRecord, payout: Payout) -> Rates:
    return Rates((), (), Decimal(1), payout)  # a reversal uses no rates


def _reversal_rates_problem(record: ReversalRecord, rates: Rates, at: str) -> str | None:
    return None


REPLAYERS["reversal"] = Replayer(_reversal_request, _reversal_recorded_rates, _reversal_rates_problem)


def _plan(replay: Replay, tx: Transaction) -> Plan | Exception:
    record = tx.payload
    rule, replayer = RULES.get(tx.kind), REPLAYERS.get(tx.kind)
    if rule is None or replayer is None or not isinstance(record, RULED_RECORDS):
        return ValueError(f"no rule makes a {tx.kind!r}")
    try:
        rates = replayer.recorded_rates(record, replay.rates.payout if replay.rates is not None else _FILLER_PAYOUT)
        request = replayer.request(record)
        if isinstance(request, rq.Reverse):  # the rule finds the gift it undoes in the stored history
            request = replace(request, lookup=replay.find or ReversalHistory({}, {}))
        return rule(replay.book(rates), request, tx.id, tx.at)
    except (CoinpurseError, KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as error:
        return error


def check_by_rules(replay: Replay, tx: Transaction) -> Found:
    """Run the request through the rules again; what they make must be what is stored."""
    problems: Found = []
    record = tx.payload
    replayer = REPLAYERS.get(tx.kind)
    if replay.rates is not None and replayer is not None and isinstance(record, RULED_RECORDS):
        why = replayer.rates_problem(record, replay.rates, tx.at)
        if why is not None:
            problems.append(("unknown_rate", why))
    plan = replay.plan_of(tx)
    if isinstance(plan, CoinpurseError):
        return [*problems, ("rules_refuse", f"the rules refuse it against the balances before it: {plan.message}")]
    if isinstance(plan, Exception):
        return [*problems, ("malformed", f"its request or rates are malformed ({type(plan).__name__}: {plan})")]
    request, _, details = plan.payload.to_dicts()
    if tx.request != request:
        problems.append(("request_mismatch", f"its request is not in normal form: {_words(dict(tx.request))}"))
    if tx.postings != plan.postings:
        stored = ", ".join(f"{p.account} {p.amount} {p.commodity}" for p in tx.postings)
        expected = ", ".join(f"{p.account} {p.amount} {p.commodity}" for p in plan.postings)
        problems.append(("postings_mismatch", f"its postings ({stored}) are not what the rules make ({expected})"))
    elif tx.details != details:
        problems.append(("details_mismatch", "its details (price, lots, fee or rounding) are not what the rules make"))
    else:
        stored_after, after = tx.to_dict()["after"], balances_after(plan.states)
        if stored_after != after:
            problems.append(
                ("after_mismatch", f"its balances-after ({_words(stored_after)}) are not ({_words(after)})")
            )
    return problems


def _words(value: object) -> str:
    """Stored data as a message shows it, never as Python prints a dict or list:
    ``alice: coins 17500, diamonds 0``, and lots as ``tx-1 17500 249.99; late 17500 249.99``."""
    if isinstance(value, Mapping):
        if any(isinstance(item, Mapping) for item in value.values()):
            return "; ".join(f"{key}: {_words(item)}" for key, item in value.items())
        return ", ".join(f"{key} {_words(item)}" for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return "; ".join(_words(item) for item in value) if value else "none"
    return "none" if value is None else str(value)


def _rates_error(tx: Transaction) -> str:
    """Why the rates a rates change recorded are not valid rates."""
    try:
        rates_from_dict(tx.rates or tx.details.get("rates"))
    except CoinpurseError as error:
        return error.message
    return "they can't be read"


def check_rates_change(replay: Replay, tx: Transaction) -> Found:
    """A rates change moves no money, sets valid rates, and lists exactly what changed."""
    problems: Found = []
    if tx.postings:
        problems.append(("rates_postings", "a rates change must not move money"))
    new = tx.payload.rates if isinstance(tx.payload, RatesRecord) else None
    if new is None:
        problems.append(("rates_invalid", f"its new rates are invalid: {_rates_error(tx)}"))
        return problems
    if replay.rates is not None:
        listed = tx.details.get("changes")
        actual = [{k: v for k, v in change.items() if v is not None} for change in diff(replay.rates, new)]
        if listed != actual:
            problems.append(
                ("rates_changes_mismatch", "its list of changes is not what changed from the rates before it")
            )
    return problems


KIND_CHECKS: dict[str, KindCheck] = {
    "buy": check_by_rules,
    "gift": check_by_rules,
    "redeem": check_by_rules,
    RATES_KIND: check_rates_change,
}


def check_reversal(replay: Replay, tx: Transaction) -> Found:
    """A reversal is what the rules make of it (the gift's postings negated, its lots restored), once per gift."""
    problems = check_by_rules(replay, tx)
    original = tx.request.get("original")
    if isinstance(original, str):
        if original in replay.reversed_gifts:
            problems.append(("reversed_twice", f"it reverses {original}, which an earlier reversal already reversed"))
        replay.reversed_gifts.add(original)
        gift = replay.find.find(original) if replay.find is not None else None
        if gift is not None and replay.find is not None and original not in replay.find.walked:
            problems.append(("reversed_before_gift", f"it reverses {original}, which comes after it in the history"))
        refunded = replay.lineages.refunded if replay.lineages is not None else {}
        if gift is not None and isinstance(gift.payload, GiftRecord):
            for lot in gift.payload.details.lots:  # the rules refuse it once a buy that paid the gift is refunded
                if lot.source in refunded:
                    problems.append((
                        "reversed_after_refund",
                        f"the coins of {original} came from buy {lot.source}, refunded by {refunded[lot.source]} "
                        "before it: their lot is gone, so the gift can't be reversed",
                    ))  # fmt: skip
                    break
    return problems


KIND_CHECKS["reversal"] = check_reversal
# ----- refund: the rules check its recorded lineage against the rebuilt lots, and the walk against the records -----


def _refund_request(record: Any) -> rq.Refund:
    d = record.details
    gifts = tuple(
        rq.Drawn(c.gift, c.creator, c.coins, c.gift_coins, c.gift_diamonds, c.cash_per_diamond, c.sponsor, c.gift_bonus)
        for c in d.clawbacks
    )
    made = rq.Refund.make(record.request.buy, record.request.clawback)
    return rq.Refund(made.buy, made.clawback, None, rq.Lineage(d.account, d.coins, d.price, gifts))


def _refund_recorded_rates(record: Any, payout: Payout) -> Rates:
    return Rates((), (), Decimal(1), payout)


def _refund_rates_problem(record: Any, rates: Rates, at: str) -> str | None:
    return None


REPLAYERS["refund"] = Replayer(_refund_request, _refund_recorded_rates, _refund_rates_problem)


class RefundLineages:
    """A refund's lineage as the records before it give it, gathered as the walk streams past them.

    The refunds are read ahead (by kind: they are few), and only the buys they name
    are followed: each such buy's account, coins and price, and the gifts that drew
    its lot's coins, less those a reversal undid. So what is held grows with the
    refunds and the gifts of their coins, never with the history.
    """

    __slots__ = ("bought", "drawn", "draws_of", "refunded", "watched")

    def __init__(self, watched: set[str]) -> None:
        self.watched = watched  # the buys the stored refunds name
        self.bought: dict[str, tuple[str, int, Decimal]] = {}  # buy id -> (account, coins, price), once walked
        self.drawn: dict[str, list[rq.Drawn]] = {}  # buy id -> the gifts walked so far that spent its coins
        self.draws_of: dict[str, list[str]] = {}  # gift id -> the followed buys it drew from
        self.refunded: dict[str, str] = {}  # buy id -> the refund walked so far that gave it back

    @classmethod
    def of(cls, book: Book) -> RefundLineages | None:
        try:
            refunds = book.transactions(kind="refund")
        except (DamagedRecord, CoinpurseError, KeyError, TypeError, ValueError, AttributeError):
            return cls(set())  # the walk names what is damaged; each refund then finds its buy unread, and says so
        if not refunds:
            return None
        return cls({buy for refund in refunds if isinstance(buy := refund.request.get("buy"), str)})

    def note(self, tx_id: str, record: Any) -> None:
        """Take what refunds need from a transaction just walked (its stored record)."""
        if isinstance(record, GiftRecord):
            if self.bought:
                self._note_gift(tx_id, record)
        elif isinstance(record, BuyRecord):
            if tx_id in self.watched and tx_id not in self.bought:
                r = record.request
                self.bought[tx_id] = (r.account, r.coins, record.details.price)
                self.drawn[tx_id] = []
        elif isinstance(record, ReversalRecord):
            original = record.request.original
            for buy in self.draws_of.pop(original, ()):
                gifts = self.drawn.get(buy)
                if gifts is not None:
                    self.drawn[buy] = [g for g in gifts if g.gift != original]
        elif isinstance(record, RefundRecord):
            buy = record.request.buy
            self.refunded.setdefault(buy, tx_id)
            self.drawn.pop(buy, None)  # a later refund of it is named by the refund before; its gifts are not needed

    def _note_gift(self, tx_id: str, gift: GiftRecord) -> None:
        sender, d = gift.request.sender, gift.details
        coins: dict[str, int] = {}
        for lot in d.lots:  # as rules.refund_lineage counts them: the buyer's own gifts, by the lot they drew
            followed = self.bought.get(lot.source)
            if followed is not None and followed[0] == sender and lot.source not in self.refunded:
                coins[lot.source] = coins.get(lot.source, 0) + lot.coins
        bonus = d.bonus
        sponsor, bonus_diamonds = (bonus.sponsor, bonus.diamonds) if bonus is not None and bonus.paid else (None, 0)
        for buy, drawn in coins.items():  # a followed buy not refunded has its list of gifts
            self.drawn[buy].append(
                rq.Drawn(
                    tx_id,
                    gift.request.recipient,
                    drawn,
                    d.coins,
                    d.diamonds,
                    gift.rates.cash_per_diamond,
                    sponsor,
                    bonus_diamonds,
                )
            )
            self.draws_of.setdefault(tx_id, []).append(buy)

    def problem(self, buy: str, recorded: rq.Lineage) -> str | None:
        """Why the lineage a refund recorded is not what the records before it give; None when it is."""
        if buy in self.refunded:
            return f"buy {buy} was already refunded by {self.refunded[buy]}"
        followed, gifts = self.bought.get(buy), self.drawn.get(buy)
        if followed is None or gifts is None:
            if buy not in self.watched:
                return f"the list of refunds read ahead of the walk does not name buy {buy}"
            return f"no buy {buy} comes before it"
        account, coins, price = followed
        if (recorded.account, recorded.coins, recorded.price) != followed:
            return (
                f"it records buy {buy} as {recorded.coins:,} coins for {decimal_str(recorded.price)} by {recorded.account}, "
                f"but the buy was {coins:,} coins for {decimal_str(price)} by {account}"
            )
        if recorded.gifts != tuple(gifts):
            return (
                f"it claws back from {_drawn_words(recorded.gifts)}, "
                f"but the gifts before it spent the buy's coins as {_drawn_words(tuple(gifts))}"
            )
        return None


def _drawn_words(gifts: tuple[rq.Drawn, ...]) -> str:
    if not gifts:
        return "no gift"
    return "; ".join(
        f"gift {g.gift} to {g.creator} ({g.coins:,} of its {g.gift_coins:,} coins, {g.gift_diamonds:,} diamonds "
        f"at {decimal_str(g.cash_per_diamond)})"
        for g in gifts
    )


def check_refund(replay: Replay, tx: Transaction) -> Found:
    """A refund's lineage is what the buy and gift records before it give; the rules check the rest against it."""
    problems: Found = []
    record = tx.payload
    if isinstance(record, RefundRecord):
        lineages = replay.lineages
        recorded = _refund_request(record).lineage
        assert recorded is not None
        why = (
            "the list of refunds read ahead of the walk does not name it"
            if lineages is None
            else lineages.problem(record.request.buy, recorded)
        )
        if why is not None:
            problems.append(("refund_lineage_mismatch", f"its lineage is not what the records before it give: {why}"))
    return problems + check_by_rules(replay, tx)


KIND_CHECKS["refund"] = check_refund


# ----- held payouts: a hold is what redeem's rules make; each settlement names a hold in the state it needs ------


@dataclass
class PayoutTrack:
    facts: rq.HoldFacts
    state: str  # pending, paid, rejected, expired, returned
    by: str = ""  # the transaction that last moved it


def _hold_request(record: Any) -> rq.Hold:
    r = record.request
    return rq.Hold.make(r.account, r.diamonds, r.all)


def _hold_recorded_rates(record: Any, payout: Payout) -> Rates:
    return Rates((), (), Decimal(1), record.rates.payout, record.rates.review_days)


def _hold_rates_problem(record: Any, rates: Rates, at: str) -> str | None:
    if payout_to_dict(record.rates.payout) != payout_to_dict(rates.payout):
        return f"its payout rules were not those in force at {at}"
    if record.rates.review_days != rates.review_days_in_force:
        return f"its review days ({record.rates.review_days}) were not those in force at {at}"
    return None


def _settle_request(record: Any) -> Any:
    facts = record.details.facts()
    r = record.request
    if record.kind == "payout-approve":
        return rq.ApprovePayout(r.hold, None, facts)
    if record.kind == "payout-expire":
        return rq.ExpirePayout(r.hold, None, facts)
    made = (rq.RejectPayout if record.kind == "payout-reject" else rq.ReturnPayout).make(r.hold, r.reason)
    return replace(made, facts=facts)


def _no_rates_used(record: Any, payout: Payout) -> Rates:
    return Rates((), (), Decimal(1), payout)


def _settle_rates_problem(record: Any, rates: Rates, at: str) -> str | None:
    return None


def check_hold(replay: Replay, tx: Transaction) -> Found:
    """A hold is what a redeem's rules make at its rates, its diamonds moved to pending; it is tracked from here."""
    problems = check_by_rules(replay, tx)
    record = tx.payload
    if isinstance(record, PayoutHoldRecord):
        d = record.details
        facts = rq.HoldFacts(
            tx.id, record.request.account, d.diamonds, d.cash, d.fee, d.net, d.rounding, d.day, d.expires
        )
        replay.payouts[tx.id] = PayoutTrack(facts, "pending", tx.id)
    return problems


_SETTLES = {  # kind -> (the state it needs, the state it leaves)
    "payout-approve": ("pending", "paid"),
    "payout-reject": ("pending", "rejected"),
    "payout-expire": ("pending", "expired"),
    "payout-return": ("paid", "returned"),
}


def check_settlement(replay: Replay, tx: Transaction) -> Found:
    """A settlement names a hold walked before it, in the state it needs, with the figures the hold recorded;
    an approval or rejection comes before the hold expires, an expiry after."""
    problems = check_by_rules(replay, tx)
    record = tx.payload
    if not isinstance(record, (PayoutApproveRecord, PayoutRejectRecord, PayoutExpireRecord, PayoutReturnRecord)):
        return problems
    hold = record.request.hold
    track = replay.payouts.get(hold)
    if track is None:
        return [*problems, ("unknown_payout", f"it settles {hold}, which is not a held payout before it")]
    needs, leaves = _SETTLES[tx.kind]
    recorded = record.details.facts()
    if track.state != needs:
        problems.append(("payout_settled", f"it needs {hold} {needs}, but {track.by} left it {track.state}"))
    elif replace(recorded, approval=None) != track.facts:
        problems.append(("payout_mismatch", f"its figures are not those the hold {hold} recorded"))
    elif tx.kind == "payout-return" and recorded.approval != track.by:
        problems.append(("payout_mismatch", f"it names approval {recorded.approval}, but {track.by} paid {hold}"))
    elif tx.kind in ("payout-approve", "payout-reject") and tx.at >= track.facts.expires:
        problems.append(("payout_expired", f"{hold} expired at {track.facts.expires}, before it"))
    replay.payouts[hold] = PayoutTrack(track.facts, leaves, tx.id)
    return problems


REPLAYERS["payout-hold"] = Replayer(_hold_request, _hold_recorded_rates, _hold_rates_problem)
KIND_CHECKS["payout-hold"] = check_hold
for _kind in _SETTLES:
    REPLAYERS[_kind] = Replayer(_settle_request, _no_rates_used, _settle_rates_problem)
    KIND_CHECKS[_kind] = check_settlement


# ----- the checks of one transaction -------------------------------------------------


class Walk:
    """Where the walk is: the transaction's place, and what the ones before it left."""

    __slots__ = ("position", "previous_at", "previous_hash", "seen")

    def __init__(self, seen: set[str] | None = None) -> None:
        self.position = 0
        self.previous_hash = GENESIS_HASH
        self.previous_at = ""
        # The ids walked so far; None where the store itself keeps ids unique (SQLite's index,
        # which check_derived_data holds against every stored body).
        self.seen = seen


def check_id(replay: Replay, tx: Transaction, walk: Walk) -> Found:
    if walk.seen is not None and tx.id in walk.seen:
        return [("duplicate_id", "its id was already used by an earlier transaction")]
    return []


def check_chain(replay: Replay, tx: Transaction, walk: Walk) -> Found:
    if not _HASH.fullmatch(tx.hash):
        return [("bad_hash", "its hash is missing or not a sha256 hex digest")]
    if chain_hash(walk.previous_hash, tx.content()) != tx.hash:
        return [(
            "chain_broken",
            "its hash does not match its content and the previous transaction's hash: "
            "it was changed, moved, or a transaction before it was removed",
        )]  # fmt: skip
    return []


def check_time(replay: Replay, tx: Transaction, walk: Walk) -> Found:
    if not _AT.fullmatch(tx.at):
        return [("bad_time", f"its time {tx.at!r} is not a UTC time such as 2026-03-01T12:00:00Z")]
    if tx.at < walk.previous_at:
        return [("time_backwards", f"its time {tx.at} is earlier than the transaction before it ({walk.previous_at})")]
    return []


def check_commodities(replay: Replay, tx: Transaction, walk: Walk) -> Found:
    odd = sorted({p.commodity for p in tx.postings} - {COIN, DIAMOND, replay.currency})
    return [("unknown_commodity", f"it posts an unknown commodity {odd[0]!r}")] if odd else []


def check_balanced(replay: Replay, tx: Transaction, walk: Walk) -> Found:
    """Its postings sum to zero in each commodity."""
    unbalanced = {c: total for c, total in sums_by_commodity(tx.postings).items() if total != 0}
    if unbalanced:
        shown = ", ".join(f"{total} {c}" for c, total in sorted(unbalanced.items()))
        return [("unbalanced", f"its postings do not sum to zero: {shown}")]
    return []


def check_kind(replay: Replay, tx: Transaction, walk: Walk) -> Found:
    """Its kind's check: the rules replay (and the rates in force), or a rates change's own."""
    check = KIND_CHECKS.get(tx.kind)
    if check is None:
        return [("unknown_kind", f"its kind {tx.kind!r} is not one this coinpurse can check")]
    try:
        return check(replay, tx)
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as error:
        return [("malformed", f"its request or rates are malformed ({type(error).__name__}: {error})")]


TRANSACTION_CHECKS: tuple[Callable[[Replay, Transaction, Walk], Found], ...] = (
    check_id, check_chain, check_time, check_commodities, check_balanced, check_kind,
)  # fmt: skip


# ----- advancing the rebuilt balances ----------------------------------------------


def advance(replay: Replay, tx: Transaction) -> None:
    """Move the rebuilt balances past the transaction with the states the rules made of it.

    When the rules make other postings (reported), the coins, diamonds and cash
    move by the stored postings, which the stored balances were built from, and
    the lots and payout day are the rules'; when they make none, only the
    postings move.
    """
    if isinstance(tx.payload, RatesRecord):
        replay.rates = tx.payload.rates  # None when invalid (reported): what follows can't be checked against it
    plan = replay.plan_of(tx) if tx.kind in RULES else None
    if isinstance(plan, Plan) and plan.postings == tx.postings:
        replay.accounts.update(plan.states)
        return
    if not tx.postings:
        return
    moved = posted_states(replay.book(replay.rates or _NO_RATES), tx.postings)
    if isinstance(plan, Plan):
        for name, state in moved.items():
            ruled = plan.states.get(name)
            if ruled is not None:
                moved[name] = AccountState(
                    state.coins, state.diamonds, state.cash, ruled.lots, ruled.payout_day, ruled.paid_that_day
                )
    replay.accounts.update(moved)


_NO_RATES = Rates((), (), Decimal(1), _FILLER_PAYOUT)


def check_state(replay: Replay, tx: Transaction) -> Found:
    """The state a transaction recorded must be what the replay leaves behind it."""
    if tx.state is None:
        if replay.states_recorded:
            return [("state_missing", "it records no state, though the transactions before it do")]
        return []  # recorded before transactions recorded their state
    replay.states_recorded = True
    problems: Found = []
    if replay.rates is not None and tx.state.rates != rates_digest(replay.rates, replay.currency):
        problems.append(("state_rates_mismatch", "the rates it records are not those in force after it"))
    recorded = tx.state.accounts
    changed = set(replay.accounts) if is_checkpoint(tx) else {p.account for p in tx.postings}
    if set(recorded) != changed:
        what = "every account" if is_checkpoint(tx) else "the accounts it changes"
        problems.append(("state_accounts_mismatch", f"it does not record the state of exactly {what}"))
    digests = {name: state_digest(replay.accounts[name]) for name in changed if name in replay.accounts}
    for name in sorted(changed & set(recorded)):
        if recorded[name] != digests.get(name):
            problems.append(("state_mismatch", f"the state it records for {name!r} is not the one the history gives"))
    problems.extend(_root_problems(replay, tx, digests))
    return problems


def _root_problems(replay: Replay, tx: Transaction, digests: dict[str, str]) -> Found:
    """The root of every account's state it records must be the replay's, from the first transaction that records one."""
    assert tx.state is not None
    root = tx.state.root
    if root is None:
        if replay.tree is not None:
            return [
                (
                    "state_root_missing",
                    "it records no root of the accounts' states, though the transactions before it do",
                )
            ]
        return []  # recorded before transactions recorded the root
    if replay.tree is None:
        replay.tree = AccountTree.of({name: state_digest(state) for name, state in replay.accounts.items()})
    else:
        replay.tree.update(digests)
    if replay.tree.root() != root:
        return [
            ("state_root_mismatch", "the root of every account's state it records is not the one the history gives")
        ]
    return []


def note_walked(replay: Replay, tx_id: str, record: Any) -> None:
    """What later refunds and reversals need of a transaction just walked: only theirs is kept."""
    if replay.lineages is not None:
        replay.lineages.note(tx_id, record)
    find = replay.find
    if find is not None and tx_id in find.gifts:
        find.walked.add(tx_id)


def _check_one(replay: Replay, tx: Transaction, walk: Walk) -> None:
    for check in TRANSACTION_CHECKS:
        for code, message in check(replay, tx, walk):
            replay.report(code, message, tx, walk.position)
    if replay.lineages is not None or replay.find is not None:
        note_walked(replay, tx.id, tx.payload)
    if walk.seen is not None:
        walk.seen.add(tx.id)
    try:
        advance(replay, tx)
    except (TypeError, ValueError, ArithmeticError) as error:
        replay.report(
            "malformed", f"its postings can't be applied ({type(error).__name__}: {error})", tx, walk.position
        )
        return
    for code, message in check_state(replay, tx):
        replay.report(code, message, tx, walk.position)


# ----- the rates before the first change ---------------------------------------------


def _rates_before(rates: Rates, first_change: Transaction | None) -> Rates | None:
    """The rates in force before a change: ``rates`` when there is none (they are the ones still in force).

    Otherwise the change is undone: each key goes back to its "from", and a key it
    added (no "from") is removed. None when that can't be done.
    """
    if first_change is None:
        return rates
    if not isinstance(first_change.payload, RatesRecord) or first_change.payload.rates is None:
        return None
    record = first_change.payload
    try:
        sets = {c.key: c.before for c in record.details.changes if c.before is not None}
        added = [c.key for c in record.details.changes if c.before is None]
        removes = _removes_of(added)
        return edited(record.rates, sets, removes)  # type: ignore[arg-type]
    except (CoinpurseError, KeyError, TypeError, AttributeError):
        return None


def _removes_of(added: list[str]) -> tuple[str, ...]:
    """The removals that undo added keys: a gift added (its coins) goes whole, with its sponsor's keys."""
    gifts = {key.removesuffix(".coins") for key in added if key.startswith("gift.") and key.endswith(".coins")}
    removes = []
    for key in added:
        if key.startswith("gift.") and key.endswith(".coins"):
            removes.append(key.removesuffix(".coins"))
        elif key.startswith("gift.") and key.rsplit(".", 1)[0] in gifts:
            continue  # goes with its gift
        elif key.endswith(".bonus_diamonds") and key.removesuffix(".bonus_diamonds") + ".sponsor" in added:
            continue  # goes with its sponsor
        else:
            removes.append(key)
    return tuple(removes)


# ----- the walk -------------------------------------------------------------------


class StoredAccounts:
    """The stored accounts, read when asked and never all held: one at a time in name order for the check at
    the end of a walk, by name for ``verify --after``."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self._count: int | None = None

    def __len__(self) -> int:
        if self._count is None:
            self._count = self.book.account_count()
        return self._count

    def get(self, name: str) -> AccountState | None:
        return self.book.stored_account(name)

    def in_order(self) -> Iterator[tuple[str, AccountState]]:
        return self.book.iter_accounts()


def check_stored_accounts(replay: Replay, book: Book, stored: StoredAccounts) -> list[Problem]:
    """Every stored account is what the history gives, and every account the history moves is stored."""
    problems = []
    rebuilt_names = iter(sorted(replay.accounts))
    pending = next(rebuilt_names, None)

    def missing(name: str) -> None:
        problems.append(
            Problem("account_missing", "the history moves money through it, but it is not stored", account=name)
        )

    for name, have in stored.in_order():  # in name order, as are the rebuilt ones: one merge of the two
        while pending is not None and pending < name:
            missing(pending)
            pending = next(rebuilt_names, None)
        if pending != name:
            problems.append(
                Problem("account_not_in_history", "stored, but no transaction ever touched it", account=name)
            )
            continue
        pending = next(rebuilt_names, None)
        rebuilt = replay.accounts[name]
        if have != rebuilt:
            problems.extend(_differences(name, have, rebuilt))
    while pending is not None:
        missing(pending)
        pending = next(rebuilt_names, None)
    return problems


def _differences(name: str, have: AccountState, rebuilt: AccountState) -> list[Problem]:
    return [
        Problem("balance_mismatch", f"stored {what} {_words(a)} but the history gives {_words(b)}", account=name)
        for what, a, b in (
            ("coins", have.coins, rebuilt.coins),
            ("diamonds", have.diamonds, rebuilt.diamonds),
            ("cash", have.cash, rebuilt.cash),
            ("lots", [lot.to_list() for lot in have.lots], [lot.to_list() for lot in rebuilt.lots]),
            ("payout day", have.payout_day, rebuilt.payout_day),
            ("paid that day", have.paid_that_day, rebuilt.paid_that_day),
        )
        if a != b
    ]


def check_stored_rates(replay: Replay, book: Book, stored: StoredAccounts) -> list[Problem]:
    if replay.rates is not None and replay.rates != book.rates:
        return [Problem("rates_mismatch", "the stored rates are not those the history leaves in force")]
    return []


def check_account_tree(replay: Replay, book: Book, stored: StoredAccounts) -> list[Problem]:
    """The tree of account digests the store keeps (after the accounts: an edited row shows there first)."""
    return [Problem(code, message, position=where) for code, message, where in book.account_tree_problems()]


def check_derived_data(replay: Replay, book: Book, stored: StoredAccounts) -> list[Problem]:
    """What the store derives from the stored transactions (SQLite's columns and indexes) must agree with them."""
    problems = book.derived_data_problems(replay.start)
    return [Problem(code, message, position=position) for code, message, position in problems]


LedgerCheck = Callable[[Replay, Book, StoredAccounts], list[Problem]]
LEDGER_CHECKS: tuple[LedgerCheck, ...] = (check_stored_accounts, check_stored_rates, check_account_tree)

Progress = Callable[[int, int], None]
PROGRESS_EVERY = 1000  # transactions between two reports to ``on_progress``


class _Restart(Exception):
    """The walk met another first rates change than the one looked up ahead: walk again from that one."""

    def __init__(self, first: tuple[int, Transaction] | None) -> None:
        self.first = first


def verify_book(
    book: Book, anchors: tuple[str, ...] = (), after: str | None = None, on_progress: Progress | None = None
) -> VerifyReport:
    """Walk the whole history once and report everything that does not add up.

    ``anchors`` are hashes noted earlier: each must be the hash of a transaction in the chain.
    ``after`` is the hash of a transaction verified before: everything up to it is trusted,
    and only what came after it is checked (see ``verify_after``). ``on_progress(done, total)``
    is told how far the walk is, every thousand transactions.

    The history is read one transaction at a time and never held: memory grows with
    the accounts, not with the transactions. The first rates change, whose undoing
    gives the rates the history starts with, is looked up ahead (``first_of_kind``);
    should the walk meet another one, it walks again from that one.
    """
    if after is not None:
        return verify_after(book, after, anchors, on_progress)
    stored = StoredAccounts(book)
    total = book.history_count() if on_progress is not None else 0
    first = book.first_of_kind(RATES_KIND)
    while True:
        replay = Replay(book.currency, _rates_before(book.rates, None if first is None else first[1]))
        replay.find = ReversalHistory.of(book)
        replay.lineages = RefundLineages.of(book)
        walk = Walk(None if book.ids_unique_in_store else set())
        try:
            return _finish(replay, walk, book, stored, anchors, first, on_progress, total, LEDGER_CHECKS)
        except _Restart as restart:
            first = restart.first


def _finish(
    replay: Replay, walk: Walk, book: Book, stored: StoredAccounts, anchors: tuple[str, ...],
    first: tuple[int, Transaction] | None, on_progress: Progress | None, total: int,
    ledger_checks: tuple[LedgerCheck, ...], after: After | None = None,
) -> VerifyReport:  # fmt: skip
    """Walk the history from ``walk``'s place, then the checks of the whole ledger, into a report."""
    wanted = set(anchors)
    found: dict[str, Anchor] = {}
    start = walk.position
    try:
        damaged = _walk(replay, walk, book.verify_records(start), first, wanted, found, on_progress, total)
        checks: tuple[LedgerCheck, ...] = (check_derived_data,)
        if damaged is not None:
            replay.report("damaged_record", damaged[1], position=damaged[0])
            checks += (check_account_tree,)
        else:
            checks += ledger_checks
        for check in checks:
            for problem in check(replay, book, stored):
                replay.report(problem.code, problem.message, position=problem.position, account=problem.account)
        for anchor in anchors:
            if anchor not in found:
                replay.report(
                    "anchor_not_found",
                    f"no transaction has the anchor hash {anchor}: the history up to it was changed, "
                    "or the hash is not from this ledger",
                )
        truncated = False
    except _Stop:
        truncated = True
    return VerifyReport(
        walk.position, len(stored), walk.previous_hash, tuple(replay.problems), truncated,
        tuple(found.get(anchor, Anchor(anchor)) for anchor in anchors), after,
    )  # fmt: skip


def _walk(
    replay: Replay, walk: Walk, records: Iterator[tuple[int, Any, Any]], first: tuple[int, Transaction] | None,
    wanted: set[str], found: dict[str, Anchor], on_progress: Progress | None, total: int,
) -> tuple[int, str] | None:  # fmt: skip
    """Check each transaction in turn; (position, why) of a record that can't be read, which ends the walk.

    A stored record that is exactly what the rules make of its request (the fast path,
    ``_as_ruled``) needs no further look; any other is read and checked one check at a
    time, and so named for what is wrong with it.
    """
    seen_change = False  # the walk has met the first rates change
    transactions = _safe_iter(records)
    fast = _FastPath(replay)
    try:
        for number, record, tx_hash in transactions:
            position = walk.position + 1
            if record.__class__ is dict and fast.as_ruled(walk, record, tx_hash):
                walk.position = position
            else:
                try:
                    tx = record_transaction(number, record, tx_hash) if number else None
                except DamagedRecord as error:
                    tx, record = None, str(error)
                if tx is None:  # the walk ends here; a first rates change looked up beyond it still gave the rates
                    return position, record or "damaged"
                walk.position = position
                if not seen_change and tx.kind == RATES_KIND:
                    seen_change = True
                    if first is None or first[0] != position or first[1] != tx:
                        raise _Restart((position, tx))
                _check_one(replay, tx, walk)
                walk.previous_hash = tx.hash
                if tx.at > walk.previous_at:
                    walk.previous_at = tx.at
            if wanted and walk.previous_hash in wanted:
                found.setdefault(walk.previous_hash, Anchor(walk.previous_hash, _id_of(record), position))
            if on_progress is not None and not position % PROGRESS_EVERY:
                on_progress(position - replay.start, total)
    except _Stop:
        if first is not None and not seen_change:
            _confirm_first(transactions, walk.position, first)
        raise
    if first is not None and not seen_change:
        raise _Restart(None)
    if on_progress is not None:
        on_progress(walk.position - replay.start, total)
    return None


def _id_of(record: Any) -> str | None:
    tx_id = record.id if isinstance(record, Transaction) else record.get("id")
    return tx_id if isinstance(tx_id, str) else None


def _safe_iter(records: Iterator[tuple[int, Any, Any]]) -> Iterator[tuple[int, Any, Any]]:
    """The store's records; a record it can't read at all comes as (0, why, None), and ends them."""
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except DamagedRecord as error:
            yield 0, str(error), None
            return
        yield record


def _confirm_first(transactions: Iterator[tuple[int, Any, Any]], position: int, first: tuple[int, Transaction]) -> None:
    """After too many problems, before the first rates change looked up: it must be the walk's, or the walk is redone."""
    for number, record, tx_hash in transactions:
        if not number:
            break
        position += 1
        try:
            tx = record_transaction(number, record, tx_hash)
        except DamagedRecord:
            break
        if tx.kind == RATES_KIND:
            if first[0] != position or first[1] != tx:
                raise _Restart((position, tx))
            return
    raise _Restart(None)


# ----- the fast path: a record that is what the rules make -----------------------------

_RULED_KEYS = frozenset(("id", "kind", "at", "request", "rates", "postings", "details", "after", "state"))
# The typed request of each ruled kind, from a stored request's values (the checks of ``make``).
_REQUESTS: dict[str, Callable[[Any], tuple[Callable[..., Any], tuple[Any, ...]]]] = {
    "buy": lambda r: (rq.Buy.make, (r["account"], r["coins"], r["channel"])),
    "gift": lambda r: (rq.Gift.make, (r["sender"], r["recipient"], r["gift"], r["count"], r.get("stream"))),
    "redeem": lambda r: (rq.Redeem.make, (r["account"], r.get("diamonds"), r.get("all", False))),
}
_MADE_REQUESTS: dict[tuple[Any, ...], Any] = {}  # by kind and values: the same request recurs (make is pure)


class _FastPath:
    """Makes again, with the rules and the rates in force, the very record a buy, gift or redeem stored.

    The record is made as ``rules.execute`` makes it: its request in normal form, what
    the rules make of it against the rebuilt balances at the rates in force, the
    balances after, and the state (the digest of the rates in force, of each changed
    account, and the root over every account). When its canonical text is the stored
    record's, and its hash over the hash before it is the stored hash, every check of
    a transaction holds for it: the stored record is the one the rules make, with its
    rates the ones in force, and the chain links it. (The id and time formats, the
    id's being new and time's order are checked here too.) Anything else, the record
    is read and checked in full, and the rebuilt tree is left as it was.
    """

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        self.book: MemoryBook | None = None
        encode, sha256 = _hashing_tools()
        self.encode, self.sha256 = encode, sha256

    def as_ruled(self, walk: Walk, record: dict[str, Any], tx_hash: Any) -> bool:
        replay = self.replay
        rates, tree = replay.rates, replay.tree
        if rates is None or tree is None or record.keys() != _RULED_KEYS:
            return False
        make = _REQUESTS.get(record["kind"])
        tx_id, at = record["id"], record["at"]
        if make is None or tx_id.__class__ is not str or at.__class__ is not str or tx_hash.__class__ is not str:
            return False
        if at < walk.previous_at or not _ID.fullmatch(tx_id) or not _AT.fullmatch(at):
            return False
        seen = walk.seen
        if seen is not None and tx_id in seen:
            return False
        book = self.book
        if book is None or book.rates is not rates:
            book = self.book = replay.book(rates)
        try:
            maker, values = make(record["request"])
            key = (record["kind"], *values)
            request = _MADE_REQUESTS.get(key)
            if request is None:
                if len(_MADE_REQUESTS) >= 4096:
                    _MADE_REQUESTS.clear()
                request = _MADE_REQUESTS[key] = maker(*values)
            plan = RULES[record["kind"]](book, request, tx_id, at)
            check_limits(plan)
        except (CoinpurseError, KeyError, TypeError, ValueError, ArithmeticError, AttributeError):
            return False
        states = plan.states
        names = sorted(states)
        digests = {name: account_digest(name, states[name]) for name in names}
        tree.update(digests)
        request, used, details = plan.payload.to_dicts()
        made = {
            "id": tx_id, "kind": record["kind"], "at": at, "request": request, "rates": used,
            "postings": [
                {"account": a, "commodity": c, "amount": m if isinstance(m, int) else decimal_str(m)} for a, c, m in plan.postings
            ],
            "details": details, "after": balances_after(states),
            "state": {"rates": rates_digest(rates, replay.currency), "accounts": digests, "root": tree.root()},
        }  # fmt: skip
        text = self.encode(made)
        if text != self.encode(record) or self.sha256(f"{walk.previous_hash}\n{text}".encode()).hexdigest() != tx_hash:
            # Back to what the tree held: the digest of each account's rebuilt state, and no entry for a new one.
            held = replay.accounts
            tree.update({name: state_digest(held[name]) for name in names if name in held})
            tree.remove([name for name in names if name not in held])
            return False
        replay.accounts.update(states)
        if replay.lineages is not None or replay.find is not None:
            note_walked(replay, tx_id, plan.payload)
        if seen is not None:
            seen.add(tx_id)
        walk.previous_hash = tx_hash
        walk.previous_at = at
        return True


def _hashing_tools() -> tuple[Any, Any]:
    import hashlib

    from coinpurse.speedups.jsontext import canonical_json

    return canonical_json, hashlib.sha256


# ----- verify --after: trust a transaction verified before, check what came after -----


def verify_after(
    book: Book, after_hash: str, anchors: tuple[str, ...] = (), on_progress: Progress | None = None
) -> VerifyReport:
    """Trust the history up to the transaction with ``after_hash`` and check only what came after it.

    The hash was given by an earlier verify, so it vouches for that transaction and,
    through the chain, for everything before it: that transaction must still be stored
    and match it (with the hash before it), and what it recorded (the rates' digest
    and the root over every account's state) is then what the ledger held at that
    point. The accounts the later transactions touch are taken back to that point
    from their stored states (undoing the later postings, buys' lots and gifts' draws;
    a redeemer's payout day from its last redeems before it), and the root over them
    and the stored digests of every other account must be the recorded root: so they
    are the states the chain vouches for. Then the later transactions are walked as a
    whole verify walks them, and the touched accounts compared with the stored ones.

    Where those states can't be proven that way (a history the hash no longer
    matches is reported as such), the whole chain is checked instead and the report
    says so. The cost grows with the transactions after the hash (and, for the tree,
    the accounts), not with the history before it.
    """
    stored = StoredAccounts(book)
    position = book.position_of_hash(after_hash)
    if position is None:
        return _after_failed(
            book, stored, After(after_hash), "after_not_found",
            f"no transaction has the hash {after_hash}: the history up to it was changed, "
            "or the hash is not from this ledger",
        )  # fmt: skip
    try:
        tx = book.transaction_at(position)
        previous = GENESIS_HASH if position == 1 else book.hash_at(position - 1)
    except DamagedRecord as error:
        return _after_failed(
            book, stored, After(after_hash, None, position), "after_not_found",
            f"the transaction with the hash {after_hash} (#{position}) can't be read: {error}",
        )  # fmt: skip
    after = After(after_hash, tx.id, position)
    if chain_hash(previous, tx.content()) != after_hash:
        return _after_failed(
            book, stored, after, "after_not_found",
            f"transaction {tx.id!r} (#{position}) is stored with the hash {after_hash} but no longer matches it: "
            "it, or the history before it, was changed",
        )  # fmt: skip
    replay = _replay_at(book, tx, position, stored)
    if replay is None:
        return _whole_chain(book, anchors, on_progress, after)
    walk = Walk(None if book.ids_unique_in_store else _ids(book.ids_within(position)))
    walk.position, walk.previous_hash, walk.previous_at = position, after_hash, tx.at
    total = book.history_count() - position if on_progress is not None else 0
    first = book.first_of_kind(RATES_KIND, after=position)
    checks = (check_touched_accounts, check_stored_rates, check_account_tree)
    try:
        report = _finish(replay, walk, book, stored, anchors, first, on_progress, total, checks, after)
    except _Restart:  # the rates change looked up ahead was not the walk's: the rates at the start are unproven
        return _whole_chain(book, anchors, on_progress, after)
    return replace(report, after=replace(after, checked=report.transactions - position))


def _ids(ids: Any) -> set[str]:
    return ids if isinstance(ids, set) else set(ids)


def _after_failed(book: Book, stored: StoredAccounts, after: After, code: str, message: str) -> VerifyReport:
    length = book.history_count()
    head = book.hash_at(length) if length else GENESIS_HASH
    return VerifyReport(length, len(stored), head, (Problem(code, message),), False, (), after)


def _whole_chain(book: Book, anchors: tuple[str, ...], on_progress: Progress | None, after: After) -> VerifyReport:
    report = verify_book(book, anchors, None, on_progress)
    return replace(report, after=replace(after, checked=report.transactions, whole=True))


def _replay_at(book: Book, tx: Transaction, position: int, stored: StoredAccounts) -> Replay | None:
    """The replay as the chain left it at ``tx``: its rates and the states of the accounts touched after it,
    proven against what ``tx`` recorded; None where they can't be."""
    state = tx.state
    if state is None or state.root is None:
        return None  # recorded before transactions recorded the root: nothing to hold the states against
    first = book.first_of_kind(RATES_KIND, after=position)
    rates = _rates_before(book.rates, None if first is None else first[1])
    if rates is None or rates_digest(rates, book.currency) != state.rates:
        return None
    try:
        states = _states_before(book, position, stored)
    except (DamagedRecord, TypeError, ValueError, ArithmeticError, AttributeError):
        return None
    if states is None:
        return None
    # An account whose state comes back to zero most likely did not exist yet; failing that, it did.
    unsure = [name for name, account in states.items() if account == _ZERO_STATE]
    for absent in (unsure, []) if unsure else (unsure,):
        held = {name: account for name, account in states.items() if name not in absent}
        try:
            tree = book.stored_account_tree()
            tree.update({name: state_digest(account) for name, account in held.items()})
            tree.remove(absent)
            root = tree.root()
        except DamagedRecord:
            return None
        if root == state.root:
            return Replay(
                book.currency,
                rates,
                held,
                states_recorded=True,
                tree=tree,
                start=position,
                find=ReversalHistory.of(book),
            )
    return None


_ZERO_STATE = AccountState()


def _states_before(book: Book, position: int, stored: StoredAccounts) -> dict[str, AccountState] | None:
    """The states of the accounts the transactions after ``position`` touch, taken back from the stored ones
    to that point; None where a transaction can't be undone (then the stored states do not come from it)."""
    moved: dict[str, list[Any]] = {}  # name -> [coins, diamonds, cash, lots, redeemed after position]

    def touch(name: str) -> list[Any]:
        entry = moved.get(name)
        if entry is None:
            have = stored.get(name) or _ZERO_STATE
            entry = moved[name] = [have.coins, have.diamonds, have.cash, list(have.lots), False, have]
        return entry

    for tx in book.history_backwards(position):
        for account, commodity, amount in tx.postings:
            entry = touch(account)
            entry[0 if commodity == COIN else 1 if commodity == DIAMOND else 2] -= amount
        if tx.state is not None:
            for name in tx.state.accounts:
                touch(name)
        record = tx.payload
        if isinstance(record, BuyRecord):
            lots = touch(record.request.account)[3]
            if not lots or lots[-1] != Lot(tx.id, record.request.coins, record.details.price):
                return None
            lots.pop()
        elif isinstance(record, GiftRecord):
            touch(record.request.recipient)
            entry = touch(record.request.sender)
            entry[3] = _undrawn(list(record.details.lots), entry[3])
        elif isinstance(record, RedeemRecord):
            touch(record.request.account)[4] = True
        elif isinstance(record, (ReversalRecord, RefundRecord)):
            return None  # not undone here: the whole chain is checked instead (a refund's lineage needs its gifts)
        elif tx.kind in PAYOUT_KINDS:
            return None  # a settlement needs its hold walked, and a hold moves the day's maximum: the whole chain
    states = {}
    for name, (coins, diamonds, cash, lots, redeemed, have) in moved.items():
        day, paid = have.payout_day, have.paid_that_day
        if redeemed:
            day, paid = _payouts_before(book, name, position)
        states[name] = AccountState(coins, diamonds, cash, tuple(lots), day, paid)
    return states


def _undrawn(drawn: list[Lot], remaining: list[Lot]) -> list[Lot]:
    """The lots before a gift drew ``drawn`` from them and left ``remaining`` (core.rules.draw_lots, undone)."""
    if drawn and not remaining and drawn[-1].source == "" and not drawn[-1].cost:
        return drawn[:-1]  # coins that came with no lot
    if drawn and remaining and drawn[-1].source == remaining[0].source:  # the last lot drawn was drawn in part
        part, rest = drawn[-1], remaining[0]
        return [*drawn[:-1], Lot(part.source, part.coins + rest.coins, part.cost + rest.cost), *remaining[1:]]
    return drawn + remaining


def _payouts_before(book: Book, name: str, position: int) -> tuple[str, Decimal]:
    """The payout day and what was paid on it, after the first ``position`` transactions: from the account's last redeems."""
    day, paid = "", ZERO
    for tx in book.account_redeems(name, position):
        record = tx.payload
        if not isinstance(record, RedeemRecord):
            continue
        if day and tx.at[:10] != day:
            break
        day = tx.at[:10]
        paid += record.details.cash
    return day, paid


def check_touched_accounts(replay: Replay, book: Book, stored: StoredAccounts) -> list[Problem]:
    """verify --after: each account the walk touched is stored as the walk leaves it (the others are the tree's)."""
    problems = []
    for name in sorted(replay.accounts):
        have = stored.get(name)
        if have is None:
            problems.append(
                Problem("account_missing", "the history moves money through it, but it is not stored", account=name)
            )
        elif have != replay.accounts[name]:
            problems.extend(_differences(name, have, replay.accounts[name]))
    return problems


# ----- sponsors: cash into and out of a budget, replayed by the rules -----------------


def _sponsor_request(record: Any) -> Any:
    """A fund's or withdraw's request in normal form (its own type's checks: a valid name, positive cents)."""
    return type(record.request).make(record.request.sponsor, record.request.cash)


def _sponsor_recorded_rates(record: Any, payout: Payout) -> Rates:
    return Rates((), (), Decimal(1), payout)  # a sponsor's cash uses no rates


def _sponsor_rates_problem(record: Any, rates: Rates, at: str) -> str | None:
    return None


REPLAYERS["sponsor-fund"] = Replayer(_sponsor_request, _sponsor_recorded_rates, _sponsor_rates_problem)
REPLAYERS["sponsor-withdraw"] = Replayer(_sponsor_request, _sponsor_recorded_rates, _sponsor_rates_problem)
KIND_CHECKS["sponsor-fund"] = check_by_rules
KIND_CHECKS["sponsor-withdraw"] = check_by_rules


# ----- held payouts: a write touching a creator records the release of their expired holds first ------


def check_releases_first(replay: Replay, tx: Transaction, walk: Walk) -> Found:
    """A transaction that posts to a creator whose hold expired by its time comes after that hold's release."""
    if not replay.payouts or tx.kind == "payout-expire":
        return []
    users = {p.account for p in tx.postings if not p.account.startswith("platform:")}
    named = tx.request.get("hold")
    return [
        (
            "release_not_recorded",
            f"it touches {track.facts.account} after payout {track.facts.hold} expired at {track.facts.expires}, "
            "but the release was not recorded before it",
        )
        for track in replay.payouts.values()
        if track.state == "pending" and track.facts.account in users and track.facts.expires <= tx.at
        and track.facts.hold != named
    ]  # fmt: skip


TRANSACTION_CHECKS = (*TRANSACTION_CHECKS, check_releases_first)
