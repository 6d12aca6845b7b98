"""Real processes settling one held payout at once: exactly one settles it, the other is refused (exit 1)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from coinpurse import Ledger

pytestmark = [pytest.mark.faults, pytest.mark.slow]
ROUNDS = 6


def _cli(ledger: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _creator(ledger: Path) -> Ledger:
    """mia with enough diamonds for a $100 hold each round, under a daily maximum that allows them all."""
    made = Ledger(ledger)
    made.rates_set({"payout.daily_maximum": "100000.00"})
    made.buy("alice", 2_500_000)
    made.gift("alice", "mia", "TikTok Universe", count=ROUNDS * 2)
    return made


def _race(ledger: Path, *commands: tuple[str, ...]) -> list[tuple[int, str, str]]:
    racers = [_cli(ledger, *command) for command in commands]
    outcomes = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        assert "Traceback" not in err, err
        outcomes.append((racer.returncode, out, err))
    return outcomes


@pytest.mark.parametrize("suffix", ["json", "sqlite"])
def test_two_approvals_of_one_payout_settle_it_once(tmp_path: Path, suffix: str) -> None:
    ledger = tmp_path / f"ledger.{suffix}"
    made = _creator(ledger)
    for _ in range(ROUNDS):
        hold = made.redeem("mia", 20000, hold=True).transaction.id
        outcomes = _race(ledger, ("payout", "approve", hold, "--json"), ("payout", "approve", hold))
        codes = sorted(code for code, _, _ in outcomes)
        assert codes == [0, 1], outcomes
        out = next(o[1] for o in outcomes if o[0] == 0)
        if out.startswith("{"):
            assert json.loads(out)["state"] == "paid"
        err = next(o[2] for o in outcomes if o[0] == 1)
        if err.startswith("{"):
            refusal = json.loads(err)["error"]
            assert (
                refusal["code"] == "payout_settled" and f"payout {hold} was already approved by" in refusal["message"]
            )
        else:
            assert (
                err.startswith(f"coinpurse: error: payout {hold} was already approved by") and err.count("\n") == 1
            ), err
        assert [p.status.state for p in made.payouts().payouts if p.status.hold.id == hold] == ["paid"]
    kinds = [tx.kind for tx in made.history().transactions]
    assert kinds.count("payout-approve") == ROUNDS
    mia = made.balance("mia")
    assert mia.pending == 0 and mia.state.cash == 100 * ROUNDS
    assert made.verify().ok


@pytest.mark.parametrize("suffix", ["json", "sqlite"])
def test_an_approval_racing_a_rejection_settles_exactly_one(tmp_path: Path, suffix: str) -> None:
    ledger = tmp_path / f"ledger.{suffix}"
    made = _creator(ledger)
    settled = {"paid": 0, "rejected": 0}
    for round_ in range(ROUNDS):
        hold = made.redeem("mia", 20000, hold=True).transaction.id
        approve, reject = (
            ("payout", "approve", hold, "--json"),
            ("payout", "reject", hold, "--reason", "checks", "--json"),
        )
        outcomes = _race(ledger, *((approve, reject) if round_ % 2 else (reject, approve)))
        assert sorted(code for code, _, _ in outcomes) == [0, 1], outcomes
        won = json.loads(next(out for code, out, _ in outcomes if code == 0))
        lost = json.loads(next(err for code, _, err in outcomes if code == 1))["error"]
        assert lost["code"] == "payout_settled"
        assert (
            f"payout {hold} was already {won['state'] if won['state'] == 'rejected' else 'approved'} by {won['id']}"
            in lost["message"]
        )
        states = [p.status.state for p in made.payouts().payouts if p.status.hold.id == hold]
        assert states == [won["state"]]
        settled[won["state"]] += 1
    mia = made.balance("mia")
    assert mia.pending == 0
    assert mia.state.cash == 100 * settled["paid"]
    assert made.verify().ok
