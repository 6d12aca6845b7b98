"""coinpurse rates: packages, custom prices, gifts, conversion, payout rules and the creator's share."""

from __future__ import annotations

from cli_checks import expect_usage_error, flat
from conftest import Cli


def test_the_default_rates(cli: Cli) -> None:
    rates = cli.json("rates")
    assert rates["currency"] == "USD"
    app = [p for p in rates["packages"] if p["channel"] == "app"]
    web = [p for p in rates["packages"] if p["channel"] == "web"]
    assert [(p["coins"], p["price"]) for p in app] == [
        (70, "0.99"), (350, "4.99"), (700, "9.99"), (1400, "19.99"),
        (3500, "49.99"), (7000, "99.99"), (17500, "249.99"),
    ]  # fmt: skip
    assert [(p["coins"], p["price"]) for p in web][:3] == [(70, "0.74"), (350, "3.74"), (700, "7.49")]
    assert len(rates["gifts"]) == 39
    assert rates["gifts"][0] == {"name": "Rose", "coins": 1}
    assert rates["gifts"][-1] == {"name": "TikTok Universe", "coins": 44999}
    assert rates["conversion"] == {"diamonds_per_coin": "1"}
    assert rates["payout"] == {
        "cash_per_diamond": "0.005",
        "minimum": "100.00",
        "daily_maximum": "1000.00",
        "fee_percent": "0",
        "review_days": 15,
    }
    channels = {c["name"]: c for c in rates["channels"]}
    assert channels["app"]["coin_price"] == "0.0143"
    assert (channels["web"]["custom_min"], channels["web"]["custom_max"]) == (30, 2500000)
    assert channels["app"]["creator_share"] == "0.3497"  # 0.005 / 0.0143
    assert channels["web"]["creator_share"] == "0.4717"


def test_money_in_rates_is_always_a_string(cli: Cli) -> None:
    def walk(value: object) -> None:
        assert not isinstance(value, float)
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(cli.json("rates"))


def test_the_platform_take_is_shown(cli: Cli) -> None:
    cli.json("buy", "alice", "700")
    cli.json("gift", "alice", "mia", "rose", "-n", "5")
    platform = cli.json("rates")["platform"]
    assert platform["platform:revenue"]["cash"] == "9.99"
    assert platform["platform:coin-issue"]["coins"] == -695


def test_a_missing_ledger_shows_the_defaults_and_is_not_created(cli: Cli) -> None:
    assert cli.json("rates")["platform"] == {}
    assert not cli.ledger.exists()


def test_the_table_for_people(cli: Cli) -> None:
    result = cli("rates")
    assert result.exit_code == 0, result.stderr
    text = flat(result.stdout)
    for expected in ("Coin packages", "$249.99", "Custom amounts", "Gift catalog", "TikTok Universe", "35.0%"):
        assert expected in text
    assert not cli.ledger.exists()


def test_rates_takes_no_argument_but_a_subcommand(cli: Cli) -> None:
    expect_usage_error(cli, "rates", "app", says="No such command")
