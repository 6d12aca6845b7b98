"""PostgreSQL against SQLite: concurrent writers, a bulk apply, and reads of a big ledger.

    python benchmarks/postgres_bench.py [--clients 16] [--gifts 20] [--apply 100000] [--reads 1000000]
                                        [--url postgresql://...]   (default: a throwaway server of its own)
                                        [--only writers|steady|apply|reads] [--steady-gifts 50] [--steady-solo-gifts 200]
                                        [--reads-from LEDGER.sqlite [--reads-url postgresql://...]] [--runs 5]

- writers: CLIENTS processes at once, each sending GIFTS single gifts with ids, through the CLI
  (one ``coinpurse gift`` process per gift) and through the library (one process per client, its
  one connection reused); nothing may be lost (every id in history once, verify passes).
- steady: steady state, for 1 and CLIENTS clients, on SQLite (processes on one file lock) and PostgreSQL:
  each worker connects first (one connection, kept), then all send STEADY_GIFTS gifts at once, through the
  library and through the CLI's entry point in the worker's process; gifts/s from the first gift to the last,
  latency p50/p99 per gift, nothing lost.
- apply: ``coinpurse apply`` of APPLY generated ops (benchmarks/apply_bench.py) onto a new SQLite
  ledger and a new PostgreSQL one.
- reads: a ledger of READS transactions (benchmarks/build.py, or --reads-from an existing SQLite file,
  which is only read) converted to PostgreSQL and vacuumed, and the same read commands timed on both, in
  turns (median of --runs after one untimed run), with PostgreSQL's time over SQLite's.

Prints one line per measure and a JSON summary at the end. Needs psycopg (pip install -e '.[postgres]')
and, without --url, PostgreSQL's binaries (tests/pg_server.py finds them).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT / "tests")]
WORKER = ROOT / "tests" / "pg_worker.py"
ENV = {**os.environ, "COINPURSE_NOW": "2030-01-01T00:00:00Z", "NO_COLOR": "1"}
CP = [sys.executable, "-m", "coinpurse"]


def cp(ledger: object, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CP, "--ledger", str(ledger), *args], capture_output=True, text=True, env=ENV, check=False)


def fund(ledger: object, clients: int, folder: Path) -> None:
    ops = [{"kind": "buy", "account": f"viewer{w}", "coins": 2_500_000, "channel": "web"} for w in range(clients)]
    scenario = folder / "fund.json"
    scenario.write_text(json.dumps({"ops": ops}))
    done = cp(ledger, "apply", str(scenario))
    assert done.returncode == 0, done.stderr


def writers(url: str, mode: str, clients: int, gifts: int, folder: Path) -> dict[str, object]:
    fund(url, clients, folder)
    started = time.perf_counter()
    if mode == "library":
        procs = [
            subprocess.Popen(
                [sys.executable, str(WORKER), "library", url, str(w), str(gifts)],
                stdout=subprocess.PIPE,
                text=True,
                env=ENV,
            )
            for w in range(clients)
        ]
        acknowledged = sum(len([line for line in p.communicate()[0].splitlines() if line != "ready"]) for p in procs)
    else:  # each client a loop of CLI processes, one gift each
        loop = (
            "import subprocess, sys\n"
            "url, w, n = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
            "for i in range(1, n + 1):\n"
            "    r = subprocess.run([sys.executable, '-m', 'coinpurse', '--ledger', url, '-q', 'gift', 'viewer' + w, 'mia', 'Rose', '--id', f'w{w}-{i}'])\n"
            "    if r.returncode == 0: print('ok', flush=True)\n"
        )
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", loop, url, str(w), str(gifts)], stdout=subprocess.PIPE, text=True, env=ENV
            )
            for w in range(clients)
        ]
        acknowledged = sum(len(p.communicate()[0].splitlines()) for p in procs)
    seconds = time.perf_counter() - started
    history = json.loads(cp(url, "history", "--json").stdout)["transactions"]
    stored = sorted(tx["id"] for tx in history if tx["id"].startswith("w"))
    expected = sorted(f"w{w}-{n}" for w in range(clients) for n in range(1, gifts + 1))
    verified = cp(url, "verify").returncode == 0
    return {
        "mode": mode, "clients": clients, "gifts": clients * gifts, "acknowledged": acknowledged, "seconds": round(seconds, 2),
        "gifts_per_second": round(clients * gifts / seconds, 1), "nothing_lost": stored == expected, "verify": verified,
    }  # fmt: skip


def apply_both(url: str, count: int, folder: Path) -> dict[str, float]:
    from apply_bench import write_ops_json

    scenario = folder / f"ops-{count}.json"
    write_ops_json(count, scenario)
    results = {}
    for name, ledger in (("sqlite", folder / "apply.sqlite"), ("postgresql", url)):
        started = time.perf_counter()
        done = cp(ledger, "apply", str(scenario))
        results[name] = round(time.perf_counter() - started, 2)
        assert done.returncode == 0, done.stderr
        print(f"  apply {count} onto {name}: {results[name]} s", flush=True)
    return results


READS = (
    ("balance", ("balance", "--json")),
    ("balance ACCOUNT", ("balance", "{user}", "--json")),
    ("balance ACCOUNT --at", ("balance", "{user}", "--at", "{at}", "--json")),
    ("history ACCOUNT --limit 20", ("history", "{user}", "--limit", "20", "--json")),
    ("history --limit 20", ("history", "--limit", "20", "--json")),
    ("history --kind redeem --limit 20", ("history", "--kind", "redeem", "--limit", "20", "--json")),
    ("gifters ACCOUNT", ("gifters", "{user}", "--json")),
    ("info", ("info", "--json")),
    ("explain ID", ("explain", "{tx}", "--json")),
)


def _picks(ledger_file: Path) -> dict[str, str]:
    """What the reads ask about, read from the SQLite file (opened read-only): the creator with the most
    diamonds, the gift halfway along the history (explain) and the time of it (balance --at)."""
    import sqlite3

    with sqlite3.connect(f"file:{ledger_file}?mode=ro", uri=True) as db:
        (user,) = db.execute(
            "SELECT name FROM accounts WHERE name LIKE 'creator%' ORDER BY diamonds DESC LIMIT 1"
        ).fetchone()
        (length,) = db.execute("SELECT max(seq) FROM transactions").fetchone()
        tx, at = db.execute(
            "SELECT id, at FROM transactions WHERE seq >= ? AND kind = 'gift' ORDER BY seq LIMIT 1", (length // 2,)
        ).fetchone()
    return {"user": user, "tx": tx, "at": at}


def reads_both(
    url: str, size: int, folder: Path, source: Path | None = None, converted: bool = False, runs: int = 5
) -> dict[str, dict[str, float]]:
    """The reads on SQLite and PostgreSQL, median of RUNS each after one untimed run. ``source``: an existing
    SQLite ledger (only read) instead of one built here; ``converted``: the URL already holds it."""
    results: dict[str, dict[str, float]] = {}
    if source is None:
        from build import build_book, save

        ledger_file = folder / f"reads-{size}.sqlite"
        book = build_book(size)
        save(book, ledger_file)
        del book
    else:
        ledger_file = source
    if not converted:
        started = time.perf_counter()
        done = cp(ledger_file, "convert", str(ledger_file), url)
        assert done.returncode == 0, done.stderr
        results["convert sqlite -> postgresql"] = {"postgresql": round(time.perf_counter() - started, 2)}
        print(f"  convert: {results['convert sqlite -> postgresql']}", flush=True)
    _settle(url)
    picks = _picks(ledger_file)
    for name, args in READS:
        filled = [arg.format(**picks) for arg in args]
        on_sqlite, on_postgresql = timed_pair(ledger_file, url, filled, runs)
        row = {"sqlite": round(on_sqlite, 3), "postgresql": round(on_postgresql, 3)}
        row["ratio"] = round(row["postgresql"] / row["sqlite"], 2)
        results[name] = row
        print(f"  read {name}: {row}", flush=True)
    return results


def _settle(url: str) -> None:
    """VACUUM ANALYZE the ledger's tables, as autovacuum does within a minute or so of a convert: reads are timed
    on the ledger as it then stays, not while autovacuum runs beside them."""
    import psycopg

    from coinpurse.storage.urls import LedgerUrl

    target = LedgerUrl(url)
    with psycopg.connect(target.conninfo, autocommit=True) as db:
        for table in ("transactions", "postings", "accounts", "account_digests", "bucket_digests", "meta"):
            db.execute(f"VACUUM (ANALYZE) {target.schema}.{table}")


def timed_pair(first: object, second: object, args: list[str], runs: int) -> tuple[float, float]:
    """The medians of RUNS runs on each ledger, taken in turn (so a load that comes and goes weighs on both alike),
    after one untimed run of each."""
    times: tuple[list[float], list[float]] = ([], [])
    for turn in range(runs + 1):
        for ledger, kept in ((first, times[0]), (second, times[1])):
            started = time.perf_counter()
            done = cp(ledger, *args)
            if turn:
                kept.append(time.perf_counter() - started)
            if done.returncode != 0:
                raise SystemExit(f"{args} on {ledger} failed: {done.stderr}")
    return statistics.median(times[0]), statistics.median(times[1])


def verify_both(url: str, ledger_file: Path) -> dict[str, float]:
    results = {}
    for store, ledger in (("sqlite", ledger_file), ("postgresql", url)):
        started = time.perf_counter()
        assert cp(ledger, "verify").returncode == 0
        results[store] = round(time.perf_counter() - started, 2)
    return results


def steady(ledger: str, mode: str, clients: int, gifts: int, folder: Path) -> dict[str, object]:
    """Steady state: CLIENTS worker processes, each connected (one connection, kept) before the clock starts,
    then GIFTS single gifts each, all workers released at once; throughput from the first gift sent to the last
    acknowledged, and each gift's latency."""
    fund(ledger, clients, folder)
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), f"steady-{mode}", ledger, str(w), str(gifts)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV,
        )
        for w in range(clients)
    ]  # fmt: skip
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    spans = []
    for proc in procs:
        out, _ = proc.communicate()
        assert proc.returncode == 0, f"a {mode} worker failed on {ledger}"
        spans.extend((float(start), float(end)) for _, start, end in (line.split() for line in out.splitlines()))
    seconds = max(end for _, end in spans) - min(start for start, _ in spans)
    latencies = sorted(end - start for start, end in spans)
    history = json.loads(cp(ledger, "history", "--json").stdout)["transactions"]
    stored = sorted(tx["id"] for tx in history if tx["id"].startswith("w"))
    expected = sorted(f"w{w}-{n}" for w in range(clients) for n in range(1, gifts + 1))
    return {
        "mode": mode, "clients": clients, "gifts": clients * gifts, "acknowledged": len(spans),
        "gifts_per_second": round(len(spans) / seconds, 1),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 1),
        "p99_ms": round(1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
        "nothing_lost": stored == expected, "verify": cp(ledger, "verify").returncode == 0,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--gifts", type=int, default=20)
    parser.add_argument("--apply", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--url", help="a database to use (one schema per measure is made in it)")
    parser.add_argument("--reads-from", type=Path, help="an existing SQLite ledger for the reads (only read)")
    parser.add_argument("--reads-url", help="a PostgreSQL ledger that already holds --reads-from (no convert)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each read (the median is kept)")
    parser.add_argument("--verify", action="store_true", help="time verify of both read ledgers too")
    parser.add_argument("--steady-gifts", type=int, default=50, help="gifts per client in the steady-state runs")
    parser.add_argument("--steady-solo-gifts", type=int, default=200, help="gifts of the one client's steady run")
    parser.add_argument("--only", choices=("writers", "steady", "apply", "reads"), action="append")
    options = parser.parse_args()
    server = None
    base = options.url
    if base is None:
        from pg_server import start_server

        started = start_server(durable=True)  # fsync on, as SQLite's synchronous=FULL
        if isinstance(started, str):
            raise SystemExit(started)
        server = started
        base = server.create_database("bench")
    joiner = "&" if "?" in base else "?"
    summary: dict[str, object] = {}
    try:
        with tempfile.TemporaryDirectory() as temp:
            folder = Path(temp)
            wanted = options.only or ["writers", "steady", "apply", "reads"]
            if "writers" in wanted:
                for mode in ("library", "cli"):
                    url = f"{base}{joiner}schema=writers_{mode}"
                    result = writers(url, mode, options.clients, options.gifts, folder)
                    print(f"writers {mode}: {result}", flush=True)
                    summary[f"writers_{mode}"] = result
            if "apply" in wanted and options.apply:
                result = apply_both(f"{base}{joiner}schema=apply_{options.apply}", options.apply, folder)
                print(f"apply {options.apply} ops: {result}", flush=True)
                summary["apply"] = {"ops": options.apply, **result}
            if "steady" in wanted:
                for clients in sorted({1, options.clients}):
                    for mode in ("library", "cli"):
                        for store in ("sqlite", "postgresql"):
                            if store == "sqlite":
                                ledger = str(folder / f"steady-{mode}-{clients}.sqlite")
                            else:
                                ledger = f"{base}{joiner}schema=steady_{mode}_{clients}_{os.getpid()}"  # a new one
                            gifts = options.steady_gifts if clients > 1 else options.steady_solo_gifts
                            result = steady(ledger, mode, clients, gifts, folder)
                            print(f"steady {store}: {result}", flush=True)
                            summary[f"steady_{store}_{mode}_{clients}"] = result
            if "reads" in wanted and options.reads:
                size = options.reads
                reads_url = options.reads_url or f"{base}{joiner}schema=reads_{size}"
                summary["reads"] = {
                    "size": size,
                    **reads_both(reads_url, size, folder, options.reads_from, bool(options.reads_url), options.runs),
                }
                if options.verify:
                    ledger_file = options.reads_from or folder / f"reads-{size}.sqlite"
                    summary["reads"]["verify"] = verify_both(reads_url, ledger_file)
    finally:
        if server is not None:
            server.teardown()
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
