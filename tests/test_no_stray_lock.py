"""A command that writes no ledger leaves no lock file; reads of a missing ledger show an empty economy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coinpurse.cli import app
from coinpurse.storage.lock import lock_path, locked

pytestmark = pytest.mark.files_only("lock files, which a database's writers do without")


def run(ledger: Path, *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["--ledger", str(ledger), *args], catch_exceptions=False)


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    path = folder / "ops.json"
    path.write_text('{"ops": [{"kind": "buy", "account": "alice", "coins": 700}]}')
    return path


def test_a_dry_run_on_a_missing_ledger_leaves_no_file(ledger: Path, scenario: Path) -> None:
    result = run(ledger, "apply", str(scenario), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in ledger.parent.iterdir()) == ["inputs"]


@pytest.mark.parametrize(
    "args",
    [
        ("redeem", "mia", "10"),
        ("gift", "alice", "mia", "rose"),
        ("rates", "set", "gift.Rose.coins", "-1"),
        ("demo", "--bogus"),
    ],
)
def test_a_refused_write_on_a_missing_ledger_leaves_no_file(ledger: Path, args: tuple[str, ...]) -> None:
    result = run(ledger, *args)
    assert result.exit_code in (1, 2)
    assert list(ledger.parent.iterdir()) == []


def test_a_write_keeps_its_lock_file_and_a_later_refusal_too(ledger: Path) -> None:
    assert run(ledger, "buy", "alice", "700").exit_code == 0
    assert lock_path(ledger).exists()
    assert run(ledger, "redeem", "alice", "10").exit_code == 1
    assert lock_path(ledger).exists()


def test_a_lock_file_made_by_someone_else_is_left_alone(ledger: Path, scenario: Path) -> None:
    lock_path(ledger).write_text("")
    assert run(ledger, "apply", str(scenario), "--dry-run").exit_code == 0
    assert lock_path(ledger).exists() and not ledger.exists()


@pytest.mark.parametrize(
    "args",
    [
        ("balance",),
        ("balance", "mia"),
        ("history",),
        ("history", "mia"),
        ("gifters", "mia"),
        ("rates",),
        ("export",),
        ("info",),
    ],
)
def test_every_read_of_a_missing_ledger_is_an_empty_economy(ledger: Path, args: tuple[str, ...]) -> None:
    result = run(ledger, *args)
    assert result.exit_code == 0, result.stderr
    assert list(ledger.parent.iterdir()) == []


def test_gifters_of_a_missing_ledger_is_an_empty_ranking(ledger: Path) -> None:
    result = run(ledger, "gifters", "mia", "--json")
    assert json.loads(result.stdout)["gifters"] == []


def test_verify_of_a_missing_ledger_says_there_is_none(ledger: Path) -> None:
    result = run(ledger, "verify")
    assert result.exit_code == 3
    assert "there is no ledger here to verify" in result.stderr


@pytest.mark.faults
def test_a_writer_waiting_on_a_removed_lock_file_takes_the_new_one(json_ledger: Path) -> None:
    """The holder made the lock file, wrote nothing and removed it; the waiter, which had it open, still writes."""
    env = {**os.environ, "COINPURSE_LOCK_TIMEOUT": "60"}
    command = [sys.executable, "-m", "coinpurse", "--ledger", str(json_ledger), "buy", "alice", "700", "--json"]
    with locked(json_ledger):
        waiter = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        time.sleep(1.5)  # long enough for the waiter to open the lock file and wait on its flock
        assert waiter.poll() is None
    assert not lock_path(json_ledger).exists() or json_ledger.exists()
    out, err = waiter.communicate(timeout=60)
    assert waiter.returncode == 0, err
    assert json.loads(out)["coins"] == 700
    assert lock_path(json_ledger).exists() and json_ledger.exists()
    verified = CliRunner().invoke(app, ["--ledger", str(json_ledger), "verify", "--json"])
    assert json.loads(verified.stdout)["transactions"] == 1
