"""`-` is stdin for every file input and stdout for every file output; /dev/stdin is sniffed too."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coinpurse.cli import app

SCENARIO_TOML = '[[ops]]\nkind = "buy"\naccount = "carol"\ncoins = 700\n\n[[ops]]\nkind = "redeem"\naccount = "carol"\ndiamonds = 5\n'
SCENARIO_JSON = '\n  {"ops": [{"kind": "buy", "account": "dan", "coins": 70}]}\n'


def run(ledger: Path, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["--ledger", str(ledger), *args], input=input, catch_exceptions=False)


def test_apply_reads_json_from_stdin_by_its_first_character(tmp_path: Path) -> None:
    ledger = tmp_path / "d.json"
    result = run(ledger, "apply", "-", "--json", input=SCENARIO_JSON)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["file"] == "<stdin>" and report["recorded"] == 1


def test_apply_reads_toml_from_stdin_and_errors_name_stdin_and_the_line(tmp_path: Path) -> None:
    ledger = tmp_path / "d.json"
    result = run(ledger, "apply", "-", input=SCENARIO_TOML)
    assert result.exit_code == 1
    assert result.stderr.startswith("coinpurse: error: <stdin>:6: op 2 (redeem): nothing was applied: ")
    assert not ledger.exists()


def test_format_overrides_the_sniffing(tmp_path: Path) -> None:
    ledger = tmp_path / "d.json"
    result = run(ledger, "apply", "-", "--format", "toml", input=SCENARIO_JSON)
    assert result.exit_code == 2
    assert "<stdin>: not valid TOML" in result.stderr
    assert run(ledger, "apply", "-", "--format", "yaml", input=SCENARIO_JSON).exit_code == 2
    named = tmp_path / "ops.txt"
    named.write_text(SCENARIO_JSON)
    assert "give --format" in run(ledger, "apply", str(named)).stderr
    assert run(ledger, "apply", str(named), "--format", "json").exit_code == 0


def test_stdin_is_held_to_the_file_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINPURSE_MAX_FILE_MB", "1")
    ledger = tmp_path / "d.json"
    result = run(ledger, "apply", "-", input=" " * 1_000_001)
    assert result.exit_code == 2
    assert "<stdin>: it holds more than the 1 MB" in result.stderr
    assert run(ledger, "apply", "-", "--dry-run", input=" " * 999_000 + SCENARIO_JSON.strip()).exit_code == 0


def test_rates_round_trip_through_a_pipe_and_init_reads_stdin(tmp_path: Path) -> None:
    ledger, new = tmp_path / "d.json", tmp_path / "new.toml"
    assert run(ledger, "rates", "set", "gift.Rose.coins", "4").exit_code == 0
    exported = run(ledger, "rates", "export", "-o", "-")
    assert exported.exit_code == 0 and exported.stdout.startswith("# coinpurse rates")
    assert run(ledger, "rates", "export").stdout == exported.stdout == run(ledger, "rates", "export", "-").stdout
    assert "already in force" in run(ledger, "rates", "import", "-", input=exported.stdout).stdout
    started = run(new, "init", "--rates", "-", "--json", input=exported.stdout)
    assert started.exit_code == 0, started.stderr
    assert json.loads(started.stdout)["rates_file"] == "<stdin>"
    assert {
        g["name"]: g["coins"]
        for g in run(new, "rates", "--json").stdout and json.loads(run(new, "rates", "--json").stdout)["gifts"]
    }["Rose"] == 4
    bad = run(ledger, "rates", "import", "-", input='{"channels": 1}')
    assert bad.exit_code == 2 and "<stdin>" in bad.stderr


def test_export_to_stdout_with_a_dash(tmp_path: Path) -> None:
    ledger = tmp_path / "d.json"
    assert run(ledger, "buy", "alice", "700").exit_code == 0
    dashed = run(ledger, "export", "-o", "-", "-f", "csv")
    assert dashed.exit_code == 0
    assert dashed.stdout == run(ledger, "export", "-f", "csv").stdout
    assert dashed.stdout.startswith("id,at,kind,account,commodity,amount\n")
    assert not (tmp_path / "-").exists()
    assert run(ledger, "export", "-o", "-", "--json").exit_code == 2
    assert run(ledger, "rates", "export", "-", "--json").exit_code == 2


@pytest.mark.slow
@pytest.mark.parametrize("text", [SCENARIO_JSON, SCENARIO_TOML.split("\n\n")[0] + "\n"])
def test_dev_stdin_is_sniffed_from_a_pipe_and_from_a_file(tmp_path: Path, text: str) -> None:
    ledger = tmp_path / "d.json"
    command = [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), "apply", "/dev/stdin", "--dry-run"]
    piped = subprocess.run(command, input=text, capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0, piped.stderr
    assert "Checked 1 ops from /dev/stdin" in piped.stdout
    file = tmp_path / "ops"
    file.write_text(text)
    with file.open() as stdin:
        redirected = subprocess.run(command, stdin=stdin, capture_output=True, text=True, timeout=60)
    assert redirected.returncode == 0, redirected.stderr
