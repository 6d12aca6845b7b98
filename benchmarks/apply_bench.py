"""Time ``coinpurse apply`` on a generated scenario of N ops (fixed seed, fixed clock).

    python benchmarks/apply_bench.py 10000 100000 [--format json|toml|sqlite] [--profile]

Each run starts from a fresh ledger in a temp folder: one load, N ops, one save.
The ops are valid by construction (a small model tracks coins and diamonds), so
the whole file is applied. Prints ops, seconds and ops per second for each N.
The report keeps counts only, as the command does without --json. Peak memory:
run the command itself under /usr/bin/time -v (see the README's Scenarios).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PACKAGES = (70, 350, 700, 1400, 3500, 7000, 17500)
GIFTS = (("Rose", 1), ("Finger Heart", 5), ("Doughnut", 30), ("Hand Hearts", 100), ("Corgi", 299), ("Galaxy", 1000))


def generate(count: int, seed: int = 20260301) -> list[dict[str, object]]:
    return list(iter_ops(count, seed))


def iter_ops(count: int, seed: int = 20260301) -> Iterator[dict[str, object]]:
    """The ops of ``generate``, one at a time (a million ops held at once take about a gigabyte)."""
    rng = random.Random(seed)
    viewers = [f"viewer{n}" for n in range(200)]
    creators = [f"creator{n}" for n in range(20)]
    coins = dict.fromkeys(viewers, 0)
    diamonds = dict.fromkeys(creators, 0)
    paid = dict.fromkeys(creators, 0)  # diamonds redeemed today (the clock is fixed)
    made = 0
    while made < count:
        made += 1
        roll = rng.random()
        creator = rng.choice(creators)
        if roll < 0.02 and diamonds[creator] >= 20000 and paid[creator] + 20000 <= 200000:
            yield {"kind": "redeem", "account": creator, "diamonds": 20000, "id": f"op-{made}"}
            diamonds[creator] -= 20000
            paid[creator] += 20000
            continue
        viewer = rng.choice(viewers)
        name, price = rng.choice(GIFTS)
        count_of = rng.randint(1, 5)
        if roll < 0.35 or coins[viewer] < price * count_of:
            package = rng.choice(PACKAGES)
            yield {
                "kind": "buy",
                "account": viewer,
                "coins": package,
                "channel": rng.choice(("app", "web")),
                "id": f"op-{made}",
            }
            coins[viewer] += package
            continue
        yield {
            "kind": "gift",
            "sender": viewer,
            "recipient": creator,
            "gift": name,
            "count": count_of,
            "stream": "bench",
            "id": f"op-{made}",
        }
        coins[viewer] -= price * count_of
        diamonds[creator] += price * count_of


def write_ops_json(count: int, path: Path, seed: int = 20260301) -> None:
    """``{"ops": [...]}`` of ``iter_ops``, written as made: the text ``json.dumps({"ops": generate(count)})`` gives."""
    with path.open("w") as out:
        out.write('{"ops": [')
        for number, op in enumerate(iter_ops(count, seed)):
            out.write(", " + json.dumps(op) if number else json.dumps(op))
        out.write("]}")


def write_scenario(ops: list[dict[str, object]], path: Path) -> None:
    if path.suffix == ".toml":
        import tomli_w

        path.write_text(tomli_w.dumps({"ops": ops}))
    else:
        path.write_text(json.dumps({"ops": ops}, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("counts", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument("--format", choices=("json", "toml", "sqlite"), default="json", help="the ledger's format")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the largest run")
    args = parser.parse_args()
    os.environ.setdefault("COINPURSE_NOW", "2026-03-01T12:00:00Z")
    from coinpurse import Ledger

    for count in args.counts:
        with tempfile.TemporaryDirectory() as folder:
            scenario = Path(folder) / "scenario.json"
            write_scenario(generate(count), scenario)
            ledger = Ledger.open(Path(folder) / f"ledger.{args.format}")
            start = time.perf_counter()
            if args.profile and count == max(args.counts):
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                report = profiler.runcall(ledger.apply, scenario, details=False)
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            else:
                report = ledger.apply(scenario, details=False)
            seconds = time.perf_counter() - start
            assert report.counts()["recorded"] == count
            size = ledger.path.stat().st_size
            # A second run of the same file replays every op and writes nothing.
            start = time.perf_counter()
            again = ledger.apply(scenario, details=False)
            rerun = time.perf_counter() - start
            assert again.counts()["replayed"] == count and ledger.path.stat().st_size == size
            print(
                f"{count:>8,} ops  {seconds:6.2f} s  {count / seconds:>9,.0f} ops/s  "
                f"(ledger {size / 1e6:.1f} MB; re-run, all replayed: {rerun:.2f} s)"
            )


if __name__ == "__main__":
    main()
