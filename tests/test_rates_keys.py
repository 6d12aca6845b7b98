"""rates set: each key once, errors naming the key as typed, and hints for unknown keys."""

from __future__ import annotations

import pytest

from cli_checks import expect_error, flat, snapshot
from coinpurse import Ledger
from coinpurse.errors import BadInput
from conftest import Cli


def expect_rates_error(cli: Cli, *args: str, says: str) -> str:
    """``rates set ARGS`` fails with exit 2 (invalid_rates) for people and with --json, changing no byte."""
    import json

    before = snapshot(cli.ledger)
    plain = cli("rates", "set", *args)
    assert plain.exit_code == 2 and plain.stdout == "", (plain.stdout, plain.stderr)
    assert says in flat(plain.stderr), plain.stderr
    machine = cli("rates", "set", "--json", *args)
    error = json.loads(machine.stderr)["error"]
    assert machine.exit_code == 2 and error["code"] == "invalid_rates" and says in error["message"]
    assert snapshot(cli.ledger) == before
    return str(error["message"])


@pytest.fixture
def seeded(cli: Cli) -> Cli:
    return cli.made_by(("buy", "alice", "700"))


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("gift.Rose.coins", "1", "gift.Rose.coins", "2"), "gift.Rose.coins is set twice in one change"),
        (
            ("gift.Rose.coins", "1", "gift.ROSE.coins", "2"),
            "gift.Rose.coins and gift.ROSE.coins are the same rate, set twice",
        ),
        (
            ("channel.web.package.700", "1.00", "channel.web.package.0700", "2.00"),
            "channel.web.package.700 and channel.web.package.0700",
        ),
        (
            ("gift.Rose.coins", "3", "--remove", "gift.rose"),
            "gift.Rose.coins is set and gift.rose removed in one change",
        ),
        (
            ("channel.web.coin_price", "0.02", "--remove", "channel.web"),
            "channel.web.coin_price is set and channel.web removed",
        ),
        (("--remove", "gift.Lion", "--remove", "gift.Lion"), "gift.Lion is removed twice in one change"),
    ],
)
def test_a_key_given_twice_or_set_and_removed_is_refused(seeded: Cli, args: tuple[str, ...], says: str) -> None:
    expect_rates_error(seeded, *args, says=says)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("gift.Rose.coins", "--", "-1"), "gift.Rose.coins must be a positive whole number, not -1"),
        (("gift.rose.coins", "x"), "gift.rose.coins must be a whole number, not 'x'"),
        (("gift.Ice Cream Cone.coins", "0"), "gift.Ice Cream Cone.coins must be a positive whole number"),
        (("gift.Comet.coins", "0"), "gift.Comet.coins must be a positive whole number"),
        (("channel.web.package.700", "0"), "channel.web.package.700 must be positive, not 0"),
        (("channel.app.package.99", "1.999"), "channel.app.package.99 has more than 2 decimal places"),
        (("channel.web.custom_max", "10"), "channel.web: custom_max 10 is below custom_min 30"),
        (("payout.minimum", "abc"), "payout.minimum is not a decimal number: 'abc'"),
        (("conversion.diamonds_per_coin", "0"), "conversion.diamonds_per_coin must be positive"),
    ],
)
def test_an_invalid_value_names_the_key_as_typed(seeded: Cli, args: tuple[str, ...], says: str) -> None:
    message = expect_rates_error(seeded, *args, says=says)
    assert "rates." not in message and "[" not in message


def test_an_unknown_key_suggests_the_keys_it_may_mean(seeded: Cli) -> None:
    expect_rates_error(seeded, "payout.minimun", "50", says="(did you mean payout.minimum?)")
    expect_rates_error(seeded, "gift.Rose.cons", "5", says="(did you mean gift.Rose.coins?)")
    expect_rates_error(seeded, "--remove", "gift.Lino", says="(did you mean Lion?)")
    expect_rates_error(seeded, "channel.wbe.coin_price", "0.01", says="(did you mean web?)")


def test_the_library_refuses_pairs_with_a_key_twice_and_takes_a_mapping() -> None:
    ledger = Ledger.memory()
    with pytest.raises(BadInput, match="set twice"):
        ledger.rates_set([("gift.Rose.coins", "2"), ("gift.Rose.coins", "3")])
    assert (
        ledger.rates_set([("gift.Rose.coins", "2"), ("gift.Lion.coins", "3")]).to_dict()["changes"][0]["key"]
        == "gift.Rose.coins"
    )
    assert ledger.rates_set({"gift.Rose.coins": "4"}).to_dict()["changes"][0]["to"] == 4


def test_a_scenario_rates_op_with_a_list_value_says_so_without_python_text(seeded: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    scenario = tmp_path / "s.json"
    scenario.write_text('{"ops": [{"kind": "rates", "set": {"gift.Rose.coins": [1, 2]}}]}')
    error = expect_error(
        seeded,
        "apply",
        str(scenario),
        exit_code=2,
        code="invalid_rates",
        says="gift.Rose.coins: the value must be a whole number or a decimal string, not a list",
    )
    assert "[1" not in error["message"]
