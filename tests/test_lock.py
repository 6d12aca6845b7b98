"""The lock, with a real process holding it: a waiter names the holder, and kill -9 frees it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

HOLD = """
import sys, time
from pathlib import Path
from coinpurse.storage.lock import locked
with locked(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def holder(json_cli, json_ledger: Path):  # type: ignore[no-untyped-def]
    """A real process holding the lock of a ledger where alice bought 700 coins."""
    assert json_cli("buy", "alice", "700").exit_code == 0
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(json_ledger)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline() == "held\n"
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_a_writer_that_times_out_names_the_holder(json_cli, holder, monkeypatch) -> None:
    before = json_cli.ledger.read_bytes()
    lock_file = json_cli.ledger.with_name(json_cli.ledger.name + ".lock")
    assert lock_file.read_text().strip() == str(holder.pid)
    monkeypatch.setenv("COINPURSE_LOCK_TIMEOUT", "0.2")
    result = json_cli("buy", "bob", "70", "--json")
    assert result.exit_code == 3
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "lock_timeout"
    assert f"is locked by process {holder.pid}" in error["message"]
    assert "COINPURSE_LOCK_TIMEOUT" in error["message"]
    assert json_cli.ledger.read_bytes() == before


def test_readers_do_not_wait_for_the_lock(json_cli, holder, monkeypatch) -> None:
    monkeypatch.setenv("COINPURSE_LOCK_TIMEOUT", "0")
    assert json_cli("balance", "--json").exit_code == 0


def test_kill_9_of_the_holder_frees_the_lock(json_cli, holder, monkeypatch) -> None:
    monkeypatch.setenv("COINPURSE_LOCK_TIMEOUT", "0.1")
    assert json_cli("buy", "alice", "700").exit_code == 3
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    monkeypatch.setenv("COINPURSE_LOCK_TIMEOUT", "5")
    result = json_cli("buy", "alice", "700")
    assert result.exit_code == 0, result.stderr
    assert json_cli("verify").exit_code == 0


def test_a_bad_timeout_is_bad_input(json_cli, monkeypatch) -> None:
    monkeypatch.setenv("COINPURSE_LOCK_TIMEOUT", "soon")
    result = json_cli("buy", "alice", "700")
    assert result.exit_code == 2
    assert "COINPURSE_LOCK_TIMEOUT" in result.stderr
    assert not json_cli.ledger.exists()
