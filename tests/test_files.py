"""Files: modes, writes that fail midway, and stray temp files."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from coinpurse.storage import atomic
from conftest import only_in_files


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_new_ledger_and_lock_are_private(cli) -> None:
    only_in_files(cli.ledger, "the server keeps its own files private")
    old_umask = os.umask(0o022)  # a common umask would give 0644
    try:
        assert cli("buy", "alice", "700").exit_code == 0
    finally:
        os.umask(old_umask)
    assert _mode(cli.ledger) == 0o600
    assert _mode(cli.ledger.with_name(cli.ledger.name + ".lock")) == 0o600


def test_an_existing_ledger_keeps_its_mode(cli) -> None:
    only_in_files(cli.ledger, "no file mode to keep")
    cli("buy", "alice", "700")
    cli.ledger.chmod(0o640)
    cli("buy", "alice", "70")
    assert _mode(cli.ledger) == 0o640


def _fail_temp_writes(monkeypatch: pytest.MonkeyPatch, name: str, error: OSError, after_bytes: int = 0) -> None:
    """Make one os call fail for ledger temp files only (other fds keep working)."""
    real = getattr(os, name)
    written = {"bytes": 0}

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        first = args[0]
        is_temp = str(first).endswith(".tmp") if name in ("open", "replace") else first > 2
        if not is_temp:
            return real(*args, **kwargs)
        if name == "write" and written["bytes"] < after_bytes:
            chunk = bytes(args[1][: after_bytes - written["bytes"]])
            written["bytes"] += len(chunk)
            return real(first, chunk)  # a partial write, then the disk is full
        raise error

    monkeypatch.setattr(atomic.os, name, failing)


@pytest.mark.parametrize(
    ("call", "error", "shown"),
    [
        ("write", OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), "No space left on device"),
        ("fsync", OSError(errno.EIO, os.strerror(errno.EIO)), "Input/output error"),
        ("open", PermissionError(errno.EACCES, os.strerror(errno.EACCES)), "Permission denied"),
        ("open", OSError(errno.EROFS, os.strerror(errno.EROFS)), "Read-only file system"),
        ("replace", PermissionError(errno.EPERM, os.strerror(errno.EPERM)), "Operation not permitted"),
    ],
)
@pytest.mark.parametrize(
    "ledger", ["json", "toml"], indirect=True
)  # SQLite writes through its own C code and journal, out of reach of these injections
def test_a_write_failing_midway_leaves_the_old_file(cli, monkeypatch, call: str, error: OSError, shown: str) -> None:
    cli("buy", "alice", "700")
    before = cli.ledger.read_bytes()
    _fail_temp_writes(monkeypatch, call, error, after_bytes=100)
    result = cli("gift", "alice", "mia", "rose", "--json")
    monkeypatch.undo()
    assert result.exit_code == 3
    message = json.loads(result.stderr)["error"]
    assert message["code"] == "write_failed"
    assert shown in message["message"] and "the ledger was left as it was" in message["message"]
    assert str(cli.ledger) in message["message"]
    assert cli.ledger.read_bytes() == before
    assert _temps(cli.ledger.parent) == []
    assert cli("verify").exit_code == 0


@pytest.mark.parametrize("ledger", ["json", "toml"], indirect=True)  # as above: SQLite's own writes are out of reach
def test_human_message_for_a_full_disk(cli, monkeypatch) -> None:
    cli("buy", "alice", "700")
    _fail_temp_writes(monkeypatch, "write", OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    result = cli("buy", "bob", "70")
    monkeypatch.undo()
    assert result.exit_code == 3
    assert result.stderr == (
        f"coinpurse: error: can't write {cli.ledger}: No space left on device; the ledger was left as it was\n"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_a_read_only_folder_is_exit_3_and_changes_nothing(cli) -> None:
    cli("buy", "alice", "700")
    before = cli.ledger.read_bytes()
    folder = cli.ledger.parent
    folder.chmod(0o500)
    try:
        result = cli("buy", "bob", "70")
    finally:
        folder.chmod(0o700)
    assert result.exit_code == 3
    assert "Permission denied" in result.stderr
    assert cli.ledger.read_bytes() == before


def test_stray_temp_files_are_cleaned_by_the_next_writer(cli) -> None:
    only_in_files(cli.ledger, "a write leaves no temp file")
    cli("buy", "alice", "700")
    folder = cli.ledger.parent
    strays = [folder / f".{cli.ledger.name}.{n}.tmp" for n in ("0a1b2c3d4e5f", "ffffffffffff")]
    for stray in strays:
        stray.write_text('{"schema": 2, "trunc')
    unrelated = [folder / ".other.json.abc.tmp", folder / f".{cli.ledger.name}.half-written.tmp"]
    for other in unrelated:
        other.write_text("not ours")
    assert cli("balance", "--json").exit_code == 0  # readers ignore them
    assert cli("buy", "bob", "70").exit_code == 0
    assert _temps(folder) == sorted(other.name for other in unrelated)
    assert cli("verify").exit_code == 0


def test_a_read_only_ledger_is_refused_and_left_alone(cli) -> None:
    only_in_files(cli.ledger, "read-only is a server role's privilege, not a file mode")
    assert cli("buy", "alice", "700").exit_code == 0
    cli.ledger.chmod(0o444)
    before = cli.ledger.read_bytes()
    result = cli("buy", "alice", "70")
    assert result.exit_code == 3
    assert "the ledger file is read-only" in result.stderr and str(cli.ledger) in result.stderr
    assert cli.ledger.read_bytes() == before
    assert stat.S_IMODE(cli.ledger.stat().st_mode) == 0o444
    assert cli("balance", "alice").exit_code == 0  # reading is fine


def _run(ledger: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.files_only("temp files beside a ledger file")
@pytest.mark.faults
def test_a_write_leaves_the_temp_files_of_a_file_whose_name_starts_with_the_ledgers(ledger: Path) -> None:
    """`l.json.csv` (an export) or `l.json.sqlite` (a convert) beside `l.json`: their temp files are theirs.

    A writer of the ledger removed every `.<ledger>.*.tmp`, so it deleted the temp
    file of an export or convert running meanwhile from under it, which then failed.
    """
    assert _run(ledger, "buy", "alice", "700").returncode == 0
    folder = ledger.parent
    theirs = [
        folder / f".{ledger.name}.csv.0a1b2c3d4e5f.tmp",  # export -o <ledger>.csv at work
        folder / f".{ledger.name}.sqlite.0a1b2c3d4e5f.tmp",  # convert <ledger> <ledger>.sqlite at work
        folder / f".{ledger.name}.sqlite.0a1b2c3d4e5f.tmp-wal",
    ]
    for other in theirs:
        other.write_bytes(b"someone else's file being written")
    assert _run(ledger, "buy", "bob", "70").returncode == 0
    assert all(other.read_bytes() == b"someone else's file being written" for other in theirs)


@pytest.mark.faults
def test_a_killed_first_sqlite_write_leaves_no_wal_or_shm_after_the_next_write(tmp_path: Path) -> None:
    """A new SQLite ledger is built in a temp file in WAL mode: a kill leaves its -wal and -shm as well."""
    ledger = tmp_path / "ledger.sqlite"
    stray = tmp_path / f".{ledger.name}.0a1b2c3d4e5f.tmp"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{stray}{suffix}").write_bytes(b"left by a killed writer")
    assert _run(ledger, "buy", "alice", "700").returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.sqlite", "ledger.sqlite.lock"]
