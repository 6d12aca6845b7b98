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
- it advances the rebuilt balances by the stored postings (and lots, first in,
  first out), checks that the ``state`` the transaction recorded is the digest
  of the rates and of each changed account the replay gives, and at the end
  compares the rebuilt balances and rates with the stored ones (so the head
  agrees with the chain's last records);
- with anchors (hashes noted earlier, outside the file), it checks that the
  chain holds a transaction with each: a history rewritten before an anchor,
  however consistently, no longer does.

Problems are data: the report lists them in the order found, and the first one
names the first transaction that is wrong. Nothing here raises on a bad ledger.
A kind this module does not know is reported, not crashed on; ``KIND_CHECKS``
is the hook for new kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from coinpurse.core import requests as rq
from coinpurse.core.book import Book, MemoryBook
from coinpurse.core.chain import AccountTree, is_checkpoint, rates_digest, state_digest
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
from coinpurse.core.names import PAYOUTS, ROUNDING
from coinpurse.core.patterns import HASH_FORMAT as _HASH
from coinpurse.core.patterns import TIME_FORMAT as _AT
from coinpurse.core.rates import Channel, Gift, Package, Payout, Rates, rates_from_dict
from coinpurse.core.rates_edit import diff, edited
from coinpurse.core.rules import Plan, balances_after, draw_lots, plan_buy, plan_gift, plan_redeem
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
class VerifyReport:
    transactions: int
    accounts: int
    head_hash: str
    problems: tuple[Problem, ...] = ()
    truncated: bool = False  # more problems than MAX_PROBLEMS were found
    anchors: tuple[Anchor, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        if self.ok:
            anchored = "".join(f"; anchor {a.hash[:12]}… is {a.tx_id!r} (#{a.position})" for a in self.anchors)
            return (
                f"ok: {self.transactions:,} transactions, {self.accounts:,} accounts, "
                f"head hash {self.head_hash}{anchored}"
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
        }


class _Stop(Exception):
    """Too many problems: stop collecting."""


@dataclass
class Replay:
    """What the walk has rebuilt so far; kind checks read and advance it."""

    currency: str
    rates: Rates | None  # the rates in force now; None while unknown
    accounts: dict[str, AccountState] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    states_recorded: bool = False  # a transaction recorded its state: every later one must too
    tree: AccountTree | None = None  # every account's state digest, from the first transaction that records a root

    def report(self, code: str, message: str, tx: Transaction | None = None, position: int | None = None,
               account: str | None = None) -> None:
        self.problems.append(Problem(code, message, None if tx is None else tx.id, position, account))
        if len(self.problems) >= MAX_PROBLEMS:
            raise _Stop

    def book(self, rates: Rates) -> MemoryBook:
        """A book over the rebuilt balances, for the rules to plan against (never appended to)."""
        return MemoryBook(self.currency, rates, self.accounts, [])


# A kind check compares a transaction with what the rules make of it and returns
# the problems as (code, message); it must not change the replay's balances.
KindCheck = Callable[[Replay, Transaction], list[tuple[str, str]]]


# ----- rates of a transaction's time ------------------------------------------------

_FILLER_PAYOUT = Payout(Decimal("0.005"), ZERO, Decimal(MAX_UNITS - 1), ZERO)


def _recorded_rates(tx: Transaction, replay_rates: Rates | None) -> Rates:
    """Rates built only from what the transaction recorded, for replaying it through the rules."""
    rec = tx.rates
    base_payout = replay_rates.payout if replay_rates is not None else _FILLER_PAYOUT
    if tx.kind == "buy":
        package = rec.get("package")
        packages: tuple[Package, ...] = ()
        if package is not None:
            packages = (Package(_count(package["coins"]), Decimal(_text(package["price"]))),)
            coin_price = Decimal(1)  # unused: the package sets the price
        else:
            coin_price = Decimal(_text(rec["coin_price"]))
        channel = Channel(_text(rec["channel"]), packages, coin_price, 1, MAX_UNITS - 1)
        return Rates((channel,), (), Decimal(1), base_payout)
    if tx.kind == "gift":
        gift = rec["gift"]
        payout = base_payout._replace(cash_per_diamond=Decimal(_text(rec["cash_per_diamond"])))
        return Rates((), (Gift(_text(gift["name"]), _count(gift["coins"])),), Decimal(_text(rec["diamonds_per_coin"])), payout)
    if tx.kind == "redeem":
        payout = Payout(
            Decimal(_text(rec["cash_per_diamond"])),
            Decimal(_text(rec["minimum"])),
            Decimal(_text(rec["daily_maximum"])),
            Decimal(_text(rec["fee_percent"])),
        )
        return Rates((), (), Decimal(1), payout)
    raise ValueError(f"no recorded rates for kind {tx.kind!r}")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, found {type(value).__name__}")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a whole number, found {type(value).__name__}")
    return value


def _rates_in_force(tx: Transaction, rates: Rates) -> list[tuple[str, str]]:
    """The gift, package or payout rules the transaction recorded must be those of its time."""
    rec, req = tx.rates, tx.request
    if tx.kind == "buy":
        channel = next((c for c in rates.channels if c.name == rec.get("channel")), None)
        if channel is None:
            return [("unknown_rate", f"channel {rec.get('channel')!r} did not exist at {tx.at}")]
        package = rec.get("package")
        coins = req.get("coins")
        if package is not None:
            found = channel.package_for(package.get("coins"))
            if found is None or decimal_str(found.price) != package.get("price"):
                return [("unknown_rate", f"package {package} did not exist on {channel.name} at {tx.at}")]
        else:
            if channel.package_for(coins) is not None:  # type: ignore[arg-type]
                return [("unknown_rate", f"{coins} coins is a {channel.name} package, but was charged per coin")]
            if rec.get("coin_price") != decimal_str(channel.coin_price):
                return [("unknown_rate", f"per-coin price {rec.get('coin_price')} was not {channel.name}'s at {tx.at}")]
            if not (isinstance(coins, int) and channel.custom_min <= coins <= channel.custom_max):
                return [("unknown_rate", f"{coins} coins was outside {channel.name}'s custom bounds at {tx.at}")]
        return []
    if tx.kind == "gift":
        gift = rec.get("gift", {})
        found_gift = rates.find_gift(str(gift.get("name", "")))
        if found_gift is None or found_gift.coins != gift.get("coins"):
            return [("unknown_rate", f"gift {gift.get('name')!r} at {gift.get('coins')} coins was not in the catalog at {tx.at}")]
        conversion = (decimal_str(rates.diamonds_per_coin), decimal_str(rates.payout.cash_per_diamond))
        if (rec.get("diamonds_per_coin"), rec.get("cash_per_diamond")) != conversion:
            return [("unknown_rate", f"its conversion rates were not those in force at {tx.at}")]
        return []
    if tx.kind == "redeem":
        payout = rates.payout
        expected = {
            "cash_per_diamond": decimal_str(payout.cash_per_diamond),
            "minimum": decimal_str(payout.minimum),
            "daily_maximum": decimal_str(payout.daily_maximum),
            "fee_percent": decimal_str(payout.fee_percent),
        }
        if dict(rec) != expected:
            return [("unknown_rate", f"its payout rules were not those in force at {tx.at}")]
    return []


# ----- the known kinds -------------------------------------------------------------


def _planned(replay: Replay, tx: Transaction) -> Plan:
    rates = _recorded_rates(tx, replay.rates)
    book = replay.book(rates)
    req = tx.request
    if tx.kind == "buy":
        return plan_buy(book, rq.Buy.make(req["account"], req["coins"], req["channel"]), tx.id)
    if tx.kind == "gift":
        gift = rq.Gift.make(req["sender"], req["recipient"], req["gift"], req["count"], req.get("stream"))
        return plan_gift(book, gift, tx.id)
    redeem = rq.Redeem.make(req["account"], req.get("diamonds"), bool(req.get("all", False)))
    return plan_redeem(book, redeem, tx.id, tx.at[:10])


def check_by_rules(replay: Replay, tx: Transaction) -> list[tuple[str, str]]:
    """Run the request through the rules again; what they make must be what is stored."""
    problems: list[tuple[str, str]] = []
    if replay.rates is not None:
        problems += _rates_in_force(tx, replay.rates)
    try:
        plan = _planned(replay, tx)
    except CoinpurseError as error:
        return [*problems, ("rules_refuse", f"the rules refuse it against the balances before it: {error.message}")]
    if dict(tx.request) != plan.request:
        problems.append(("request_mismatch", f"its request is not in normal form: {dict(tx.request)}"))
    if tuple(tx.postings) != plan.postings:
        stored = ", ".join(f"{p.account} {p.amount} {p.commodity}" for p in tx.postings)
        expected = ", ".join(f"{p.account} {p.amount} {p.commodity}" for p in plan.postings)
        problems.append(("postings_mismatch", f"its postings ({stored}) are not what the rules make ({expected})"))
    elif dict(tx.details) != plan.details:
        problems.append(("details_mismatch", "its details (price, lots, fee or rounding) are not what the rules make"))
    elif dict(tx.after) != balances_after(plan.states):
        problems.append(("after_mismatch", f"its balances-after {dict(tx.after)} are not {balances_after(plan.states)}"))
    return problems


def _new_rates_of(tx: Transaction) -> Any:
    """A rates change records the rates it set as the rates it was made at."""
    return tx.rates or tx.details.get("rates")


def check_rates_change(replay: Replay, tx: Transaction) -> list[tuple[str, str]]:
    """A rates change moves no money, sets valid rates, and lists exactly what changed."""
    problems: list[tuple[str, str]] = []
    if tx.postings:
        problems.append(("rates_postings", "a rates change must not move money"))
    try:
        new = rates_from_dict(_new_rates_of(tx))
    except CoinpurseError as error:
        problems.append(("rates_invalid", f"its new rates are invalid: {error.message}"))
        return problems
    if replay.rates is not None:
        listed = tx.details.get("changes")
        actual = [{k: v for k, v in change.items() if v is not None} for change in diff(replay.rates, new)]
        if listed != actual:
            problems.append(("rates_changes_mismatch", "its list of changes is not what changed from the rates before it"))
    return problems


KIND_CHECKS: dict[str, KindCheck] = {
    "buy": check_by_rules,
    "gift": check_by_rules,
    "redeem": check_by_rules,
    RATES_KIND: check_rates_change,
}


# ----- rebuilding balances from stored postings ------------------------------------


def _apply(replay: Replay, tx: Transaction) -> None:
    """Advance the rebuilt balances by the stored transaction, whatever the rules say of it."""
    accounts = replay.accounts
    for name in sorted({p.account for p in tx.postings}):
        accounts[name] = accounts.get(name, AccountState()).posted(tx.postings, name)
    if tx.kind == "buy":
        buyer = tx.request.get("account")
        if isinstance(buyer, str) and buyer in accounts:
            name = buyer
            coins = sum(int(p.amount) for p in tx.postings if p.account == name and p.commodity == COIN)
            cost = -sum((Decimal(p.amount) for p in tx.postings if p.account == name and p.commodity == replay.currency), ZERO)
            state = accounts[name]
            accounts[name] = state._replace(lots=(*state.lots, Lot(tx.id, coins, cost)))
    elif tx.kind == "gift":
        sender = tx.request.get("sender")
        if isinstance(sender, str) and sender in accounts:
            name = sender
            coins = -sum(int(p.amount) for p in tx.postings if p.account == name and p.commodity == COIN)
            if coins > 0:
                _, remaining = draw_lots(accounts[name].lots, coins)
                accounts[name] = accounts[name]._replace(lots=remaining)
    elif tx.kind == "redeem":
        creator = tx.request.get("account")
        if isinstance(creator, str) and creator in accounts:
            name = creator
            value = -sum((Decimal(p.amount) for p in tx.postings if p.account == PAYOUTS), ZERO)
            rounding = sum((Decimal(p.amount) for p in tx.postings if p.account == ROUNDING), ZERO)
            day = tx.at[:10]
            state = accounts[name]
            accounts[name] = state._replace(payout_day=day, paid_that_day=state.paid_on(day) + value - rounding)
    elif tx.kind == RATES_KIND:
        try:
            replay.rates = rates_from_dict(_new_rates_of(tx))
        except CoinpurseError:
            replay.rates = None  # reported by its check; what follows can't be checked against it


def _initial_rates(book: Book, kinds: list[str], first_change: Transaction | None) -> Rates | None:
    """The rates in force before the first change: the book's when nothing changed them.

    Otherwise the first change is undone: each key goes back to its "from", and a
    key it added (no "from") is removed. None when that can't be done.
    """
    if RATES_KIND not in kinds:
        return book.rates
    if first_change is None:
        return None
    try:
        after = rates_from_dict(_new_rates_of(first_change))
        changes = first_change.details.get("changes", [])
        sets = {c["key"]: c["from"] for c in changes if "from" in c}
        added = [c["key"] for c in changes if "from" not in c]
        removes = tuple(key.removesuffix(".coins") if key.startswith("gift.") else key for key in added)
        return edited(after, sets, removes)
    except (CoinpurseError, KeyError, TypeError, AttributeError):
        return None


# ----- the walk -------------------------------------------------------------------


def _safe_iter(book: Book) -> Iterator[tuple[Transaction | None, str | None]]:
    """Transactions, or (None, why) for a record that can't be read; stops after it."""
    iterator = book.iter_transactions()
    while True:
        try:
            tx = next(iterator)
        except StopIteration:
            return
        except DamagedRecord as error:
            yield None, str(error)
            return
        yield tx, None


def _compare_accounts(replay: Replay, stored: dict[str, AccountState]) -> None:
    for name in sorted(set(stored) | set(replay.accounts)):
        if name not in replay.accounts:
            replay.report("account_not_in_history", "stored, but no transaction ever touched it", account=name)
            continue
        if name not in stored:
            replay.report("account_missing", "the history moves money through it, but it is not stored", account=name)
            continue
        have, rebuilt = stored[name], replay.accounts[name]
        if have == rebuilt:
            continue
        for what, a, b in (
            ("coins", have.coins, rebuilt.coins),
            ("diamonds", have.diamonds, rebuilt.diamonds),
            ("cash", have.cash, rebuilt.cash),
            ("lots", [lot.to_list() for lot in have.lots], [lot.to_list() for lot in rebuilt.lots]),
            ("payout day", have.payout_day, rebuilt.payout_day),
            ("paid that day", have.paid_that_day, rebuilt.paid_that_day),
        ):
            if a != b:
                replay.report("balance_mismatch", f"stored {what} {a} but the history gives {b}", account=name)


def verify_book(book: Book, anchors: tuple[str, ...] = ()) -> VerifyReport:
    """Walk the whole history once and report everything that does not add up.

    ``anchors`` are hashes noted earlier: each must be the hash of a transaction in the chain.
    """
    stored = book.all_accounts()
    transactions: list[Transaction] = []
    kinds: list[str] = []
    damaged: tuple[int, str] | None = None
    for tx, why in _safe_iter(book):
        if tx is None:
            damaged = (len(transactions) + 1, why or "damaged")
            break
        transactions.append(tx)
        kinds.append(tx.kind)
    first_change = next((tx for tx in transactions if tx.kind == RATES_KIND), None)
    replay = Replay(book.currency, _initial_rates(book, kinds, first_change))
    previous_hash, previous_at = GENESIS_HASH, ""
    seen: set[str] = set()
    wanted = set(anchors)
    found: dict[str, Anchor] = {}
    try:
        for position, tx in enumerate(transactions, start=1):
            _check_one(replay, tx, position, seen, previous_hash, previous_at)
            previous_hash, previous_at = tx.hash, max(previous_at, tx.at)
            if tx.hash in wanted:
                found.setdefault(tx.hash, Anchor(tx.hash, tx.id, position))
        _check_derived_data(replay, book)
        if damaged is not None:
            replay.report("damaged_record", damaged[1], position=damaged[0])
        else:
            _compare_accounts(replay, stored)
            if replay.rates is not None and replay.rates != book.rates:
                replay.report("rates_mismatch", "the stored rates are not those the history leaves in force")
        for code, message, where in book.account_tree_problems():  # after the accounts: an edited row shows there first
            replay.report(code, message, position=where)
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
        len(transactions), len(stored), previous_hash, tuple(replay.problems), truncated,
        tuple(found.get(anchor, Anchor(anchor)) for anchor in anchors),
    )  # fmt: skip


def _check_derived_data(replay: Replay, book: Book) -> None:
    """What the store derives from the stored transactions (SQLite's columns and indexes) must agree with them."""
    for code, message, position in book.derived_data_problems():
        replay.report(code, message, position=position)


def _check_one(replay: Replay, tx: Transaction, position: int, seen: set[str], previous_hash: str, previous_at: str) -> None:
    def report(code: str, message: str) -> None:
        replay.report(code, message, tx, position)

    if tx.id in seen:
        report("duplicate_id", "its id was already used by an earlier transaction")
    seen.add(tx.id)
    if not _HASH.fullmatch(tx.hash):
        report("bad_hash", "its hash is missing or not a sha256 hex digest")
    elif chain_hash(previous_hash, tx.content()) != tx.hash:
        report(
            "chain_broken",
            "its hash does not match its content and the previous transaction's hash: "
            "it was changed, moved, or a transaction before it was removed",
        )
    if not _AT.fullmatch(tx.at):
        report("bad_time", f"its time {tx.at!r} is not a UTC time such as 2026-03-01T12:00:00Z")
    elif tx.at < previous_at:
        report("time_backwards", f"its time {tx.at} is earlier than the transaction before it ({previous_at})")
    commodities = {COIN, DIAMOND, replay.currency}
    odd = sorted({p.commodity for p in tx.postings} - commodities)
    if odd:
        report("unknown_commodity", f"it posts an unknown commodity {odd[0]!r}")
    unbalanced = {c: total for c, total in sums_by_commodity(tx.postings).items() if total != 0}
    if unbalanced:
        shown = ", ".join(f"{total} {c}" for c, total in sorted(unbalanced.items()))
        report("unbalanced", f"its postings do not sum to zero: {shown}")
    check = KIND_CHECKS.get(tx.kind)
    if check is None:
        report("unknown_kind", f"its kind {tx.kind!r} is not one this coinpurse can check")
    else:
        try:
            found = check(replay, tx)
        except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as error:
            found = [("malformed", f"its request or rates are malformed ({type(error).__name__}: {error})")]
        for code, message in found:
            report(code, message)
    try:
        _apply(replay, tx)
    except (TypeError, ValueError, ArithmeticError) as error:
        report("malformed", f"its postings can't be applied ({type(error).__name__}: {error})")
        return
    for code, message in _state_problems(replay, tx):
        report(code, message)


def _state_problems(replay: Replay, tx: Transaction) -> list[tuple[str, str]]:
    """The state a transaction recorded must be what the replay leaves behind it."""
    if tx.state is None:
        if replay.states_recorded:
            return [("state_missing", "it records no state, though the transactions before it do")]
        return []  # recorded before transactions recorded their state
    replay.states_recorded = True
    problems: list[tuple[str, str]] = []
    if replay.rates is not None and tx.state.get("rates") != rates_digest(replay.rates, replay.currency):
        problems.append(("state_rates_mismatch", "the rates it records are not those in force after it"))
    recorded = tx.state.get("accounts", {})
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


def _root_problems(replay: Replay, tx: Transaction, digests: dict[str, str]) -> list[tuple[str, str]]:
    """The root of every account's state it records must be the replay's, from the first transaction that records one."""
    assert tx.state is not None
    root = tx.state.get("root")
    if root is None:
        if replay.tree is not None:
            return [("state_root_missing", "it records no root of the accounts' states, though the transactions before it do")]
        return []  # recorded before transactions recorded the root
    if replay.tree is None:
        replay.tree = AccountTree.of({name: state_digest(state) for name, state in replay.accounts.items()})
    else:
        replay.tree.update(digests)
    if replay.tree.root() != root:
        return [("state_root_mismatch", "the root of every account's state it records is not the one the history gives")]
    return []
