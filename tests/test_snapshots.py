"""One version of the ledger per command, readers and writers that never block each other, and no -wal left.

Real processes where a process matters: a reader holding its snapshot while a
writer commits, `convert` and `verify` looping while writers write. Loop sizes
come from COINPURSE_TEST_ROUNDS (default 40) so a longer hunt is one variable away.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from coinpurse import api
from coinpurse.storage import read_book, reading
from conftest import Cli

ROUNDS = int(os.environ.get("COINPURSE_TEST_ROUNDS", "40"))
SIDE_FILES = ("-wal", "-shm", "-journal")

# Writes until STOPFILE appears, printing each acknowledged id.
WRITER = """
import sys
from pathlib import Path
from coinpurse import api
from coinpurse.storage.urls import ledger_path
ledger, stop, name = ledger_path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
print("ready", flush=True)
while not stop.exists():
    print(api.buy(ledger, name, 70).transaction.id, flush=True)
    print(api.gift(ledger, name, "mia", "rose", count=3).transaction.id, flush=True)
"""

# Holds one read snapshot of the ledger until a line arrives on stdin.
READER = """
import sys
from pathlib import Path
from coinpurse.storage import reading
from coinpurse.storage.urls import ledger_path
with reading(ledger_path(sys.argv[1])) as book:
    print(len(book.all_accounts()), book.head().length, flush=True)
    sys.stdin.readline()
    print(len(book.transactions()), flush=True)
"""

# ROUNDS of CONVERT (or verify) in one process: one line per round.
CONVERTER = """
import sys
from pathlib import Path
from coinpurse import api
source, folder, rounds = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
for n in range(rounds):
    print(api.convert(source, folder / f"copy-{n}.sqlite").transactions, flush=True)
"""

VERIFIER = """
import sys
from pathlib import Path
from coinpurse import api
from coinpurse.storage.urls import ledger_path
ledger, rounds = ledger_path(sys.argv[1]), int(sys.argv[2])
for n in range(rounds):
    report = api.verify(ledger)
    print("ok" if report.ok else "PROBLEM " + report.summary(), flush=True)
"""


def _python(*args: str, stdin: int | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", *args], stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _coinpurse(ledger: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), *args], capture_output=True, text=True, timeout=120
    )


def _side_files(folder: Path) -> list[str]:
    if not folder.exists():  # a PostgreSQL ledger's (see LedgerUrl): no folder, no files
        return []
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(SIDE_FILES))


def _in_wal_mode(ledger: Path) -> bool:
    """Read from the file header (bytes 18 and 19 are 2 in WAL mode), without opening a connection."""
    return ledger.read_bytes()[18:20] == b"\x02\x02"


class _Writers:
    """Writer processes that run for the block, and the ids they saw acknowledged."""

    def __init__(self, ledger: Path, count: int = 2) -> None:
        self.stop = (
            ledger.with_name("stop-writers") if ledger.parent.exists() else Path(tempfile.mkdtemp()) / "stop-writers"
        )
        self.processes = [_python(WRITER, str(ledger), str(self.stop), f"writer{n}") for n in range(count)]
        self.acknowledged: list[str] = []

    def __enter__(self) -> _Writers:
        for process in self.processes:
            assert process.stdout is not None
            assert process.stdout.readline() == "ready\n"
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.touch()
        for process in self.processes:
            assert process.stdout is not None
            out = process.stdout.read()  # through the buffer "ready" was read from, which may hold ids already
            _, err = process.communicate(timeout=300)
            assert process.returncode == 0, err
            self.acknowledged += out.split()


# --- one version per command -----------------------------------------------------------


@pytest.mark.faults
def test_a_write_goes_through_while_a_reader_holds_its_snapshot(ledger: Path) -> None:
    cli = Cli(ledger)
    cli("buy", "alice", "700")
    reader = _python(READER, str(ledger), stdin=subprocess.PIPE)
    assert reader.stdout is not None
    try:
        assert reader.stdout.readline().split() == ["3", "1"]
        bought = _coinpurse(ledger, "buy", "bob", "700", "--json")  # the reader is still inside its read
    finally:
        out, err = reader.communicate("go on\n", timeout=60)
    assert bought.returncode == 0, bought.stderr
    assert reader.returncode == 0, err
    assert out.split() == ["1"]  # the reader's history is the version it started with, not the new one
    assert len(cli.json("history")["transactions"]) == 2
    assert cli.json("verify")["ok"] is True
    assert _side_files(ledger.parent) == []


@pytest.mark.faults
def test_every_ledger_converted_during_writes_verifies(json_ledger: Path, tmp_path: Path) -> None:
    api.buy(json_ledger, "seed", 700)
    copies = tmp_path / "copies"
    copies.mkdir()
    with _Writers(json_ledger) as writers:
        out, err = _python(CONVERTER, str(json_ledger), str(copies), str(ROUNDS)).communicate(timeout=600)
    assert err == ""
    assert len(out.split()) == ROUNDS
    failed = [copy.name for copy in sorted(copies.glob("copy-*.sqlite")) if not api.verify(copy).ok]
    assert failed == [], f"{len(failed)} of {ROUNDS} converted ledgers fail verify"
    assert len({int(n) for n in out.split()}) > 1  # the writes really ran during the converts
    assert len(api.history(json_ledger).transactions) == 1 + len(writers.acknowledged)
    assert _side_files(copies) == []


@pytest.mark.faults
def test_verify_during_writes_never_reports_a_problem(ledger: Path) -> None:
    api.buy(ledger, "seed", 700)
    with _Writers(ledger) as writers:
        out, err = _python(VERIFIER, str(ledger), str(ROUNDS)).communicate(timeout=600)
    assert err == ""
    reports = out.splitlines()
    assert len(reports) == ROUNDS
    assert [line for line in reports if line != "ok"] == []
    assert len(api.history(ledger).transactions) == 1 + len(writers.acknowledged)
    assert api.verify(ledger).ok


def test_a_json_ledger_read_head_first_takes_its_history_from_the_same_file(json_cli: Cli, json_ledger: Path) -> None:
    json_cli("buy", "alice", "700")
    book = read_book(json_ledger)
    assert book.account("alice").coins == 700
    json_cli("gift", "alice", "mia", "rose", "-n", "5")  # replaces the file after the head was read
    assert book.head().length == 1 and [tx.kind for tx in book.transactions()] == ["buy"]
    assert book.account("alice").coins == 700


def test_a_sqlite_read_is_one_snapshot_and_does_not_hold_up_a_write(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    cli = Cli(ledger)
    cli("buy", "alice", "700")
    with reading(ledger) as book:
        assert book.account("alice").coins == 700
        assert cli("gift", "alice", "mia", "rose", "-n", "5").exit_code == 0
        assert book.head().length == 1 and not book.has_account("mia")
    assert Cli(ledger).json("balance", "alice")["coins"] == 695


# --- WAL, and one file when nobody uses it ----------------------------------------------


@pytest.mark.faults
def test_sqlite_ledgers_are_in_wal_mode_and_leave_no_side_files(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    commands = [
        ("buy", "alice", "700"),  # a new ledger, built in a temp file
        ("gift", "alice", "mia", "rose", "-n", "5"),
        ("gift", "alice", "mia", "lion"),  # refused
        ("balance",),
        ("history", "mia"),
        ("gifters", "mia"),
        ("export", "--format", "csv"),
        ("verify",),
        ("convert", str(ledger), str(tmp_path / "copy.sqlite")),
    ]
    for command in commands:
        _coinpurse(ledger, *command)
        assert _side_files(tmp_path) == [], command
    assert _in_wal_mode(ledger) and _in_wal_mode(tmp_path / "copy.sqlite")
    assert api.verify(tmp_path / "copy.sqlite").ok


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a user that file permissions apply to")
@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_sqlite_ledger_still_reads_and_leaves_no_side_files(tmp_path: Path, what: str) -> None:
    folder = tmp_path / "ledgers"
    folder.mkdir()
    cli = Cli(folder / "l.sqlite")
    cli("buy", "alice", "700")
    protected = cli.ledger if what == "file" else folder
    protected.chmod(0o500 if what == "folder" else 0o400)
    try:
        assert cli.json("balance", "alice")["coins"] == 700
        assert cli.json("verify")["ok"] is True
        assert cli("buy", "bob", "700").exit_code == 3  # a write says why, and writes nothing
        assert _side_files(folder) == []
    finally:
        protected.chmod(0o700)
