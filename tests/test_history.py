"""coinpurse history: transactions newest last, by account, by kind, the last N."""

from __future__ import annotations

import pytest

from cli_checks import expect_error, expect_usage_error, flat
from conftest import Cli


@pytest.fixture
def economy(cli: Cli) -> Cli:
    return cli.made_by(
        ("buy", "alice", "700"),  # tx-1
        ("buy", "bob", "17500"),  # tx-2
        ("gift", "alice", "mia", "rose", "-n", "5"),  # tx-3
        ("buy", "bob", "3500", "--channel", "web"),  # tx-4
        ("gift", "bob", "mia", "interstellar", "-n", "2"),  # tx-5
        ("redeem", "mia", "20000"),  # tx-6
    )


def _ids(cli: Cli, *args: str) -> list[str]:
    return [tx["id"] for tx in cli.json("history", *args)["transactions"]]


def test_all_transactions_newest_last(economy: Cli) -> None:
    listed = economy.json("history")["transactions"]
    assert [tx["id"] for tx in listed] == [f"tx-{n}" for n in range(1, 7)]
    assert [tx["kind"] for tx in listed] == ["buy", "buy", "gift", "buy", "gift", "redeem"]
    first = listed[0]
    assert first["at"] == "2026-03-01T12:00:00Z"
    assert {"id", "kind", "at", "request", "rates", "postings", "details", "after", "hash"} <= set(first)


def test_an_account_sees_the_transactions_that_touch_it(economy: Cli) -> None:
    assert _ids(economy, "mia") == ["tx-3", "tx-5", "tx-6"]
    assert _ids(economy, "@ALICE") == ["tx-1", "tx-3"]


def test_kind_and_limit_filter(economy: Cli) -> None:
    assert _ids(economy, "--kind", "buy") == ["tx-1", "tx-2", "tx-4"]
    assert _ids(economy, "--kind", "redeem") == ["tx-6"]
    assert _ids(economy, "--limit", "2") == ["tx-5", "tx-6"]
    assert _ids(economy, "bob", "--kind", "buy", "--limit", "1") == ["tx-4"]
    assert _ids(economy, "--limit", "100") == [f"tx-{n}" for n in range(1, 7)]


def test_every_transaction_balances_per_commodity(economy: Cli) -> None:
    from decimal import Decimal

    for tx in economy.json("history")["transactions"]:
        sums: dict[str, Decimal] = {}
        for posting in tx["postings"]:
            assert not isinstance(posting["amount"], float)
            sums[posting["commodity"]] = sums.get(posting["commodity"], Decimal()) + Decimal(str(posting["amount"]))
        assert all(total == 0 for total in sums.values()), (tx["id"], sums)


def test_the_table_tells_what_happened(economy: Cli) -> None:
    result = economy("history", "mia", "--limit", "1")
    assert result.exit_code == 0, result.stderr
    text = flat(result.stdout)
    assert "tx-6" in text and "redeem" in text
    assert "tx-5" not in text


def test_a_missing_ledger_has_no_history_and_is_not_created(cli: Cli) -> None:
    assert cli.json("history") == {"transactions": []}
    assert cli.json("history", "--kind", "gift") == {"transactions": []}
    result = cli("history")
    assert result.exit_code == 0
    assert "No transactions" in result.stdout
    assert not cli.ledger.exists()
    assert not cli.ledger.with_name(cli.ledger.name + ".lock").exists()


def test_an_unknown_account_names_it_and_suggests_close_names(economy: Cli) -> None:
    expect_error(
        economy,
        "history",
        "mai",
        exit_code=2,
        code="unknown_account",
        says="no account 'mai' in this ledger (did you mean mia?)",
    )


def test_an_account_on_a_missing_ledger_has_no_history(cli: Cli) -> None:
    result = cli("history", "alice")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "No transactions.\n"
    assert not cli.ledger.exists()


@pytest.mark.parametrize("name", ["m", "platform:payouts", "@"])
def test_an_invalid_name_is_bad_input(economy: Cli, name: str) -> None:
    expect_error(economy, "history", name, exit_code=2, code="invalid_name", says="invalid account name")


def test_an_unknown_kind_is_bad_input(economy: Cli) -> None:
    expect_error(
        economy,
        "history",
        "--kind",
        "airdrop",
        exit_code=2,
        code="unknown_kind",
        says="unknown kind 'airdrop': the kinds are buy, gift, redeem, rates, reversal, refund",
    )


@pytest.mark.parametrize("limit", ["0", "-1", "two", "1.5"])
def test_a_limit_that_is_not_a_positive_whole_number_is_a_usage_error(economy: Cli, limit: str) -> None:
    expect_usage_error(economy, "history", f"--limit={limit}", says="Invalid value for '--limit'")


def test_kind_is_case_insensitive(cli) -> None:
    cli("buy", "alice", "700")
    cli("gift", "alice", "bob", "Rose")
    shown = cli.json("history", "--kind", "BUY")
    assert [tx["kind"] for tx in shown["transactions"]] == ["buy"]
