"""Changing rates: dotted keys, edits checked by the same validation as a ledger's rates, and the diff.

A rate is addressed by a dotted key (see ``KEY_FORMS``). An edit works on the
plain dict form of the rates and is then validated whole by ``rates_from_dict``,
so a change can never leave rates a ledger would refuse to load.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from coinpurse.core.book import Book
from coinpurse.core.money import decimal_str, shorten, shown
from coinpurse.core.names import check_tx_id, did_you_mean, gift_key
from coinpurse.core.rates import Rates, rates_from_dict
from coinpurse.core.rules import Plan
from coinpurse.core.safetext import check_no_control
from coinpurse.errors import BadInput

KEY_FORMS = (
    "gift.NAME.coins",
    "channel.CHANNEL.package.COINS",
    "channel.CHANNEL.coin_price",
    "channel.CHANNEL.custom_min",
    "channel.CHANNEL.custom_max",
    "conversion.diamonds_per_coin",
    "payout.cash_per_diamond",
    "payout.minimum",
    "payout.daily_maximum",
    "payout.fee_percent",
    "gift.NAME.sponsor",
    "gift.NAME.bonus_diamonds",
    "payout.review_days",
    "channel.CHANNEL.store_fee_percent",
)
_GIFT_FIELDS = ("coins", "sponsor", "bonus_diamonds")  # a sponsor's budget pays the bonus diamonds for each one sent
_CHANNEL_FIELDS = ("coin_price", "custom_min", "custom_max")
_PAYOUT_FIELDS = ("cash_per_diamond", "minimum", "daily_maximum", "fee_percent")
_STORE_FEE = "store_fee_percent"  # a channel's, optional: the share of each price an app store keeps


def _bad_key(key: str, why: str = "", data: dict[str, Any] | None = None, *, remove: bool = False) -> BadInput:
    hint = "" if data is None else did_you_mean(key, _removable_keys(data) if remove else _settable_keys(data))
    # A key of a known form with one bad part says what is wrong with it; the list of forms is for the rest.
    forms = "" if why else "; the keys are " + ", ".join(KEY_FORMS)
    return BadInput(f"unknown rate key {shorten(key)!r}{hint}{why}{forms}", code="invalid_rates")


def _settable_keys(data: dict[str, Any]) -> list[str]:
    """Every key a ``rates set`` can give a value, from the dict form of rates."""
    keys = [f"gift.{gift['name']}.coins" for gift in data["gifts"]]
    for name, channel in data["channels"].items():
        keys.extend(f"channel.{name}.{field}" for field in _CHANNEL_FIELDS)
        keys.extend(f"channel.{name}.package.{package['coins']}" for package in channel["packages"])
    keys.append("conversion.diamonds_per_coin")
    keys.extend(f"payout.{field}" for field in _PAYOUT_FIELDS)
    # A sponsor's keys of the gifts that have one (any gift takes them: these are hints and completions).
    keys.extend(
        f"gift.{gift['name']}.{field}" for gift in data["gifts"] if "sponsor" in gift for field in _GIFT_FIELDS[1:]
    )
    keys.append("payout.review_days")
    keys.extend(f"channel.{name}.{_STORE_FEE}" for name in data["channels"])
    return keys


def _removable_keys(data: dict[str, Any]) -> list[str]:
    keys = [f"gift.{gift['name']}" for gift in data["gifts"]]
    for name, channel in data["channels"].items():
        keys.append(f"channel.{name}")
        keys.extend(f"channel.{name}.package.{package['coins']}" for package in channel["packages"])
    keys.extend(f"gift.{gift['name']}.sponsor" for gift in data["gifts"] if "sponsor" in gift)
    if "review_days" in data["payout"]:
        keys.append("payout.review_days")
    keys.extend(f"channel.{name}.{_STORE_FEE}" for name, channel in data["channels"].items() if _STORE_FEE in channel)
    return keys


def rate_keys(rates: Rates, *, remove: bool = False) -> list[str]:
    """Every key ``rates set`` takes a value for with these rates, or with ``remove`` every key it can remove."""
    data = rates.to_dict()
    return _removable_keys(data) if remove else _settable_keys(data)


def flatten(rates: Rates) -> dict[str, Any]:
    """Every rate by its dotted key; cash and ratios as strings, counts as integers."""
    flat: dict[str, Any] = {}
    for channel in rates.channels:
        prefix = f"channel.{channel.name}"
        flat[f"{prefix}.coin_price"] = decimal_str(channel.coin_price)
        flat[f"{prefix}.custom_min"] = channel.custom_min
        flat[f"{prefix}.custom_max"] = channel.custom_max
        for package in channel.packages:
            flat[f"{prefix}.package.{package.coins}"] = decimal_str(package.price)
    for gift in rates.gifts:
        flat[f"gift.{gift.name}.coins"] = gift.coins
        if gift.sponsor is not None:
            flat[f"gift.{gift.name}.sponsor"] = gift.sponsor
            flat[f"gift.{gift.name}.bonus_diamonds"] = gift.bonus_diamonds
    flat["conversion.diamonds_per_coin"] = decimal_str(rates.diamonds_per_coin)
    payout = rates.payout
    for name in _PAYOUT_FIELDS:
        flat[f"payout.{name}"] = decimal_str(getattr(payout, name))
    if rates.review_days is not None:  # unset, it is the platform's figure: removing the key goes back to it
        flat["payout.review_days"] = rates.review_days
    for channel in rates.channels:
        if channel.store_fee_percent is not None:  # unset, buys record none
            flat[f"channel.{channel.name}.{_STORE_FEE}"] = decimal_str(channel.store_fee_percent)
    return flat


def diff(before: Rates, after: Rates) -> list[dict[str, Any]]:
    """What changed, key by key: ``{"key", "from", "to"}``; ``None`` for added or removed."""
    old, new = flatten(before), flatten(after)
    changes = []
    for key in [*old, *(k for k in new if k not in old)]:
        if old.get(key) != new.get(key):
            changes.append({"key": key, "from": old.get(key), "to": new.get(key)})
    return changes


def same_value(before: Any, after: Any) -> bool:
    """One rate written two ways: a price of 100 is 100.00, a coin price of 0.0143 is 0.01430."""
    if isinstance(before, str) and isinstance(after, str):
        return Decimal(before) == Decimal(after)  # flatten's strings are always valid decimals
    return bool(before == after)


def changes_a_value(changes: list[dict[str, Any]]) -> bool:
    """Whether a diff changes what any rate is worth, rather than only how one is written."""
    return any(not same_value(change["from"], change["to"]) for change in changes)


def _value(raw: object, key: str) -> object:
    """A value from a command line or a file: text, a whole number, never a float or bool."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise BadInput(
            f"{key}: the value must be a whole number or a decimal string, not {shown(raw)}", code="invalid_rates"
        )
    return raw.strip() if isinstance(raw, str) else raw


def _gift_field(rest: str) -> tuple[str, str | None]:
    """A gift key's gift name and field: ``Rose.sponsor`` is (Rose, sponsor); a bare name has no field."""
    for field in _GIFT_FIELDS:
        if rest.endswith("." + field):
            return rest[: -len(field) - 1], field
    return rest, None


def _find_gift(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    wanted = gift_key(name)
    for gift in data["gifts"]:
        if gift_key(gift["name"]) == wanted:
            return gift  # type: ignore[no-any-return]
    return None


def _channel(data: dict[str, Any], name: str, key: str) -> dict[str, Any]:
    channel = data["channels"].get(name)
    if channel is None:
        hint = did_you_mean(name, data["channels"])
        raise BadInput(f"{key}: no channel {name!r}{hint}", code="invalid_rates")
    return channel  # type: ignore[no-any-return]


def _package_coins(text: str, key: str) -> int:
    if not (text.isascii() and text.isdecimal()) or len(text) > 20:  # int() of thousands of digits fails
        raise _bad_key(key, f": {shorten(text)!r} is not a package size in coins")
    return int(text)


def edit(data: dict[str, Any], key: str, value: object = None, *, remove: bool = False) -> None:
    """Apply one set or removal to the dict form of rates (validated later, all at once)."""
    if not isinstance(key, str) or not key.strip():
        raise _bad_key(str(key))
    key = key.strip()

    def unknown() -> BadInput:  # made only when raised: its hint matches the key against every key
        return _bad_key(
            key,
            " (only gifts, packages and channels can be removed)" if remove else "",
            data,
            remove=remove,
        )

    head, _, rest = key.partition(".")
    if head == "gift" and rest:
        name, field = _gift_field(rest)
        if not remove and field is None:
            raise _bad_key(key, " (set a gift's price with gift.NAME.coins, its sponsor with gift.NAME.sponsor)", data)
        gift = _find_gift(data, name)
        if remove:
            if gift is None:
                raise BadInput(
                    f"{key}: no gift {name!r} to remove{did_you_mean(name, [g['name'] for g in data['gifts']])}",
                    code="invalid_rates",
                )
            if field in (None, "coins"):
                data["gifts"].remove(gift)
                return
            gift.pop(field, None)  # a sponsorship already gone is no change
            if field == "sponsor":
                gift.pop("bonus_diamonds", None)  # a bonus no sponsor pays goes with it
        elif gift is None:
            if field != "coins":
                raise BadInput(f"{key}: no gift {name!r}; add it with gift.{name}.coins first", code="invalid_rates")
            data["gifts"].append({"name": name, "coins": _value(value, key)})
        else:
            gift[str(field)] = _value(value, key)
        return
    if head == "channel" and rest:
        parts = rest.split(".")
        channel = _channel(data, parts[0], key)
        if len(parts) == 1 and remove:
            del data["channels"][parts[0]]
            return
        if len(parts) == 3 and parts[1] == "package":
            coins = _package_coins(parts[2], key)
            packages = channel["packages"]
            existing = next((p for p in packages if p["coins"] == coins), None)
            if remove:
                if existing is None:
                    raise BadInput(f"{key}: {parts[0]} has no package of {coins} coins", code="invalid_rates")
                packages.remove(existing)
            elif existing is None:
                packages.append({"coins": coins, "price": _value(value, key)})
            else:
                existing["price"] = _value(value, key)
            return
        if len(parts) == 2 and parts[1] in _CHANNEL_FIELDS and not remove:
            channel[parts[1]] = _value(value, key)
            return
        if len(parts) == 2 and parts[1] == _STORE_FEE:
            if not remove:
                channel[_STORE_FEE] = _value(value, key)
            elif channel.pop(_STORE_FEE, None) is None:
                raise BadInput(f"{key}: it is not set (buys on {parts[0]} record no store fee)", code="invalid_rates")
            return
        raise unknown()
    if head == "conversion" and rest == "diamonds_per_coin" and not remove:
        data["conversion"]["diamonds_per_coin"] = _value(value, key)
        return
    if head == "payout" and rest == "review_days" and remove:
        if "review_days" not in data["payout"]:
            raise BadInput(f"{key}: it is not set (the platform's figure is in force)", code="invalid_rates")
        del data["payout"]["review_days"]
        return
    if head == "payout" and rest in (*_PAYOUT_FIELDS, "review_days") and not remove:
        data["payout"][rest] = _value(value, key)
        return
    raise unknown()


def edited(rates: Rates, sets: Mapping[str, object] | Iterable[tuple[str, object]], removes: tuple[str, ...]) -> Rates:
    """New rates after the removals, then the sets; BadInput naming the key as given if anything is invalid."""
    import copy

    pairs = list(sets.items() if isinstance(sets, Mapping) else sets)
    data = copy.deepcopy(rates.to_dict())
    for key in removes:
        edit(data, key, remove=True)
    for key, value in pairs:
        edit(data, key, value)
    try:
        return rates_from_dict(data)
    except BadInput as error:
        error.message = _keys_for_paths(error.message, data, [*removes, *(key for key, _ in pairs)])
        raise


# Where rates_from_dict says a problem is, in the dict form: rates.gifts[3].coins, rates.channels.web.packages[2].price ...
_PATH = re.compile(
    r"\brates\.(?:gifts\[(?P<gift>\d+)\](?:\.(?P<gfield>coins|name|sponsor|bonus_diamonds))?"
    r"|channels\.(?P<pchannel>[a-z][a-z0-9_-]*)\.packages\[(?P<package>\d+)\](?:\.(?:coins|price))?"
    r"|channels\.(?P<channel>[a-z][a-z0-9_-]*)(?:\.(?P<field>coin_price|custom_min|custom_max|store_fee_percent))?"
    r"|(?P<other>conversion\.diamonds_per_coin|payout\.(?:cash_per_diamond|minimum|daily_maximum|fee_percent|review_days)))"
)


def _keys_for_paths(message: str, data: dict[str, Any], typed: list[str]) -> str:
    """The message with each place in the dict form named by its rate key, as the user wrote it when they did."""
    spelled: dict[tuple[Any, ...], str] = {}
    for key in typed:
        spelled.setdefault(_target(key), key.strip())

    def key_for(match: re.Match[str]) -> str:
        found = match.groupdict()
        if found["gift"] is not None:
            name = data["gifts"][int(found["gift"])]["name"]
            field = found["gfield"] if found["gfield"] in _GIFT_FIELDS[1:] else "coins"
            default = f"gift.{name}.{field}"
            target: tuple[Any, ...] = _target(default)
        elif found["package"] is not None:
            channel = found["pchannel"]
            coins = data["channels"][channel]["packages"][int(found["package"])]["coins"]
            default = f"channel.{channel}.package.{coins}"
            target = _target(default)
        elif found["channel"] is not None:
            channel, field = found["channel"], found["field"]
            default = f"channel.{channel}.{field}" if field else f"channel.{channel}"
            target = _target(default)
        else:
            default = found["other"]
            target = _target(default)
        return spelled.get(target, default)

    return _PATH.sub(key_for, message)


def _target(key: str) -> tuple[Any, ...]:
    """What a rate key addresses, however it is written: gift names by gift_key, package sizes as numbers."""
    parts = key.strip().split(".")
    if parts[0] == "gift" and len(parts) > 1:
        name, field = _gift_field(".".join(parts[1:]))
        return ("gift", gift_key(name)) if field in (None, "coins") else ("gift", gift_key(name), field)
    if (
        parts[0] == "channel"
        and len(parts) == 4
        and parts[2] == "package"
        and parts[3].isdecimal()
        and len(parts[3]) <= 20
    ):
        return ("channel", parts[1], "package", int(parts[3]))
    return tuple(parts)


def _twice(first: str, second: str, done: str) -> BadInput:
    what = f"{first} is" if first.strip() == second.strip() else f"{first} and {second} are the same rate,"
    return BadInput(f"{what} {done} twice in one change; give each key once", code="invalid_rates")


def _check_each_once(sets: list[tuple[str, object]], removes: list[str]) -> None:
    """Refuse a key set twice, removed twice, or both set and removed, naming the keys as given."""
    seen: dict[tuple[Any, ...], str] = {}
    for key, _ in sets:
        target = _target(key)
        if target in seen:
            raise _twice(seen[target], key, "set")
        seen[target] = key
    gone: dict[tuple[Any, ...], str] = {}
    for key in removes:
        target = _target(key)
        if target in gone:
            raise _twice(gone[target], key, "removed")
        gone[target] = key
        for place, set_key in seen.items():
            if place[: len(target)] == target:
                raise BadInput(
                    f"{set_key} is set and {key} removed in one change; a change either sets a rate or removes it",
                    code="invalid_rates",
                )


@dataclass(frozen=True)
class RatesChange:
    """A request to change rates: some keys set and removed, or a whole new set of rates."""

    sets: tuple[tuple[str, str], ...] = ()
    removes: tuple[str, ...] = ()
    replacement: Rates | None = None  # a whole file imported
    source: str = "set"  # set, import or init
    id: str | None = None
    kind = "rates"

    @classmethod
    def make(
        cls,
        sets: Mapping[str, object] | Iterable[tuple[str, object]] | None = None,
        removes: object = (),
        id: object = None,
    ) -> RatesChange:
        """A change from keys and values (a mapping, or pairs in order, where a key given twice is refused) and keys to remove."""
        if isinstance(removes, str) or not isinstance(removes, (list, tuple)):
            raise BadInput(f"remove must be a list of rate keys, not {shown(removes)}", code="invalid_rates")
        pairs = list((sets or {}).items() if isinstance(sets, Mapping) or sets is None else sets)
        for key in (*(key for key, _ in pairs), *removes):
            check_no_control(key, "rate key")
            if not isinstance(key, str):
                raise BadInput(f"a rate key must be text, not {shown(key)}", code="invalid_rates")
        set_pairs = tuple((key, str(_value(value, key))) for key, value in pairs)
        if not set_pairs and not removes:
            raise BadInput("a rates change needs at least one key to set or remove", code="invalid_rates")
        _check_each_once(list(set_pairs), list(removes))
        return cls(set_pairs, tuple(removes), None, "set", None if id is None else check_tx_id(id))

    @classmethod
    def replace_all(cls, rates: Rates, source: str = "import", id: object = None) -> RatesChange:
        return cls((), (), rates, source, None if id is None else check_tx_id(id))

    def key(self) -> dict[str, Any]:
        if self.replacement is not None:
            return {self.source: self.replacement.to_dict()}
        data: dict[str, Any] = {}
        if self.removes:
            data["remove"] = list(self.removes)
        if self.sets:
            data["set"] = dict(self.sets)
        return data

    def new_rates(self, current: Rates) -> Rates:
        if self.replacement is not None:
            return self.replacement
        return edited(current, self.sets, self.removes)


def plan_rates(book: Book, change: RatesChange, new: Rates) -> Plan:
    """A rates transaction: no postings; the details say what changed from what to what."""
    from coinpurse.core.kinds import RateChange, RatesDetails, RatesRecord

    changes = tuple(RateChange(c["key"], c["from"], c["to"]) for c in diff(book.rates, new))
    return Plan(RatesRecord.made(change.key(), new, RatesDetails(change.source, changes)), (), {}, new_rates=new)
