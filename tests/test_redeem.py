"""coinpurse redeem: diamonds to cash, rounded down, within the minimum and the daily maximum."""

from __future__ import annotations

import pytest

from cli_checks import expect_error, flat, snapshot
from conftest import Cli


@pytest.fixture
def creator(cli: Cli) -> Cli:
    """mia holds 224,995 diamonds ($1,124.975), more than a day's maximum."""
    return cli.made_by(("buy", "bob", "2500000"), ("gift", "bob", "mia", "TikTok Universe", "-n", "5"))


@pytest.fixture
def small_creator(cli: Cli) -> Cli:
    """mia holds 20,001 diamonds: $100.005, one diamond more than $100.00 needs."""
    return cli.made_by(
        ("buy", "bob", "17500"),
        ("buy", "bob", "3500", "--channel", "web"),
        ("gift", "bob", "mia", "interstellar", "-n", "2"),
        ("gift", "bob", "mia", "rose"),
    )


def test_diamonds_become_cash_at_the_payout_rate(small_creator: Cli) -> None:
    paid = small_creator.json("redeem", "mia", "20000")
    assert paid["kind"] == "redeem"
    assert (paid["account"], paid["diamonds"], paid["cash"], paid["currency"]) == ("mia", 20000, "100.00", "USD")
    assert (paid["fee"], paid["net"], paid["kept_diamonds"]) == ("0.00", "100.00", 0)
    assert paid["balance"] == {"account": "mia", "coins": 0, "diamonds": 1}
    assert paid["replayed"] is False
    assert small_creator.json("balance", "mia")["net_cash"] == "100.00"


def test_redeem_all_takes_every_diamond_the_cents_need(creator: Cli) -> None:
    creator.json("redeem", "mia", "160000")  # $800 today; $200 left
    creator.json("gift", "bob", "zoe", "rosa Nebula", "-n", "2")  # 30,000 diamonds for zoe
    paid = creator.json("redeem", "zoe", "--all")
    assert (paid["diamonds"], paid["cash"], paid["kept_diamonds"]) == (30000, "150.00", 0)
    assert creator.json("balance", "zoe")["diamonds"] == 0


@pytest.mark.parametrize("how", [("--all",), ("20001",)])
def test_an_odd_diamond_worth_half_a_cent_stays_in_the_balance(small_creator: Cli, how: tuple[str, ...]) -> None:
    paid = small_creator.json("redeem", "mia", *how)
    assert (paid["diamonds"], paid["cash"], paid["kept_diamonds"]) == (20000, "100.00", 1)
    assert paid["rounding"] == "0.00"
    assert paid["balance"]["diamonds"] == 1
    mia = small_creator.json("balance", "mia")
    assert (mia["diamonds"], mia["diamond_value"]) == (1, "0.005")


def test_names_drop_the_at_sign_and_are_case_insensitive(small_creator: Cli) -> None:
    assert small_creator.json("redeem", "@MIA", "20000")["account"] == "mia"


def test_the_receipt_says_what_was_paid(small_creator: Cli) -> None:
    result = small_creator("redeem", "mia", "20000")
    assert result.exit_code == 0, result.stderr
    assert "mia redeemed 20,000 diamonds for $100.00" in flat(result.stdout)


def test_the_same_id_and_request_replays_and_writes_nothing(small_creator: Cli) -> None:
    first = small_creator.json("redeem", "mia", "20000", "--id", "payout-7")
    before = snapshot(small_creator.ledger)
    again = small_creator.json("redeem", "@mia", "20000", "--id", "payout-7")
    assert snapshot(small_creator.ledger) == before
    assert again["replayed"] is True
    assert {**again, "replayed": False} == first


@pytest.mark.parametrize(
    "other",
    [("redeem", "mia", "20001", "--id", "payout-7"), ("redeem", "mia", "--all", "--id", "payout-7")],
)
def test_the_same_id_for_another_request_is_refused(small_creator: Cli, other: tuple[str, ...]) -> None:
    small_creator.json("redeem", "mia", "20000", "--id", "payout-7")
    expect_error(small_creator, *other, exit_code=1, code="id_conflict", says="id 'payout-7' was already used")


# --- refusals (exit 1) ---------------------------------------------------------------


def test_more_diamonds_than_held_is_refused(small_creator: Cli) -> None:
    expect_error(
        small_creator,
        "redeem",
        "mia",
        "20002",
        exit_code=1,
        code="insufficient_diamonds",
        says="mia has 20001 diamonds; can't redeem 20002",
    )


@pytest.mark.parametrize("who", ["bob", "nobody"])
def test_redeem_all_with_no_diamonds_is_refused(small_creator: Cli, who: str) -> None:
    expect_error(
        small_creator, "redeem", who, "--all", exit_code=1, code="insufficient_diamonds", says=f"{who} has 0 diamonds"
    )


def test_a_payout_under_the_minimum_is_refused(small_creator: Cli) -> None:
    expect_error(
        small_creator,
        "redeem",
        "mia",
        "19999",
        exit_code=1,
        code="below_minimum",
        says="a payout of $99.99 is under the minimum of $100.00",
    )


def test_a_diamond_worth_less_than_a_cent_is_refused(small_creator: Cli) -> None:
    expect_error(small_creator, "redeem", "mia", "1", exit_code=1, code="below_minimum", says="worth less than a cent")


def test_a_payout_past_the_daily_maximum_says_what_is_left_today(creator: Cli) -> None:
    creator.json("redeem", "mia", "180000")  # $900.00
    expect_error(
        creator,
        "redeem",
        "mia",
        "40000",
        exit_code=1,
        code="over_daily_maximum",
        says="a payout of $200.00 would pass the daily maximum of $1,000.00; $100.00 is left for 2026-03-01 (UTC)",
    )
    # Minimum and maximum together: the $100 left today can still be taken.
    assert creator.json("redeem", "mia", "20000")["cash"] == "100.00"
    expect_error(
        creator,
        "redeem",
        "mia",
        "20000",
        exit_code=1,
        code="over_daily_maximum",
        says="$0.00 is left for 2026-03-01 (UTC)",
    )


def test_one_payout_of_exactly_the_daily_maximum_is_allowed(creator: Cli) -> None:
    assert creator.json("redeem", "mia", "200000")["cash"] == "1000.00"


def test_redeem_all_over_the_daily_maximum_is_refused(creator: Cli) -> None:
    expect_error(
        creator,
        "redeem",
        "mia",
        "--all",
        exit_code=1,
        code="over_daily_maximum",
        says="a payout of $1,124.97 would pass the daily maximum of $1,000.00; $1,000.00 is left",
    )


def test_the_daily_maximum_resets_on_the_next_utc_day(creator: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    creator.json("redeem", "mia", "200000")  # the whole of 2026-03-01
    # 00:30 on March 2nd at UTC+2 is still March 1st in UTC.
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-02T00:30:00+02:00")
    expect_error(
        creator,
        "redeem",
        "mia",
        "20000",
        exit_code=1,
        code="over_daily_maximum",
        says="$0.00 is left for 2026-03-01 (UTC)",
    )
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-02T00:00:00Z")
    paid = creator.json("redeem", "mia", "20000")
    assert (paid["cash"], paid["at"]) == ("100.00", "2026-03-02T00:00:00Z")


def test_a_clock_behind_the_ledger_counts_toward_the_last_transactions_day(
    creator: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-02T00:02:00Z")
    creator.json("redeem", "mia", "200000")
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-01T23:59:00Z")  # 3 minutes behind the ledger: stamped 2026-03-02
    expect_error(creator, "redeem", "mia", "20000", exit_code=1, code="over_daily_maximum", says="left for 2026-03-02")


# --- bad input (exit 2) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("diamonds", "says"),
    [
        ("0", "diamonds must be a positive whole number, not 0"),
        ("-20000", "diamonds must be a positive whole number, not -20000"),
        ("100.5", "diamonds must be a whole number, not '100.5'"),
        ("lots", "diamonds must be a whole number, not 'lots'"),
    ],
)
def test_a_non_positive_or_non_integer_amount_is_bad_input(small_creator: Cli, diamonds: str, says: str) -> None:
    expect_error(small_creator, "redeem", "mia", "--", diamonds, exit_code=2, code="bad_input", says=says)


def test_all_together_with_an_amount_is_bad_input(small_creator: Cli) -> None:
    expect_error(
        small_creator,
        "redeem",
        "mia",
        "20000",
        "--all",
        exit_code=2,
        code="bad_input",
        says="give either a number of diamonds or all (--all), not both",
    )


def test_neither_an_amount_nor_all_is_bad_input(small_creator: Cli) -> None:
    expect_error(
        small_creator,
        "redeem",
        "mia",
        exit_code=2,
        code="bad_input",
        says="give a number of diamonds to redeem, or all (--all)",
    )


@pytest.mark.parametrize("name", ["m", "platform:payouts", "mia?", "@"])
def test_an_invalid_name_is_bad_input(small_creator: Cli, name: str) -> None:
    expect_error(small_creator, "redeem", name, "20000", exit_code=2, code="invalid_name", says="invalid account name")
