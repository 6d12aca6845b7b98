"""coinpurse balance: one account, or every user with totals; a missing ledger is an empty economy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_checks import expect_error, flat
from conftest import Cli, files_beside


@pytest.fixture
def economy(cli: Cli) -> Cli:
    return cli.made_by(
        ("buy", "zoe", "70"),
        ("buy", "alice", "700"),
        ("gift", "alice", "mia", "rose", "-n", "5"),
    )


def test_one_account_shows_coins_diamonds_and_their_exact_value(economy: Cli) -> None:
    mia = economy.json("balance", "mia")
    assert mia == {
        "account": "mia",
        "coins": 0,
        "diamonds": 5,
        "diamond_value": "0.025",
        "coin_cost": "0.00",
        "net_cash": "0.00",
        "currency": "USD",
        "pending_diamonds": 0,
        "total_diamonds": 5,
    }
    alice = economy.json("balance", "alice")
    assert (alice["coins"], alice["diamonds"], alice["net_cash"]) == (695, 0, "-9.99")
    assert alice["coin_cost"] == "9.919"  # 9.99 less the 0.071 the five Roses cost


@pytest.mark.parametrize("written", ["@mia", "MIA", "@Mia"])
def test_names_drop_the_at_sign_and_are_case_insensitive(economy: Cli, written: str) -> None:
    assert economy.json("balance", written)["account"] == "mia"


def test_every_user_sorted_by_name_with_totals_and_no_platform_accounts(economy: Cli) -> None:
    every = economy.json("balance")
    assert [a["account"] for a in every["accounts"]] == ["alice", "mia", "zoe"]
    assert every["totals"] == {
        "coins": 765,
        "diamonds": 5,
        "diamond_value": "0.025",
        "pending_diamonds": 0,
        "total_diamonds": 5,
    }
    assert every["currency"] == "USD"
    assert every["accounts"][1] == economy.json("balance", "mia")


def test_the_table_lists_users_and_totals(economy: Cli) -> None:
    result = economy("balance")
    assert result.exit_code == 0, result.stderr
    text = flat(result.stdout)
    for expected in ("alice", "mia", "zoe", "total", "765", "$0.025"):
        assert expected in text
    assert "platform:" not in text
    single = economy("balance", "alice")
    assert single.exit_code == 0
    assert "695" in single.stdout


def test_a_missing_ledger_is_an_empty_economy_and_is_not_created(cli: Cli) -> None:
    every = cli.json("balance")
    assert every["accounts"] == []
    assert every["totals"] == {
        "coins": 0,
        "diamonds": 0,
        "diamond_value": "0.00",
        "pending_diamonds": 0,
        "total_diamonds": 0,
    }
    result = cli("balance")
    assert result.exit_code == 0
    assert "No accounts yet" in result.stdout
    assert not cli.ledger.exists()
    assert not cli.ledger.with_name(cli.ledger.name + ".lock").exists()


def test_an_account_on_a_missing_ledger_reads_as_empty_and_nothing_is_created(cli: Cli) -> None:
    result = cli("balance", "alice", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["coins"] == 0 and json.loads(result.stdout)["diamonds"] == 0
    assert not cli.ledger.exists() and files_beside(cli.ledger) == []


def test_an_unknown_account_names_it_and_suggests_close_names(economy: Cli) -> None:
    expect_error(
        economy,
        "balance",
        "mai",
        exit_code=2,
        code="unknown_account",
        says="no account 'mai' in this ledger (did you mean mia?)",
    )
    expect_error(economy, "balance", "@Alicia", exit_code=2, code="unknown_account", says="(did you mean alice?)")


def test_an_unknown_account_with_no_close_name_gets_no_suggestion(economy: Cli) -> None:
    error = expect_error(economy, "balance", "qqqqqq", exit_code=2, code="unknown_account", says="no account 'qqqqqq'")
    assert "did you mean" not in error["message"]


@pytest.mark.parametrize("name", ["m", "platform:revenue", "platform:coin-issue", "mia mia", "@"])
def test_an_invalid_name_is_bad_input(economy: Cli, name: str) -> None:
    expect_error(economy, "balance", name, exit_code=2, code="invalid_name", says="invalid account name")


def test_every_balance_shows_the_coin_cost_of_each_account_as_its_own_balance_does(ledger: Path) -> None:
    # ``balance`` of every account sums the lots' costs without making them (Book.coin_costs)
    from coinpurse import Ledger

    handle = Ledger(ledger)
    handle.buy("alice", 700, channel="web")
    handle.buy("alice", 70)
    handle.buy("bob", 350)
    handle.gift("alice", "mia", "rose", count=3)
    every = {row["account"]: row for row in handle.balances().to_dict()["accounts"]}
    for name in ("alice", "bob", "mia"):
        assert every[name] == handle.balance(name).to_dict()
    assert every["alice"]["coin_cost"] != "0.00"


@pytest.mark.parametrize("columns", ["", "80", "30"])
def test_a_long_table_of_balances_is_drawn_as_rich_draws_it(
    columns: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # From render.PLAIN_TABLE_ROWS rows the table is laid out without rich: the same text, or rich's when too wide
    from decimal import Decimal

    from coinpurse.cli import render
    from coinpurse.core.model import AccountState
    from coinpurse.core.rates import default_rates
    from coinpurse.results import AccountBalance, Balances

    monkeypatch.setenv("COLUMNS", columns)
    rates = default_rates()
    for pending in (0, 40):
        rows = [
            AccountBalance("alice", AccountState(1_234_567, 0, Decimal("-99.99")), rates, "USD"),
            AccountBalance("mia", AccountState(0, 12_345, Decimal("0")), rates, "USD", pending, 3),
            AccountBalance("zoe_the_very_long_handle", AccountState(5, -7, Decimal("0")), rates, "USD"),
        ]
        drawn = []
        for threshold in (10**9, 0):
            monkeypatch.setattr(render, "PLAIN_TABLE_ROWS", threshold)
            render.show_balances(Balances(rows, "USD"))
            drawn.append(capsys.readouterr().out)
        assert drawn[0] == drawn[1]
        if columns != "30":  # too narrow: rich's table, its cells cut
            assert "zoe_the_very_long_handle (owed)" in drawn[1]
            assert ("pending" in drawn[1]) == bool(pending)
