"""The formats of a stored transaction's id, time, hash, balances-after and state, checked when it is read.

Each kind's request, rates and details are read and checked by its typed record
(``core.kinds``); this checks what every transaction has, whatever its kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from coinpurse.core.money import MAX_UNITS
from coinpurse.core.patterns import ACCOUNT_NAME, DIGEST_FORMAT, HASH_FORMAT, ID_FORMAT, TIME_FORMAT

Check = Callable[[Any], bool]


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < MAX_UNITS


# Plain loops rather than any()/all() over generators below: every stored transaction
# read is checked, and a re-run of a big scenario reads one per op.


def _table(spec: Mapping[str, Check]) -> Check:
    required = tuple(spec.items())

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return False
        for key, test in required:  # noqa: SIM110  # a plain loop on purpose, see above
            if key not in value or not test(value[key]):
                return False
        return True

    return check


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


def record_problem(tx_id: str, at: str, tx_hash: str, after: Mapping[str, Any], parts: Mapping[str, Any]) -> str | None:
    """What is wrong with a stored transaction's id, time, hash, balances-after or state; None when nothing is."""
    if not ID_FORMAT.fullmatch(tx_id):
        return f"id {tx_id!r} is not a valid id"
    if not TIME_FORMAT.fullmatch(at):
        return f"time {at!r} is not a UTC time such as 2026-03-01T12:00:00Z"
    if not HASH_FORMAT.fullmatch(tx_hash):
        return "hash is not a sha256 hex digest"
    for name, entry in after.items():
        if not _after_entry(entry):
            return f"after.{name} must hold whole coins and diamonds"
    if "state" in parts and not _state(parts["state"]):
        return "state must hold the digests of the rates, of each account it changed and of every account"
    return None
