"""Fuzzing what sits at ``<ledger>.lock`` and how the ledger is reached, under random commands.

Whatever is planted (a link to another file or to the ledger, a dangling link, a
hard link, a FIFO, a folder, junk), and whether the ledger is reached through a
link: no traceback, a documented exit code, a refused command changes no byte,
no file but a real lock file is ever written, and links stay links.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from coinpurse.cli import app
from ledger_tools import FUZZ_COUNTS

EXAMPLES = int(os.environ.get("COINPURSE_FUZZ_EXAMPLES", "250")) // 2
VICTIM_TEXT = b"someone else's data\n"
runner = CliRunner()

Plant = Callable[[Path, Path, Path], None]  # (lock file, ledger, victim)
PLANTS: dict[str, Plant] = {
    "nothing": lambda lock, ledger, victim: None,
    "link to another file": lambda lock, ledger, victim: lock.symlink_to(victim),
    "link to the ledger": lambda lock, ledger, victim: lock.symlink_to(ledger),
    "dangling link": lambda lock, ledger, victim: lock.symlink_to(lock.with_name("nowhere")),
    "hard link to another file": lambda lock, ledger, victim: os.link(victim, lock),
    "fifo": lambda lock, ledger, victim: os.mkfifo(lock),
    "folder": lambda lock, ledger, victim: lock.mkdir(),
    "junk": lambda lock, ledger, victim: lock.write_bytes(b"\x00junk 123 not a pid"),
}
COMMANDS = [
    ["buy", "bob", "70"],
    ["gift", "alice", "mia", "rose"],
    ["redeem", "mia", "1"],
    ["rates", "set", "payout.minimum", "1"],
    ["balance"],
    ["history"],
    ["verify"],
    ["export", "-f", "csv"],
]


def _files(folder: Path, lock: Path) -> dict[str, bytes | str]:
    """Every entry's bytes (regular files) or what it is, links by their target.

    A real lock file is coinpurse's own (any write makes it; the holder's PID, emptied after), so it is left out.
    """
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path == lock and path.is_file() and not path.is_symlink() and path.stat().st_nlink == 1:
            continue
        if path.is_symlink():
            found[key] = f"link to {os.readlink(path)}"
        elif path.is_file():
            found[key] = path.read_bytes()
        else:
            found[key] = "folder" if path.is_dir() else "other"
    return found


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(["json", "toml", "sqlite"]),
    plant=st.sampled_from(sorted(PLANTS)),
    through_link=st.booleans(),
    commands=st.lists(st.sampled_from(COMMANDS), min_size=1, max_size=3),
)
def test_planted_lock_files_and_linked_ledgers_never_fool_a_command(
    fmt: str, plant: str, through_link: bool, commands: list[list[str]]
) -> None:
    FUZZ_COUNTS["planted lock files"] = FUZZ_COUNTS.get("planted lock files", 0) + 1
    folder = Path(tempfile.mkdtemp())
    try:
        real = folder / "real" / f"l.{fmt}"
        real.parent.mkdir()
        victim = folder / "victim.txt"
        victim.write_bytes(VICTIM_TEXT)
        assert runner.invoke(app, ["--ledger", str(real), "buy", "alice", "700"]).exit_code == 0
        given_path = real
        if through_link:
            given_path = folder / "link" / real.name
            given_path.parent.mkdir()
            given_path.symlink_to(Path("..") / "real" / real.name)
        lock = real.with_name(real.name + ".lock")
        lock.unlink()
        PLANTS[plant](lock, real, victim)
        for args in commands:
            before = _files(folder, lock)
            result = runner.invoke(app, ["--ledger", str(given_path), *args], catch_exceptions=True)
            assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
            assert result.exit_code in (0, 1, 2, 3), result.output
            assert "Traceback" not in result.output
            if result.exit_code != 0:
                assert _files(folder, lock) == before, "a refused command changed a file"
            if plant not in ("nothing", "junk") and args[0] in ("buy", "gift", "redeem", "rates"):
                assert result.exit_code == 3 and "lock file" in result.stderr, result.output
        assert victim.read_bytes() == VICTIM_TEXT
        assert not through_link or given_path.is_symlink()
        assert real.is_file() and not real.is_symlink()
    finally:
        shutil.rmtree(folder)
