"""coinpurse buy: packages, custom amounts, names, ids, the clock, and every way it says no."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_checks import expect_error, flat, snapshot
from conftest import Cli

APP_PACKAGES = [
    ("70", "0.99"),
    ("350", "4.99"),
    ("700", "9.99"),
    ("1400", "19.99"),
    ("3500", "49.99"),
    ("7000", "99.99"),
    ("17500", "249.99"),
]


def test_a_package_costs_its_price_and_creates_the_ledger(cli: Cli) -> None:
    assert not cli.ledger.exists()
    bought = cli.json("buy", "alice", "700")
    assert bought["id"] == "tx-1"
    assert bought["kind"] == "buy"
    assert bought["account"] == "alice"
    assert (bought["coins"], bought["price"], bought["currency"]) == (700, "9.99", "USD")
    assert bought["channel"] == "app"
    assert bought["package"] is True
    assert bought["replayed"] is False
    assert bought["balance"] == {"account": "alice", "coins": 700, "diamonds": 0}
    assert cli.ledger.is_file()


@pytest.mark.parametrize(("coins", "price"), APP_PACKAGES)
def test_every_app_package_matches_rates(cli: Cli, coins: str, price: str) -> None:
    assert cli.json("buy", "alice", coins)["price"] == price
    listed = cli.json("rates")["packages"]
    assert {"channel": "app", "coins": int(coins), "price": price} in [
        {key: p[key] for key in ("channel", "coins", "price")} for p in listed
    ]


def test_web_packages_are_a_quarter_cheaper(cli: Cli) -> None:
    assert cli.json("buy", "bob", "70", "--channel", "web")["price"] == "0.74"
    assert cli.json("buy", "bob", "3500", "--channel", "web")["price"] == "37.49"
    assert cli.json("buy", "bob", "3500", "--channel", "WEB")["channel"] == "web"


@pytest.mark.parametrize(
    ("coins", "channel", "price"),
    [
        ("100", "app", "1.43"),  # 100 × 0.0143
        ("100", "web", "1.06"),  # 100 × 0.0106
        ("1001", "app", "14.31"),  # 14.3143, to the cent
        ("30", "app", "0.43"),  # the smallest custom amount: 0.429
        ("2500000", "app", "35750.00"),  # the largest
        ("2500000", "web", "26500.00"),
    ],
)
def test_a_custom_amount_costs_the_channel_per_coin_price(cli: Cli, coins: str, channel: str, price: str) -> None:
    bought = cli.json("buy", "alice", coins, "--channel", channel)
    assert bought["price"] == price
    assert bought["package"] is False
    assert bought["balance"]["coins"] == int(coins)


def test_purchases_add_up_in_the_balance(cli: Cli) -> None:
    cli.json("buy", "alice", "700")
    second = cli.json("buy", "alice", "100")
    assert second["id"] == "tx-2"
    assert second["balance"]["coins"] == 800
    assert cli.json("balance", "alice")["net_cash"] == "-11.42"


@pytest.mark.parametrize("written", ["@alice", "Alice", "@ALICE", "  alice  "])
def test_names_drop_the_at_sign_and_are_case_insensitive(cli: Cli, written: str) -> None:
    cli.json("buy", "alice", "70")
    assert cli.json("buy", written, "70")["account"] == "alice"
    assert [a["account"] for a in cli.json("balance")["accounts"]] == ["alice"]
    assert cli.json("balance", "alice")["coins"] == 140


def test_thousands_separators_are_read_as_whole_numbers(cli: Cli) -> None:
    assert cli.json("buy", "alice", "17,500")["price"] == "249.99"
    assert cli.json("buy", "alice", "1_400")["price"] == "19.99"


@pytest.mark.parametrize("coins", ["17_500", " 17500 "])
def test_underscores_group_digits_too(cli: Cli, coins: str) -> None:
    assert cli.json("buy", "alice", coins)["coins"] == 17500


@pytest.mark.parametrize("coins", ["1,4,0,0", "17,50", "١٤٠٠", "１４００", "1_", "_1", "1__400", "+700", "0x2bc"])
def test_only_ascii_digits_in_plain_groups_are_numbers(cli: Cli, coins: str) -> None:
    expect_error(cli, "buy", "alice", coins, exit_code=2, code="bad_input", says="coins must be a whole number")


def test_the_receipt_says_who_paid_what(cli: Cli) -> None:
    result = cli("buy", "alice", "700")
    assert result.exit_code == 0, result.stderr
    assert "alice paid $9.99 on app for 700 coins (package)" in flat(result.stdout)
    assert result.stderr == ""


def test_missing_parent_folders_are_created(tmp_path: Path) -> None:
    nested = Cli(tmp_path / "a" / "b" / "ledger.toml")
    assert nested.json("buy", "alice", "70")["price"] == "0.99"
    assert nested.ledger.is_file()


# --- ids and the clock ---------------------------------------------------------------


def test_the_same_id_and_request_replays_and_writes_nothing(cli: Cli) -> None:
    first = cli.json("buy", "alice", "700", "--id", "order-1")
    before = snapshot(cli.ledger)
    again = cli.json("buy", "@Alice", "700", "--id", "order-1")
    assert snapshot(cli.ledger) == before
    assert again["replayed"] is True
    assert {**again, "replayed": False} == first
    assert cli.json("balance", "alice")["coins"] == 700


@pytest.mark.parametrize(
    "other",
    [
        ("buy", "alice", "1400", "--id", "order-1"),
        ("buy", "bob", "700", "--id", "order-1"),
        ("buy", "alice", "700", "--channel", "web", "--id", "order-1"),
        ("gift", "alice", "mia", "rose", "--id", "order-1"),
        ("redeem", "alice", "5", "--id", "order-1"),
    ],
)
def test_the_same_id_for_another_request_is_refused(cli: Cli, other: tuple[str, ...]) -> None:
    cli.json("buy", "alice", "700", "--id", "order-1")
    expect_error(
        cli, *other, exit_code=1, code="id_conflict", says="id 'order-1' was already used for a different request"
    )


@pytest.mark.parametrize("bad_id", ["bad id", "-x", "x" * 65, "é"])
def test_an_invalid_id_is_bad_input(cli: Cli, bad_id: str) -> None:
    expect_error(cli, "buy", "alice", "700", "--id", bad_id, exit_code=2, code="invalid_id", says="invalid id")


def test_the_clock_comes_from_coinpurse_now(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli.json("buy", "alice", "70")["at"] == "2026-03-01T12:00:00Z"
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-02T08:30:00+02:00")
    assert cli.json("buy", "alice", "70")["at"] == "2026-03-02T06:30:00Z"


def test_a_clock_a_little_behind_the_ledger_takes_the_last_transactions_time(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-05T10:00:00Z")
    cli.json("buy", "alice", "70")
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-05T09:56:00Z")  # within the 300 s tolerance
    assert cli.json("buy", "alice", "70")["at"] == "2026-03-05T10:00:00Z"
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-06T00:00:00Z")
    assert cli.json("buy", "alice", "70")["at"] == "2026-03-06T00:00:00Z"
    times = [tx["at"] for tx in cli.json("history")["transactions"]]
    assert times == sorted(times)


def test_an_unreadable_clock_is_bad_input(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINPURSE_NOW", "yesterday")
    expect_error(cli, "buy", "alice", "70", exit_code=2, code="bad_input", says="COINPURSE_NOW is not an ISO 8601 time")
    assert not cli.ledger.exists()


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("coins", "says"),
    [
        ("0", "coins must be a positive whole number, not 0"),
        ("-5", "coins must be a positive whole number, not -5"),
        ("1.5", "coins must be a whole number, not '1.5'"),
        ("abc", "coins must be a whole number, not 'abc'"),
        ("7e2", "coins must be a whole number"),
        ("", "coins must be a whole number"),
    ],
)
def test_a_non_positive_or_non_integer_amount_is_bad_input(cli: Cli, coins: str, says: str) -> None:
    cli.json("buy", "alice", "700")
    expect_error(cli, "buy", "alice", "--", coins, exit_code=2, code="bad_input", says=says)


def test_bad_input_on_a_missing_ledger_creates_nothing(cli: Cli) -> None:
    expect_error(cli, "buy", "alice", "0", exit_code=2, code="bad_input", says="positive whole number")
    assert not cli.ledger.exists()


@pytest.mark.parametrize(
    ("coins", "channel"),
    [("10", "app"), ("29", "web"), ("2500001", "app"), ("99999999", "web")],
)
def test_a_custom_amount_outside_the_bounds_is_bad_input(cli: Cli, coins: str, channel: str) -> None:
    cli.json("buy", "alice", "700")
    expect_error(
        cli,
        "buy",
        "alice",
        coins,
        "--channel",
        channel,
        exit_code=2,
        code="amount_out_of_bounds",
        says=f"is not a package on {channel}, where custom amounts are 30 to 2500000 coins",
    )


def test_an_unknown_channel_is_bad_input(cli: Cli) -> None:
    cli.json("buy", "alice", "700")
    expect_error(
        cli, "buy", "alice", "700", "--channel", "tv", exit_code=2, code="unknown_channel", says="unknown channel 'tv'"
    )


@pytest.mark.parametrize(
    "name",
    ["a", "@", "x" * 25, "al ice", "bob!", "al-ice", "ålice", "platform:revenue", "platform:coin-issue", "@@alice"],
)
def test_an_invalid_name_is_bad_input(cli: Cli, name: str) -> None:
    cli.json("buy", "alice", "700")
    expect_error(cli, "buy", name, "700", exit_code=2, code="invalid_name", says="invalid account name")


def test_the_longest_and_shortest_names_are_valid(cli: Cli) -> None:
    assert cli.json("buy", "x" * 24, "70")["account"] == "x" * 24
    assert cli.json("buy", "a.", "70")["account"] == "a."
    assert cli.json("buy", "_9", "70")["account"] == "_9"


def test_error_message_is_one_json_object(cli: Cli) -> None:
    result = cli("buy", "alice", "0", "--json")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert json.loads(result.stderr)["error"]["code"] == "bad_input"
