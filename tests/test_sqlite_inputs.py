"""What a SQLite ledger is handed from outside: file names that are not UTF-8, and numbers past SQLite's integers.

Run as real processes: a traceback is what a user would see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXED_NOW

pytestmark = pytest.mark.faults


def run(ledger: Path | bytes, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COINPURSE_NOW": FIXED_NOW, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "coinpurse", "--ledger", os.fsdecode(ledger), *args],
        capture_output=True, text=True, env=env, timeout=60, errors="replace",
    )  # fmt: skip


@pytest.mark.parametrize("args", [("history",), ("history", "alice"), ("history", "--kind", "buy")])
def test_a_limit_beyond_sqlites_integers_lists_everything(tmp_path: Path, args: tuple[str, ...]) -> None:
    ledger = tmp_path / "ledger.sqlite"
    assert run(ledger, "buy", "alice", "700").returncode == 0
    assert run(ledger, "buy", "alice", "70").returncode == 0
    everything = run(ledger, *args, "--json")
    for limit in (str(1 << 63), "9" * 40):
        result = run(ledger, *args, "--limit", limit, "--json")
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == everything.stdout


def test_a_sqlite_ledger_whose_name_is_not_utf8_reads_verifies_and_converts(tmp_path: Path) -> None:
    ledger = os.fsencode(tmp_path) + b"/caf\xe9.sqlite"  # Latin-1, as an old file system might hold it
    assert run(ledger, "buy", "alice", "700").returncode == 0
    for args in (("buy", "alice", "70"), ("balance",), ("history",), ("verify",), ("export",)):
        result = run(ledger, *args)
        assert result.returncode == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr
    copy = tmp_path / "copy.json"
    assert run(ledger, "convert", os.fsdecode(ledger), str(copy)).returncode == 0
    assert run(copy, "verify").returncode == 0
    assert sorted(os.listdir(os.fsencode(tmp_path))) == [
        b"caf\xe9.sqlite",
        b"caf\xe9.sqlite.lock",
        b"copy.json",
        b"copy.json.lock",
    ]


@pytest.mark.parametrize("companion", ["-wal", "-shm", "-journal"])
@pytest.mark.parametrize("planted", ["hard link", "symbolic link"])
@pytest.mark.parametrize("command", [("balance",), ("history",), ("buy", "bob", "70")])
def test_a_planted_wal_shm_or_journal_never_gets_another_file_written(
    tmp_path: Path, companion: str, planted: str, command: tuple[str, ...]
) -> None:
    """SQLite rewrites its -shm on every open and writes the -wal and -journal: a hard link there got
    another file overwritten (a shared folder, or a backup made with hard links)."""
    ledger = tmp_path / "ledger.sqlite"
    assert run(ledger, "buy", "alice", "700").returncode == 0
    victim = tmp_path / "notes.txt"
    victim.write_bytes(b"someone's notes\n")
    where = Path(f"{ledger}{companion}")
    if planted == "hard link":
        os.link(victim, where)
    else:
        where.symlink_to(victim)
    before = ledger.read_bytes()
    result = run(ledger, *command)
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith(f"coinpurse: error: {ledger}: SQLite's file {where} ")
    assert result.stderr.count("\n") == 1
    assert victim.read_bytes() == b"someone's notes\n"
    assert ledger.read_bytes() == before
    where.unlink()
    assert run(ledger, *command).returncode == 0


def test_a_planted_shm_is_found_through_a_link_to_the_ledger(tmp_path: Path) -> None:
    real = tmp_path / "real" / "ledger.sqlite"
    real.parent.mkdir()
    assert run(real, "buy", "alice", "700").returncode == 0
    link = tmp_path / "link.sqlite"
    link.symlink_to(real)
    victim = tmp_path / "notes.txt"
    victim.write_bytes(b"someone's notes\n")
    os.link(victim, f"{real}-shm")
    result = run(link, "balance")
    assert result.returncode == 3 and "has 2 names" in result.stderr
    assert victim.read_bytes() == b"someone's notes\n"
