"""Rates that operators change: `rates set`, `rates export`/`import`, `init`, and the history of changes."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from coinpurse.core.rates import default_rates, rates_from_dict
from coinpurse.core.rates_edit import diff, edited
from coinpurse.formats.rates_toml import rates_to_toml


def test_set_changes_a_gift_price_and_records_from_and_to(cli) -> None:
    change = cli.json("rates", "set", "gift.Rose.coins", "2")
    assert change["changed"] is True
    assert change["changes"] == [{"key": "gift.Rose.coins", "from": 1, "to": 2}]
    assert {"name": "Rose", "coins": 2} in cli.json("rates")["gifts"]
    listed = cli.json("history", "--kind", "rates")["transactions"]
    assert [tx["id"] for tx in listed] == [change["id"]]
    assert listed[0]["postings"] == []
    assert listed[0]["details"] == {"source": "set", "changes": change["changes"]}


def test_earlier_transactions_keep_the_rates_they_were_made_at(cli) -> None:
    cli("buy", "alice", "700")
    first = cli.json("gift", "alice", "mia", "rose", "--id", "g-1")
    cli("rates", "set", "gift.Rose.coins", "3", "payout.cash_per_diamond", "0.004")
    second = cli.json("gift", "alice", "mia", "rose")
    assert (first["coins"], second["coins"]) == (1, 3)
    gifts = cli.json("history", "--kind", "gift")["transactions"]
    assert gifts[0]["rates"]["gift"] == {"name": "Rose", "coins": 1}
    assert gifts[0]["rates"]["cash_per_diamond"] == "0.005"
    assert gifts[1]["rates"]["cash_per_diamond"] == "0.004"
    # The old receipt (shown again by a retry of its id) still explains itself with its own rates.
    text = " ".join(cli("gift", "alice", "mia", "rose", "--id", "g-1").stdout.split())
    assert "already recorded" in text
    assert "1 coin from alice → 1 diamond to mia (worth $0.005)" in text


def test_add_and_retire_gifts_and_packages_in_one_change(cli) -> None:
    change = cli.json(
        "rates", "set", "gift.Comet.coins", "250", "channel.web.package.1000", "10.49",
        "--remove", "gift.Lion", "--remove", "channel.app.package.70",
    )  # fmt: skip
    assert sorted(c["key"] for c in change["changes"]) == [
        "channel.app.package.70", "channel.web.package.1000", "gift.Comet.coins", "gift.Lion.coins",
    ]  # fmt: skip
    rates = cli.json("rates")
    names = [g["name"] for g in rates["gifts"]]
    assert "Lion" not in names and names[-1] == "Comet"
    assert {"channel": "web", "coins": 1000, "price": "10.49"} in [
        {k: p[k] for k in ("channel", "coins", "price")} for p in rates["packages"]
    ]
    refused = cli("gift", "alice", "mia", "lion")
    assert refused.exit_code == 2 and "unknown gift" in refused.stderr


def test_a_change_to_what_is_in_force_records_nothing(cli) -> None:
    cli("rates", "set", "payout.minimum", "50.00")
    before = cli.ledger.read_bytes()
    again = cli.json("rates", "set", "payout.minimum", "50.00")
    assert (again["changed"], again["id"], again["changes"]) == (False, None, [])
    assert cli.ledger.read_bytes() == before


def test_a_rates_change_with_an_id_replays(cli) -> None:
    first = cli.json("rates", "set", "gift.Rose.coins", "2", "--id", "rose-2")
    before = cli.ledger.read_bytes()
    again = cli.json("rates", "set", "gift.Rose.coins", "2", "--id", "rose-2")
    assert again["replayed"] is True and again["changes"] == first["changes"]
    assert cli.ledger.read_bytes() == before
    other = cli("rates", "set", "gift.Rose.coins", "5", "--id", "rose-2")
    assert other.exit_code == 1 and "already used" in other.stderr
    assert cli.ledger.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["gift.Rose.coins", "0"], "must be a positive whole number"),
        (["gift.Rose.coins", "1.5"], "whole number"),
        (["--", "channel.app.package.700", "-9.99"], "must be positive"),
        (["channel.app.package.700", "9.999"], "more than 2 decimal places"),
        (["channel.tv.coin_price", "0.01"], "no channel 'tv'"),
        (["payout.fee_percent", "100"], "fee_percent"),
        (["payout.colour", "red"], "unknown rate key 'payout.colour'"),
        (["gift.Rose", "2"], "gift.NAME.coins"),
        (["gift.Rose.coins"], "give a VALUE"),
        (["--remove", "gift.Rosebud"], "no gift 'Rosebud'"),
        (["--remove", "payout.minimum"], "only gifts, packages and channels can be removed"),
    ],
)
def test_invalid_changes_are_exit_2_and_change_nothing(cli, args, says) -> None:
    cli("buy", "alice", "700")
    before = cli.ledger.read_bytes()
    result = cli("rates", "set", *args)
    assert result.exit_code == 2, result.stdout
    assert says in result.stderr
    assert cli.ledger.read_bytes() == before


def test_export_writes_commented_toml_that_imports_back_unchanged(cli, tmp_path) -> None:
    cli("rates", "set", "gift.Comet.coins", "250")
    target = tmp_path / "rates.toml"
    assert cli.json("rates", "export", str(target))["file"] == str(target)
    text = target.read_text()
    assert "# Cash paid for one diamond when a creator redeems." in text
    assert 'name = "Comet"' in text
    before = cli.ledger.read_bytes()
    again = cli.json("rates", "import", str(target))
    assert again["changed"] is False
    assert cli.ledger.read_bytes() == before


def test_every_rates_value_round_trips_through_the_toml() -> None:
    rates = edited(default_rates(), {'gift.Quote "q".coins': 7, "conversion.diamonds_per_coin": "0.5"}, ())
    assert rates_from_dict(tomllib.loads(rates_to_toml(rates))) == rates


def test_import_applies_an_edited_file_as_one_change(cli, tmp_path) -> None:
    target = tmp_path / "rates.toml"
    cli("rates", "export", str(target))
    target.write_text(target.read_text().replace('minimum = "100.00"', 'minimum = "25.00"'))
    change = cli.json("rates", "import", str(target))
    assert change["source"] == "import"
    assert change["changes"] == [{"key": "payout.minimum", "from": "100.00", "to": "25.00"}]
    assert cli.json("rates")["payout"]["minimum"] == "25.00"


def _exported(tmp_path: Path) -> str:
    return rates_to_toml(default_rates())


@pytest.mark.parametrize(
    ("edit", "says", "named"),
    [
        (
            lambda t: t.replace('name = "Corgi"\ncoins = 299', 'name = "Corgi"\ncoins = -299'),
            "rates.gifts[14].coins must be",
            "coins = -299",
        ),
        (lambda t: t.replace('name = "Corgi"', 'name = "rose"'), "duplicate gift 'rose'", "[[gifts]]"),
        (
            lambda t: t.replace('coins = 350\nprice = "4.99"\n', "coins = 350\n", 1),
            "missing key 'price'",
            "[[channels.app.packages]]",
        ),
        (
            lambda t: t.replace('fee_percent = "0"', 'fee_percent = "0"\nbonus = "1"'),
            "unknown key 'bonus'",
            'bonus = "1"',
        ),
        (lambda t: t.replace('price = "0.99"', 'price = "-0.99"', 1), "must be positive", 'price = "-0.99"'),
    ],
)
def test_invalid_rates_files_name_file_and_line(cli, tmp_path, edit, says, named) -> None:
    cli("buy", "alice", "700")
    before = cli.ledger.read_bytes()
    original = _exported(tmp_path)
    text = edit(original)
    assert text != original
    target = tmp_path / "rates.toml"
    target.write_text(text)
    result = cli("rates", "import", str(target))
    assert result.exit_code == 2
    assert says in result.stderr
    prefix = f"coinpurse: error: {target}:"
    assert result.stderr.startswith(prefix)
    line = int(result.stderr[len(prefix) :].split(":")[0])
    # The named line is the offending key, or the header of the entry that lacks one.
    assert text.splitlines()[line - 1] == named
    assert cli.ledger.read_bytes() == before


def test_invalid_json_rates_name_the_line_too(cli, tmp_path) -> None:
    target = tmp_path / "rates.json"
    cli("rates", "export", str(target))
    data = json.loads(target.read_text())
    data["payout"]["minimum"] = "-1.00"
    target.write_text(json.dumps(data, indent=2))
    result = cli("rates", "import", str(target))
    assert result.exit_code == 2
    line = next(n for n, text in enumerate(target.read_text().splitlines(), 1) if '"minimum"' in text)
    assert result.stderr.startswith(f"coinpurse: error: {target}:{line}: ")


def test_init_starts_a_ledger_once(cli) -> None:
    made = cli.json("init")
    assert made["rates"]["source"] == "init" and made["rates"]["changes"] == []
    before = cli.ledger.read_bytes()
    again = cli("init")
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    assert cli.ledger.read_bytes() == before
    assert [tx["kind"] for tx in cli.json("history")["transactions"]] == ["rates"]


def test_init_with_a_rates_file(cli, tmp_path) -> None:
    target = tmp_path / "rates.toml"
    target.write_text(rates_to_toml(default_rates()).replace('minimum = "100.00"', 'minimum = "10.00"'))
    made = cli.json("init", "--rates", str(target))
    assert made["rates"]["changes"] == [{"key": "payout.minimum", "from": "100.00", "to": "10.00"}]
    assert cli.json("rates")["payout"]["minimum"] == "10.00"


def test_init_with_invalid_rates_creates_nothing(cli, tmp_path) -> None:
    target = tmp_path / "rates.toml"
    target.write_text(rates_to_toml(default_rates()).replace('minimum = "100.00"', "minimum = 100.5"))
    result = cli("init", "--rates", str(target))
    assert result.exit_code == 2
    assert "float" in result.stderr
    assert not cli.ledger.exists()


def test_diff_lists_changed_added_and_removed_keys() -> None:
    before = default_rates()
    after = edited(before, {"gift.Comet.coins": 9, "payout.minimum": "1.00"}, ("gift.Lion",))
    assert diff(before, after) == [
        {"key": "gift.Lion.coins", "from": 29999, "to": None},
        {"key": "payout.minimum", "from": "100.00", "to": "1.00"},
        {"key": "gift.Comet.coins", "from": None, "to": 9},
    ]


def test_history_kind_is_checked(cli) -> None:
    cli("buy", "alice", "700")
    result = cli("history", "--kind", "airdrop")
    assert result.exit_code == 2
    assert "unknown kind 'airdrop': the kinds are buy, gift, redeem, rates, reversal, refund" in result.stderr


def test_a_scenario_rates_op_that_changes_nothing_is_unchanged(json_cli, tmp_path) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text('[[ops]]\nkind = "rates"\nset = { "payout.minimum" = "100.00" }\nremove = []\n')
    report = json_cli.json("apply", str(scenario))
    assert (report["unchanged"], report["written"], report["ops"][0]["status"]) == (1, False, "unchanged")
    assert not json_cli.ledger.exists()


# Rates compare by value: another way of writing what is in force records nothing.

SAME_VALUES = [
    ("payout.minimum", "100"), ("payout.minimum", "100.0"), ("payout.minimum", "100.000"),
    ("channel.app.coin_price", "0.01430"), ("payout.fee_percent", "0.0"), ("channel.web.package.70", "0.740"),
]  # fmt: skip


@pytest.mark.faults
@pytest.mark.parametrize(("key", "value"), SAME_VALUES)
def test_setting_a_rate_to_its_value_written_another_way_records_nothing(ledger: Path, key: str, value: str) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    assert run("buy", "alice", "700").returncode == 0
    before = ledger.read_bytes()
    result = run("rates", "set", key, value, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["changed"] is False
    assert ledger.read_bytes() == before


def test_a_rates_import_of_the_same_values_written_another_way_records_nothing(cli, tmp_path: Path) -> None:
    cli("buy", "alice", "700")
    exported = tmp_path / "rates.json"
    cli.json("rates", "export", str(exported))
    data = json.loads(exported.read_text())
    data["payout"]["minimum"] = "100"
    data["channels"]["app"]["coin_price"] = "0.014300"
    exported.write_text(json.dumps(data))
    before = cli.ledger.read_bytes()
    assert cli.json("rates", "import", str(exported))["changed"] is False
    assert cli.ledger.read_bytes() == before


def test_a_scenario_rates_op_of_the_same_value_is_unchanged(cli, tmp_path: Path) -> None:
    cli("buy", "alice", "700")
    scenario = tmp_path / "ops.toml"
    scenario.write_text('[[ops]]\nkind = "rates"\nset = {"payout.minimum" = "100.0"}\n')
    before = cli.ledger.read_bytes()
    report = cli.json("apply", str(scenario))
    assert (report["recorded"], report["unchanged"], report["written"]) == (0, 1, False)
    assert cli.ledger.read_bytes() == before


def test_a_real_change_keeps_the_values_as_written_and_lists_every_key_written_anew(cli) -> None:
    change = cli.json("rates", "set", "payout.minimum", "100.0", "payout.fee_percent", "2")
    assert change["changed"] is True
    assert change["changes"] == [
        {"key": "payout.minimum", "from": "100.00", "to": "100.0"},
        {"key": "payout.fee_percent", "from": "0", "to": "2"},
    ]
    assert cli.json("rates")["payout"]["minimum"] == "100.0"
    assert cli.json("verify")["ok"] is True
