"""Sponsored gifts: a sponsor's budget (`sponsor fund`, `withdraw`, `list`) pays a catalog gift's bonus diamonds."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_checks import expect_error, flat, snapshot
from coinpurse import Ledger
from conftest import Cli, another_ledger
from ledger_tools import load, rechain, save
from test_apply_money_back import scenario
from test_export import TOOLS, coinpurse_balances, strict_checks, tool_balances
from test_json_contract import conforms

SPONSORED = (
    ("rates", "set", "gift.Rose.sponsor", "acme", "gift.Rose.bonus_diamonds", "100"),  # tx-1: $0.50 a Rose at $0.005
    ("sponsor", "fund", "acme", "2.00"),  # tx-2
    ("buy", "alice", "700"),  # tx-3: 700 coins for $9.99
)


@pytest.fixture
def sponsored(cli: Cli) -> Cli:
    return cli.made_by(*SPONSORED)


def postings(cli: Cli, tx_id: str) -> list[tuple[str, str, Any]]:
    tx = next(tx for tx in cli.json("history")["transactions"] if tx["id"] == tx_id)
    return [(p["account"], p["commodity"], p["amount"]) for p in tx["postings"]]


def budget(cli: Cli, name: str = "acme") -> dict[str, Any]:
    return next(row for row in cli.json("sponsor", "list")["sponsors"] if row["sponsor"] == name)


def test_a_sponsored_gift_pays_the_creator_its_bonus_from_the_budget(sponsored: Cli) -> None:
    data = sponsored.json("gift", "alice", "mia", "rose", "-n", "3")
    assert data["diamonds"] == 3 and data["recipient"]["diamonds"] == 303
    assert data["bonus"] == {"sponsor": "acme", "diamonds": 300, "cash": "1.50", "paid": True, "budget_left": "0.50"}
    assert postings(sponsored, data["id"])[4:] == [
        ("sponsor:acme", "USD", "-1.50"),
        ("platform:payouts", "USD", "1.50"),
        ("platform:diamond-issue", "DIAMOND", -300),
        ("mia", "DIAMOND", 300),
    ]
    row = budget(sponsored)
    assert (row["funded"], row["spent"], row["withdrawn"], row["returned"], row["left"]) == (
        "2.00",
        "1.50",
        "0.00",
        "0.00",
        "0.50",
    )
    assert (row["gifts"], row["bonus_diamonds"], row["creators"]) == (1, 300, ["mia"])
    assert row["on"] == [{"gift": "Rose", "gifts": 1, "diamonds": 300, "cash": "1.50"}]
    assert sponsored("verify").exit_code == 0


def test_the_receipt_says_the_sponsor_paid(sponsored: Cli) -> None:
    result = sponsored("gift", "alice", "mia", "rose", "-n", "3")
    assert "sponsor acme paid mia a bonus of 300 diamonds ($1.50 of its budget; $0.50 left)" in flat(result.stdout)


def test_a_budget_short_of_the_bonus_pays_none_of_it_and_the_gift_goes_through(sponsored: Cli) -> None:
    data = sponsored.json("gift", "alice", "mia", "rose", "-n", "5")  # $2.50 of bonus, $2.00 of budget
    assert data["bonus"] == {"sponsor": "acme", "diamonds": 500, "cash": "2.50", "paid": False, "budget_left": "2.00"}
    assert data["recipient"]["diamonds"] == 5 and data["sender"]["coins"] == 695
    assert all(account != "sponsor:acme" for account, _, _ in postings(sponsored, data["id"]))
    result = sponsored("gift", "alice", "mia", "rose", "-n", "5")
    assert "no sponsor bonus: acme's budget of $2.00 can't cover the 500 diamonds ($2.50), so none was paid" in flat(
        result.stdout
    )
    assert budget(sponsored)["left"] == "2.00" and budget(sponsored)["gifts"] == 0
    assert sponsored("verify").exit_code == 0


def test_a_sponsor_no_one_funded_pays_no_bonus(cli: Cli) -> None:
    assert cli("rates", "set", "gift.Rose.sponsor", "nobody", "gift.Rose.bonus_diamonds", "10").exit_code == 0
    assert cli("buy", "alice", "700").exit_code == 0
    data = cli.json("gift", "alice", "mia", "rose")
    assert data["bonus"]["paid"] is False and data["bonus"]["budget_left"] == "0.00"
    assert cli.json("sponsor", "list")["sponsors"] == []


def test_a_gift_no_sponsor_pays_on_is_recorded_as_before(sponsored: Cli) -> None:
    data = sponsored.json("gift", "alice", "mia", "perfume")
    assert data["bonus"] is None
    stored = load(sponsored.ledger)["transactions"][-1]
    assert stored["rates"]["gift"] == {"name": "Perfume", "coins": 20}
    assert not {"sponsor", "bonus_diamonds", "bonus_cash", "bonus_paid", "sponsor_budget"} & set(stored["details"])


def test_fund_and_withdraw_move_cash_between_the_outside_and_the_budget(sponsored: Cli) -> None:
    data = sponsored.json("sponsor", "fund", "ACME", "1")
    assert (data["kind"], data["sponsor"], data["cash"], data["budget_left"]) == (
        "sponsor-fund",
        "acme",
        "1.00",
        "3.00",
    )
    assert postings(sponsored, data["id"]) == [
        ("platform:sponsor-deposits", "USD", "-1.00"),
        ("sponsor:acme", "USD", "1.00"),
    ]
    data = sponsored.json("sponsor", "withdraw", "acme", "2.5")
    assert (data["kind"], data["cash"], data["budget_left"]) == ("sponsor-withdraw", "2.50", "0.50")
    assert postings(sponsored, data["id"]) == [
        ("sponsor:acme", "USD", "-2.50"),
        ("platform:sponsor-deposits", "USD", "2.50"),
    ]
    row = budget(sponsored)
    assert (row["funded"], row["withdrawn"], row["left"]) == ("3.00", "2.50", "0.50")
    assert sponsored.json("balance")["accounts"] == [
        {
            "account": "alice",
            "coins": 700,
            "diamonds": 0,
            "diamond_value": "0.00",
            "coin_cost": "9.99",
            "net_cash": "-9.99",
            "currency": "USD",
            "pending_diamonds": 0,
            "total_diamonds": 0,
        }
    ]  # a sponsor is not a user
    assert sponsored("verify").exit_code == 0


def test_withdrawing_more_than_the_unused_budget_is_refused(sponsored: Cli) -> None:
    assert sponsored("gift", "alice", "mia", "rose", "-n", "3").exit_code == 0  # $0.50 left
    expect_error(
        sponsored, "sponsor", "withdraw", "acme", "0.51", exit_code=1, code="insufficient_budget",
        says="sponsor acme has $0.50 of unused budget; can't withdraw $0.51",
    )  # fmt: skip
    assert sponsored("sponsor", "withdraw", "acme", "0.50").exit_code == 0
    expect_error(
        sponsored, "sponsor", "withdraw", "acme", "0.01", exit_code=1, code="insufficient_budget", says="has $0.00"
    )


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("sponsor", "withdraw", "zed", "1"), "unknown_sponsor", "no sponsor 'zed' in this ledger"),
        (("sponsor", "fund", "acme", "1.001"), "usage", "cash has more than 2 decimal places"),
        (("sponsor", "fund", "acme", "0"), "invalid_cash", "cash must be a positive amount"),
        (("sponsor", "fund", "acme", "lots"), "usage", "cash is not a decimal number"),
        (("sponsor", "fund", "a b", "1"), "invalid_name", "invalid sponsor name 'a b'"),
        (("sponsor", "withdraw", "acme", "--", "-1"), "usage", "cash must be a positive amount"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(sponsored: Cli, args: tuple[str, ...], code: str, says: str) -> None:
    before = snapshot(sponsored.ledger)
    result = sponsored(*args, "--json") if args[-2] != "--" else sponsored(*args[:-2], "--json", *args[-2:])
    assert result.exit_code == 2, result.stderr
    error = json.loads(result.stderr)["error"]
    assert says in error["message"]
    if code != "usage":
        assert error["code"] == code
    assert snapshot(sponsored.ledger) == before


@pytest.mark.parametrize(
    ("pairs", "says"),
    [
        (("gift.Rose.bonus_diamonds", "5"), "gift.Rose.bonus_diamonds needs a sponsor to pay it (gift.Rose.sponsor)"),
        (("gift.Rose.sponsor", "Not!Valid"), "gift.Rose.sponsor: invalid sponsor name"),
        (
            ("gift.Rose.sponsor", "acme", "gift.Rose.bonus_diamonds", "-- -1"),
            "gift.Rose.bonus_diamonds must be at least 0",
        ),
        (
            ("gift.Rose.sponsor", "acme", "gift.Rose.bonus_diamonds", "1.5"),
            "gift.Rose.bonus_diamonds must be a whole number",
        ),
        (("gift.Nope.sponsor", "acme"), "no gift 'Nope'"),
    ],
)
def test_rates_keys_for_a_sponsor_are_checked(cli: Cli, pairs: tuple[str, ...], says: str) -> None:
    args = [word for pair in pairs for word in pair.split(" ")]
    if "--" in args:
        args.remove("--")
        args = ["--", *args]
    result = cli("rates", "set", *args)
    assert result.exit_code == 2, result.output
    assert says in flat(result.stderr)


def test_rates_show_and_remove_a_sponsorship(sponsored: Cli) -> None:
    gifts = {g["name"]: g for g in sponsored.json("rates")["gifts"]}
    assert gifts["Rose"] == {"name": "Rose", "coins": 1, "sponsor": "acme", "bonus_diamonds": 100}
    assert gifts["Perfume"] == {"name": "Perfume", "coins": 20}
    changed = sponsored.json("rates", "set", "--remove", "gift.Rose.sponsor")
    assert [(c["key"], c["from"], c["to"]) for c in changed["changes"]] == [
        ("gift.Rose.sponsor", "acme", None),
        ("gift.Rose.bonus_diamonds", 100, None),
    ]
    assert sponsored.json("gift", "alice", "mia", "rose")["bonus"] is None
    assert sponsored("verify").exit_code == 0


def test_a_refund_with_clawback_gives_the_bonus_back_to_the_sponsor(sponsored: Cli) -> None:
    assert sponsored("gift", "alice", "mia", "rose", "-n", "3").exit_code == 0  # tx-4
    data = sponsored.json("refund", "tx-3", "--clawback")
    assert data["clawbacks"] == [
        {"gift": "tx-4", "creator": "mia", "coins": 3, "diamonds": 3, "remainder": "0/3", "diamond_value": "0.015",
         "bonus_returned": {"sponsor": "acme", "diamonds": 300, "cash": "1.50"}},
    ]  # fmt: skip
    assert data["creators"] == [{"account": "mia", "coins": 0, "diamonds": 0}]
    assert postings(sponsored, data["id"])[-2:] == [
        ("sponsor:acme", "USD", "1.50"),
        ("platform:payouts", "USD", "-1.50"),
    ]
    row = budget(sponsored)
    assert (row["spent"], row["returned"], row["left"]) == ("1.50", "1.50", "2.00")
    receipt = flat(sponsored("history", "--kind", "refund").stdout)
    assert "refund" in receipt
    assert sponsored("verify").exit_code == 0


def test_a_partial_clawback_gives_back_the_bonus_in_proportion(cli: Cli) -> None:
    for args in (
        ("rates", "set", "gift.Perfume.sponsor", "acme", "gift.Perfume.bonus_diamonds", "7"),
        ("sponsor", "fund", "acme", "10"),
        ("buy", "alice", "30"),  # tx-3, custom
        ("buy", "alice", "70"),  # tx-4
        ("gift", "alice", "mia", "perfume", "-n", "2"),  # 40 coins: 30 of tx-3, 10 of tx-4; 14 bonus diamonds
    ):
        assert cli(*args).exit_code == 0, args
    data = cli.json("refund", "tx-4", "--clawback")
    (clawback,) = data["clawbacks"]
    assert (clawback["coins"], clawback["diamonds"]) == (10, 10)
    assert clawback["bonus_returned"] == {
        "sponsor": "acme",
        "diamonds": 3,
        "cash": "0.015",
    }  # 14 × 10 ÷ 40, rounded down
    assert cli.json("balance", "mia")["diamonds"] == 40 + 14 - 10 - 3
    assert budget(cli)["left"] == "9.945"
    assert cli("verify").exit_code == 0


def test_a_reversal_gives_the_bonus_back_and_is_refused_when_the_creator_lacks_it(sponsored: Cli) -> None:
    assert sponsored("gift", "alice", "mia", "rose", "-n", "3").exit_code == 0  # tx-4
    data = sponsored.json("reverse", "tx-4", "--reason", "wrong creator")
    assert data["bonus_returned"] == {"sponsor": "acme", "diamonds": 300, "cash": "1.50"}
    assert data["recipient"]["diamonds"] == 0
    assert budget(sponsored)["left"] == "2.00"
    assert sponsored("verify").exit_code == 0

    assert sponsored("gift", "alice", "mia", "rose", "-n", "3").exit_code == 0  # tx-6: 303 diamonds
    assert sponsored("rates", "set", "payout.minimum", "1.00").exit_code == 0
    assert sponsored("redeem", "mia", "300").exit_code == 0  # 3 left, fewer than the 303 it gave
    expect_error(
        sponsored, "reverse", "tx-6", "--reason", "late", exit_code=1, code="insufficient_diamonds",
        says="mia holds 3 diamonds, fewer than the 303 the gift tx-6 gave",
    )  # fmt: skip


def test_verify_catches_a_tampered_bonus(sponsored: Cli) -> None:
    assert sponsored("gift", "alice", "mia", "rose", "-n", "3").exit_code == 0

    def tamper(change: Any) -> set[str]:
        document = load(sponsored.ledger)
        original = json.dumps(document)
        change(document["transactions"][-1])
        rechain(document)
        save(sponsored.ledger, document)
        result = sponsored("verify", "--json")
        save(sponsored.ledger, json.loads(original))
        assert result.exit_code == 3, result.stdout
        return {p["code"] for p in json.loads(result.stdout)["problems"]}

    def bigger_bonus(tx: dict[str, Any]) -> None:
        for p in tx["postings"]:
            if p["amount"] in (300, -300):
                p["amount"] = 3000 if p["amount"] > 0 else -3000
        tx["details"]["bonus_diamonds"] = 3000
        tx["after"]["mia"]["diamonds"] = 3003

    def bonus_unpaid(tx: dict[str, Any]) -> None:
        tx["details"]["bonus_paid"] = False

    def another_sponsor(tx: dict[str, Any]) -> None:
        tx["rates"]["gift"]["sponsor"] = "other"
        tx["details"]["sponsor"] = "other"

    assert "postings_mismatch" in tamper(bigger_bonus)
    assert "details_mismatch" in tamper(bonus_unpaid)
    assert "unknown_rate" in tamper(another_sponsor)
    assert sponsored("verify").exit_code == 0


def test_verify_replays_every_sponsor_kind_on_every_store(sponsored: Cli) -> None:
    for args in (
        ("gift", "alice", "mia", "rose", "-n", "2"),
        ("gift", "alice", "zoe", "rose", "-n", "5"),  # short: no bonus
        ("sponsor", "withdraw", "acme", "0.25"),
        ("reverse", "tx-4", "--reason", "test"),
        ("refund", "tx-3", "--clawback"),
    ):
        result = sponsored(*args)
        assert result.exit_code == 0, (args, result.stderr)
    report = sponsored.json("verify")
    assert report["ok"] is True
    head = report["head_hash"]
    assert sponsored("sponsor", "fund", "acme", "1").exit_code == 0
    assert sponsored.json("verify", "--after", head)["ok"] is True


def test_an_id_replays_and_a_different_request_under_it_is_refused(sponsored: Cli) -> None:
    first = sponsored.json("sponsor", "fund", "acme", "5", "--id", "acme-2")
    before = snapshot(sponsored.ledger)
    again = sponsored.json("sponsor", "fund", "acme", "5.00", "--id", "acme-2")
    assert again["replayed"] is True and again["id"] == first["id"] and snapshot(sponsored.ledger) == before
    expect_error(
        sponsored,
        "sponsor",
        "fund",
        "acme",
        "6",
        "--id",
        "acme-2",
        exit_code=1,
        code="id_conflict",
        says="already used",
    )
    assert sponsored.json("sponsor", "withdraw", "acme", "1", "--id", "w-1")["replayed"] is False
    assert sponsored.json("sponsor", "withdraw", "acme", "1", "--id", "w-1")["replayed"] is True


def test_a_dry_run_shows_the_receipt_and_writes_nothing(sponsored: Cli) -> None:
    before = snapshot(sponsored.ledger)
    data = sponsored.json("sponsor", "fund", "acme", "3", "--dry-run")
    assert data["dry_run"] is True and data["budget_left"] == "5.00"
    result = sponsored("sponsor", "withdraw", "acme", "1", "--dry-run")
    assert result.exit_code == 0 and "Dry run: nothing was written." in result.stdout
    assert snapshot(sponsored.ledger) == before


def test_json_shapes_are_the_documented_ones(sponsored: Cli) -> None:
    conforms(sponsored.json("sponsor", "fund", "acme", "1"), "sponsor fund")
    conforms(sponsored.json("sponsor", "withdraw", "acme", "1"), "sponsor withdraw")
    conforms(sponsored.json("gift", "alice", "mia", "rose"), "gift")
    conforms(sponsored.json("sponsor", "list"), "sponsor list")
    conforms(sponsored.json("reverse", "tx-6", "--reason", "r"), "reverse")
    conforms(sponsored.json("refund", "tx-3", "--clawback"), "refund")


def test_sponsor_list_for_people(sponsored: Cli) -> None:
    assert sponsored("gift", "alice", "mia", "rose", "-n", "2").exit_code == 0
    out = flat(sponsored("sponsor", "list").stdout)
    assert "acme 2.00 1.00 0.00 0.00 1.00 1 1" in out and "acme: 1 × Rose paid 200 bonus diamonds ($1.00)" in out


OPS: list[dict[str, Any]] = [
    {"kind": "rates", "set": {"gift.Rose.sponsor": "acme", "gift.Rose.bonus_diamonds": 100}, "id": "r-1"},
    {"kind": "sponsor-fund", "sponsor": "acme", "cash": "2.00", "id": "s-1"},
    {"kind": "buy", "account": "alice", "coins": 700, "id": "b-1"},
    {"kind": "gift", "sender": "alice", "recipient": "mia", "gift": "Rose", "count": 3, "id": "g-1"},
    {"kind": "gift", "sender": "alice", "recipient": "mia", "gift": "Rose", "count": 2, "id": "g-2"},  # short: none
    {"kind": "sponsor-withdraw", "sponsor": "acme", "cash": "0.25", "id": "s-2"},
]
COMMANDS: list[tuple[str, ...]] = [
    ("rates", "set", "gift.Rose.sponsor", "acme", "gift.Rose.bonus_diamonds", "100", "--id", "r-1"),
    ("sponsor", "fund", "acme", "2.00", "--id", "s-1"),
    ("buy", "alice", "700", "--id", "b-1"),
    ("gift", "alice", "mia", "Rose", "-n", "3", "--id", "g-1"),
    ("gift", "alice", "mia", "Rose", "-n", "2", "--id", "g-2"),
    ("sponsor", "withdraw", "acme", "0.25", "--id", "s-2"),
]


def _history(cli: Cli) -> list[dict[str, Any]]:
    return [{k: v for k, v in tx.items() if k != "at"} for tx in cli.json("history")["transactions"]]


def test_apply_ops_and_a_batch_equal_the_same_commands(cli: Cli, tmp_path: Path) -> None:
    path = scenario(tmp_path, OPS)
    before = snapshot(cli.ledger)
    assert cli.json("apply", str(path), "--dry-run")["written"] is False and snapshot(cli.ledger) == before
    report = cli.json("apply", str(path))
    assert (report["count"], report["recorded"]) == (6, 6)
    assert [op["kind"] for op in report["ops"]] == ["rates", "sponsor-fund", "buy", "gift", "gift", "sponsor-withdraw"]
    assert report["ops"][3]["result"]["bonus"]["paid"] is True and report["ops"][4]["result"]["bonus"]["paid"] is False
    assert cli.json("apply", str(path))["replayed"] == 6

    folder = tmp_path / "commands"
    folder.mkdir()
    commands = Cli(another_ledger(cli.ledger, folder, "ledger"))
    for args in COMMANDS:
        assert commands(*args).exit_code == 0, args
    assert _history(cli) == _history(commands)

    batched = Ledger.open(another_ledger(cli.ledger, folder, "batched"))
    with batched.batch() as batch:
        batch.rates_set({"gift.Rose.sponsor": "acme", "gift.Rose.bonus_diamonds": 100}, id="r-1")
        batch.sponsor_fund("acme", "2.00", id="s-1")
        batch.buy("alice", 700, id="b-1")
        assert batch.gift("alice", "mia", "Rose", 3, id="g-1").to_dict()["bonus"]["paid"] is True
        batch.gift("alice", "mia", "Rose", 2, id="g-2")
        assert batch.sponsor_withdraw("acme", "0.25", id="s-2").to_dict()["budget_left"] == "0.25"
    assert _history(Cli(batched.path)) == _history(cli)
    assert cli("verify").exit_code == 0


def test_a_refused_withdraw_in_a_scenario_applies_nothing(cli: Cli, tmp_path: Path) -> None:
    ops = [
        {"kind": "sponsor-fund", "sponsor": "acme", "cash": "1"},
        {"kind": "sponsor-withdraw", "sponsor": "acme", "cash": "2"},
    ]
    result = cli("apply", str(scenario(tmp_path, ops)), "--json")
    assert result.exit_code == 1
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "insufficient_budget" and "op 2 (sponsor-withdraw)" in error["message"]
    assert snapshot(cli.ledger) is None
    bad = [{"kind": "sponsor-fund", "sponsor": "acme"}]
    assert cli("apply", str(scenario(tmp_path, bad))).exit_code == 2


def test_exports_carry_sponsor_accounts_as_they_are(sponsored: Cli, tmp_path: Path) -> None:
    assert sponsored("gift", "alice", "mia", "rose", "-n", "3").exit_code == 0
    journal = sponsored("export", "--format", "journal").stdout
    assert "account sponsor:acme" in journal and "users:sponsor" not in journal
    assert "sponsor acme funds its budget with $2.00" in journal
    csv = tmp_path / "out.csv"
    assert sponsored("export", "-o", str(csv)).exit_code == 0
    assert "sponsor-fund,sponsor:acme,USD,2.00" in csv.read_text()
    out = tmp_path / "out.json"
    assert sponsored("export", "-o", str(out)).exit_code == 0
    gift = json.loads(out.read_text())["transactions"][-1]
    assert gift["details"]["bonus_paid"] is True and gift["details"]["bonus_cash"] == "1.50"


def test_the_real_tools_balance_a_ledger_with_sponsored_gifts_as_coinpurse(json_cli: Cli, tmp_path: Path) -> None:
    if not TOOLS:
        pytest.skip("neither hledger nor ledger is installed (Debian packages hledger, ledger; .ci/run installs them)")
    for args in (
        *SPONSORED,
        ("rates", "set", "payout.cash_per_diamond", "0.0037", "payout.minimum", "1.00"),
        ("gift", "alice", "mia", "rose", "-n", "3"),  # $1.11 of bonus
        ("gift", "alice", "noah", "rose", "-n", "3"),  # short: none
        ("gift", "alice", "noah", "rose"),  # $0.37
        ("redeem", "mia", "--all"),
        ("reverse", "tx-7", "--reason", "test"),
        ("sponsor", "withdraw", "acme", "0.10"),
        ("refund", "tx-3", "--clawback"),
    ):
        result = json_cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
    journal = tmp_path / "sponsored.journal"
    assert json_cli("export", "-o", str(journal)).exit_code == 0
    expected = coinpurse_balances(json_cli.ledger)
    expected[("sponsor:acme", "USD")] = Decimal(budget(json_cli)["left"])  # neither a user's nor the platform's
    assert expected[("sponsor:acme", "USD")] == Decimal("1.90")
    for tool in TOOLS:
        assert tool_balances(tool, journal) == expected, tool
    for name, run in strict_checks(journal).items():
        assert run.returncode == 0, (name, run.stderr)


def test_history_and_balance_read_a_sponsors_budget_by_its_account(sponsored: Cli) -> None:
    assert sponsored("gift", "alice", "mia", "rose", "-n", "3").exit_code == 0
    kinds = [tx["kind"] for tx in sponsored.json("history", "sponsor:acme")["transactions"]]
    assert kinds == ["sponsor-fund", "gift"]
    assert sponsored.json("balance", "sponsor:acme")["net_cash"] == "0.50"
    expect_error(
        sponsored, "history", "sponsor:zed", exit_code=2, code="unknown_sponsor", says="no sponsor 'sponsor:zed'"
    )
    assert "Rose: sponsor acme pays the creator 100 bonus diamonds each" in sponsored("rates").stdout


def test_verify_rebuilds_the_rates_before_a_first_change_that_adds_a_sponsored_gift(cli: Cli) -> None:
    args = ("rates", "set", "gift.Comet.coins", "5", "gift.Comet.sponsor", "acme", "gift.Comet.bonus_diamonds", "9")
    for line in (args, ("sponsor", "fund", "acme", "1"), ("buy", "alice", "70"), ("gift", "alice", "mia", "comet")):
        assert cli(*line).exit_code == 0, line
    assert cli.json("balance", "mia")["diamonds"] == 14
    assert cli.json("verify")["ok"] is True
    assert cli("rates", "set", "--remove", "gift.Comet").exit_code == 0
    assert cli.json("verify")["ok"] is True


@settings(max_examples=25, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("fund"), st.integers(min_value=1, max_value=300)),
            st.tuples(st.just("withdraw"), st.integers(min_value=1, max_value=300)),
            st.tuples(st.just("gift"), st.integers(min_value=1, max_value=4)),
            st.tuples(st.just("reverse"), st.integers(min_value=0, max_value=5)),
        ),
        max_size=12,
    )
)
def test_any_run_of_budgets_and_bonuses_adds_up_and_verifies(steps: list[tuple[str, int]]) -> None:
    from coinpurse.errors import CoinpurseError

    ledger = Ledger.memory()
    ledger.rates_set({"gift.Rose.sponsor": "acme", "gift.Rose.bonus_diamonds": 30})  # $0.15 a Rose
    ledger.buy("alice", 700)
    gifts: list[str] = []
    for step, amount in steps:
        try:
            if step == "fund":
                ledger.sponsor_fund("acme", Decimal(amount) / 100)
            elif step == "withdraw":
                ledger.sponsor_withdraw("acme", Decimal(amount) / 100)
            elif step == "gift":
                gifts.append(ledger.gift("alice", "mia", "Rose", amount).transaction.id)
            elif gifts:
                ledger.reverse(gifts[amount % len(gifts)], "test")
        except CoinpurseError as error:
            assert error.exit_code in (1, 2), error
    for row in ledger.sponsors().budgets:
        assert row.left >= 0
        assert row.funded - row.withdrawn - row.spent + row.returned == row.left
    assert ledger.verify().ok


def test_tab_completion_offers_no_sponsor_as_an_account(sponsored: Cli) -> None:
    from test_completion import bash

    assert sponsored("gift", "alice", "sam", "rose").exit_code == 0
    assert bash(f"coinpurse --ledger {sponsored.ledger} gift alice s") == ["sam"]


def test_rates_export_and_import_keep_a_sponsorship(sponsored: Cli, tmp_path: Path) -> None:
    target = tmp_path / "rates.toml"
    assert sponsored("rates", "export", str(target)).exit_code == 0
    text = target.read_text()
    assert 'name = "Rose"\ncoins = 1\nsponsor = "acme"\nbonus_diamonds = 100\n' in text
    target.write_text(text.replace("bonus_diamonds = 100", "bonus_diamonds = 40"))
    changed = sponsored.json("rates", "import", str(target))
    assert [(c["key"], c["from"], c["to"]) for c in changed["changes"]] == [("gift.Rose.bonus_diamonds", 100, 40)]
    assert sponsored.json("gift", "alice", "mia", "rose")["bonus"]["diamonds"] == 40
    assert sponsored("verify").exit_code == 0
