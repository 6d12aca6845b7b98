"""Rates as data: coin packages, the gift catalog, conversion and payout rules.

Rates live in the ledger, are shown by ``coinpurse rates``, and each transaction
records the ones it used. The defaults are the public US figures of early 2024.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from coinpurse.core.money import (
    CENT,
    MAX_UNITS,
    RATE_PLACES,
    decimal_str,
    parse_count,
    parse_decimal,
    parse_rate,
    round_half_up,
)
from coinpurse.core.names import gift_key, normalize_sponsor, tidy_gift_name
from coinpurse.core.safetext import check_no_control
from coinpurse.errors import BadInput

_CHANNEL_NAME = re.compile(r"[a-z][a-z0-9_-]{0,23}")
REVIEW_DAYS = 15  # the platform's figure: a held payout not reviewed in 15 days expires
MAX_REVIEW_DAYS = 3650
# The app store's share of an app price: the web sells the same coins about 25% cheaper because no store takes one.
APP_STORE_FEE_PERCENT = Decimal(25)


# Plain values are NamedTuples: a frozen dataclass is slow to define at every start (docs/performance.md).
class Package(NamedTuple):
    coins: int
    price: Decimal


class Channel(NamedTuple):
    name: str
    packages: tuple[Package, ...]
    coin_price: Decimal  # per coin, for custom amounts
    custom_min: int
    custom_max: int
    # The share of each price an app store keeps before the platform is paid, in percent; None: not set
    # (rates made before the key existed), which a buy records as no figure at all rather than a guess.
    store_fee_percent: Decimal | None = None

    def package_for(self, coins: int) -> Package | None:
        for package in self.packages:
            if package.coins == coins:
                return package
        return None

    def custom_price(self, coins: int) -> Decimal:
        return round_half_up(self.coin_price * coins, CENT)

    def to_dict(self) -> dict[str, Any]:
        """As rates store it: the store fee only once set, so rates that never set it read as they always did."""
        data: dict[str, Any] = {
            "coin_price": decimal_str(self.coin_price),
            "custom_min": self.custom_min,
            "custom_max": self.custom_max,
            "packages": [{"coins": p.coins, "price": decimal_str(p.price)} for p in self.packages],
        }
        if self.store_fee_percent is not None:
            data["store_fee_percent"] = decimal_str(self.store_fee_percent)
        return data


class Gift(NamedTuple):
    name: str
    coins: int
    sponsor: str | None = None  # the sponsor whose budget pays a bonus for each one sent
    bonus_diamonds: int = 0  # the bonus, in diamonds to the creator, paid at the payout rate

    def to_dict(self) -> dict[str, Any]:
        """As rates store it: the sponsor's keys only for a sponsored gift, so other gifts read as they always did."""
        data: dict[str, Any] = {"name": self.name, "coins": self.coins}
        if self.sponsor is not None:
            data["sponsor"] = self.sponsor
            data["bonus_diamonds"] = self.bonus_diamonds
        return data


class Payout(NamedTuple):
    cash_per_diamond: Decimal
    minimum: Decimal
    daily_maximum: Decimal
    fee_percent: Decimal


@dataclass(frozen=True)
class Rates:
    channels: tuple[Channel, ...]
    gifts: tuple[Gift, ...]
    diamonds_per_coin: Decimal
    payout: Payout
    review_days: int | None = None  # payout.review_days as set; None: the platform's figure (REVIEW_DAYS)
    _gift_index: Mapping[str, Gift] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_gift_index", {gift_key(g.name): g for g in self.gifts})

    def channel(self, name: str) -> Channel:
        for channel in self.channels:
            if channel.name == name:
                return channel
        names = ", ".join(c.name for c in self.channels)
        raise BadInput(f"unknown channel {name!r}: the channels are {names}", code="unknown_channel")

    @property
    def review_days_in_force(self) -> int:
        """How many days a held payout waits for review before it expires untouched."""
        return REVIEW_DAYS if self.review_days is None else self.review_days

    def find_gift(self, name: str) -> Gift | None:
        return self._gift_index.get(gift_key(name))

    def creator_share(self, channel: Channel) -> Decimal:
        """What share of a viewer's spend on this channel reaches the creator."""
        return self.diamonds_per_coin * self.payout.cash_per_diamond / channel.coin_price

    def to_dict(self) -> dict[str, Any]:
        payout: dict[str, Any] = {
            "cash_per_diamond": decimal_str(self.payout.cash_per_diamond),
            "minimum": decimal_str(self.payout.minimum),
            "daily_maximum": decimal_str(self.payout.daily_maximum),
            "fee_percent": decimal_str(self.payout.fee_percent),
        }
        if self.review_days is not None:  # stored only once set: rates that never set it stay as they were
            payout["review_days"] = self.review_days
        return {
            "channels": {c.name: c.to_dict() for c in self.channels},
            "gifts": [g.to_dict() for g in self.gifts],
            "conversion": {"diamonds_per_coin": decimal_str(self.diamonds_per_coin)},
            "payout": payout,
        }


def _table(data: object, where: str, keys: set[str], required: set[str] | None = None) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise BadInput(f"{where} must be a table, not {type(data).__name__}", code="invalid_rates")
    unknown = sorted(set(data) - keys)
    if unknown:
        raise BadInput(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(keys))})", code="invalid_rates")
    missing = sorted((keys if required is None else required) - set(data))
    if missing:
        raise BadInput(f"{where}: missing key {missing[0]!r}", code="invalid_rates")
    return data


def _positive(value: Decimal, what: str) -> Decimal:
    if value <= 0:
        raise BadInput(f"{what} must be positive, not {value}", code="invalid_rates")
    return value


def rates_from_dict(data: object, where: str = "rates") -> Rates:
    """Validate and build rates; every problem is a BadInput naming the key."""
    try:
        return _rates_from_dict(data, where)
    except BadInput as error:
        error.code = "invalid_rates"
        raise


def _rates_from_dict(data: object, where: str) -> Rates:
    top = _table(data, where, {"channels", "gifts", "conversion", "payout"})
    channels_data = top["channels"]
    if not isinstance(channels_data, Mapping) or not channels_data:
        raise BadInput(f"{where}.channels must be a non-empty table")
    channels = []
    for name, raw in channels_data.items():
        at = f"{where}.channels.{name}"
        check_no_control(name, f"{where}.channels: a channel name")
        if not isinstance(name, str) or not _CHANNEL_NAME.fullmatch(name):
            raise BadInput(f"{at}: a channel name is lowercase letters, digits, '_' or '-'")
        channel_fields = {"coin_price", "custom_min", "custom_max", "packages"}
        table = _table(raw, at, {*channel_fields, "store_fee_percent"}, channel_fields)
        coin_price = parse_rate(table["coin_price"], f"{at}.coin_price")
        custom_min = parse_count(table["custom_min"], f"{at}.custom_min")
        custom_max = parse_count(table["custom_max"], f"{at}.custom_max")
        if custom_max < custom_min:
            raise BadInput(f"{at}: custom_max {custom_max} is below custom_min {custom_min}")
        if coin_price * custom_max >= MAX_UNITS:  # a ledger can't hold a price that large
            raise BadInput(f"{at}: custom_max {custom_max} coins at {coin_price} each would cost over {MAX_UNITS - 1}")
        packages_data = table["packages"]
        if not isinstance(packages_data, list):
            raise BadInput(f"{at}.packages must be a list")
        packages: list[Package] = []
        for i, pkg in enumerate(packages_data):
            p_at = f"{at}.packages[{i}]"
            pkg_table = _table(pkg, p_at, {"coins", "price"})
            coins = parse_count(pkg_table["coins"], f"{p_at}.coins")
            price = _positive(parse_decimal(pkg_table["price"], f"{p_at}.price", places=2), f"{p_at}.price")
            if any(p.coins == coins for p in packages):
                raise BadInput(f"{p_at}: a second package of {coins} coins")
            packages.append(Package(coins, price))
        packages.sort(key=lambda p: p.coins)
        store_fee = None
        if "store_fee_percent" in table:
            store_fee = parse_store_fee(table["store_fee_percent"], f"{at}.store_fee_percent")
        channels.append(Channel(name, tuple(packages), coin_price, custom_min, custom_max, store_fee))

    gifts_data = top["gifts"]
    if not isinstance(gifts_data, list) or not gifts_data:
        raise BadInput(f"{where}.gifts must be a non-empty list")
    gifts: list[Gift] = []
    seen: set[str] = set()
    for i, raw in enumerate(gifts_data):
        g_at = f"{where}.gifts[{i}]"
        gift_table = _table(raw, g_at, {"name", "coins", "sponsor", "bonus_diamonds"}, {"name", "coins"})
        gift_name = gift_table["name"]
        check_no_control(gift_name, f"{g_at}.name")
        if (
            not isinstance(gift_name, str)
            or not gift_name.strip()
            or not gift_name.isprintable()
            or len(gift_name) > 40
        ):
            raise BadInput(f"{g_at}.name must be printable text of 1 to 40 characters")
        gift_name = tidy_gift_name(gift_name)
        key = gift_key(gift_name)
        if key in seen:
            raise BadInput(f"{g_at}: duplicate gift {gift_name!r}")
        seen.add(key)
        gifts.append(
            Gift(gift_name, parse_count(gift_table["coins"], f"{g_at}.coins"), *_sponsorship(gift_table, g_at))
        )

    conversion = _table(top["conversion"], f"{where}.conversion", {"diamonds_per_coin"})
    diamonds_per_coin = parse_rate(conversion["diamonds_per_coin"], f"{where}.conversion.diamonds_per_coin")
    p_where = f"{where}.payout"
    payout_fields = {"cash_per_diamond", "minimum", "daily_maximum", "fee_percent"}
    payout_table = _table(top["payout"], p_where, {*payout_fields, "review_days"}, payout_fields)
    payout = Payout(
        cash_per_diamond=parse_rate(payout_table["cash_per_diamond"], f"{p_where}.cash_per_diamond"),
        minimum=parse_decimal(payout_table["minimum"], f"{p_where}.minimum", places=2),
        daily_maximum=parse_decimal(payout_table["daily_maximum"], f"{p_where}.daily_maximum", places=2),
        fee_percent=parse_decimal(payout_table["fee_percent"], f"{p_where}.fee_percent", places=RATE_PLACES),
    )
    if payout.minimum < 0:
        raise BadInput(f"{p_where}.minimum must not be negative")
    if payout.daily_maximum < payout.minimum or payout.daily_maximum <= 0:
        raise BadInput(f"{p_where}.daily_maximum must be positive and at least the minimum")
    if not 0 <= payout.fee_percent < 100:
        raise BadInput(f"{p_where}.fee_percent must be from 0 to under 100")
    review_days = None
    if "review_days" in payout_table:
        review_days = parse_count(payout_table["review_days"], f"{p_where}.review_days")
        if not 1 <= review_days <= MAX_REVIEW_DAYS:
            raise BadInput(f"{p_where}.review_days must be from 1 to {MAX_REVIEW_DAYS} days, not {review_days}")
    return Rates(tuple(channels), tuple(gifts), diamonds_per_coin, payout, review_days)


def store_fee(price: Decimal, percent: Decimal) -> Decimal:
    """What an app store keeps of a price at its fee in percent: rounded half up to the cent."""
    return round_half_up(price * percent / 100, CENT)


def parse_store_fee(value: object, where: str) -> Decimal:
    """A store's fee in percent of the price: from 0 (no store between) to under 100, to RATE_PLACES digits."""
    fee = parse_decimal(value, where, places=RATE_PLACES)
    if not 0 <= fee < 100:
        raise BadInput(f"{where} must be from 0 to under 100 (percent of the price), not {decimal_str(fee)}")
    return fee


def _sponsorship(gift: Mapping[str, Any], where: str) -> tuple[str | None, int]:
    """A catalog gift's sponsor and bonus diamonds: (None, 0) for a gift no sponsor pays a bonus on."""
    sponsor = gift.get("sponsor")
    bonus = gift.get("bonus_diamonds")
    if sponsor is None:
        if bonus is not None:
            raise BadInput(f"{where}.bonus_diamonds needs a sponsor to pay it ({where}.sponsor)")
        return None, 0
    check_no_control(sponsor, f"{where}.sponsor")
    if not isinstance(sponsor, str):
        raise BadInput(f"{where}.sponsor must be a sponsor's name")
    try:
        name = normalize_sponsor(sponsor)
    except BadInput as error:
        raise BadInput(f"{where}.sponsor: {error.message}") from None
    return name, 0 if bonus is None else parse_count(bonus, f"{where}.bonus_diamonds", minimum=0)


_APP_PACKAGES = (
    (70, "0.99"),
    (350, "4.99"),
    (700, "9.99"),
    (1400, "19.99"),
    (3500, "49.99"),
    (7000, "99.99"),
    (17500, "249.99"),
)

_GIFTS = (
    ("Rose", 1), ("TikTok", 1), ("GG", 1), ("Ice Cream Cone", 1), ("Heart Me", 1),
    ("Finger Heart", 5), ("Rosa", 10), ("Perfume", 20), ("Doughnut", 30),
    ("Paper Crane", 99), ("Cap", 99), ("Hand Hearts", 100), ("Confetti", 100),
    ("Sunglasses", 199), ("Corgi", 299), ("Boxing Gloves", 299), ("Forever Rosa", 399),
    ("Coral", 499), ("Money Gun", 500), ("Swan", 699), ("Train", 899), ("Galaxy", 1000),
    ("Fireworks", 1088), ("Whale Diving", 2150), ("Motorcycle", 2988), ("Private Jet", 4888),
    ("Unicorn Fantasy", 5000), ("Sports Car", 7000), ("Interstellar", 10000),
    ("Rosa Nebula", 15000), ("TikTok Shuttle", 20000), ("Yacht", 20000), ("Phoenix", 25999),
    ("Dragon Flame", 26999), ("Lion", 29999), ("Leon and Lion", 34000), ("TikTok Stars", 39999),
    ("Pegasus", 42999), ("TikTok Universe", 44999),
)  # fmt: skip


def default_rates() -> Rates:
    """US figures, early 2024: app packages, web 25% cheaper, 1 diamond a coin, $0.005 a diamond.

    The app's prices include the app store's fee, and the web's are about 25% lower because no store
    takes one: so the app's store fee is taken as 25% of its price, and the web's as 0.
    """
    web_factor = Decimal("0.75")
    app = Channel(
        "app",
        tuple(Package(c, Decimal(p)) for c, p in _APP_PACKAGES),
        coin_price=Decimal("0.0143"),
        custom_min=30,
        custom_max=2_500_000,
        store_fee_percent=APP_STORE_FEE_PERCENT,
    )
    web = Channel(
        "web",
        tuple(Package(c, round_half_up(Decimal(p) * web_factor)) for c, p in _APP_PACKAGES),
        coin_price=Decimal("0.0106"),
        custom_min=30,
        custom_max=2_500_000,
        store_fee_percent=Decimal(0),
    )
    return Rates(
        channels=(app, web),
        gifts=tuple(Gift(n, c) for n, c in _GIFTS),
        diamonds_per_coin=Decimal(1),
        payout=Payout(
            cash_per_diamond=Decimal("0.005"),
            minimum=Decimal("100.00"),
            daily_maximum=Decimal("1000.00"),
            fee_percent=Decimal(0),
        ),
    )
