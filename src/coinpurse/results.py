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
    pending: int = 0  # diamonds held for payouts still pending review
    released: int = 0  # diamonds of holds expired untouched whose release is not yet recorded: available
    cost: Decimal | None = None  # the coin cost, when read without the lots (the state may then leave them out)

    @property
    def available(self) -> int:
        """The diamonds the account can redeem or hold: its own, and those of its expired holds."""
        return self.state.diamonds + self.released

    @property
    def total(self) -> int:
        return self.available + self.pending

    @property
    @exact_arithmetic
    def diamond_value(self) -> Decimal:
        return self.available * self.rates.payout.cash_per_diamond  # as Balances.to_dict works it out

    @property
    def coin_cost(self) -> Decimal:
        if self.cost is not None:
            return self.cost
        return sum(map(_COST, self.state.lots), ZERO)

    def to_dict(self, diamond_value: Decimal | None = None) -> dict[str, Any]:
        """``diamond_value``: its ``diamond_value`` when the caller has it already."""
        return {
            "account": self.account,
            "coins": self.state.coins,
            "diamonds": self.available,
            "diamond_value": money_str(self.diamond_value if diamond_value is None else diamond_value),
            "coin_cost": money_str(self.coin_cost),
            "net_cash": money_str(self.state.cash),
            "currency": self.currency,
            "pending_diamonds": self.pending,
            "total_diamonds": self.total,
        }


class Balances(NamedTuple):
    accounts: Sequence[AccountBalance]
    currency: str

    def totals(self, values: Sequence[Decimal] | None = None) -> dict[str, Any]:
        """``values``: each account's ``diamond_value`` (see diamond_values), when the caller has them already."""
        return {
            "coins": sum(a.state.coins for a in self.accounts),
            "diamonds": sum(a.available for a in self.accounts),
            "diamond_value": money_str(sum(self.diamond_values() if values is None else values, ZERO)),
            "pending_diamonds": sum(a.pending for a in self.accounts),
            "total_diamonds": sum(a.total for a in self.accounts),
        }

    @exact_arithmetic  # once for every account: thousands of them (AccountBalance.diamond_value, worked out here)
    def diamond_values(self) -> list[Decimal]:
        return [a.available * a.rates.payout.cash_per_diamond for a in self.accounts]

    def to_dict(self) -> dict[str, Any]:
        values = self.diamond_values()
        return {
            "accounts": [a.to_dict(value) for a, value in zip(self.accounts, values, strict=True)],
            "totals": self.totals(values),
            "currency": self.currency,
        }


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
                    "store_fee_percent": None
                    if channel.store_fee_percent is None
                    else decimal_str(channel.store_fee_percent),
                }
                for channel in rates.channels
            ],
            "gifts": [g.to_dict() for g in rates.gifts],
            "conversion": {"diamonds_per_coin": decimal_str(rates.diamonds_per_coin)},
            "payout": {
                "cash_per_diamond": decimal_str(payout.cash_per_diamond),
                "minimum": decimal_str(payout.minimum),
                "daily_maximum": decimal_str(payout.daily_maximum),
                "fee_percent": decimal_str(payout.fee_percent),
                "review_days": rates.review_days_in_force,
            },
            "platform": {
                name: {"coins": s.coins, "diamonds": s.diamonds, "cash": decimal_str(s.cash)}
                for name, s in self.platform.items()
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
    ranks: Sequence[int] = ()  # each gifter's place on the leaderboard (tied diamonds share one); by order when empty
    stream: str | None = None  # the live stream counted, or None for every gift

    def rank_of(self, index: int) -> int:
        return self.ranks[index] if index < len(self.ranks) else index + 1

    def to_dict(self) -> dict[str, Any]:
        rows = [{"rank": self.rank_of(index), **g.to_dict()} for index, g in enumerate(self.gifters)]
        return {"account": self.account, "gifters": rows, "currency": self.currency, "stream": self.stream}


class Conversion(NamedTuple):
    source: Path
    target: Path
    transactions: int
    accounts: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "target": str(self.target),
            "format": "postgresql"
            if getattr(self.target, "conninfo", None)
            else self.target.suffix.lower().lstrip("."),
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
            return {
                "account": one.account,
                "coins": one.coins,
                "diamonds": one.diamonds,
                "at": self.at,
                "as_of": self._as_of(),
            }
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


class Explained(NamedTuple):
    """``explain TX_ID``: one transaction's path of value, step by step, and the checks that its figures add up."""

    explanation: Any  # core.explain.Explanation
    currency: str

    def to_dict(self) -> dict[str, Any]:
        from coinpurse.core.explain import PERCENT_ROUNDING

        e = self.explanation
        return {
            "id": e.id,
            "kind": e.kind,
            "at": e.at,
            "currency": self.currency,
            "summary": e.summary,
            "steps": [
                {
                    "label": step.label,
                    "figures": [
                        {"name": f.name, "amount": _figure_value(f.amount, f.unit), "unit": f.unit}
                        for f in step.figures
                    ],
                    "draws_on": list(step.draws_on),
                }
                for step in e.steps
            ],
            "checks": [
                {
                    "label": check.label,
                    "unit": check.unit,
                    "total": _figure_value(check.total, check.unit),
                    "parts": [_figure_value(part, check.unit) for part in check.parts],
                    "holds": check.holds,
                }
                for check in e.checks
            ],
            "adds_up": e.adds_up,
            "notes": list(e.notes),
            "percent_rounding": PERCENT_ROUNDING,
        }

    def to_json(self) -> dict[str, Any]:
        """The same as ``to_dict``: the documented JSON shape (docs/json.md), money as strings."""
        return self.to_dict()


def _figure_value(amount: Any, unit: str) -> int | str:
    """Coins and diamonds stay integers; cash is money text, a rate or percentage its own digits."""
    if isinstance(amount, int):
        return amount
    return money_str(amount) if unit == "cash" else decimal_str(amount)


def _figures_dict(figures: Any) -> dict[str, Any]:
    """A span's figures (core.report.Figures) as JSON: counts as integers, money and percentages as strings."""
    kept_percent, after_fees = figures.kept_percent, figures.kept_after_store_fees_percent
    return {
        "buys": figures.buys,
        "coins_sold": figures.coins_sold,
        "cash_in": money_str(figures.cash_in),
        "refunds": figures.refunds,
        "refunded": money_str(figures.refunded),
        "gifts": figures.gifts,
        "diamonds_issued": figures.diamonds_issued,
        "diamonds_reversed": figures.diamonds_reversed,
        "diamonds_clawed_back": figures.diamonds_clawed_back,
        "diamonds_net": figures.diamonds_net,
        "payouts": figures.payouts,
        "diamonds_redeemed": figures.diamonds_redeemed,
        "payout_cash": money_str(figures.payout_cash),
        "payout_fees": money_str(figures.payout_fees),
        "paid_out": money_str(figures.paid_out),
        "kept": money_str(figures.kept),
        "kept_percent": None if kept_percent is None else decimal_str(kept_percent),
        "store_fees": money_str(figures.store_fees),
        "store_fee_unrecorded_buys": figures.store_fee_unrecorded_buys,
        "kept_after_store_fees": money_str(figures.kept_after_store_fees),
        "kept_after_store_fees_percent": None if after_fees is None else decimal_str(after_fees),
    }


class Report(NamedTuple):
    """``coinpurse report``: the platform's figures over a window, by period, channel and creator, and what it owes."""

    report: Any  # core.report.PlatformReport (imported only when a report is made)

    def to_dict(self) -> dict[str, Any]:
        from coinpurse.core.report import ROUNDING

        r = self.report
        owed = r.liabilities
        return {
            "since": r.since,
            "until": r.until,
            "by": r.by,
            "currency": r.currency,
            "percent_rounding": ROUNDING,
            "totals": _figures_dict(r.totals),
            "periods": [{"period": period.name, **_figures_dict(period.figures)} for period in r.periods],
            "channels": [
                {
                    "channel": c.channel, "buys": c.buys, "coins_sold": c.coins_sold, "cash_in": money_str(c.cash_in),
                    "refunds": c.refunds, "refunded": money_str(c.refunded),
                    "store_fees": money_str(c.store_fees), "store_fee_unrecorded_buys": c.store_fee_unrecorded_buys,
                    "net": money_str(c.net),
                }
                for c in r.channels
            ],
            "creators": [
                {
                    "account": c.account, "gifts": c.gifts, "diamonds_received": c.diamonds_received,
                    "diamonds_taken_back": c.diamonds_taken_back, "diamonds": c.diamonds, "payouts": c.payouts,
                    "diamonds_redeemed": c.diamonds_redeemed, "paid_out": money_str(c.paid_out),
                    "share_of_viewer_cash": None if c.share_of_viewer_cash is None else decimal_str(c.share_of_viewer_cash),
                }
                for c in r.creators
            ],
            "liabilities": None if r.stream is not None else {
                "as_of": r.until,
                "coins": owed.coins,
                "coin_cost": money_str(owed.coin_cost),
                "diamonds": owed.diamonds,
                "diamonds_owed": owed.diamonds_owed,
                "cash_per_diamond": decimal_str(owed.cash_per_diamond),
                "diamond_value": money_str(owed.diamond_value),
                "pending_payouts": {"payouts": owed.pending.payouts, "cash": money_str(owed.pending.cash)},
                "total": money_str(owed.total),
            },
            "sponsors": [
                {
                    "sponsor": b.sponsor, "funded": money_str(b.funded), "withdrawn": money_str(b.withdrawn),
                    "bonuses": b.bonuses, "bonus_diamonds": b.bonus_diamonds, "spent": money_str(b.spent),
                    "returned": money_str(b.returned), "creators": b.creators,
                }
                for b in r.sponsors
            ],
            "anchor": None if r.anchor is None else r.anchor.to_dict(),
            "stream": None if r.stream is None else _stream_dict(r.stream),
        }  # fmt: skip


def _stream_dict(f: Any) -> dict[str, Any]:
    """One live stream's figures in a report (core.report.StreamFigures)."""
    from coinpurse.core.report import LEFT_OUT_OF_A_STREAM

    take = f.platform_take_percent
    return {
        "stream": f.stream, "gifts": f.gifts, "items": f.items, "coins": f.coins, "diamonds": f.diamonds,
        "bonus_diamonds": f.bonus_diamonds, "diamonds_taken_back": f.diamonds_taken_back, "diamonds_net": f.diamonds_net,
        "paid": money_str(f.paid), "paid_back": money_str(f.paid_back), "paid_net": money_str(f.paid_net),
        "diamond_value": money_str(f.diamond_value), "value_taken_back": money_str(f.value_taken_back),
        "value_net": money_str(f.value_net), "platform_take": money_str(f.platform_take),
        "platform_take_percent": None if take is None else decimal_str(take), "creators": f.creators,
        "left_out": list(LEFT_OUT_OF_A_STREAM),
    }  # fmt: skip


# ----- sponsors ----------------------------------------------------------------


class SponsorGifts:
    """What a sponsor's bonuses went to, for one catalog gift."""

    __slots__ = ("cash", "diamonds", "gift", "gifts")

    def __init__(self, gift: str) -> None:
        self.gift, self.gifts, self.diamonds, self.cash = gift, 0, 0, ZERO

    def to_dict(self) -> dict[str, Any]:
        return {"gift": self.gift, "gifts": self.gifts, "diamonds": self.diamonds, "cash": money_str(self.cash)}


class SponsorBudget:
    """One sponsor's budget, added up from the transactions that move it."""

    def __init__(self, sponsor: str, left: Decimal) -> None:
        self.sponsor, self.left = sponsor, left
        self.funded = self.withdrawn = self.spent = self.returned = ZERO
        self.gifts = self.diamonds = 0
        self.creators: set[str] = set()
        self.on: dict[str, SponsorGifts] = {}

    def paid(self, gift: str, creator: str, bonus: Any) -> None:
        self.spent += bonus.cash
        self.gifts += 1
        self.diamonds += bonus.diamonds
        self.creators.add(creator)
        on = self.on.get(gift)
        if on is None:
            on = self.on[gift] = SponsorGifts(gift)
        on.gifts += 1
        on.diamonds += bonus.diamonds
        on.cash += bonus.cash

    def to_dict(self) -> dict[str, Any]:
        return {
            "sponsor": self.sponsor, "account": f"sponsor:{self.sponsor}", "funded": money_str(self.funded),
            "spent": money_str(self.spent), "returned": money_str(self.returned), "withdrawn": money_str(self.withdrawn),
            "left": money_str(self.left), "gifts": self.gifts, "bonus_diamonds": self.diamonds,
            "creators": sorted(self.creators), "on": [on.to_dict() for on in sorted(self.on.values(), key=lambda o: o.gift)],
        }  # fmt: skip


class Sponsors(NamedTuple):
    budgets: Sequence[SponsorBudget]
    currency: str

    def to_dict(self) -> dict[str, Any]:
        return {"sponsors": [b.to_dict() for b in self.budgets], "currency": self.currency}


# ----- held payouts ----------------------------------------------------------------


class PayoutRow(NamedTuple):
    """One held payout and where it stands (see core.payouts.PayoutStatus)."""

    status: Any  # core.payouts.PayoutStatus: loaded only with the payouts
    currency: str

    def to_dict(self) -> dict[str, Any]:
        s = self.status
        r, d = s.record.request, s.record.details
        settled, returned = s.settled_by, s.returned_by
        return {
            "id": s.hold.id, "account": r.account, "state": s.state, "asked_at": s.hold.at, "day": d.day,
            "expires": d.expires, "diamonds": d.diamonds, "cash": decimal_str(d.cash), "fee": decimal_str(d.fee),
            "net": decimal_str(d.net), "rounding": money_str(d.rounding), "currency": self.currency,
            "settled_by": None if settled is None else settled.id, "settled_at": None if settled is None else settled.at,
            "returned_by": None if returned is None else returned.id,
            "reason": _reason_of(returned or settled), "release_recorded": not s.expired_unrecorded,
        }  # fmt: skip


def _reason_of(tx: Transaction | None) -> str | None:
    reason = None if tx is None else tx.details.get("reason")
    return reason if isinstance(reason, str) else None


class PayoutList(NamedTuple):
    payouts: Sequence[PayoutRow]
    currency: str
    account: str | None = None
    state: str | None = None
    at: str = ""  # the moment the states are read at

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account, "state": self.state, "at": self.at, "currency": self.currency,
            "payouts": [row.to_dict() for row in self.payouts],
        }  # fmt: skip


class PayoutExpiry(NamedTuple):
    """What ``payout expire`` recorded: one release per hold that expired untouched."""

    released: Sequence[OperationResult]
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"released": [result.to_dict() for result in self.released], "dry_run": self.dry_run}
