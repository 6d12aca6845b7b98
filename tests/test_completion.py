"""TAB completion that knows the economy: gifts, accounts, channels, kinds, formats and rate keys."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coinpurse.cli import app, completion
from coinpurse.core.kinds import RECORDS
from conftest import Cli

ROOT = Path(__file__).resolve().parent.parent


def bash(line: str, **environ: str) -> list[str]:
    """What a TAB at the end of ``line`` offers in bash, through the app as the shell calls it."""
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    env = {"_COINPURSE_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(cword), **environ}
    result = CliRunner().invoke(app, [], env=env, prog_name="coinpurse", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and result.stderr == ""
    return [offered for offered in result.stdout.splitlines() if offered]


def zsh(line: str) -> str:
    env = {"_COINPURSE_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": line}
    result = CliRunner().invoke(app, [], env=env, prog_name="coinpurse", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def economy(cli: Cli) -> Cli:
    return cli.made_by(
        ("buy", "alice", "700"),
        ("buy", "bob", "70"),
        ("gift", "alice", "mia", "rose"),
        ("rates", "set", "gift.Comet.coins", "250"),
    )


def test_a_gift_lists_the_catalog_with_names_in_quotes_where_they_have_spaces(economy: Cli) -> None:
    offered = bash(f"coinpurse --ledger {economy.ledger} gift alice mia ")
    assert offered[:5] == ["Rose", "TikTok", "GG", '"Ice Cream Cone"', '"Heart Me"']
    assert "Comet" in offered  # the ledger's own catalog
    assert bash(f"coinpurse --ledger {economy.ledger} gift alice mia fing") == ['"Finger Heart"']
    assert bash(f"coinpurse --ledger {economy.ledger} gift alice mia hart") == [
        '"Heart Me"',
        '"Finger Heart"',
        '"Hand Hearts"',
    ]
    assert '"Ice Cream Cone"' in zsh(f"coinpurse --ledger {economy.ledger} gift alice mia ic")  # zsh quotes it itself


def test_accounts_come_from_the_ledger_named_earlier_on_the_line(economy: Cli, tmp_path: Path) -> None:
    line = f"coinpurse --ledger {economy.ledger}"
    assert bash(f"{line} balance ") == ["alice", "bob", "mia"]
    assert bash(f"{line} gift a") == ["alice"]
    assert bash(f"{line} gift alice m") == ["mia"]
    assert bash(f"{line} redeem @M") == ["mia"]
    assert bash(f"{line} history b") == ["bob"]
    assert bash(f"{line} gifters ") == ["alice", "bob", "mia"]
    assert bash(f"{line} buy ") == ["alice", "bob", "mia"]
    assert bash("coinpurse balance ", COINPURSE_LEDGER=str(economy.ledger)) == ["alice", "bob", "mia"]
    other = tmp_path / f"other{economy.ledger.suffix}"
    assert bash(f"coinpurse --ledger {other} balance ", COINPURSE_LEDGER=str(economy.ledger)) == []


def test_options_list_their_choices(economy: Cli) -> None:
    line = f"coinpurse --ledger {economy.ledger}"
    assert bash(f"{line} buy alice 70 --channel ") == ["app", "web"]
    assert bash(f"{line} history --kind ") == list(RECORDS) == list(completion.KINDS)
    assert bash(f"{line} history --kind r") == ["redeem", "rates", "reversal", "refund"]
    assert bash(f"{line} export --format ") == ["csv", "journal", "json"]


def test_rates_set_completes_keys_and_the_value_in_force(economy: Cli) -> None:
    line = f"coinpurse --ledger {economy.ledger} rates set"
    assert bash(f"{line} gift.R") == ["gift.Rose.coins", "gift.Rosa.coins", '"gift.Rosa Nebula.coins"']
    assert bash(f"{line} payout.m") == ["payout.minimum"]
    assert bash(f"{line} gift.Comet.coins ") == ["250"]
    assert bash(f"{line} gift.Comet.coins 300 channel.web.c") == [
        "channel.web.coin_price",
        "channel.web.custom_min",
        "channel.web.custom_max",
    ]
    assert bash(f"{line} --remove gift.Co") == ["gift.Confetti", "gift.Corgi", "gift.Coral", "gift.Comet"]
    assert bash(f"{line} --remove channel.w")[:2] == ["channel.web", "channel.web.package.70"]


@pytest.mark.parametrize("content", [None, b"", b"not a ledger", b'{"schema": 99}'])
def test_a_missing_or_unusable_ledger_completes_nothing_quietly(tmp_path: Path, content: bytes | None) -> None:
    ledger = tmp_path / "ledger.json"
    if content is not None:
        ledger.write_bytes(content)
    assert bash(f"coinpurse --ledger {ledger} balance ") == []
    assert bash(f"coinpurse --ledger {tmp_path / 'ledger.txt'} balance ") == []
    assert not (tmp_path / "ledger.json.lock").exists()
    # Gifts then come from the default rates.
    assert bash(f"coinpurse --ledger {tmp_path / 'new.json'} gift alice mia ros") == ["Rose", "Rosa", '"Rosa Nebula"']


def test_a_slow_ledger_completes_nothing_within_the_budget(economy: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(ctx: object, incomplete: str) -> list[str]:
        time.sleep(5)
        return ["never"]

    monkeypatch.setattr(completion, "_accounts", slow)
    monkeypatch.setattr(completion, "BUDGET_MS", 200)
    started = time.monotonic()
    assert bash(f"coinpurse --ledger {economy.ledger} balance ") == []
    assert time.monotonic() - started < 2


def test_the_installed_script_completes_without_loading_rich(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    assert Cli(ledger)("buy", "zoe", "70").exit_code == 0
    script = Path(sys.executable).with_name("coinpurse")
    line = f"coinpurse --ledger {ledger} gift zoe "
    env = {**os.environ, "_COINPURSE_COMPLETE": "complete_bash", "COMP_WORDS": line, "COMP_CWORD": "5"}
    done = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.splitlines() == ["zoe"]
    env["COMP_WORDS"], env["COMP_CWORD"] = f"coinpurse --ledger {ledger} gift zoe mia ", "6"
    traced = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "coinpurse"], env=env, capture_output=True, text=True, timeout=60
    )
    assert traced.returncode == 0 and traced.stdout.splitlines()[:2] == ["Rose", "TikTok"]
    loaded = {line.split("|")[-1].strip() for line in traced.stderr.splitlines() if "|" in line}
    assert "rich" not in loaded and "coinpurse.core.rules" not in loaded


def test_the_completion_files_are_the_ones_the_package_installs() -> None:
    import tomllib

    shipped = sorted(path.name for path in (ROOT / "completions").iterdir())
    data_files = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["data-files"]
    installed = sorted(Path(name).name for names in data_files.values() for name in names)
    assert shipped == installed == ["_coinpurse", "coinpurse.bash", "coinpurse.fish"]


def test_report_by_completes_its_periods(economy: Cli) -> None:
    from coinpurse.core.report import PERIODS

    line = f"coinpurse --ledger {economy.ledger}"
    assert bash(f"{line} report --by ") == list(PERIODS) == list(completion.PERIODS)
    assert bash(f"{line} report --by w") == ["week"]
