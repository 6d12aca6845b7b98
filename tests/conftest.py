"""Shared fixtures: every test gets its own ledger path, fixed clock, and no real home folder.

Also how a run is set up (README, Development):

- `-m "not slow"` is the quick loop. Every `faults` test (real processes killed, raced or
  starved) counts as `slow` too, so the quick loop leaves out those and the other slow
  tests marked by measurement, and runs each hypothesis test on at most 20 examples: the
  fuzz tests on 20 inputs instead of 250 unless COINPURSE_FUZZ_EXAMPLES says otherwise,
  the others through `examples()` below.
- Temporary folders go on /dev/shm when it is there: a tmpfs, where fsync costs nothing, so
  the tests measure coinpurse rather than the disk. COINPURSE_TEST_TMPDIR names another
  folder (a disk one, say); `--basetemp` still wins for pytest's own folders.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
import typer.testing
from typer.testing import CliRunner

from coinpurse.cli import app

# Typer's CliRunner builds the click command tree from the app again on every invoke:
# measured here ~8 ms of the ~12 ms CPU that a small command takes in-process. The app
# does not change during a run, so each app's tree is built once (as the console script
# builds it once per process) and every CliRunner in the suite reuses it.
if hasattr(typer.testing, "_get_command"):
    typer.testing._get_command = functools.cache(typer.main.get_command)

FIXED_NOW = "2026-03-01T12:00:00Z"
QUICK_EXAMPLES = 20  # the most examples a hypothesis test tries in the quick loop
_quick = False  # whether this run is the quick loop, known before the test modules load


def quick_loop(config: pytest.Config) -> bool:
    """Whether this run is the quick loop: its -m expression leaves the slow tests out."""
    return "not slow" in " ".join(str(config.getoption("markexpr") or "").split())


def examples(full: int) -> int:
    """A hypothesis test's max_examples: `full` in the whole suite, at most QUICK_EXAMPLES in the quick loop."""
    return min(full, QUICK_EXAMPLES) if _quick else full


def pytest_configure(config: pytest.Config) -> None:
    global _quick
    _quick = quick_loop(config)
    if _quick:
        os.environ.setdefault("COINPURSE_FUZZ_EXAMPLES", str(QUICK_EXAMPLES))  # read as the fuzz modules load
    folder = os.environ.get("COINPURSE_TEST_TMPDIR") or "/dev/shm"
    if os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK):
        tempfile.tempdir = folder  # pytest's tmp_path folders and the tests' own temporary folders


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if (item.get_closest_marker("faults") or item.get_closest_marker("postgres")) and not item.get_closest_marker(
            "slow"
        ):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("COINPURSE_NOW", FIXED_NOW)
    monkeypatch.delenv("COINPURSE_LEDGER", raising=False)
    monkeypatch.delenv("COINPURSE_LOCK_TIMEOUT", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    yield


STORES = ["json", "toml", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORES)
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A ledger path that does not exist yet, in each format (on PostgreSQL: a fresh schema's URL)."""
    if request.param == "postgresql":
        files_only = request.node.get_closest_marker("files_only")
        if files_only is not None:
            pytest.skip(f"not on PostgreSQL: {files_only.args[0]}")
        return request.getfixturevalue("pg_ledger")  # type: ignore[no-any-return]
    return tmp_path / f"ledger.{request.param}"


def another_ledger(ledger: Path, folder: Path, stem: str = "other") -> Path:
    """A second new ledger in the same store as ``ledger``: ``folder/<stem><suffix>``, or on PostgreSQL a fresh
    schema of the same database."""
    from coinpurse.storage.urls import LedgerUrl

    if isinstance(ledger, LedgerUrl):
        return LedgerUrl(ledger.url.rsplit("&schema=", 1)[0] + f"&schema=t{next(_pg_names)}")
    return folder / f"{stem}{ledger.suffix}"


def only_in_files(ledger: Path, why: str) -> None:
    """Skip a test of what only a ledger file has (its mode, its folder, its temp files) on PostgreSQL, saying so."""
    from coinpurse.storage.urls import LedgerUrl

    if isinstance(ledger, LedgerUrl):
        pytest.skip(f"a PostgreSQL ledger has no file: {why}")


def files_beside(ledger: Path) -> list[Path]:
    """The files in a file ledger's folder (none belong to a PostgreSQL ledger)."""
    from coinpurse.storage.urls import LedgerUrl

    return [] if isinstance(ledger, LedgerUrl) else sorted(ledger.parent.iterdir())


@pytest.fixture(scope="session")
def pg_server() -> Iterator[object]:
    """One throwaway PostgreSQL server for the run (tests/pg_server.py); the tests skip, saying why, without one."""
    from pg_server import start_server

    server = start_server()
    if isinstance(server, str):
        pytest.skip(f"no PostgreSQL server for these tests: {server}")
    try:
        yield server
    finally:
        server.teardown()


_pg_names = iter(range(1, 1 << 30))


@pytest.fixture
def pg_database(pg_server: object) -> str:
    """The URL of a fresh, empty database on the test server."""
    name = f"test_{os.getpid()}_{next(_pg_names)}"
    return pg_server.create_database(name)  # type: ignore[attr-defined, no-any-return]


@pytest.fixture(scope="session")
def pg_shared_database(pg_server: object) -> str:
    """A database whose schemas hold the tests' ledgers: a fresh schema costs nothing, a fresh database ~0.25 s."""
    return pg_server.create_database(f"ledgers_{os.getpid()}")  # type: ignore[attr-defined, no-any-return]


@pytest.fixture
def pg_ledger(pg_shared_database: str) -> Path:
    """A PostgreSQL ledger that does not exist yet: a fresh schema of the shared database."""
    from coinpurse.storage.urls import LedgerUrl

    return LedgerUrl(f"{pg_shared_database}&schema=t{next(_pg_names)}")


@pytest.fixture
def json_ledger(tmp_path: Path) -> Path:
    return tmp_path / "ledger.json"


class Cli:
    """Runs coinpurse commands against one ledger through Typer's CliRunner."""

    def __init__(self, ledger: Path) -> None:
        self.ledger = ledger
        self.runner = CliRunner()

    def __call__(self, *args: str):  # type: ignore[no-untyped-def]
        return self.runner.invoke(app, ["--ledger", str(self.ledger), *args], catch_exceptions=False)

    def json(self, *args: str):  # type: ignore[no-untyped-def]
        import json

        result = self(*args, "--json")
        assert result.exit_code == 0, result.stderr or result.output
        return json.loads(result.stdout)

    def made_by(self, *commands: tuple[str, ...]) -> Cli:
        """This new ledger as ``commands`` leave it, each to succeed: for fixtures many tests share.

        The commands run once per run for each format and COINPURSE_* setting, on a ledger
        of their own; every later ledger made by the same commands is a copy of its files
        (the ledger and its lock file, with their modes).
        """
        from coinpurse.storage.urls import LedgerUrl

        if isinstance(self.ledger, LedgerUrl):  # a fresh schema each time: the commands themselves are quick there
            for args in commands:
                result = self(*args)
                assert result.exit_code == 0, result.stderr or result.output
            return self
        assert not self.ledger.exists() and self.ledger.parent.is_dir(), self.ledger
        settings = tuple(sorted((name, value) for name, value in os.environ.items() if name.startswith("COINPURSE_")))
        key = (self.ledger.suffix, commands, settings)
        made = _MADE.get(key)
        if made is None:
            global _made_folder
            if _made_folder is None:
                _made_folder = Path(tempfile.mkdtemp(prefix="coinpurse-made-"))
            made = _made_folder / str(len(_MADE)) / f"ledger{self.ledger.suffix}"
            made.parent.mkdir()
            maker = Cli(made)
            for args in commands:
                result = maker(*args)
                assert result.exit_code == 0, result.stderr or result.output
            _MADE[key] = made
        for path in sorted(made.parent.iterdir()):
            copy = self.ledger.with_name(self.ledger.name + path.name.removeprefix(made.name))
            shutil.copyfile(path, copy)
            copy.chmod(path.stat().st_mode & 0o7777)
        return self


_MADE: dict[tuple[object, ...], Path] = {}  # Cli.made_by's ledgers, by format, commands and settings
_made_folder: Path | None = None


def pytest_sessionfinish() -> None:
    if _made_folder is not None:
        shutil.rmtree(_made_folder, ignore_errors=True)


@pytest.fixture
def cli(ledger: Path) -> Cli:
    return Cli(ledger)


@pytest.fixture
def json_cli(json_ledger: Path) -> Cli:
    return Cli(json_ledger)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """Report how many inputs the fuzz tests tried (tests/test_fuzz.py)."""
    import sys

    tools = sys.modules.get("ledger_tools")
    counts = getattr(tools, "FUZZ_COUNTS", None)
    if counts:
        shown = ", ".join(f"{count} {what}" for what, count in sorted(counts.items()))
        terminalreporter.write_line(f"fuzz inputs tried: {shown}")
