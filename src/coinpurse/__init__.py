"""coinpurse: an exact, open wallet and payout ledger for virtual-gift economies."""

__version__ = "0.1.0"
