"""PostgreSQL against SQLite: concurrent writers, a bulk apply, and reads of a big ledger.

    python benchmarks/postgres_bench.py [--clients 16] [--gifts 20] [--apply 100000] [--reads 1000000]
                                        [--url postgresql://...]   (default: a throwaway server of its own)

- writers: CLIENTS processes at once, each sending GIFTS single gifts with ids, through the CLI
  (one ``coinpurse gift`` process per gift) and through the library (one process per client, its
  one connection reused); nothing may be lost (every id in history once, verify passes).
- apply: ``coinpurse apply`` of APPLY generated ops (benchmarks/apply_bench.py) onto a new SQLite
  ledger and a new PostgreSQL one.
- reads: a ledger of READS transactions (benchmarks/build.py) as SQLite, converted to PostgreSQL,
  and the same read commands timed on both (median of 3 runs each).

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


def timed(ledger: object, *args: str, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = cp(ledger, *args)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{args} on {ledger} failed: {done.stderr}")
    return statistics.median(times)


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
    ("balance one", ("balance", "{user}", "--json")),
    ("history one", ("history", "{user}", "--limit", "20", "--json")),
    ("history last 20", ("history", "--limit", "20", "--json")),
    ("info", ("info", "--json")),
    ("gift dry-run lookup", ("history", "--kind", "redeem", "--limit", "5", "--json")),
)


def reads_both(url: str, size: int, folder: Path) -> dict[str, dict[str, float]]:
    from build import a_user, build_book, save

    ledger_file = folder / f"reads-{size}.sqlite"
    book = build_book(size)
    user = a_user(book)
    save(book, ledger_file)
    del book
    started = time.perf_counter()
    done = cp(ledger_file, "convert", str(ledger_file), url)
    assert done.returncode == 0, done.stderr
    converted = time.perf_counter() - started
    results: dict[str, dict[str, float]] = {"convert sqlite -> postgresql": {"postgresql": round(converted, 2)}}
    for name, args in READS:
        filled = [arg.format(user=user) for arg in args]
        results[name] = {"sqlite": round(timed(ledger_file, *filled), 3), "postgresql": round(timed(url, *filled), 3)}
        print(f"  read {name}: {results[name]}", flush=True)
    started = time.perf_counter()
    for store, ledger in (("sqlite", ledger_file), ("postgresql", url)):
        started = time.perf_counter()
        assert cp(ledger, "verify").returncode == 0
        results.setdefault("verify", {})[store] = round(time.perf_counter() - started, 2)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--gifts", type=int, default=20)
    parser.add_argument("--apply", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--url", help="a database to use (one schema per measure is made in it)")
    parser.add_argument("--only", choices=("writers", "apply", "reads"), action="append")
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
            wanted = options.only or ["writers", "apply", "reads"]
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
            if "reads" in wanted and options.reads:
                summary["reads"] = {
                    "size": options.reads,
                    **reads_both(f"{base}{joiner}schema=reads_{options.reads}", options.reads, folder),
                }
    finally:
        if server is not None:
            server.teardown()
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
