"""Locks that can't be fooled, with real processes: a lock sweeper, planted lock files, symlinked ledgers.

Writers are separate Python processes, each doing its gifts through
``coinpurse.api`` and printing the id of every acknowledged one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from coinpurse import api
from coinpurse.storage import reading

pytestmark = [pytest.mark.faults, pytest.mark.files_only("the lock file, which a database's writers do without")]

WRITERS = 4
GIFTS_EACH = int(os.environ.get("COINPURSE_SWEEPER_GIFTS", "25"))

# Prints the id of each acknowledged gift; a failed one is reported on stderr and not acknowledged.
GIFTER = """
import sys
from pathlib import Path
from coinpurse import api
from coinpurse.errors import CoinpurseError
ledger, sender, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
print("ready", flush=True)
for _ in range(count):
    try:
        print(api.gift(ledger, sender, "mia", "rose").transaction.id, flush=True)
    except CoinpurseError as error:
        print(error.message, file=sys.stderr, flush=True)
"""


def _gifter(ledger: Path, sender: str, count: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", GIFTER, str(ledger), sender, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline() == "ready\n", process.stderr.read() if process.stderr else ""
    return process


def _acknowledged(writers: list[subprocess.Popen[str]]) -> tuple[list[str], list[str]]:
    """The ids the writers acknowledged, and the failures they reported."""
    outputs = [writer.communicate(timeout=300) for writer in writers]
    for writer, (_, err) in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, err
    return [i for out, _ in outputs for i in out.split()], [line for _, err in outputs for line in err.splitlines()]


def _history_ids(ledger: Path) -> list[str]:
    with reading(ledger) as book:
        return [tx.id for tx in book.iter_transactions()]


def _seed_senders(ledger: Path, senders: list[str]) -> None:
    for sender in senders:
        api.buy(ledger, sender, 700)


def _coinpurse(ledger: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


class _LockSweeper:
    """Deletes ``<ledger>.lock`` over and over, as a clean-up script of stale files would."""

    def __init__(self, lock_file: Path) -> None:
        self.lock_file = lock_file
        self.stop = threading.Event()
        self.deletions = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(0.0005):
            try:
                os.unlink(self.lock_file)
                self.deletions += 1
            except FileNotFoundError:
                pass

    def __enter__(self) -> _LockSweeper:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        self.thread.join()


def test_a_lock_sweeper_never_lets_two_writers_run_at_once(ledger: Path) -> None:
    senders = [f"fan{n}" for n in range(WRITERS)]
    _seed_senders(ledger, senders)
    with _LockSweeper(ledger.with_name(ledger.name + ".lock")) as sweeper:
        acknowledged, failures = _acknowledged([_gifter(ledger, sender, GIFTS_EACH) for sender in senders])

    ids = _history_ids(ledger)
    kept = len(set(acknowledged) & set(ids))
    print(
        f"{ledger.suffix}: {WRITERS} writers x {GIFTS_EACH} gifts, lock file deleted {sweeper.deletions} times: "
        f"{len(acknowledged)} acknowledged, {kept} kept, {len(failures)} failed"
    )
    assert sweeper.deletions > 0
    assert kept == len(acknowledged), "an acknowledged write was lost"
    assert failures == []
    assert len(ids) == len(set(ids)) == len(senders) + WRITERS * GIFTS_EACH
    report = api.verify(ledger)
    assert report.ok, report.summary()
    for sender in senders:
        assert api.balance(ledger, sender).state.coins == 700 - GIFTS_EACH


@pytest.mark.parametrize("aimed_at", ["another file", "the ledger"])
def test_a_lock_file_planted_as_a_symlink_is_refused_and_its_target_untouched(ledger: Path, aimed_at: str) -> None:
    api.buy(ledger, "alice", 700)
    victim = ledger.with_name("precious.txt")
    victim.write_text("someone else's data\n")
    target = victim if aimed_at == "another file" else ledger
    before = {victim: victim.read_bytes(), ledger: ledger.read_bytes()}
    lock_file = ledger.with_name(ledger.name + ".lock")
    lock_file.unlink(missing_ok=True)
    lock_file.symlink_to(target.name)

    result = _coinpurse(ledger, "buy", "bob", "70", "--json")

    assert result.returncode == 3, result.stderr
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "lock_unsafe"
    assert error["message"] == (
        f"the lock file {lock_file} is a symbolic link; nothing was written: remove it and coinpurse makes a new one"
    )
    assert {path: path.read_bytes() for path in before} == before
    assert lock_file.is_symlink()


def test_a_lock_file_that_is_a_hard_link_or_a_fifo_is_refused(ledger: Path) -> None:
    api.buy(ledger, "alice", 700)
    victim = ledger.with_name("precious.txt")
    victim.write_text("someone else's data\n")
    lock_file = ledger.with_name(ledger.name + ".lock")
    before = ledger.read_bytes()
    for plant, says in (
        (lambda: os.link(victim, lock_file), "has 2 names (a hard link to another file)"),
        (lambda: os.mkfifo(lock_file), "is not a regular file"),
    ):
        lock_file.unlink(missing_ok=True)
        plant()
        result = _coinpurse(ledger, "buy", "bob", "70")
        assert result.returncode == 3
        assert (
            result.stderr == f"coinpurse: error: the lock file {lock_file} {says}; nothing was written: "
            "remove it and coinpurse makes a new one\n"
        )
        assert victim.read_text() == "someone else's data\n"
        assert ledger.read_bytes() == before
    lock_file.unlink()
    assert _coinpurse(ledger, "buy", "bob", "70").returncode == 0


def test_a_folder_in_place_of_the_lock_file_is_exit_3_naming_it(ledger: Path) -> None:
    api.buy(ledger, "alice", 700)
    before = ledger.read_bytes()
    lock_file = ledger.with_name(ledger.name + ".lock")
    lock_file.unlink()
    lock_file.mkdir()
    result = _coinpurse(ledger, "buy", "bob", "70")
    assert result.returncode == 3
    assert result.stderr == f"coinpurse: error: can't open the lock file {lock_file}: Is a directory\n"
    assert ledger.read_bytes() == before


def _linked_ledger(ledger: Path) -> tuple[Path, Path]:
    """``link/<name>`` -> ``../real/<name>``, before the real ledger exists: (real, link)."""
    real = ledger.parent / "real" / ledger.name
    link = ledger.parent / "link" / ledger.name
    real.parent.mkdir()
    link.parent.mkdir()
    link.symlink_to(Path("..") / "real" / ledger.name)
    return real, link


def test_writers_through_a_symlink_and_the_real_path_share_one_ledger_and_one_lock(ledger: Path) -> None:
    real, link = _linked_ledger(ledger)
    senders = [f"fan{n}" for n in range(WRITERS)]
    _seed_senders(link, senders)  # the first write, through the link, creates the real file
    assert real.is_file() and not real.is_symlink()

    writers = [_gifter(link if n % 2 else real, sender, GIFTS_EACH) for n, sender in enumerate(senders)]
    acknowledged, failures = _acknowledged(writers)

    assert failures == []
    assert link.is_symlink() and os.readlink(link) == os.path.join("..", "real", ledger.name)
    assert not link.with_name(link.name + ".lock").exists(), "the link has a lock of its own"
    ids = _history_ids(real)
    assert set(acknowledged) <= set(ids)
    assert len(ids) == len(senders) + WRITERS * GIFTS_EACH
    assert _history_ids(link) == ids
    report = api.verify(real)
    assert report.ok, report.summary()
    print(
        f"{ledger.suffix}: {WRITERS} writers x {GIFTS_EACH} gifts through a link and the real path: "
        f"{len(set(acknowledged) & set(ids))} of {len(acknowledged)} kept"
    )


def test_a_linked_folder_is_followed_as_well(ledger: Path) -> None:
    (ledger.parent / "real").mkdir()
    (ledger.parent / "alias").symlink_to("real", target_is_directory=True)
    through_alias = ledger.parent / "alias" / ledger.name
    assert _coinpurse(through_alias, "buy", "alice", "700").returncode == 0
    assert _coinpurse(ledger.parent / "real" / ledger.name, "buy", "bob", "700").returncode == 0
    assert len(_history_ids(through_alias)) == 2
    assert sorted(p.name for p in (ledger.parent / "real").iterdir() if not p.name.startswith(".")) == sorted(
        [ledger.name, ledger.name + ".lock"]
    )


def test_a_link_to_a_ledger_of_another_format_is_refused(tmp_path: Path) -> None:
    api.buy(tmp_path / "real.toml", "alice", 700)
    before = (tmp_path / "real.toml").read_bytes()
    link = tmp_path / "link.json"
    link.symlink_to("real.toml")
    result = _coinpurse(link, "buy", "bob", "70")
    assert result.returncode == 2
    assert (
        result.stderr == f"coinpurse: error: {link} is a link to {tmp_path / 'real.toml'}, "
        "which is not a .json ledger; use the real path\n"
    )
    assert (tmp_path / "real.toml").read_bytes() == before and link.is_symlink()


def test_a_loop_of_links_is_exit_3(tmp_path: Path) -> None:
    (tmp_path / "a.json").symlink_to("b.json")
    (tmp_path / "b.json").symlink_to("a.json")
    result = _coinpurse(tmp_path / "a.json", "buy", "bob", "70")
    assert result.returncode == 3
    assert result.stderr.startswith(f"coinpurse: error: {tmp_path / 'a.json'}: ")
    assert "symbolic links" in result.stderr and len(result.stderr.splitlines()) == 1


# A write whose ledger file changes under it, injected at a fixed point of a real process.
_REPLACED_WHILE_WRITING = """
import os, sys
import coinpurse.storage.files as files
SOURCE = sys.argv[1]
real_render = files.render_pieces
def render(path, book):
    os.replace(SOURCE, path)  # another file moved over the ledger while this write runs
    return real_render(path, book)
files.render_pieces = render
sys.argv = ["coinpurse", "--ledger", *sys.argv[2:]]
from coinpurse.cli import main
main()
"""

_CREATED_AFTER_THE_LOCK = """
import os, sys
import coinpurse.storage.lock as lock
SOURCE = sys.argv[1]
real_open = lock._open_ledger_file
def open_ledger_file(path):
    fd = real_open(path)
    if fd is None:
        os.link(SOURCE, path)  # another writer's new ledger, put in place just after this one looked
    return fd
lock._open_ledger_file = open_ledger_file
sys.argv = ["coinpurse", "--ledger", *sys.argv[2:]]
from coinpurse.cli import main
main()
"""


@pytest.mark.parametrize("suffix", ["json", "toml"])
def test_a_ledger_replaced_by_another_file_during_a_write_is_not_written_over(tmp_path: Path, suffix: str) -> None:
    """An operator's `mv restored.json ledger.json` while a write runs: the write built on the old file, so it stops."""
    ledger = tmp_path / f"ledger.{suffix}"
    other = tmp_path / f"restored.{suffix}"
    assert _coinpurse(ledger, "buy", "alice", "700").returncode == 0
    assert _coinpurse(other, "buy", "bob", "70").returncode == 0
    restored = other.read_bytes()
    result = subprocess.run(
        [sys.executable, "-c", _REPLACED_WHILE_WRITING, str(other), str(ledger), "buy", "carol", "70"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert "was replaced by another file while this write ran; nothing was written" in result.stderr
    assert ledger.read_bytes() == restored


@pytest.mark.parametrize("suffix", ["json", "toml"])
def test_a_ledger_created_after_the_lock_was_taken_is_not_read_as_locked(tmp_path: Path, suffix: str) -> None:
    """A writer that found no ledger to lock holds no lock on one that appears next: it must not build on it."""
    ledger = tmp_path / f"ledger.{suffix}"
    theirs = tmp_path / f"theirs.{suffix}"
    assert _coinpurse(theirs, "buy", "bob", "70").returncode == 0
    made = theirs.read_bytes()
    result = subprocess.run(
        [sys.executable, "-c", _CREATED_AFTER_THE_LOCK, str(theirs), str(ledger), "buy", "carol", "70"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 3, result.stderr
    assert "was created by another process meanwhile; nothing was written" in result.stderr
    assert ledger.read_bytes() == made
