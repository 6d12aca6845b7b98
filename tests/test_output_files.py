"""Files coinpurse writes besides the ledger: outputs that refuse ledger files, convert's temp files, 0700 folders."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cli_checks import flat
from coinpurse import Ledger, api
from conftest import Cli

HOLD = """
import sys, time
from pathlib import Path
from coinpurse.storage.lock import locked
with locked(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(120)
"""


def _coinpurse(*args: str, umask: int | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coinpurse", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        preexec_fn=None if umask is None else (lambda: os.umask(umask)),
    )


def _refused(cli: Cli, args: tuple[str, ...], says: str) -> None:
    """Refused with exit 2 and one line, for people and with --json."""
    plain = cli(*args)
    assert (plain.exit_code, plain.stdout) == (2, ""), (args, plain.stdout, plain.stderr)
    assert plain.stderr.startswith("coinpurse: error: ") and len(plain.stderr.splitlines()) == 1
    assert says in flat(plain.stderr)
    machine = cli(*args, "--json")
    assert machine.exit_code == 2
    error = json.loads(machine.stderr)["error"]
    assert error["code"] == "output_is_ledger" and says in error["message"]


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _ledger_files(ledger: Path) -> dict[str, Path]:
    """A ledger with one file of each kind beside it: its lock, a temp, a backup and SQLite's companions."""
    api.buy(ledger, "alice", 700)
    folder, name = ledger.parent, ledger.name
    files = {
        "the ledger itself": ledger,
        "the ledger's lock file": folder / f"{name}.lock",
        "a temp file of the ledger": folder / f".{name}.0a1b2c3d4e5f.tmp",
        "a backup of the ledger": folder / f"{name}.v1.bak",
        "the ledger's SQLite -wal file": folder / f"{name}-wal",
        "the ledger's SQLite -shm file": folder / f"{name}-shm",
        "the ledger's SQLite -journal file": folder / f"{name}-journal",
    }
    for path in files.values():
        if not path.exists():
            path.write_bytes(b"kept as it is\n")
    return files


def _outputs(cli: Cli, target: Path) -> list[tuple[str, ...]]:
    return [
        ("export", "-o", str(target)),
        ("export", "--format", "csv", "-o", str(target)),
        ("rates", "export", str(target)),
        ("convert", str(cli.ledger), str(target)),
    ]


@pytest.mark.files_only("the files of a ledger (lock, temp, backup, SQLite's -wal)")
def test_every_output_refuses_every_file_of_the_ledger(cli: Cli) -> None:
    files = _ledger_files(cli.ledger)
    before = _files(cli.ledger.parent)
    for what, path in files.items():
        for args in _outputs(cli, path):
            _refused(cli, args, f"{path} is {what}; write the output to another file")
    assert _files(cli.ledger.parent) == before


@pytest.mark.files_only("links and other names of a ledger file")
def test_outputs_refuse_ledger_files_through_a_link_or_another_name(cli: Cli, tmp_path: Path) -> None:
    files = _ledger_files(cli.ledger)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "alias").symlink_to(cli.ledger.parent, target_is_directory=True)
    before = _files(cli.ledger.parent)
    for what, path in files.items():
        linked = elsewhere / f"link-to-{path.name}.json"
        linked.symlink_to(path)
        hard = elsewhere / f"hard-{path.name}.json"
        os.link(path, hard)
        through_folder = tmp_path / "alias" / path.name
        for target, says in (
            (linked, f"{linked} is {what}"),
            (hard, f"{hard} is {what} under another name"),
            (through_folder, f"{through_folder} is {what}"),
        ):
            for args in _outputs(cli, target):
                _refused(cli, args, says)
        assert linked.is_symlink()
    assert _files(cli.ledger.parent) == before


def test_outputs_elsewhere_are_still_written(cli: Cli, tmp_path: Path) -> None:
    cli("buy", "alice", "700")
    for name in (f"{cli.ledger.name}.csv", f"x{cli.ledger.name}.lock", "rates.toml"):
        args = (
            ("rates", "export", str(tmp_path / name))
            if name.endswith(".toml")
            else ("export", "-o", str(tmp_path / name))
        )
        assert cli(*args).exit_code == 0
        assert (tmp_path / name).is_file()


@pytest.mark.files_only("the lock file")
@pytest.mark.faults
def test_export_onto_the_lock_file_of_a_held_lock_is_refused_and_the_lock_kept(cli: Cli) -> None:
    cli("buy", "alice", "700")
    lock_file = cli.ledger.with_name(cli.ledger.name + ".lock")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(cli.ledger)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        held = os.stat(lock_file)
        result = _coinpurse("--ledger", str(cli.ledger), "export", "-o", str(lock_file))
        assert result.returncode == 2
        assert (
            result.stderr
            == f"coinpurse: error: {lock_file} is the ledger's lock file; write the output to another file\n"
        )
        now = os.stat(lock_file)
        assert (now.st_ino, now.st_size) == (held.st_ino, held.st_size)
        assert lock_file.read_text() == f"{holder.pid}\n"
        timed_out = _coinpurse("--ledger", str(cli.ledger), "buy", "bob", "70", COINPURSE_LOCK_TIMEOUT="0.2")
        assert timed_out.returncode == 3 and f"locked by process {holder.pid}" in timed_out.stderr
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()


# convert: temp files of a killed one, and the target's lock

CONVERT_SOURCE_BUYS = int(os.environ.get("COINPURSE_CONVERT_BUYS", "6000"))


@pytest.fixture(scope="module")
def big_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A JSON ledger big enough that converting it takes a moment."""
    folder = tmp_path_factory.mktemp("big")
    scenario = folder / "buys.json"
    ops = [{"kind": "buy", "account": f"fan{n % 50}", "coins": 70} for n in range(CONVERT_SOURCE_BUYS)]
    scenario.write_text(json.dumps({"ops": ops}))
    ledger = folder / "big.json"
    Ledger(ledger).apply(scenario, now="2026-03-01T12:00:00Z")
    return ledger


def _temps_of(target: Path) -> list[Path]:
    return [p for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.") and p.name.endswith(".tmp")]


def _kill_convert_midway(source: Path, target: Path) -> list[Path]:
    """Start a convert, kill -9 it once its temp file exists; the temp files it left."""
    process = subprocess.Popen(
        [sys.executable, "-m", "coinpurse", "convert", str(source), str(target)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not _temps_of(target) and process.poll() is None:
            time.sleep(0.001)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    return _temps_of(target) if process.returncode == -signal.SIGKILL else []


@pytest.mark.faults
@pytest.mark.parametrize("suffix", [".sqlite", ".json", ".toml"])
def test_the_next_convert_removes_the_temp_file_a_killed_one_left(
    big_source: Path, tmp_path: Path, suffix: str
) -> None:
    target = tmp_path / f"copy{suffix}"
    for _ in range(5):  # a convert that finished before the kill proves nothing: try again
        left = _kill_convert_midway(big_source, target)
        if left:
            break
        target.unlink(missing_ok=True)
    assert left, "no convert was killed midway"
    assert not target.exists()

    result = _coinpurse("convert", str(big_source), str(target))

    assert result.returncode == 0, result.stderr
    assert _temps_of(target) == []
    report = api.verify(target)
    assert report.ok and report.transactions == CONVERT_SOURCE_BUYS, report.summary()


@pytest.mark.faults
def test_convert_waits_for_the_targets_lock_and_leaves_a_running_converts_temp_alone(
    big_source: Path, tmp_path: Path
) -> None:
    target = tmp_path / "copy.sqlite"
    running = target.with_name(f".{target.name}.0a1b2c3d4e5f.tmp")  # as a convert still at work would have it
    running.write_bytes(b"half a ledger")
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(target)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        result = _coinpurse("convert", str(big_source), str(target), COINPURSE_LOCK_TIMEOUT="0.2")
        assert result.returncode == 3
        assert f"{target} is locked by process {holder.pid}" in result.stderr
        assert running.read_bytes() == b"half a ledger"
        assert not target.exists()
    finally:
        holder.kill()
        holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()


# Folders coinpurse creates


def _modes(top: Path, leaf: Path) -> list[str]:
    modes, folder = [], leaf
    while folder != top:
        modes.append(oct(stat.S_IMODE(folder.stat().st_mode)))
        folder = folder.parent
    return modes


@pytest.mark.files_only("the folders made for a new ledger file")
@pytest.mark.faults
@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_folders_coinpurse_creates_are_0700_whatever_the_umask(ledger: Path, tmp_path: Path, umask: int) -> None:
    deep = tmp_path / "a" / "b" / "c" / ledger.name
    made = _coinpurse("--ledger", str(deep), "buy", "alice", "700", umask=umask)
    assert made.returncode == 0, made.stderr
    assert _modes(tmp_path, deep.parent) == ["0o700"] * 3

    converted = tmp_path / "out" / "x" / f"copy{ledger.suffix}"
    done = _coinpurse("convert", str(deep), str(converted), umask=umask)
    assert done.returncode == 0, done.stderr
    assert _modes(tmp_path, converted.parent) == ["0o700"] * 2


@pytest.mark.files_only("the folder of a ledger file")
def test_an_existing_folder_keeps_its_mode(ledger: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    api.buy(shared / ledger.name, "alice", 700)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755


def test_without_hard_links_new_ledgers_and_converts_still_work(cli: Cli, tmp_path: Path, monkeypatch) -> None:
    def no_hard_links(source: object, target: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_hard_links)
    assert cli("buy", "alice", "700").exit_code == 0
    assert cli("buy", "bob", "700").exit_code == 0
    copy = tmp_path / "copy.json"
    assert cli("convert", str(cli.ledger), str(copy)).exit_code == 0
    assert api.verify(copy).transactions == 2
    assert cli("convert", str(cli.ledger), str(copy)).exit_code == 1  # still never over an existing file
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
