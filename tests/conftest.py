"""Shared fixtures: every test gets its own ledger path, fixed clock, and no real home folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coinpurse.cli import app

FIXED_NOW = "2026-03-01T12:00:00Z"


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("COINPURSE_NOW", FIXED_NOW)
    monkeypatch.delenv("COINPURSE_LEDGER", raising=False)
    monkeypatch.delenv("COINPURSE_LOCK_TIMEOUT", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    yield


@pytest.fixture(params=["json", "toml", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A ledger path that does not exist yet, in each format."""
    return tmp_path / f"ledger.{request.param}"


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
