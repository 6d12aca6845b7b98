"""Inputs of thousands of digits are bad input (exit 2) with a short message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

HUGE = "9" * 5000


@pytest.mark.parametrize("suffix", ["json", "toml"])
def test_a_scenario_with_a_huge_integer_is_bad_input(cli, tmp_path: Path, suffix: str) -> None:
    scenario = tmp_path / f"ops.{suffix}"
    if suffix == "json":
        scenario.write_text('{"ops": [{"op": "buy", "account": "alice", "coins": ' + HUGE + "}]}\n")
    else:
        scenario.write_text('[[ops]]\nop = "buy"\naccount = "alice"\ncoins = ' + HUGE + "\n")
    result = cli("apply", str(scenario))
    assert result.exit_code == 2, result.output
    assert "too long" in result.stderr and len(result.stderr) < 300
    assert not cli.ledger.exists()


def test_a_rates_file_with_a_huge_integer_is_bad_input(cli, tmp_path: Path) -> None:
    rates = tmp_path / "rates.toml"
    rates.write_text("[conversion]\ndiamonds_per_coin = " + HUGE + "\n")
    result = cli("rates", "import", str(rates))
    assert result.exit_code == 2, result.output
    assert len(result.stderr) < 300


def test_a_package_key_of_thousands_of_digits_is_bad_input(cli) -> None:
    result = cli("rates", "set", f"channel.web.package.{HUGE}", "1.00")
    assert result.exit_code == 2, result.output
    assert "is not a package size in coins" in result.stderr and len(result.stderr) < 500
