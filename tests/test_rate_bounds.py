"""Rates are bounded in places and size, so the rules' money arithmetic stays exact."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest

from coinpurse.core.money import RATE_PLACES


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("payout.cash_per_diamond", "1e-999999", "payout.cash_per_diamond has more than 8 decimal places"),
        ("payout.cash_per_diamond", "0.00500000000000000000000000001", "has more than 8 decimal places"),
        ("conversion.diamonds_per_coin", "0.123456789", "conversion.diamonds_per_coin has more than 8"),
        ("channel.web.coin_price", "1E+6", "channel.web.coin_price must be below 1000000"),
        ("payout.fee_percent", "1.000000001", "payout.fee_percent has more than 8 decimal places"),
    ],
)
def test_a_rate_beyond_the_caps_is_bad_input_naming_the_key(cli, key: str, value: str, says: str) -> None:
    cli("buy", "alice", "700")
    before = cli.ledger.read_bytes()
    result = cli("rates", "set", key, value)
    assert result.exit_code == 2, result.stdout
    assert says in result.stderr
    assert len(result.stderr) < 400
    assert cli.ledger.read_bytes() == before


def test_a_channel_whose_largest_custom_buy_costs_too_much_is_refused(cli) -> None:
    result = cli("rates", "set", "channel.web.coin_price", "999999.99999999", "channel.web.custom_max", str(10**15 - 1))
    assert result.exit_code == 2
    assert "channel.web: custom_max 999999999999999 coins at 999999.99999999 each would cost over" in result.stderr


def test_the_largest_rate_times_the_largest_count_is_exact(cli) -> None:
    largest_rate = "0.99999999"  # the most places; larger rates put this gift's value past a ledger's limit
    assert len(largest_rate.split(".")[1]) == RATE_PLACES
    largest_count = 10**15 - 1
    changed = cli(
        "rates", "set", "channel.web.coin_price", "0.00000001", "channel.web.custom_max", str(largest_count),
        "gift.Everything.coins", str(largest_count), "payout.cash_per_diamond", largest_rate,
    )  # fmt: skip
    assert changed.exit_code == 0, changed.stderr
    assert cli("buy", "alice", str(largest_count), "--channel", "web").exit_code == 0
    sent = cli.json("gift", "alice", "bob", "Everything")
    with localcontext() as wide:
        wide.prec = 100
        expected = Decimal(largest_rate) * largest_count
    assert Decimal(sent["diamond_value"]) == expected
    checked = cli("verify")
    assert checked.exit_code == 0, checked.stderr


def test_creator_shares_at_the_largest_rates_need_more_than_28_digits(cli) -> None:
    changed = cli(
        "rates", "set", "channel.app.package.999999999999999", "0.01",
        "conversion.diamonds_per_coin", "999999.99999999", "payout.cash_per_diamond", "999999.99999999",
    )  # fmt: skip
    assert changed.exit_code == 0, changed.stderr
    shown = cli.json("rates")
    share = next(p["creator_share"] for p in shown["packages"] if p["coins"] == 999999999999999)
    with localcontext() as wide:
        wide.prec = 100
        expected = (999999999999999 * Decimal("999999.99999999") ** 2 / Decimal("0.01")).quantize(Decimal("0.0001"))
    assert Decimal(share) == expected
