"""Real processes against one ledger: concurrent writers, a reader, kill -9, id races, overdraft races.

Workers are separate Python processes (tests/fault_worker.py, or `python -m
coinpurse`); each write takes the lock and does a full read, change and write.
These run in the default suite; `-m "not faults"` skips them while iterating.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coinpurse import api

pytestmark = pytest.mark.faults
WORKER = str(Path(__file__).with_name("fault_worker.py"))


def _start(*args: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, WORKER, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n", process.stderr.read() if process.stderr else ""
    return process


def _finish(process: subprocess.Popen[str]) -> list[str]:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    return out.split()


def _cli(ledger: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _ids(ledger: Path) -> list[str]:
    return [tx["id"] for tx in json.loads(ledger.read_bytes())["transactions"]]


def _temps(ledger: Path) -> list[Path]:
    return [p for p in ledger.parent.iterdir() if p.name.endswith(".tmp")]


def test_20_processes_x_50_writes_keep_all_1000_while_a_reader_always_parses(json_ledger: Path) -> None:
    api.buy(json_ledger, "seed", 70)
    stop = json_ledger.with_name("stop")
    reader = _start("read", str(json_ledger), str(stop))
    writers = [_start("buy", str(json_ledger), f"user{n}", "50") for n in range(20)]
    acknowledged = [tx_id for writer in writers for tx_id in _finish(writer)]
    stop.touch()
    reads = int(_finish(reader)[0])

    ids = _ids(json_ledger)
    assert len(ids) == 1 + 1000
    assert len(acknowledged) == 1000 and set(acknowledged) <= set(ids)
    assert len(set(ids)) == len(ids)
    report = api.verify(json_ledger)
    assert report.ok, report.summary()
    assert report.transactions == 1001
    assert reads >= 5
    for n in range(20):
        assert api.balance(json_ledger, f"user{n}").state.coins == 50 * 70
    print(f"20 x 50 writes: {len(ids) - 1} new transactions, reader parsed the file {reads} times")


def test_8_cli_processes_x_10_writes_lose_nothing(json_ledger: Path) -> None:
    writers = [_start("cli", str(json_ledger), f"fan{n}", "10") for n in range(8)]
    acknowledged = [tx_id for writer in writers for tx_id in _finish(writer)]
    assert sorted(_ids(json_ledger)) == sorted(acknowledged)
    assert len(acknowledged) == 80
    assert api.verify(json_ledger).ok
    assert [b.state.coins for b in api.balances(json_ledger).accounts] == [700] * 8


def test_kill_9_at_random_moments_loses_nothing_acknowledged(json_ledger: Path) -> None:
    rounds, per_round = 26, 2  # 52 kills
    rnd = random.Random(int(os.environ.get("COINPURSE_FAULT_SEED", "4")))
    api.buy(json_ledger, "seed", 70)
    acknowledged: list[str] = []
    kills = strays_seen = 0
    for round_number in range(rounds):
        victims = [_start("buy", str(json_ledger), f"victim{round_number % 5}", "100000") for _ in range(per_round)]
        for victim in victims:
            time.sleep(rnd.uniform(0, 0.06))
            victim.send_signal(signal.SIGKILL)
            kills += 1
        for victim in victims:
            out, _ = victim.communicate(timeout=60)
            assert victim.returncode == -signal.SIGKILL
            acknowledged += [line for line in out.split() if line != "ready"]
        # Killed or not, the file on disk is the old ledger or the new one, never between.
        json.loads(json_ledger.read_bytes())
        strays_seen += bool(_temps(json_ledger))

    assert kills >= 50
    ids = _ids(json_ledger)
    assert set(acknowledged) <= set(ids), "a write reported as done was lost"
    report = api.verify(json_ledger)
    assert report.ok, report.summary()
    api.buy(json_ledger, "after", 70)  # the next writer cleans what killed writers left
    assert _temps(json_ledger) == []
    assert api.verify(json_ledger).ok
    print(
        f"kill -9: {kills} kills, {len(acknowledged)} acknowledged writes kept, temp files left by {strays_seen} rounds"
    )


def test_racing_processes_with_the_same_id_apply_it_once(json_ledger: Path) -> None:
    api.buy(json_ledger, "seed", 70)
    racers = [_cli(json_ledger, "buy", "alice", "700", "--id", "order-42", "--json") for _ in range(6)]
    results = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert racer.returncode == 0, err
        results.append(json.loads(out))
    assert sorted(r["replayed"] for r in results) == [False] + [True] * 5
    assert {r["id"] for r in results} == {"order-42"}
    assert _ids(json_ledger).count("order-42") == 1
    assert api.balance(json_ledger, "alice").state.coins == 700
    assert api.verify(json_ledger).ok


def test_two_concurrent_redeems_exceeding_the_balance_give_one_success(json_ledger: Path) -> None:
    api.buy(json_ledger, "bob", 17500)
    api.buy(json_ledger, "bob", 17500)
    api.gift(json_ledger, "bob", "mia", "interstellar", 3)  # 30,000 diamonds: $150
    before = api.balance(json_ledger, "mia").state.diamonds
    racers = [_cli(json_ledger, "redeem", "mia", "20000", "--json") for _ in range(2)]  # $100 each
    outcomes = [(racer.wait(timeout=120), racer.communicate()[1]) for racer in racers]
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 1]
    refusal = next(err for code, err in outcomes if code == 1)
    assert json.loads(refusal)["error"]["code"] == "insufficient_diamonds"
    assert api.balance(json_ledger, "mia").state.diamonds == before - 20000
    assert api.verify(json_ledger).ok
