"""The shape of a stored transaction of each known kind, checked when it is read.

Receipts, JSON results and id retries read a transaction's request, rates,
details and balances-after by key. A hand-edited or damaged file could hold
anything there, so reading a transaction checks that every key those readers
use is present with the right type, and reports a ``DamagedRecord`` otherwise.
Extra keys are allowed (later versions may record more); ``verify`` compares
the whole transaction with what the rules make of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from coinpurse.core.money import MAX_UNITS
from coinpurse.core.patterns import ACCOUNT_NAME, DIGEST_FORMAT, HASH_FORMAT, ID_FORMAT, TIME_FORMAT

Check = Callable[[Any], bool]


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < MAX_UNITS


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


def _money(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError):
        return False
    return number.is_finite() and abs(number) < MAX_UNITS


# Plain loops rather than any()/all() over generators below: every stored transaction
# read is checked, and a re-run of a big scenario reads one per op.


def _lots(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    for lot in value:
        if not (isinstance(lot, list) and len(lot) == 3 and _text(lot[0]) and _count(lot[1]) and _money(lot[2])):
            return False
    return True


def _table(spec: Mapping[str, Check], optional: Mapping[str, Check] | None = None) -> Check:
    required = tuple(spec.items())
    extra = tuple((optional or {}).items())

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        for key, test in required:
            if key not in value or not test(value[key]):
                return False
        for key, test in extra:  # noqa: SIM110  # a plain loop on purpose, see above
            if key in value and not test(value[key]):
                return False
        return True

    return check


# kind -> (request, rates, details) checks
KIND_SHAPES: dict[str, tuple[Check, Check, Check]] = {
    "buy": (
        _table({"account": _text, "coins": _count, "channel": _text}),
        _table({"channel": _text}, {"package": _table({"coins": _count, "price": _money}), "coin_price": _money}),
        _table({"price": _money, "package": _flag}),
    ),
    "gift": (
        _table({"sender": _text, "recipient": _text, "gift": _text, "count": _count}, {"stream": _text}),
        _table(
            {"gift": _table({"name": _text, "coins": _count}), "diamonds_per_coin": _money, "cash_per_diamond": _money}
        ),
        _table(
            {
                "gift": _text,
                "count": _count,
                "coins": _count,
                "diamonds": _count,
                "paid": _money,
                "diamond_value": _money,
                "platform_kept": _money,
                "lots": _lots,
            },
            {"stream": _text},
        ),
    ),
    "redeem": (
        _table({"account": _text}, {"diamonds": _count, "all": _flag}),
        _table({"cash_per_diamond": _money, "minimum": _money, "daily_maximum": _money, "fee_percent": _money}),
        _table(
            {
                "diamonds": _count,
                "cash": _money,
                "fee": _money,
                "net": _money,
                "rounding": _money,
                "kept_diamonds": _count,
            }
        ),
    ),
}

_after_entry = _table({"coins": _count, "diamonds": _count})


def _digest(value: Any) -> bool:
    return isinstance(value, str) and DIGEST_FORMAT.fullmatch(value) is not None


def _state(value: Any) -> bool:
    """``{"rates": digest, "accounts": {name: digest}, "root": digest}``: what a transaction records it leaves behind.

    Transactions recorded before the root was have no ``root``.
    """
    if not (isinstance(value, dict) and _digest(value.get("rates"))):
        return False
    if len(value) != (3 if "root" in value else 2) or ("root" in value and not _digest(value["root"])):
        return False
    accounts = value.get("accounts")
    if not isinstance(accounts, dict):
        return False
    for name, digest in accounts.items():  # noqa: SIM110  # a plain loop on purpose, see above
        if not (ACCOUNT_NAME.fullmatch(name) and _digest(digest)):
            return False
    return True


def shape_problem(kind: str, tx_id: str, at: str, tx_hash: str, parts: Mapping[str, Any]) -> str | None:
    """What is wrong with a stored transaction's shape, or None when it can be read safely."""
    if not ID_FORMAT.fullmatch(tx_id):
        return f"id {tx_id!r} is not a valid id"
    if not TIME_FORMAT.fullmatch(at):
        return f"time {at!r} is not a UTC time such as 2026-03-01T12:00:00Z"
    if not HASH_FORMAT.fullmatch(tx_hash):
        return "hash is not a sha256 hex digest"
    after = parts["after"]
    for name, entry in after.items():
        if not _after_entry(entry):
            return f"after.{name} must hold whole coins and diamonds"
    if "state" in parts and not _state(parts["state"]):
        return "state must hold the digests of the rates, of each account it changed and of every account"
    shapes = KIND_SHAPES.get(kind)
    if shapes is None:
        return None  # a kind this version does not know: verify reports it
    for key, check in zip(("request", "rates", "details"), shapes, strict=True):
        if not check(parts[key]):
            return f"{key} is not what a {kind} records"
    return None
