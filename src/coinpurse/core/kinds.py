"""One immutable typed record per kind of transaction: its request, the rates it used and its details.

A record is what a rule makes and what a stored transaction is read into. Each
record has one ``to_dicts``/``from_dicts`` pair, giving and reading the stored
form of its three parts (``from_dicts`` checks every field a reader uses and
raises ``WrongPart`` naming the part that is not what the kind records; extra
keys are allowed, and ``verify`` compares the stored form with the rules').
Money stays ``Decimal`` inside a record; it becomes text only in ``to_dicts``,
in ``facts`` (what a JSON result says of it) and in its sentences (``core.sentences``).

A new kind is a record here (listed in ``RECORDS``), a rule in ``core.rules``
(``RULES``), its sentences in ``core.sentences``, and its checks in
``core.verify`` (``KIND_CHECKS``, with a ``REPLAYERS`` entry for a kind the rules replay).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple

from coinpurse.core import requests as rq
from coinpurse.core.model import Lot
from coinpurse.core.money import MAX_UNITS, decimal_str, money_str
from coinpurse.core.rates import Gift, Package, Payout, Rates, rates_from_dict
from coinpurse.errors import CoinpurseError

BalanceOf = Callable[[str], dict[str, Any]]  # an account's balance right after the transaction, as results show it


class WrongPart(ValueError):
    """A stored part (``request``, ``rates`` or ``details``) is not what its kind records."""

    def __init__(self, part: str) -> None:
        super().__init__(part)
        self.part = part


# ----- checked fields: each returns the value or raises (TypeError, KeyError, ValueError) ---------


def _text(value: Any) -> str:
    if value.__class__ is not str:
        raise TypeError("text")
    text: str = value
    return text


def _count(value: Any) -> int:
    if value.__class__ is not int or not -MAX_UNITS < value < MAX_UNITS:
        raise TypeError("count")
    count: int = value
    return count


def _flag(value: Any) -> bool:
    if value.__class__ is not bool:
        raise TypeError("flag")
    flag: bool = value
    return flag


# Amounts read before, by their text: rates and many amounts repeat from one transaction to the next,
# and a Decimal made from text costs more than a look-up. Decimals are immutable, so sharing is safe.
_MONEY_READ: dict[str, Decimal] = {}
_MONEY_READ_MAX = 4096


def _money(value: Any) -> Decimal:
    number = _MONEY_READ.get(value)  # only text is ever stored (an unhashable value raises TypeError)
    if number is not None:
        return number
    if value.__class__ is not str:
        raise TypeError("money")
    try:
        number = Decimal(value)
    except ArithmeticError:
        raise ValueError("money") from None
    if not number.is_finite() or not -MAX_UNITS < number < MAX_UNITS:
        raise ValueError("money")
    if len(_MONEY_READ) < _MONEY_READ_MAX:
        _MONEY_READ[value] = number
    return number


def _table(value: Any) -> dict[str, Any]:
    if value.__class__ is not dict:
        raise TypeError("table")
    table: dict[str, Any] = value
    return table


def _optional(table: dict[str, Any], key: str, check: Callable[[Any], Any]) -> Any:
    value = table.get(key)
    return None if value is None and key not in table else check(value)


def _lots(value: Any) -> tuple[Lot, ...]:
    if value.__class__ is not list:
        raise TypeError("lots")
    lots = []
    for lot in value:
        if lot.__class__ is not list or len(lot) != 3:
            raise TypeError("lot")
        lots.append(Lot(_text(lot[0]), _count(lot[1]), _money(lot[2])))
    return tuple(lots)


_PARSE_ERRORS = (KeyError, TypeError, ValueError)


# ----- buy ---------------------------------------------------------------------


class BuyRates(NamedTuple):
    channel: str
    package: Package | None  # the package it was bought as, or None for a custom amount
    coin_price: Decimal | None  # the per-coin price of a custom amount
    store_fee_percent: Decimal | None = None  # the channel's app-store fee in force; None: the rates set none

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"channel": self.channel}
        if self.package is not None:
            data["package"] = {"coins": self.package.coins, "price": decimal_str(self.package.price)}
        if self.coin_price is not None:
            data["coin_price"] = decimal_str(self.coin_price)
        if self.store_fee_percent is not None:  # a buy made before the key existed records as it did
            data["store_fee_percent"] = decimal_str(self.store_fee_percent)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> BuyRates:
        data = _table(data)
        package = data.get("package")
        if package is not None or "package" in data:
            package = _table(package)
            package = Package(_count(package["coins"]), _money(package["price"]))
        return cls(
            _text(data["channel"]),
            package,
            _optional(data, "coin_price", _money),
            _optional(data, "store_fee_percent", _money),
        )


class BuyDetails(NamedTuple):
    price: Decimal
    package: bool

    def to_dict(self) -> dict[str, Any]:
        return {"price": decimal_str(self.price), "package": self.package}

    @classmethod
    def from_dict(cls, data: Any) -> BuyDetails:
        data = _table(data)
        return cls(_money(data["price"]), _flag(data["package"]))


class BuyRecord(NamedTuple):
    request: rq.Buy
    rates: BuyRates
    details: BuyDetails

    @property
    def kind(self) -> str:
        return "buy"

    def to_dicts(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return self.request.key(), self.rates.to_dict(), self.details.to_dict()

    @classmethod
    def from_dicts(cls, request: Any, rates: Any, details: Any) -> BuyRecord:
        return cls(*_read_parts(request, rates, details, _buy_request, BuyRates.from_dict, BuyDetails.from_dict))

    def unposted(self) -> tuple[Decimal, ...]:
        return ()

    def facts(self, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
        r, d = self.request, self.details
        return {
            "account": r.account, "coins": r.coins, "channel": r.channel, "price": decimal_str(d.price),
            "currency": currency, "package": d.package, "balance": balance_of(r.account),
        }  # fmt: skip


# ----- gift --------------------------------------------------------------------


class GiftRates(NamedTuple):
    gift: Gift
    diamonds_per_coin: Decimal
    cash_per_diamond: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "gift": self.gift.to_dict(),  # a sponsored gift records its sponsor and bonus with it
            "diamonds_per_coin": decimal_str(self.diamonds_per_coin),
            "cash_per_diamond": decimal_str(self.cash_per_diamond),
        }

    @classmethod
    def from_dict(cls, data: Any) -> GiftRates:
        data = _table(data)
        gift = _table(data["gift"])
        sponsor = _optional(gift, "sponsor", _text)
        bonus = _count(gift["bonus_diamonds"]) if sponsor is not None else 0
        return cls(
            Gift(_text(gift["name"]), _count(gift["coins"]), sponsor, bonus),
            _money(data["diamonds_per_coin"]),
            _money(data["cash_per_diamond"]),
        )


class SponsorBonus(NamedTuple):
    """What a sponsored gift recorded of its bonus: paid whole from the sponsor's budget, or not at all."""

    sponsor: str
    diamonds: int  # the bonus diamonds the catalog names
    cash: Decimal  # their worth at the payout rate the gift recorded: what the budget pays
    paid: bool  # False: the budget could not cover it, and the gift went through without it
    budget: Decimal  # what the sponsor's budget held before the gift

    @property
    def paid_diamonds(self) -> int:
        return self.diamonds if self.paid else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "sponsor": self.sponsor, "bonus_diamonds": self.diamonds, "bonus_cash": money_str(self.cash),
            "bonus_paid": self.paid, "sponsor_budget": money_str(self.budget),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SponsorBonus | None:
        if "sponsor" not in data:
            return None
        return cls(
            _text(data["sponsor"]), _count(data["bonus_diamonds"]), _money(data["bonus_cash"]),
            _flag(data["bonus_paid"]), _money(data["sponsor_budget"]),
        )  # fmt: skip

    def facts(self) -> dict[str, Any]:
        left = self.budget - self.cash if self.paid else self.budget
        return {
            "sponsor": self.sponsor, "diamonds": self.diamonds, "cash": money_str(self.cash), "paid": self.paid,
            "budget_left": money_str(left),
        }  # fmt: skip


class GiftDetails(NamedTuple):
    gift: str  # the catalog's name for it
    count: int  # type: ignore[assignment]  # a field, in place of tuple.count
    coins: int
    diamonds: int
    paid: Decimal  # what the sender's coins cost, from the lots drawn
    diamond_value: Decimal  # the diamonds' worth at the payout rate
    platform_kept: Decimal
    lots: tuple[Lot, ...]  # drawn first in, first out
    stream: str | None = None
    bonus: SponsorBonus | None = None  # a sponsored gift's bonus (recorded only when the catalog names one)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "gift": self.gift,
            "count": self.count,
            "coins": self.coins,
            "diamonds": self.diamonds,
            "paid": money_str(self.paid),
            "diamond_value": money_str(self.diamond_value),
            "platform_kept": money_str(self.platform_kept),
            "lots": [[source, coins, decimal_str(cost)] for source, coins, cost in self.lots],  # as Lot.to_list()
        }
        if self.stream is not None:
            data["stream"] = self.stream
        if self.bonus is not None:
            data.update(self.bonus.to_dict())
        return data

    @classmethod
    def from_dict(cls, data: Any) -> GiftDetails:
        data = _table(data)
        return cls(
            _text(data["gift"]), _count(data["count"]), _count(data["coins"]), _count(data["diamonds"]),
            _money(data["paid"]), _money(data["diamond_value"]), _money(data["platform_kept"]), _lots(data["lots"]),
            _optional(data, "stream", _text), SponsorBonus.from_dict(data),
        )  # fmt: skip


class GiftRecord(NamedTuple):
    request: rq.Gift
    rates: GiftRates
    details: GiftDetails

    @property
    def kind(self) -> str:
        return "gift"

    def to_dicts(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return self.request.key(), self.rates.to_dict(), self.details.to_dict()

    @classmethod
    def from_dicts(cls, request: Any, rates: Any, details: Any) -> GiftRecord:
        return cls(*_read_parts(request, rates, details, _gift_request, GiftRates.from_dict, GiftDetails.from_dict))

    def unposted(self) -> tuple[Decimal, ...]:
        return (self.details.diamond_value,)  # no posting carries it

    def facts(self, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
        r, d = self.request, self.details
        return {
            "sender": balance_of(r.sender), "recipient": balance_of(r.recipient), "gift": d.gift, "count": d.count,
            "coins": d.coins, "diamonds": d.diamonds, "paid": money_str(d.paid), "diamond_value": money_str(d.diamond_value),
            "platform_kept": money_str(d.platform_kept), "currency": currency, "stream": d.stream,
            "bonus": None if d.bonus is None else d.bonus.facts(),
        }  # fmt: skip


# ----- redeem ------------------------------------------------------------------


def payout_to_dict(payout: Payout) -> dict[str, Any]:
    """The payout rules a redeem records, by the rates' own field names."""
    return {name: decimal_str(value) for name, value in zip(Payout._fields, payout, strict=True)}


def payout_from_dict(data: Any) -> Payout:
    data = _table(data)
    return Payout(*(_money(data[name]) for name in Payout._fields))


class RedeemDetails(NamedTuple):
    diamonds: int  # used: only those the cents need
    cash: Decimal
    fee: Decimal
    net: Decimal
    rounding: Decimal  # under a cent, to platform:rounding
    kept_diamonds: int  # asked for but worth less than a cent

    def to_dict(self) -> dict[str, Any]:
        return {
            "diamonds": self.diamonds,
            "cash": decimal_str(self.cash),
            "fee": decimal_str(self.fee),
            "net": decimal_str(self.net),
            "rounding": money_str(self.rounding),
            "kept_diamonds": self.kept_diamonds,
        }

    @classmethod
    def from_dict(cls, data: Any) -> RedeemDetails:
        data = _table(data)
        return cls(
            _count(data["diamonds"]), _money(data["cash"]), _money(data["fee"]), _money(data["net"]),
            _money(data["rounding"]), _count(data["kept_diamonds"]),
        )  # fmt: skip


class RedeemRecord(NamedTuple):
    request: rq.Redeem
    rates: Payout
    details: RedeemDetails

    @property
    def kind(self) -> str:
        return "redeem"

    def to_dicts(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return self.request.key(), payout_to_dict(self.rates), self.details.to_dict()

    @classmethod
    def from_dicts(cls, request: Any, rates: Any, details: Any) -> RedeemRecord:
        return cls(*_read_parts(request, rates, details, _redeem_request, payout_from_dict, RedeemDetails.from_dict))

    def unposted(self) -> tuple[Decimal, ...]:
        return ()

    def facts(self, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
        r, d = self.request, self.details
        return {
            "account": r.account, "diamonds": d.diamonds, "cash": decimal_str(d.cash), "fee": decimal_str(d.fee),
            "net": decimal_str(d.net), "rounding": money_str(d.rounding), "kept_diamonds": d.kept_diamonds,
            "currency": currency, "balance": balance_of(r.account),
        }  # fmt: skip


# ----- rates change ------------------------------------------------------------


def frozen(value: Any) -> Any:
    """A stored JSON value no caller can change: tables become read-only views, lists tuples."""
    if value.__class__ is dict:
        return MappingProxyType({key: frozen(item) for key, item in value.items()})
    if value.__class__ is list:
        return tuple(frozen(item) for item in value)
    return value


def thawed(value: Any) -> Any:
    """The stored JSON of a ``frozen`` value."""
    if isinstance(value, MappingProxyType):
        return {key: thawed(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [thawed(item) for item in value]
    return value


class RateChange(NamedTuple):
    key: str
    before: str | int | None  # None: the key was added
    after: str | int | None  # None: the key was removed

    def to_dict(self) -> dict[str, Any]:
        # Stored without the None of an added or removed key: TOML ledgers have no null.
        data: dict[str, Any] = {"key": self.key}
        if self.before is not None:
            data["from"] = self.before
        if self.after is not None:
            data["to"] = self.after
        return data


def _rate_value(value: Any) -> str | int | None:
    if value is None or value.__class__ is str:
        return value
    return _count(value)


class RatesDetails(NamedTuple):
    source: str  # set, import, init, or the checkpoint
    changes: tuple[RateChange, ...]
    reason: str | None = None  # why a checkpoint was recorded

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"source": self.source, "changes": [change.to_dict() for change in self.changes]}
        if self.reason is not None:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_dict(cls, data: Any) -> RatesDetails:
        data = _table(data)
        changes = data.get("changes", [])
        if changes.__class__ is not list:
            raise TypeError("changes")
        return cls(
            _text(data.get("source", "set")),
            tuple(
                RateChange(_text(c["key"]), _rate_value(c.get("from")), _rate_value(c.get("to")))
                for c in map(_table, changes)
            ),
            _optional(data, "reason", _text),
        )


class RatesRecord(NamedTuple):
    """A rates change: no postings; it sets new rates and lists what changed from what to what."""

    request: Any  # the change asked for, ``frozen``: keys set and removed, or a whole set of rates
    rates: Rates | None  # the rates it set; None when what it recorded is not valid rates (verify says why)
    details: RatesDetails

    @property
    def kind(self) -> str:
        return "rates"

    def to_dicts(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        rates = {} if self.rates is None else self.rates.to_dict()
        return thawed(self.request), rates, self.details.to_dict()

    @classmethod
    def made(cls, request: dict[str, Any], rates: Rates, details: RatesDetails) -> RatesRecord:
        return cls(frozen(request), rates, details)

    @classmethod
    def from_dicts(cls, request: Any, rates: Any, details: Any) -> RatesRecord:
        part = "request"
        try:
            request = frozen(_table(request))
            part = "rates"
            _table(rates)
            part = "details"
            changes = RatesDetails.from_dict(details)
        except _PARSE_ERRORS:
            raise WrongPart(part) from None
        try:
            # Early changes recorded the new rates in the details.
            new: Rates | None = rates_from_dict(rates or details.get("rates"))
        except (CoinpurseError, *_PARSE_ERRORS, AttributeError, ArithmeticError):  # read anyway; verify says why
            new = None
        return cls(request, new, changes)

    def unposted(self) -> tuple[Decimal, ...]:
        return ()

    def facts(self, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
        return {}


# ----- a kind this version does not know ------------------------------------------


class OtherRecord(NamedTuple):
    """A kind this version does not know: kept as stored (``frozen``), reported by verify."""

    kind: str
    request: Any
    rates: Any
    details: Any

    def to_dicts(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return thawed(self.request), thawed(self.rates), thawed(self.details)

    def unposted(self) -> tuple[Decimal, ...]:
        return ()

    def facts(self, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
        return {}


def _read_parts(
    request: Any, rates: Any, details: Any,
    read_request: Callable[[Any], Any], read_rates: Callable[[Any], Any], read_details: Callable[[Any], Any],
) -> tuple[Any, Any, Any]:  # fmt: skip
    """A ruled kind's three stored parts, read in turn; ``WrongPart`` names the first that is not what it records."""
    part = "request"
    try:
        made = read_request(_table(request))
        part = "rates"
        used = read_rates(rates)
        part = "details"
        return made, used, read_details(details)
    except _PARSE_ERRORS:
        raise WrongPart(part) from None


def _buy_request(request: dict[str, Any]) -> rq.Buy:
    return rq.Buy(_text(request["account"]), _count(request["coins"]), _text(request["channel"]))


def _gift_request(request: dict[str, Any]) -> rq.Gift:
    return rq.Gift(
        _text(request["sender"]), _text(request["recipient"]), _text(request["gift"]), _count(request["count"]),
        _optional(request, "stream", _text),
    )  # fmt: skip


def _redeem_request(request: dict[str, Any]) -> rq.Redeem:
    return rq.Redeem(
        _text(request["account"]), _optional(request, "diamonds", _count), bool(_optional(request, "all", _flag))
    )


# ----- reversal ----------------------------------------------------------------


class ReversalDetails(NamedTuple):
    original: str  # the id of the gift reversed
    reason: str
    sender: str  # who gets the coins back
    recipient: str  # who gives the diamonds back
    coins: int
    diamonds: int
    lots: tuple[Lot, ...]  # the lots restored to the sender, as the gift drew them
    bonus: BonusBack | None = None  # a sponsored gift's bonus, back from the creator to the sponsor's budget

    def to_dict(self) -> dict[str, Any]:
        data = {
            "original": self.original, "reason": self.reason, "sender": self.sender, "recipient": self.recipient,
            "coins": self.coins, "diamonds": self.diamonds,
            "lots": [[source, coins, decimal_str(cost)] for source, coins, cost in self.lots],
        }  # fmt: skip
        if self.bonus is not None:
            data.update(self.bonus.to_dict())
        return data

    @classmethod
    def from_dict(cls, data: Any) -> ReversalDetails:
        data = _table(data)
        return cls(
            _text(data["original"]), _text(data["reason"]), _text(data["sender"]), _text(data["recipient"]),
            _count(data["coins"]), _count(data["diamonds"]), _lots(data["lots"]), BonusBack.from_dict(data),
        )  # fmt: skip


class BonusBack(NamedTuple):
    """A sponsored gift's bonus given back: its diamonds from the creator, their cash to the sponsor's budget."""

    sponsor: str
    diamonds: int
    cash: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {"sponsor": self.sponsor, "bonus_diamonds": self.diamonds, "bonus_cash": decimal_str(self.cash)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BonusBack | None:
        if "sponsor" not in data:
            return None
        return cls(_text(data["sponsor"]), _count(data["bonus_diamonds"]), _money(data["bonus_cash"]))

    def facts(self) -> dict[str, Any]:
        return {"sponsor": self.sponsor, "diamonds": self.diamonds, "cash": money_str(self.cash)}


def _no_rates(data: Any) -> dict[str, Any]:
    return _table(data)


def _reverse_request(request: dict[str, Any]) -> rq.Reverse:
    return rq.Reverse(_text(request["original"]), _text(request["reason"]))


class ReversalRecord(NamedTuple):
    """A gift undone: the coins back into the sender's lots, the diamonds back from the recipient."""

    request: rq.Reverse
    rates: dict[str, Any]  # none used: always {}
    details: ReversalDetails

    @property
    def kind(self) -> str:
        return "reversal"

    def to_dicts(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return self.request.key(), {}, self.details.to_dict()

    @classmethod
    def from_dicts(cls, request: Any, rates: Any, details: Any) -> ReversalRecord:
        return cls(*_read_parts(request, rates, details, _reverse_request, _no_rates, ReversalDetails.from_dict))

    def unposted(self) -> tuple[Decimal, ...]:
        return ()

    def facts(self, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
        d = self.details
        return {
            "original": d.original, "reason": d.reason, "sender": balance_of(d.sender),
            "recipient": balance_of(d.recipient), "coins": d.coins, "diamonds": d.diamonds,
            "lots_restored": [{"source": source, "coins": coins, "cost": decimal_str(cost)} for source, coins, cost in d.lots],
            "currency": currency, "bonus_returned": None if d.bonus is None else d.bonus.facts(),
        }  # fmt: skip


Record = BuyRecord | GiftRecord | RedeemRecord | RatesRecord | OtherRecord | ReversalRecord
RULED_RECORDS = (BuyRecord, GiftRecord, RedeemRecord, ReversalRecord)  # the kinds a rule makes from a request
RECORDS: dict[str, Any] = {"buy": BuyRecord, "gift": GiftRecord, "redeem": RedeemRecord, "rates": RatesRecord}
RECORDS["reversal"] = ReversalRecord


def record_from_dicts(kind: str, request: Any, rates: Any, details: Any) -> Record:
    """The typed record of a stored transaction's parts; ``WrongPart`` when one is not what its kind records."""
    record_type = RECORDS.get(kind)
    if record_type is None:
        for part, value in (("request", request), ("rates", rates), ("details", details)):
            if value.__class__ is not dict:
                raise WrongPart(part)
        return OtherRecord(kind, frozen(request), frozen(rates), frozen(details))
    record: Record = record_type.from_dicts(request, rates, details)
    return record


# ----- refund --------------------------------------------------------------------


class Clawback(NamedTuple):
    """What one gift gives back of the diamonds the refunded coins became."""

    gift: str  # the gift's transaction id
    creator: str
    coins: int  # coins of the gift that came from the refunded lot
    gift_coins: int
    gift_diamonds: int
    cash_per_diamond: Decimal  # the payout rate the gift recorded
    diamonds: int  # taken back: gift_diamonds × coins ÷ gift_coins, rounded down
    remainder: int  # the rest of that product (a fraction remainder/gift_coins of a diamond, left with the creator)
    sponsor: str | None = None  # the sponsor that paid the gift a bonus, which gets its share of it back
    gift_bonus: int = 0  # the bonus diamonds the gift paid
    bonus_back: int = 0  # of those, taken back as the diamonds are: gift_bonus × coins ÷ gift_coins, rounded down

    @property
    def value(self) -> Decimal:
        return self.diamonds * self.cash_per_diamond

    @property
    def bonus_cash(self) -> Decimal:
        """What the sponsor's budget gets back: the returned bonus diamonds at the gift's payout rate."""
        return self.bonus_back * self.cash_per_diamond

    def to_dict(self) -> dict[str, Any]:
        data = {
            "gift": self.gift, "creator": self.creator, "coins": self.coins, "gift_coins": self.gift_coins,
            "gift_diamonds": self.gift_diamonds, "cash_per_diamond": decimal_str(self.cash_per_diamond),
            "diamonds": self.diamonds, "remainder": self.remainder,
        }  # fmt: skip
        if self.sponsor is not None:
            data.update(sponsor=self.sponsor, gift_bonus=self.gift_bonus, bonus_back=self.bonus_back)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Clawback:
        data = _table(data)
        sponsor = _optional(data, "sponsor", _text)
        bonus = (_count(data["gift_bonus"]), _count(data["bonus_back"])) if sponsor is not None else (0, 0)
        return cls(
            _text(data["gift"]), _text(data["creator"]), _count(data["coins"]), _count(data["gift_coins"]),
            _count(data["gift_diamonds"]), _money(data["cash_per_diamond"]), _count(data["diamonds"]),
            _count(data["remainder"]), sponsor, *bonus,
        )  # fmt: skip


class RefundDetails(NamedTuple):
    account: str  # the viewer who bought
    coins: int  # the lot's coins
    price: Decimal  # the cash given back
    unspent: int  # coins of the lot still held, removed from the viewer
    unspent_cost: Decimal
    clawbacks: tuple[Clawback, ...]
    platform_returned: Decimal  # of the spent coins' cost, what the platform had kept (the rest was diamonds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account, "coins": self.coins, "price": decimal_str(self.price), "unspent": self.unspent,
            "unspent_cost": decimal_str(self.unspent_cost), "clawbacks": [c.to_dict() for c in self.clawbacks],
            "platform_returned": money_str(self.platform_returned),
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: Any) -> RefundDetails:
        data = _table(data)
        clawbacks = data["clawbacks"]
        if clawbacks.__class__ is not list:
            raise TypeError("clawbacks")
        return cls(
            _text(data["account"]), _count(data["coins"]), _money(data["price"]), _count(data["unspent"]),
            _money(data["unspent_cost"]), tuple(Clawback.from_dict(c) for c in clawbacks),
            _money(data["platform_returned"]),
        )  # fmt: skip


class RefundRecord(NamedTuple):
    request: rq.Refund
    rates: dict[str, Any]  # a refund uses no rates; stored empty
    details: RefundDetails

    @property
    def kind(self) -> str:
        return "refund"

    def to_dicts(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return self.request.key(), {}, self.details.to_dict()

    @classmethod
    def from_dicts(cls, request: Any, rates: Any, details: Any) -> RefundRecord:
        return cls(*_read_parts(request, rates, details, _refund_request, _table, RefundDetails.from_dict))

    def unposted(self) -> tuple[Decimal, ...]:
        return ()

    def facts(self, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
        r, d = self.request, self.details
        creators = sorted({c.creator for c in d.clawbacks})
        return {
            "buy": r.buy, "clawback": r.clawback, "account": d.account, "coins": d.coins, "cash_back": decimal_str(d.price),
            "currency": currency, "coins_removed": d.unspent, "spent": d.coins - d.unspent,
            "clawbacks": [
                {"gift": c.gift, "creator": c.creator, "coins": c.coins, "diamonds": c.diamonds,
                 "remainder": f"{c.remainder}/{c.gift_coins}", "diamond_value": money_str(c.value),
                 "bonus_returned": None if c.sponsor is None else
                 {"sponsor": c.sponsor, "diamonds": c.bonus_back, "cash": money_str(c.bonus_cash)}}
                for c in d.clawbacks
            ],
            "platform_returned": money_str(d.platform_returned),
            "balance": balance_of(d.account), "creators": [balance_of(name) for name in creators],
        }  # fmt: skip


def _refund_request(request: dict[str, Any]) -> rq.Refund:
    return rq.Refund(_text(request["buy"]), _flag(request["clawback"]))


Record = Record | RefundRecord  # type: ignore[misc]
RULED_RECORDS = (*RULED_RECORDS, RefundRecord)  # type: ignore[assignment]
RECORDS["refund"] = RefundRecord


# ----- sponsors: cash into and out of a sponsor's budget ------------------------------


class SponsorDetails(NamedTuple):
    sponsor: str  # the sponsor's name; its budget is the account sponsor:NAME
    cash: Decimal  # paid in (a fund) or taken out (a withdraw)
    budget: Decimal  # what the budget holds after it

    def to_dict(self) -> dict[str, Any]:
        return {"sponsor": self.sponsor, "cash": money_str(self.cash), "budget": money_str(self.budget)}

    @classmethod
    def from_dict(cls, data: Any) -> SponsorDetails:
        data = _table(data)
        return cls(_text(data["sponsor"]), _money(data["cash"]), _money(data["budget"]))


def _sponsor_fund_request(request: dict[str, Any]) -> rq.SponsorFund:
    return rq.SponsorFund(_text(request["sponsor"]), _money(request["cash"]))


def _sponsor_withdraw_request(request: dict[str, Any]) -> rq.SponsorWithdraw:
    return rq.SponsorWithdraw(_text(request["sponsor"]), _money(request["cash"]))


class SponsorFundRecord(NamedTuple):
    """A sponsor's cash paid into its budget, from outside the ledger (as a buy's cash comes in)."""

    request: rq.SponsorFund
    rates: dict[str, Any]  # none used: always {}
    details: SponsorDetails

    @property
    def kind(self) -> str:
        return "sponsor-fund"

    def to_dicts(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return self.request.key(), {}, self.details.to_dict()

    @classmethod
    def from_dicts(cls, request: Any, rates: Any, details: Any) -> SponsorFundRecord:
        return cls(*_read_parts(request, rates, details, _sponsor_fund_request, _no_rates, SponsorDetails.from_dict))

    def unposted(self) -> tuple[Decimal, ...]:
        return ()

    def facts(self, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
        d = self.details
        return {
            "sponsor": d.sponsor,
            "cash": money_str(d.cash),
            "budget_left": money_str(d.budget),
            "currency": currency,
        }


class SponsorWithdrawRecord(SponsorFundRecord):
    """Unused budget taken back out to the sponsor: never more than the budget holds."""

    @property
    def kind(self) -> str:
        return "sponsor-withdraw"

    @classmethod
    def from_dicts(cls, request: Any, rates: Any, details: Any) -> SponsorWithdrawRecord:
        return cls(
            *_read_parts(request, rates, details, _sponsor_withdraw_request, _no_rates, SponsorDetails.from_dict)
        )


Record = Record | SponsorFundRecord  # type: ignore[misc]
RULED_RECORDS = (*RULED_RECORDS, SponsorFundRecord)  # type: ignore[assignment]  # a withdraw is one by type
RECORDS["sponsor-fund"] = SponsorFundRecord
RECORDS["sponsor-withdraw"] = SponsorWithdrawRecord


# ----- held payouts ------------------------------------------------------------------


class HoldRates(NamedTuple):
    """The payout rules a hold was asked under, and the review days that set when it expires."""

    payout: Payout
    review_days: int

    def to_dict(self) -> dict[str, Any]:
        return {**payout_to_dict(self.payout), "review_days": self.review_days}

    @classmethod
    def from_dict(cls, data: Any) -> HoldRates:
        data = _table(data)
        return cls(payout_from_dict(data), _count(data["review_days"]))


class HoldDetails(NamedTuple):
    """A redeem's figures, fixed when the hold is asked for; approval pays exactly these."""

    diamonds: int  # held: only those the cents need
    cash: Decimal
    fee: Decimal
    net: Decimal
    rounding: Decimal
    kept_diamonds: int  # asked for but worth less than a cent: they stay available
    day: str  # the UTC day it counts against in the daily maximum
    expires: str  # when it expires untouched

    def to_dict(self) -> dict[str, Any]:
        return {
            "diamonds": self.diamonds, "cash": decimal_str(self.cash), "fee": decimal_str(self.fee),
            "net": decimal_str(self.net), "rounding": money_str(self.rounding), "kept_diamonds": self.kept_diamonds,
            "day": self.day, "expires": self.expires,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, data: Any) -> HoldDetails:
        data = _table(data)
        return cls(
            _count(data["diamonds"]), _money(data["cash"]), _money(data["fee"]), _money(data["net"]),
            _money(data["rounding"]), _count(data["kept_diamonds"]), _text(data["day"]), _text(data["expires"]),
        )  # fmt: skip


def _hold_request(request: dict[str, Any]) -> rq.Hold:
    return rq.Hold(
        _text(request["account"]), _optional(request, "diamonds", _count), bool(_optional(request, "all", _flag))
    )


class PayoutHoldRecord(NamedTuple):
    request: rq.Hold
    rates: HoldRates
    details: HoldDetails

    @property
    def kind(self) -> str:
        return "payout-hold"

    def to_dicts(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return self.request.key(), self.rates.to_dict(), self.details.to_dict()

    @classmethod
    def from_dicts(cls, request: Any, rates: Any, details: Any) -> PayoutHoldRecord:
        return cls(*_read_parts(request, rates, details, _hold_request, HoldRates.from_dict, HoldDetails.from_dict))

    def unposted(self) -> tuple[Decimal, ...]:
        return (self.details.cash, self.details.net)  # fixed now, posted on approval

    def facts(self, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
        r, d = self.request, self.details
        return {
            "account": r.account, "diamonds": d.diamonds, "cash": decimal_str(d.cash), "fee": decimal_str(d.fee),
            "net": decimal_str(d.net), "rounding": money_str(d.rounding), "kept_diamonds": d.kept_diamonds,
            "currency": currency, "state": "pending", "day": d.day, "expires": d.expires, "balance": balance_of(r.account),
        }  # fmt: skip


class SettleDetails(NamedTuple):
    """What a hold recorded, copied into its settlement (so the replay needs no look-up), and why."""

    hold: str
    account: str
    diamonds: int
    cash: Decimal
    fee: Decimal
    net: Decimal
    rounding: Decimal
    day: str
    expires: str
    reason: str | None = None  # a rejection's or a return's
    approval: str | None = None  # a return's: the approval that paid it

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "hold": self.hold, "account": self.account, "diamonds": self.diamonds, "cash": decimal_str(self.cash),
            "fee": decimal_str(self.fee), "net": decimal_str(self.net), "rounding": money_str(self.rounding),
            "day": self.day, "expires": self.expires,
        }  # fmt: skip
        if self.reason is not None:
            data["reason"] = self.reason
        if self.approval is not None:
            data["approval"] = self.approval
        return data

    @classmethod
    def from_dict(cls, data: Any) -> SettleDetails:
        data = _table(data)
        return cls(
            _text(data["hold"]), _text(data["account"]), _count(data["diamonds"]), _money(data["cash"]),
            _money(data["fee"]), _money(data["net"]), _money(data["rounding"]), _text(data["day"]),
            _text(data["expires"]), _optional(data, "reason", _text), _optional(data, "approval", _text),
        )  # fmt: skip

    def facts(self) -> rq.HoldFacts:
        return rq.HoldFacts(
            self.hold, self.account, self.diamonds, self.cash, self.fee, self.net, self.rounding, self.day,
            self.expires, self.approval,
        )  # fmt: skip


def _settle_facts(record: Any, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
    d = record.details
    return {
        "payout": d.hold, "account": d.account, "diamonds": d.diamonds, "cash": decimal_str(d.cash),
        "fee": decimal_str(d.fee), "net": decimal_str(d.net), "rounding": money_str(d.rounding), "currency": currency,
        "day": d.day, "expires": d.expires, "reason": d.reason, "approval": d.approval, "balance": balance_of(d.account),
    }  # fmt: skip


class PayoutApproveRecord(NamedTuple):
    """A hold paid: exactly the cash it recorded, as a redeem pays, its diamonds from pending."""

    request: rq.ApprovePayout
    rates: dict[str, Any]  # none used: the hold fixed the cash; always {}
    details: SettleDetails

    @property
    def kind(self) -> str:
        return "payout-approve"

    def to_dicts(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return self.request.key(), {}, self.details.to_dict()

    @classmethod
    def from_dicts(cls, request: Any, rates: Any, details: Any) -> PayoutApproveRecord:
        read = lambda r: rq.ApprovePayout(_text(r["hold"]))  # noqa: E731
        return cls(*_read_parts(request, rates, details, read, _table, SettleDetails.from_dict))

    def unposted(self) -> tuple[Decimal, ...]:
        return ()

    def facts(self, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
        return {**_settle_facts(self, balance_of, currency), "state": "paid"}


class PayoutRejectRecord(NamedTuple):
    """A hold refused: its diamonds back to the creator, its room in its day's maximum freed."""

    request: rq.RejectPayout
    rates: dict[str, Any]
    details: SettleDetails

    @property
    def kind(self) -> str:
        return "payout-reject"

    def to_dicts(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return self.request.key(), {}, self.details.to_dict()

    @classmethod
    def from_dicts(cls, request: Any, rates: Any, details: Any) -> PayoutRejectRecord:
        read = lambda r: rq.RejectPayout(_text(r["hold"]), _text(r["reason"]))  # noqa: E731
        return cls(*_read_parts(request, rates, details, read, _table, SettleDetails.from_dict))

    def unposted(self) -> tuple[Decimal, ...]:
        return ()

    def facts(self, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
        return {**_settle_facts(self, balance_of, currency), "state": "rejected"}


class PayoutExpireRecord(NamedTuple):
    """A hold left untouched past its review, released: as a rejection, stamped when it was recorded."""

    request: rq.ExpirePayout
    rates: dict[str, Any]
    details: SettleDetails

    @property
    def kind(self) -> str:
        return "payout-expire"

    def to_dicts(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return self.request.key(), {}, self.details.to_dict()

    @classmethod
    def from_dicts(cls, request: Any, rates: Any, details: Any) -> PayoutExpireRecord:
        read = lambda r: rq.ExpirePayout(_text(r["hold"]))  # noqa: E731
        return cls(*_read_parts(request, rates, details, read, _table, SettleDetails.from_dict))

    def unposted(self) -> tuple[Decimal, ...]:
        return ()

    def facts(self, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
        return {**_settle_facts(self, balance_of, currency), "state": "expired", "expired_at": self.details.expires}


class PayoutReturnRecord(NamedTuple):
    """A paid payout the bank sent back: the approval's postings undone, the day's room freed."""

    request: rq.ReturnPayout
    rates: dict[str, Any]
    details: SettleDetails

    @property
    def kind(self) -> str:
        return "payout-return"

    def to_dicts(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        return self.request.key(), {}, self.details.to_dict()

    @classmethod
    def from_dicts(cls, request: Any, rates: Any, details: Any) -> PayoutReturnRecord:
        read = lambda r: rq.ReturnPayout(_text(r["hold"]), _text(r["reason"]))  # noqa: E731
        return cls(*_read_parts(request, rates, details, read, _table, SettleDetails.from_dict))

    def unposted(self) -> tuple[Decimal, ...]:
        return ()

    def facts(self, balance_of: BalanceOf, currency: str) -> dict[str, Any]:
        return {**_settle_facts(self, balance_of, currency), "state": "returned"}


SETTLEMENT_KINDS = ("payout-approve", "payout-reject", "payout-expire")  # each ends a pending hold
PAYOUT_KINDS = ("payout-hold", *SETTLEMENT_KINDS, "payout-return")
Record = Record | PayoutHoldRecord | PayoutApproveRecord | PayoutRejectRecord | PayoutExpireRecord | PayoutReturnRecord  # type: ignore[misc]
RULED_RECORDS = (
    *RULED_RECORDS,
    PayoutHoldRecord,
    PayoutApproveRecord,
    PayoutRejectRecord,
    PayoutExpireRecord,
    PayoutReturnRecord,
)  # type: ignore[assignment]
RECORDS["payout-hold"] = PayoutHoldRecord
RECORDS["payout-approve"] = PayoutApproveRecord
RECORDS["payout-reject"] = PayoutRejectRecord
RECORDS["payout-expire"] = PayoutExpireRecord
RECORDS["payout-return"] = PayoutReturnRecord
