"""coinpurse: an exact, open wallet and payout ledger for virtual-gift economies.

``from coinpurse import Ledger`` is the library (see ``coinpurse.ledger``); it
loads on first use, so ``import coinpurse`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from coinpurse.ledger import Batch, Ledger

__all__ = ["Batch", "Ledger", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("Ledger", "Batch"):
        from coinpurse import ledger

        return getattr(ledger, name)
    raise AttributeError(f"module 'coinpurse' has no attribute {name!r}")
