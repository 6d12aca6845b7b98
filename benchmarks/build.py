"""Build benchmark ledgers in-process, with a fixed seed, and a ledger-cli journal of the same data.

A ledger of N transactions is made by the real rules (buys, gifts and the odd
payout between a few thousand users), held in memory and saved once per format,
which is far quicker than N runs of the command.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from coinpurse.core import requests as rq
from coinpurse.core.book import MemoryBook
from coinpurse.core.model import Transaction
from coinpurse.core.names import is_platform_account
from coinpurse.core.rules import execute
from coinpurse.errors import CoinpurseError
from coinpurse.storage.convert import save_new
from coinpurse.storage.document import new_book

SEED = 20261124
START = 1_767_225_600  # 2026-01-01T00:00:00Z
GIFTS = ("Rose", "Finger Heart", "Doughnut", "Perfume", "Hand Hearts")


def build_book(size: int, seed: int = SEED) -> MemoryBook:
    """A ledger of exactly ``size`` transactions; the same seed gives the same ledger."""
    chance = random.Random(seed)
    book = new_book()
    viewers = [f"viewer{n:05d}" for n in range(max(10, min(5000, size // 50)))]
    creators = [f"creator{n:04d}" for n in range(max(3, min(500, size // 500)))]
    clock = START
    while len(book.records) < size:
        clock += chance.randint(1, 90)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock))
        roll = chance.random()
        request: rq.Request
        if roll < 0.25:
            request = rq.Buy.make(chance.choice(viewers), chance.choice(("70", "350", "700", "1400")), "app", None)
        elif roll < 0.999:
            sender = chance.choice(viewers)
            if book.account(sender).coins < 5:
                request = rq.Buy.make(sender, "700", "web", None)
            else:
                request = rq.Gift.make(sender, chance.choice(creators), chance.choice(GIFTS[:2]), "1", None, None)
        else:
            request = rq.Redeem.make(chance.choice(creators), None, True, None)
        try:
            execute(book, request, now)
        except CoinpurseError:
            continue  # a refused request (too few coins or diamonds) records nothing, as in real use
    return book


def save(book: MemoryBook, path: Path) -> None:
    if path.exists():
        path.unlink()
    save_new(path, book)


def journal_lines(transactions: Iterable[Transaction]) -> Iterator[str]:
    """ledger-cli / hledger journal text: one entry per transaction, commodities after amounts."""
    for tx in transactions:
        yield f"{tx.at[:10]} ({tx.id}) {tx.kind}\n"
        for posting in tx.postings:
            name = posting.account if is_platform_account(posting.account) else f"users:{posting.account}"
            yield f"    {name}  {posting.amount} {posting.commodity}\n"
        yield "\n"


def write_journal(book: MemoryBook, path: Path) -> None:
    with path.open("w") as out:
        out.writelines(journal_lines(book.iter_transactions()))


def a_user(book: MemoryBook) -> str:
    """A creator with diamonds, for balance queries."""
    return max((name for name in book.user_accounts() if name.startswith("creator")), key=lambda n: book.account(n).diamonds)


def describe(book: MemoryBook) -> dict[str, Any]:
    return {"transactions": len(book.records), "accounts": len(book.accounts)}
