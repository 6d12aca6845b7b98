"""The library: one function per operation, each returning a small result.

This is what the CLI calls and what scripts can import. Results convert to the
documented JSON shapes with ``to_dict()``; money in them is always a string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from coinpurse.core.book import Book
from coinpurse.core.model import AccountState, Transaction
from coinpurse.core.money import ZERO, decimal_str, exact_arithmetic, money_str
from coinpurse.core.names import did_you_mean, normalize_handle
from coinpurse.core.rates import Rates
from coinpurse.errors import BadInput, Refused
from coinpurse.storage import reading, write_book

if TYPE_CHECKING:
    from coinpurse.core import requests as rq
    from coinpurse.core.verify import VerifyReport

KINDS = ("buy", "gift", "redeem", "rates")


def _balance_of(tx: Transaction, name: str) -> dict[str, Any]:
    after = tx.balance_after(name)
    return {"account": name, "coins": after.coins if after else 0, "diamonds": after.diamonds if after else 0}


# Results are NamedTuples: cheaper than dataclasses to define on every start of the program.
class OperationResult(NamedTuple):
    """A recorded buy, gift or redeem, ready to show or to dump as JSON."""

    transaction: Transaction
    currency: str
    replayed: bool = False

    def to_dict(self) -> dict[str, Any]:
        tx = self.transaction
        base: dict[str, Any] = {"id": tx.id, "kind": tx.kind, "at": tx.at}
        base.update(tx.payload.facts(lambda name: _balance_of(tx, name), self.currency))
        base["replayed"] = self.replayed
        return base


def _record(path: Path, request: rq.Request, now: str | None) -> OperationResult:
    # The rules load only for writes, so reads start faster.
    from coinpurse.core import clock
    from coinpurse.core.rules import execute

    moment = now or clock.now()
    with write_book(path) as book:
        outcome = execute(book, request, moment)
        return OperationResult(outcome.transaction, book.currency, outcome.replayed)


def buy(path: Path, account: str, coins: object, channel: str = "app", id: str | None = None, now: str | None = None) -> OperationResult:
    from coinpurse.core import requests as rq

    return _record(path, rq.Buy.make(account, coins, channel, id), now)


def gift(
    path: Path,
    sender: str,
    recipient: str,
    gift_name: str,
    count: object = 1,
    stream: str | None = None,
    id: str | None = None,
    now: str | None = None,
) -> OperationResult:
    from coinpurse.core import requests as rq

    return _record(path, rq.Gift.make(sender, recipient, gift_name, count, stream, id), now)


def redeem(
    path: Path, account: str, diamonds: object = None, all: bool = False, id: str | None = None, now: str | None = None
) -> OperationResult:
    from coinpurse.core import requests as rq

    return _record(path, rq.Redeem.make(account, diamonds, all, id), now)


class AccountBalance(NamedTuple):
    account: str
    state: AccountState
    rates: Rates
    currency: str

    @property
    @exact_arithmetic
    def diamond_value(self) -> Decimal:
        return self.state.diamonds * self.rates.payout.cash_per_diamond

    @property
    def coin_cost(self) -> Decimal:
        return sum((lot.cost for lot in self.state.lots), ZERO)

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "coins": self.state.coins,
            "diamonds": self.state.diamonds,
            "diamond_value": money_str(self.diamond_value),
            "coin_cost": money_str(self.coin_cost),
            "net_cash": money_str(self.state.cash),
            "currency": self.currency,
        }


class Balances(NamedTuple):
    accounts: Sequence[AccountBalance]
    currency: str

    def totals(self) -> dict[str, Any]:
        return {
            "coins": sum(a.state.coins for a in self.accounts),
            "diamonds": sum(a.state.diamonds for a in self.accounts),
            "diamond_value": money_str(sum((a.diamond_value for a in self.accounts), ZERO)),
        }

    def to_dict(self) -> dict[str, Any]:
        return {"accounts": [a.to_dict() for a in self.accounts], "totals": self.totals(), "currency": self.currency}


def _known_account(book: Book, raw: str) -> str:
    name = normalize_handle(raw)
    if not book.has_account(name):
        hint = did_you_mean(name, book.user_accounts())
        raise BadInput(f"no account {name!r} in this ledger{hint}", code="unknown_account")
    return name


def balance(path: Path, account: str) -> AccountBalance:
    with reading(path) as book:
        name = _known_account(book, account)
        return AccountBalance(name, book.account(name), book.rates, book.currency)


def balances(path: Path) -> Balances:
    with reading(path) as book:
        return Balances(
            [AccountBalance(name, book.account(name), book.rates, book.currency) for name in book.user_accounts()],
            book.currency,
        )


class RatesView(NamedTuple):
    rates: Rates
    currency: str
    platform: Mapping[str, AccountState] = MappingProxyType({})

    @exact_arithmetic  # a share at the largest rates needs more than 28 digits before rounding
    def to_dict(self) -> dict[str, Any]:
        rates = self.rates
        payout = rates.payout
        return {
            "currency": self.currency,
            "packages": [
                {
                    "channel": channel.name,
                    "coins": package.coins,
                    "price": decimal_str(package.price),
                    "creator_share": decimal_str(
                        (package.coins * rates.diamonds_per_coin * payout.cash_per_diamond / package.price).quantize(
                            Decimal("0.0001")
                        )
                    ),
                }
                for channel in rates.channels
                for package in channel.packages
            ],
            "channels": [
                {
                    "name": channel.name,
                    "coin_price": decimal_str(channel.coin_price),
                    "custom_min": channel.custom_min,
                    "custom_max": channel.custom_max,
                    "creator_share": decimal_str(rates.creator_share(channel).quantize(Decimal("0.0001"))),
                }
                for channel in rates.channels
            ],
            "gifts": [{"name": g.name, "coins": g.coins} for g in rates.gifts],
            "conversion": {"diamonds_per_coin": decimal_str(rates.diamonds_per_coin)},
            "payout": {
                "cash_per_diamond": decimal_str(payout.cash_per_diamond),
                "minimum": decimal_str(payout.minimum),
                "daily_maximum": decimal_str(payout.daily_maximum),
                "fee_percent": decimal_str(payout.fee_percent),
            },
            "platform": {
                name: {"coins": s.coins, "diamonds": s.diamonds, "cash": decimal_str(s.cash)} for name, s in self.platform.items()
            },
        }


def rates(path: Path) -> RatesView:
    with reading(path) as book:
        return RatesView(book.rates, book.currency, book.platform_accounts())


class History(NamedTuple):
    transactions: Sequence[Transaction]
    currency: str

    def to_dict(self) -> dict[str, Any]:
        return {"transactions": [tx.output() for tx in self.transactions]}


def history(path: Path, account: str | None = None, kind: str | None = None, limit: int | None = None) -> History:
    if limit is not None and limit < 1:
        raise BadInput(f"--limit must be a positive whole number, not {limit}")
    if kind is not None:
        kind = kind.strip().casefold()  # --kind BUY means buy
    if kind is not None and kind not in KINDS:
        raise BadInput(f"unknown kind {kind!r}: the kinds are {', '.join(KINDS)}", code="unknown_kind")
    with reading(path) as book:
        name = None if account is None else _known_account(book, account)
        return History(book.transactions(name, kind, limit), book.currency)


class Gifter(NamedTuple):
    account: str
    gifts: int  # gift transactions (a gift of -n 5 counts once)
    items: int  # gifts sent, counting -n
    coins: int
    diamonds: int
    diamond_value: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "gifts": self.gifts,
            "items": self.items,
            "coins": self.coins,
            "diamonds": self.diamonds,
            "diamond_value": money_str(self.diamond_value),
        }


class Gifters(NamedTuple):
    account: str
    gifters: Sequence[Gifter]
    currency: str

    def to_dict(self) -> dict[str, Any]:
        return {"account": self.account, "gifters": [g.to_dict() for g in self.gifters], "currency": self.currency}


def gifters(path: Path, account: str, limit: int | None = 10) -> Gifters:
    """Who sent ``account`` the most diamonds, most first; ties by name.

    Diamond value is at the payout rate each gift recorded, so a rates change
    does not rewrite what earlier gifts were worth.
    """
    if limit is not None and limit < 1:
        raise BadInput(f"--limit must be a positive whole number, not {limit}")
    totals: dict[str, list[Any]] = {}
    with reading(path) as book:
        name = _known_account(book, account)
        for tx in book.transactions(name, "gift"):
            if tx.request.get("recipient") != name:
                continue
            row = totals.setdefault(tx.request["sender"], [0, 0, 0, 0, ZERO])
            row[0] += 1
            row[1] += tx.details["count"]
            row[2] += tx.details["coins"]
            row[3] += tx.details["diamonds"]
            row[4] += Decimal(tx.details["diamond_value"])
        currency = book.currency
    ranked = sorted((Gifter(sender, *row) for sender, row in totals.items()), key=lambda g: (-g.diamonds, g.account))
    return Gifters(name, ranked[:limit] if limit is not None else ranked, currency)


def verify(path: Path, anchors: Sequence[str] = ()) -> VerifyReport:
    """Walk the whole history and check it (see ``coinpurse.core.verify``); a missing ledger is unusable.

    ``anchors`` are transaction hashes noted earlier; each must still be in the chain.
    """
    from coinpurse.core.shapes import HASH_FORMAT
    from coinpurse.core.verify import verify_book
    from coinpurse.errors import LedgerUnusable

    wanted = tuple(anchor.strip().lower() for anchor in anchors)
    for anchor in wanted:
        if not HASH_FORMAT.fullmatch(anchor):
            raise BadInput(f"--anchor {anchor[:80]!r} is not a transaction hash (64 hex digits)", code="invalid_anchor")
    if not path.exists() and not path.is_symlink():
        raise LedgerUnusable(f"{path}: there is no ledger here to verify", code="ledger_missing")
    with reading(path) as book:
        return verify_book(book, wanted)


class Conversion(NamedTuple):
    source: Path
    target: Path
    transactions: int
    accounts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "target": str(self.target),
            "format": self.target.suffix.lower().lstrip("."),
            "transactions": self.transactions,
            "accounts": self.accounts,
        }


def convert(source: Path, target: Path) -> Conversion:
    """Copy a ledger into a new file of another (or the same) format, losing nothing.

    Every transaction keeps its id, time, content and hash; accounts and rates
    come across as they are. The target must not exist yet.
    """
    from coinpurse.storage import check_suffix
    from coinpurse.storage.convert import save_new
    from coinpurse.storage.outputs import refuse_ledger_files

    check_suffix(source)
    refuse_ledger_files(target, source)
    check_suffix(target)
    if not source.exists():
        raise BadInput(f"no ledger at {source}", code="no_ledger")
    if target.exists() or target.is_symlink():
        raise Refused(f"{target} already exists; convert writes only new ledgers", code="target_exists")
    with reading(source) as book:
        written = save_new(target, book)
        return Conversion(source, target, written, len(book.all_accounts()))
