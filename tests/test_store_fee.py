"""A channel's app-store fee: a rates key (channel.CHANNEL.store_fee_percent) each buy records, and old ledgers."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from cli_checks import expect_error
from conftest import Cli

BEFORE_THE_KEY = Path(__file__).parent / "fixtures" / "ledger-before-store-fees.json"  # tests/golden as it was


def _buy_rates(cli: Cli, tx_id: str) -> dict[str, object]:
    rates: dict[str, object] = next(tx for tx in cli.json("history")["transactions"] if tx["id"] == tx_id)["rates"]
    return rates


def test_the_defaults_set_the_apps_store_fee_and_none_on_the_web(cli: Cli) -> None:
    channels = {c["name"]: c for c in cli.json("rates")["channels"]}
    # The web sells the app's coins about 25% cheaper because no store takes a fee there.
    assert channels["app"]["store_fee_percent"] == "25"
    assert channels["web"]["store_fee_percent"] == "0"
    shown = cli("rates")
    assert shown.exit_code == 0 and "store fee" in shown.stdout and "25%" in shown.stdout


def test_a_buy_records_the_store_fee_in_force(cli: Cli) -> None:
    assert cli("buy", "alice", "700").exit_code == 0
    assert cli("buy", "alice", "123", "--channel", "web").exit_code == 0
    assert cli("rates", "set", "channel.app.store_fee_percent", "30").exit_code == 0
    assert cli("buy", "alice", "70").exit_code == 0
    assert _buy_rates(cli, "tx-1")["store_fee_percent"] == "25"
    assert _buy_rates(cli, "tx-2")["store_fee_percent"] == "0"
    assert _buy_rates(cli, "tx-4")["store_fee_percent"] == "30"
    assert cli("verify").exit_code == 0


def test_removing_the_key_makes_later_buys_record_none(cli: Cli) -> None:
    changed = cli.json("rates", "set", "--remove", "channel.app.store_fee_percent")
    assert {"key": "channel.app.store_fee_percent", "from": "25", "to": None} in changed["changes"]
    assert cli("buy", "alice", "700").exit_code == 0
    assert "store_fee_percent" not in _buy_rates(cli, "tx-2")
    assert "name no app-store fee" in " ".join(cli.json("explain", "tx-2")["notes"])
    assert cli.json("rates")["channels"][0]["store_fee_percent"] is None
    expect_error(
        cli, "rates", "set", "--remove", "channel.app.store_fee_percent",
        exit_code=2, code="invalid_rates", says="it is not set",
    )  # fmt: skip
    assert cli("rates", "set", "channel.app.store_fee_percent", "25").exit_code == 0
    assert cli("verify").exit_code == 0


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("100", "channel.app.store_fee_percent must be from 0 to under 100"),
        ("-1", "channel.app.store_fee_percent must be from 0 to under 100"),
        ("thirty", "channel.app.store_fee_percent is not a decimal number"),
        ("0.000000001", "channel.app.store_fee_percent has more than 8 decimal places"),
    ],
)
def test_a_store_fee_out_of_bounds_is_refused_naming_the_key(cli: Cli, value: str, says: str) -> None:
    assert cli("buy", "alice", "700").exit_code == 0
    expect_error(
        cli, "rates", "set", "channel.app.store_fee_percent", "--", value, exit_code=2, code="invalid_rates", says=says
    )


def test_the_store_fee_goes_through_a_rates_file_and_back(cli: Cli, tmp_path: Path) -> None:
    assert (
        cli(
            "rates", "set", "channel.app.store_fee_percent", "15", "--remove", "channel.web.store_fee_percent"
        ).exit_code
        == 0
    )
    exported = tmp_path / "rates.toml"
    assert cli("rates", "export", str(exported)).exit_code == 0
    text = exported.read_text()
    assert 'store_fee_percent = "15"' in text and '# store_fee_percent = "0"' in text
    other = Cli(tmp_path / "other.json")
    assert other("rates", "import", str(exported)).exit_code == 0
    channels = {c["name"]: c for c in other.json("rates")["channels"]}
    assert (channels["app"]["store_fee_percent"], channels["web"]["store_fee_percent"]) == ("15", None)
    as_json = tmp_path / "rates.json"
    assert cli("rates", "export", str(as_json)).exit_code == 0
    assert json.loads(as_json.read_text())["channels"]["app"]["store_fee_percent"] == "15"


def test_a_scenario_sets_the_store_fee_and_its_buys_record_it(cli: Cli, tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.json"
    ops = [
        {"kind": "rates", "set": {"channel.app.store_fee_percent": "15"}},
        {"kind": "buy", "account": "alice", "coins": 700, "channel": "app"},
    ]
    scenario.write_text(json.dumps({"ops": ops}))
    assert cli("apply", str(scenario)).exit_code == 0
    assert _buy_rates(cli, "tx-2")["store_fee_percent"] == "15"
    steps = {step["label"]: step for step in cli.json("explain", "tx-2")["steps"]}
    fee = {f["name"]: f["amount"] for f in steps["the app store's fee on app, rounded half up to the cent"]["figures"]}
    assert (fee["price × fee percent"], fee["rounding"], fee["fee"]) == ("1.4985", "0.0015", "1.50")
    assert cli("verify").exit_code == 0


def test_the_key_completes(cli: Cli) -> None:
    from test_completion import bash

    assert cli("buy", "alice", "700").exit_code == 0
    line = f"coinpurse --ledger {cli.ledger} rates set"
    assert bash(f"{line} channel.app.s") == ["channel.app.store_fee_percent"]
    assert bash(f"{line} --remove channel.app.s") == ["channel.app.store_fee_percent"]


def test_a_ledger_made_before_the_key_verifies_and_keeps_explaining_not_recorded(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.json"
    shutil.copy(BEFORE_THE_KEY, ledger)
    cli = Cli(ledger)
    assert cli("verify").exit_code == 0
    assert cli.json("rates")["channels"][0]["store_fee_percent"] is None  # never a default guessed in
    gift = cli.json("explain", "tx-3")  # its coins came from buy order-1, which recorded no store fee
    assert gift["adds_up"] and not any("store" in step["label"] for step in gift["steps"])
    assert any("recorded no app-store fee" in note for note in gift["notes"])
    assert cli("buy", "dora", "700").exit_code == 0  # a new buy under those rates records none either
    assert "store_fee_percent" not in _buy_rates(cli, "tx-19")
    assert cli("verify").exit_code == 0
    totals = cli.json("report")["totals"]  # 7 buys recorded no store fee: none is guessed for them
    assert (totals["store_fees"], totals["store_fee_unrecorded_buys"]) == ("0.00", 7)
    assert totals["kept_after_store_fees"] == totals["kept"]


def test_verify_names_a_buy_whose_recorded_store_fee_was_not_in_force() -> None:
    from coinpurse.core.kinds import BuyRates, BuyRecord
    from coinpurse.core.rates import default_rates
    from coinpurse.core.verify import REPLAYERS

    rates = default_rates()
    made = BuyRecord.from_dicts(
        {"account": "alice", "coins": 700, "channel": "app"},
        {"channel": "app", "package": {"coins": 700, "price": "9.99"}, "store_fee_percent": "25"},
        {"price": "9.99", "package": True},
    )
    problem = REPLAYERS["buy"].rates_problem
    assert problem(made, rates, "2026-03-01T12:00:00Z") is None
    wrong = made._replace(rates=made.rates._replace(store_fee_percent=Decimal(30)))
    assert problem(wrong, rates, "2026-03-01T12:00:00Z") == (
        "it records a store fee of 30%, but app's at 2026-03-01T12:00:00Z was 25%"
    )
    none = made._replace(rates=BuyRates("app", made.rates.package, None))
    assert "a store fee of none" in str(problem(none, rates, "2026-03-01T12:00:00Z"))
