"""The reads and single operations as one function per call, each taking the ledger's path.

Kept for scripts written against it: each function is one line over
``coinpurse.ledger.Ledger`` (``api.buy(path, ...)`` is ``Ledger.open(path).buy(...)``),
and the result types live in ``coinpurse.results``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from coinpurse.results import (
    AccountBalance,
    Balances,
    Conversion,
    Gifter,
    Gifters,
    History,
    OperationResult,
    RatesView,
)

if TYPE_CHECKING:
    from coinpurse.core.verify import VerifyReport

__all__ = [
    "AccountBalance",
    "Balances",
    "Conversion",
    "Gifter",
    "Gifters",
    "History",
    "OperationResult",
    "RatesView",
    "balance",
    "balances",
    "buy",
    "convert",
    "gift",
    "gifters",
    "history",
    "rates",
    "redeem",
    "verify",
]


def buy(
    path: Path, account: str, coins: object, channel: str = "app", id: str | None = None, now: str | None = None
) -> OperationResult:
    from coinpurse.ledger import Ledger

    return Ledger(path).buy(account, coins, channel, id, now)


def gift(
    path: Path,
    sender: str,
    recipient: str,
    gift_name: str,
    count: object = 1,
    stream: str | None = None,
    id: str | None = None,
    now: str | None = None,
    *,
    new_account: bool = False,
) -> OperationResult:
    from coinpurse.ledger import Ledger

    return Ledger(path).gift(sender, recipient, gift_name, count, stream, id, now, new_account=new_account)


def redeem(
    path: Path,
    account: str,
    diamonds: object = None,
    all: bool = False,
    id: str | None = None,
    now: str | None = None,
    *,
    new_account: bool = False,
) -> OperationResult:
    from coinpurse.ledger import Ledger

    return Ledger(path).redeem(account, diamonds, all, id, now, new_account=new_account)


def balance(path: Path, account: str) -> AccountBalance:
    from coinpurse.ledger import Ledger

    return Ledger(path).balance(account)


def balances(path: Path) -> Balances:
    from coinpurse.ledger import Ledger

    return Ledger(path).balances()


def rates(path: Path) -> RatesView:
    from coinpurse.ledger import Ledger

    return Ledger(path).rates()


def history(path: Path, account: str | None = None, kind: str | None = None, limit: int | None = None) -> History:
    from coinpurse.ledger import Ledger

    return Ledger(path).history(account, kind, limit)


def gifters(path: Path, account: str, limit: int | None = 10) -> Gifters:
    from coinpurse.ledger import Ledger

    return Ledger(path).gifters(account, limit)


def verify(path: Path, anchors: Sequence[str] = ()) -> VerifyReport:
    from coinpurse.ledger import Ledger

    return Ledger(path).verify(anchors)


def convert(source: Path, target: Path) -> Conversion:
    from coinpurse.ledger import Ledger

    return Ledger(source).convert(target)
