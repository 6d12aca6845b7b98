"""A worker process for tests/test_postgres.py and benchmarks/postgres_bench.py (run as a script).

    pg_worker.py library URL WORKER COUNT   COUNT single gifts through the library (Ledger), one connection
                                            reused by this worker; each id printed once acknowledged
    pg_worker.py cli URL WORKER COUNT       COUNT single gifts, each through the CLI entry point in this process
    pg_worker.py retrying URL WORKER COUNT  as library, but a gift the server could not take (it restarted) is
                                            sent again with its id until it is acknowledged

Worker W's gifts go from viewer W to mia, with ids ``wW-1`` ... ``wW-COUNT``: a retry of an id
replays it, so a worker killed and started again only finishes what was not acknowledged.
Prints "ready" once imported so the parent can time a kill.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys


def gift_ids(worker: int, count: int) -> list[str]:
    return [f"w{worker}-{n}" for n in range(1, count + 1)]


def library(url: str, worker: int, count: int) -> None:
    from coinpurse import Ledger

    ledger = Ledger(url)
    print("ready", flush=True)
    for tx_id in gift_ids(worker, count):
        result = ledger.gift(f"viewer{worker}", "mia", "Rose", id=tx_id)
        print(result.transaction.id, flush=True)


def retrying(url: str, worker: int, count: int) -> None:
    import time

    from coinpurse import Ledger
    from coinpurse.errors import LedgerUnusable

    ledger = Ledger(url)
    print("ready", flush=True)
    for tx_id in gift_ids(worker, count):
        while True:
            try:
                result = ledger.gift(f"viewer{worker}", "mia", "Rose", id=tx_id)
                break
            except LedgerUnusable as error:
                if error.code != "server_unreachable":
                    raise
                time.sleep(0.1)
        print(result.transaction.id, flush=True)


def cli(url: str, worker: int, count: int) -> None:
    from coinpurse.cli import main

    print("ready", flush=True)
    for tx_id in gift_ids(worker, count):
        sys.argv = ["coinpurse", "--ledger", url, "gift", f"viewer{worker}", "mia", "Rose", "--id", tx_id, "--json"]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            try:
                main()
            except SystemExit as done:
                if done.code != 0:
                    raise
        print(json.loads(out.getvalue())["id"], flush=True)


if __name__ == "__main__":
    mode, url, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    {"library": library, "cli": cli, "retrying": retrying}[mode](url, worker, count)
