"""Startup stays lean: a read or a TAB loads only what it needs (no timing assertions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger_tools import in_tables

# Prints the loaded module names on the way out, after main() has exited.
PROBE = (
    "import atexit, sys\n"
    "atexit.register(lambda: sys.stderr.write('\\nMODULES ' + ' '.join(sorted(sys.modules)) + '\\n'))\n"
    "from coinpurse.cli import main\n"
    "sys.argv = ['coinpurse', *sys.argv[1:]]\n"
    "main()\n"
)


def loaded_modules(*args: str, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )
    marker = result.stderr.rindex("MODULES ")
    return set(result.stderr[marker + len("MODULES ") :].split()), result.stdout


@pytest.fixture
def small_ledger(cli, ledger: Path) -> Path:
    cli("buy", "alice", "700")
    cli("gift", "alice", "mia", "rose", "-n", "5")
    return ledger


def test_balance_as_json_loads_no_renderer_rules_or_hashing(small_ledger: Path) -> None:
    modules, stdout = loaded_modules("--ledger", str(small_ledger), "balance", "mia", "--json")
    assert json.loads(stdout)["diamonds"] == 5
    heavy = {"rich", "coinpurse.core.rules", "coinpurse.core.requests", "hashlib", "platformdirs", "tomli_w"}
    if small_ledger.suffix != ".sqlite" and not in_tables(
        small_ledger
    ):  # the PostgreSQL store reads through the SQLite book
        heavy.add("sqlite3")
    assert not heavy & modules, heavy & modules


def test_human_balance_does_load_rich(small_ledger: Path) -> None:
    # The probe itself works: the same run without --json draws with rich.
    modules, _ = loaded_modules("--ledger", str(small_ledger), "balance", "mia")
    assert "rich" in modules


def test_tab_completion_loads_no_library_at_all() -> None:
    env = {"_COINPURSE_COMPLETE": "complete_bash", "COMP_WORDS": "coinpurse b", "COMP_CWORD": "1"}
    modules, stdout = loaded_modules(env=env)
    assert stdout.split() == ["buy", "balance"]
    assert not {"rich", "coinpurse.api", "coinpurse.storage", "decimal"} & modules


def test_report_as_json_loads_no_renderer_nor_the_rules(small_ledger: Path) -> None:
    modules, stdout = loaded_modules("--ledger", str(small_ledger), "report", "--json")
    assert json.loads(stdout)["totals"]["buys"] == 1
    assert not {"rich", "coinpurse.core.rules", "coinpurse.cli.render_report", "hashlib"} & modules
