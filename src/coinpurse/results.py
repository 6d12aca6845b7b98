"""What the library's reads and single operations return, each convertible with ``to_dict()``.

``to_dict()`` gives the documented JSON shape (docs/json.md); money in it is always a string.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from coinpurse.core.model import AccountState, Transaction
from coinpurse.core.money import ZERO, decimal_str, exact_arithmetic, money_str
from coinpurse.core.rates import Rates

_COST = itemgetter(2)  # a Lot's cost


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
        return sum(map(_COST, self.state.lots), ZERO)

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



class History(NamedTuple):
    transactions: Sequence[Transaction]
    currency: str
    reversed_by: Mapping[str, str] = {}  # a reversed gift's id -> its reversal's id

    def to_dict(self) -> dict[str, Any]:
        if not self.reversed_by:
            return {"transactions": [tx.output() for tx in self.transactions]}
        shown = []
        for tx in self.transactions:
            data = tx.output()
            reversal = self.reversed_by.get(tx.id) if tx.kind == "gift" else None
            if reversal is not None:
                data["reversed_by"] = reversal
            shown.append(data)
        return {"transactions": shown}



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



class Conversion(NamedTuple):
    source: Path
    target: Path
    transactions: int
    accounts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "target": str(self.target),
            "format": "postgresql" if getattr(self.target, "conninfo", None) else self.target.suffix.lower().lstrip("."),
            "transactions": self.transactions,
            "accounts": self.accounts,
        }



class LedgerInfo(NamedTuple):
    """What ``Ledger.info()`` finds at the ledger's path, read cheaply (see ``coinpurse.storage.info``)."""

    path: Path
    source: str  # how the path was chosen: "flag", "env", "default" or "given" (the library's caller)
    format: str  # json, toml, sqlite or memory
    exists: bool
    schema: int | None
    size: int | None  # bytes
    transactions: int
    accounts: int  # users' accounts
    head_hash: str | None  # the last transaction's hash; None for an empty history
    last_at: str | None
    locked: bool
    lock_holder: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ledger": str(self.path),
            "source": self.source,
            "format": self.format,
            "exists": self.exists,
            "schema": self.schema,
            "size": self.size,
            "transactions": self.transactions,
            "accounts": self.accounts,
            "head_hash": self.head_hash,
            "last_at": self.last_at,
            "locked": self.locked,
            "lock_holder": self.lock_holder,
        }


class BalancesAt(NamedTuple):
    """Users' coins and diamonds as they were right after the last transaction at or before ``at``.

    ``accounts`` holds ``BalanceAfter`` rows (the balances each transaction records);
    ``as_of`` is the last transaction included, None before the first. ``account``
    is the one asked for, or None for every account that existed by then.
    """

    at: str
    as_of: Transaction | None
    accounts: Sequence[Any]  # BalanceAfter
    account: str | None = None

    def totals(self) -> dict[str, Any]:
        return {"coins": sum(a.coins for a in self.accounts), "diamonds": sum(a.diamonds for a in self.accounts)}

    def _as_of(self) -> dict[str, Any] | None:
        return None if self.as_of is None else {"id": self.as_of.id, "at": self.as_of.at}

    def to_dict(self) -> dict[str, Any]:
        if self.account is not None:
            one = self.accounts[0]
            return {"account": one.account, "coins": one.coins, "diamonds": one.diamonds, "at": self.at, "as_of": self._as_of()}
        return {
            "accounts": [{"account": a.account, "coins": a.coins, "diamonds": a.diamonds} for a in self.accounts],
            "totals": self.totals(),
            "at": self.at,
            "as_of": self._as_of(),
        }


class ReversalResult(NamedTuple):
    """A reversal recorded, replayed, or (``dry_run``) only shown: the receipt as it would be written."""

    operation: OperationResult
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = self.operation.to_dict()
        data["dry_run"] = self.dry_run
        return data
