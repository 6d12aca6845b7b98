"""Build benchmark ledgers in-process, with a fixed seed, and a ledger-cli journal of the same data.

A ledger of N transactions is made by the real rules (buys, gifts and the odd
payout between a few thousand users), held in memory and saved once per format,
which is far quicker than N runs of the command. Every gift is sent on a live
stream: its creator's stream of that week (``stream_of``), so a stream holds a
few dozen gifts whatever the history's length.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from coinpurse import Ledger
from coinpurse.core.model import Transaction
from coinpurse.core.names import is_platform_account
from coinpurse.errors import CoinpurseError

SEED = 20261124
START = 1_767_225_600  # 2026-01-01T00:00:00Z
GIFTS = ("Rose", "Finger Heart", "Doughnut", "Perfume", "Hand Hearts")
WEEK = 7 * 86_400


def stream_of(creator: str, clock: int) -> str:
    """The live stream a gift to ``creator`` at ``clock`` (Unix seconds) is sent on: the creator's of that week."""
    return f"{creator}-week{(clock - START) // WEEK:03d}"


def build_book(size: int, seed: int = SEED) -> Ledger:
    """A ledger in memory of exactly ``size`` transactions; the same seed gives the same ledger."""
    chance = random.Random(seed)
    ledger = Ledger.memory()
    viewers = [f"viewer{n:05d}" for n in range(max(10, min(5000, size // 50)))]
    creators = [f"creator{n:04d}" for n in range(max(3, min(500, size // 500)))]
    clock = START
    recorded = 0
    with ledger.batch() as batch:
        while recorded < size:
            clock += chance.randint(1, 90)
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock))
            roll = chance.random()
            try:
                if roll < 0.25:
                    batch.buy(chance.choice(viewers), chance.choice(("70", "350", "700", "1400")), "app", now=now)
                elif roll < 0.999:
                    sender = chance.choice(viewers)
                    if batch.state(sender).coins < 5:
                        batch.buy(sender, "700", "web", now=now)
                    else:
                        creator, gift = (
                            chance.choice(creators),
                            chance.choice(GIFTS[:2]),
                        )  # drawn in the same order as before
                        batch.gift(sender, creator, gift, "1", stream_of(creator, clock), now=now)
                else:
                    batch.redeem(chance.choice(creators), all=True, now=now)
            except CoinpurseError:
                continue  # a refused request (too few coins or diamonds) records nothing, as in real use
            recorded += 1
    return ledger


def save(ledger: Ledger, path: Path) -> None:
    if path.exists():
        path.unlink()
    ledger.save_as(path)


def journal_lines(transactions: Iterable[Transaction]) -> Iterator[str]:
    """ledger-cli / hledger journal text: one entry per transaction, commodities after amounts."""
    for tx in transactions:
        yield f"{tx.at[:10]} ({tx.id}) {tx.kind}\n"
        for posting in tx.postings:
            name = posting.account if is_platform_account(posting.account) else f"users:{posting.account}"
            yield f"    {name}  {posting.amount} {posting.commodity}\n"
        yield "\n"


def write_journal(ledger: Ledger, path: Path) -> None:
    with path.open("w") as out:
        out.writelines(journal_lines(ledger.history().transactions))


def journal_from_sqlite(ledger: Path, path: Path) -> None:
    """The journal ``journal_lines`` writes, from a saved SQLite ledger's bodies, one at a time (little memory at any size)."""
    import json
    import sqlite3

    connection = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True)
    try:
        with path.open("w") as out:
            for (body,) in connection.execute("SELECT body FROM transactions ORDER BY seq"):
                tx = json.loads(body)
                out.write(f"{tx['at'][:10]} ({tx['id']}) {tx['kind']}\n")
                for posting in tx["postings"]:
                    account = posting["account"]
                    name = account if is_platform_account(account) else f"users:{account}"
                    out.write(f"    {name}  {posting['amount']} {posting['commodity']}\n")
                out.write("\n")
    finally:
        connection.close()


def a_user(ledger: Ledger) -> str:
    """A creator with diamonds, for balance queries."""
    creators = [row for row in ledger.balances().accounts if row.account.startswith("creator")]
    return max(creators, key=lambda row: row.state.diamonds).account


def describe(ledger: Ledger) -> dict[str, Any]:
    return {"transactions": len(ledger.history().transactions), "accounts": len(ledger.balances().accounts)}
