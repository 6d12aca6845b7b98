"""A worker process for tests/test_postgres.py and benchmarks/postgres_bench.py (run as a script).

    pg_worker.py library URL WORKER COUNT   COUNT single gifts through the library (Ledger), one connection
                                            reused by this worker; each id printed once acknowledged
    pg_worker.py cli URL WORKER COUNT       COUNT single gifts, each through the CLI entry point in this process
    pg_worker.py retrying URL WORKER COUNT  as library, but a gift the server could not take (it restarted) is
                                            sent again with its id until it is acknowledged
    pg_worker.py steady-library URL WORKER COUNT, steady-cli URL WORKER COUNT
                                            steady state (benchmarks/postgres_bench.py): connect and read once,
                                            print "ready", wait for a line on stdin, then send COUNT gifts (through
                                            the library, or the CLI's entry point in this process), printing
                                            "ID START END" per gift (time.perf_counter, one clock for all processes)

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


def _cli_gift(url: str, worker: int, tx_id: str) -> str:
    """One gift through the CLI's entry point, in this process; its id as the --json result gives it."""
    from coinpurse.cli import main

    sys.argv = ["coinpurse", "--ledger", url, "gift", f"viewer{worker}", "mia", "Rose", "--id", tx_id, "--json"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            main()
        except SystemExit as done:
            if done.code != 0:
                raise
    return str(json.loads(out.getvalue())["id"])


def cli(url: str, worker: int, count: int) -> None:
    print("ready", flush=True)
    for tx_id in gift_ids(worker, count):
        print(_cli_gift(url, worker, tx_id), flush=True)


def _steady(url: str, worker: int, count: int, send: object) -> None:
    import time

    from coinpurse import Ledger

    Ledger(url).balance(f"viewer{worker}")  # connected (the connection is kept for the gifts) and imported
    print("ready", flush=True)
    sys.stdin.readline()  # every worker starts at once
    for tx_id in gift_ids(worker, count):
        started = time.perf_counter()
        done = send(tx_id)  # type: ignore[operator]
        print(done, started, time.perf_counter(), flush=True)


def steady_library(url: str, worker: int, count: int) -> None:
    from coinpurse import Ledger

    ledger = Ledger(url)
    _steady(url, worker, count, lambda tx_id: ledger.gift(f"viewer{worker}", "mia", "Rose", id=tx_id).transaction.id)


def steady_cli(url: str, worker: int, count: int) -> None:
    import coinpurse.cli  # noqa: F401  (imported before the start, so the first gift is not timed importing it)

    _steady(url, worker, count, lambda tx_id: _cli_gift(url, worker, tx_id))


if __name__ == "__main__":
    mode, url, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    modes = {
        "library": library,
        "cli": cli,
        "retrying": retrying,
        "steady-library": steady_library,
        "steady-cli": steady_cli,
    }
    modes[mode](url, worker, count)
