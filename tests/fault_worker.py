"""A worker process for tests/test_faults.py (run as a script, not collected by pytest).

    fault_worker.py buy LEDGER ACCOUNT COUNT     COUNT buys through coinpurse.api, one id printed per write
    fault_worker.py cli LEDGER ACCOUNT COUNT     COUNT buys through the CLI entry point, in this one process
    fault_worker.py read LEDGER STOPFILE         parse the ledger in a loop until STOPFILE exists

Each buy takes the lock and does a full read, change and write, as separate
processes would. Prints "ready" once imported so the parent can time a kill.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def buy(ledger: Path, account: str, count: int) -> None:
    from coinpurse import api

    print("ready", flush=True)
    for _ in range(count):
        print(api.buy(ledger, account, 70).transaction.id, flush=True)


def cli(ledger: Path, account: str, count: int) -> None:
    import contextlib
    import io

    from coinpurse.cli import main

    print("ready", flush=True)
    for _ in range(count):
        sys.argv = ["coinpurse", "--ledger", str(ledger), "buy", account, "70", "--json"]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                main()
            except SystemExit as done:
                if done.code != 0:
                    raise
        print(json.loads(out.getvalue())["id"], flush=True)


def read(ledger: Path, stop: Path) -> None:
    from coinpurse import api

    reads = 0
    print("ready", flush=True)
    while not stop.exists() or reads < 5:
        document = json.loads(ledger.read_bytes())  # a half-written file would fail here
        assert document["schema"] == 5 and isinstance(document["transactions"], list)
        if reads % 10 == 0:
            api.balances(ledger)  # and through the library, which checks the structure
        reads += 1
        time.sleep(0.01)  # leave the writers most of the CPU
    print(reads, flush=True)


if __name__ == "__main__":
    mode, ledger = sys.argv[1], Path(sys.argv[2])
    if mode == "read":
        read(ledger, Path(sys.argv[3]))
    else:
        {"buy": buy, "cli": cli}[mode](ledger, sys.argv[3], int(sys.argv[4]))
