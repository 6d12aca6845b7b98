"""Held payouts: redeem --hold, payout list/approve/reject/return/expire, in every store."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from cli_checks import expect_error, flat, snapshot
from coinpurse import Ledger
from conftest import Cli, another_ledger
from ledger_tools import load

LATER = "2026-03-17T00:00:00Z"  # past the default 15 days of review of a hold asked at the fixed clock


@pytest.fixture
def creator(cli: Cli) -> Cli:
    """mia holds 59,998 diamonds ($299.99 at $0.005): two Lions from alice."""
    return cli.made_by(
        *(("buy", "alice", "17500") for _ in range(4)),
        ("gift", "alice", "mia", "Lion", "-n", "2"),
    )


def _postings_balance(cli: Cli) -> None:
    for tx in load(cli.ledger)["transactions"]:
        totals: dict[str, Decimal] = {}
        for p in tx["postings"]:
            totals[p["commodity"]] = totals.get(p["commodity"], Decimal(0)) + Decimal(str(p["amount"]))
        assert not any(totals.values()), tx


def test_a_hold_moves_the_diamonds_to_pending_and_fixes_the_cash(creator: Cli) -> None:
    hold = creator.json("redeem", "mia", "20000", "--hold")
    assert (hold["kind"], hold["state"], hold["diamonds"], hold["cash"], hold["net"]) == (
        "payout-hold", "pending", 20000, "100.00", "100.00",
    )  # fmt: skip
    assert hold["day"] == "2026-03-01" and hold["expires"] == "2026-03-16T12:00:00Z"
    assert hold["balance"]["diamonds"] == 39998
    mia = creator.json("balance", "mia")
    assert (mia["diamonds"], mia["pending_diamonds"], mia["total_diamonds"], mia["net_cash"]) == (
        39998,
        20000,
        59998,
        "0.00",
    )
    every = creator.json("balance")
    assert every["totals"]["pending_diamonds"] == 20000
    assert [a["account"] for a in every["accounts"]] == ["alice", "mia"]  # the pending account is the platform's
    postings = load(creator.ledger)["transactions"][-1]["postings"]
    assert postings == [
        {"account": "mia", "commodity": "DIAMOND", "amount": -20000},
        {"account": "platform:payouts-pending:mia", "commodity": "DIAMOND", "amount": 20000},
    ]
    assert creator.json("verify")["ok"] is True


def test_approval_pays_exactly_the_cash_fixed_at_the_hold_even_after_a_rates_change(creator: Cli) -> None:
    hold = creator.json("redeem", "mia", "20000", "--hold")
    assert creator("rates", "set", "payout.cash_per_diamond", "0.01", "payout.fee_percent", "10").exit_code == 0
    paid = creator.json("payout", "approve", hold["id"])
    assert (paid["kind"], paid["state"], paid["payout"], paid["cash"], paid["net"], paid["fee"]) == (
        "payout-approve", "paid", hold["id"], "100.00", "100.00", "0.00",
    )  # fmt: skip
    mia = creator.json("balance", "mia")
    assert (mia["diamonds"], mia["pending_diamonds"], mia["net_cash"]) == (39998, 0, "100.00")
    _postings_balance(creator)
    assert creator.json("verify")["ok"] is True


def test_a_hold_with_a_fee_and_rounding_is_paid_as_redeem_would(cli: Cli) -> None:
    cli.made_by(("buy", "alice", "2500000"), ("gift", "alice", "mia", "TikTok Universe", "-n", "2"))
    assert cli("rates", "set", "payout.fee_percent", "2.5", "payout.cash_per_diamond", "0.0053").exit_code == 0
    hold = cli.json("redeem", "mia", "40001", "--hold")
    redeem_like = (hold["diamonds"], hold["cash"], hold["fee"], hold["net"], hold["rounding"], hold["kept_diamonds"])
    paid = cli.json("payout", "approve", hold["id"])
    assert (paid["cash"], paid["fee"], paid["net"], paid["rounding"]) == redeem_like[1:5]
    # the same request as a plain redeem makes the same figures
    other = cli.json("redeem", "mia", "40001")
    assert (
        other["diamonds"],
        other["cash"],
        other["fee"],
        other["net"],
        other["rounding"],
        other["kept_diamonds"],
    ) == redeem_like
    _postings_balance(cli)
    assert cli.json("verify")["ok"] is True


def test_a_rejection_gives_the_diamonds_back_and_frees_the_days_room(creator: Cli) -> None:
    assert creator("rates", "set", "payout.daily_maximum", "150.00").exit_code == 0
    hold = creator.json("redeem", "mia", "20000", "--hold")
    expect_error(
        creator, "redeem", "mia", "20000", exit_code=1, code="over_daily_maximum", says="$50.00 is left for 2026-03-01"
    )
    expect_error(
        creator, "redeem", "mia", "20000", "--hold", exit_code=1, code="over_daily_maximum", says="$50.00 is left"
    )
    rejected = creator.json("payout", "reject", hold["id"], "--reason", "failed identity check")
    assert (rejected["state"], rejected["reason"], rejected["balance"]["diamonds"]) == (
        "rejected",
        "failed identity check",
        59998,
    )
    assert creator.json("redeem", "mia", "20000")["cash"] == "100.00"  # the room is back
    assert creator.json("verify")["ok"] is True


def test_six_holds_of_a_thousand_against_five_thousand_take_only_five(cli: Cli) -> None:
    """Blnk #181: pending debits must count against the available balance."""
    cli.made_by(("buy", "alice", "2500000"), ("gift", "alice", "mia", "Interstellar", "-n", "10"))  # 100,000 diamonds
    assert cli("rates", "set", "payout.minimum", "1.00", "payout.daily_maximum", "100000.00").exit_code == 0
    results = [cli("redeem", "mia", "20000", "--hold").exit_code for _ in range(6)]
    assert results == [0, 0, 0, 0, 0, 1]
    mia = cli.json("balance", "mia")
    assert (mia["diamonds"], mia["pending_diamonds"]) == (0, 100000)
    assert cli.json("verify")["ok"] is True


def test_settled_payouts_are_refused_and_bad_ids_are_bad_input(creator: Cli) -> None:
    hold = creator.json("redeem", "mia", "20000", "--hold")["id"]
    creator.json("payout", "approve", hold)
    expect_error(
        creator,
        "payout",
        "approve",
        hold,
        exit_code=1,
        code="payout_settled",
        says=f"payout {hold} was already approved by",
    )
    expect_error(
        creator,
        "payout",
        "reject",
        hold,
        "--reason",
        "late",
        exit_code=1,
        code="payout_settled",
        says="already approved",
    )
    expect_error(
        creator, "payout", "approve", "tx-1", exit_code=2, code="not_a_payout", says="tx-1 is a buy, not a held payout"
    )
    expect_error(creator, "payout", "approve", "nope", exit_code=2, code="unknown_payout", says="no payout 'nope'")
    expect_error(
        creator, "payout", "return", "nope", "--reason", "x", exit_code=2, code="unknown_payout", says="no payout"
    )
    expect_error(
        creator, "payout", "reject", hold, "--reason", " ", exit_code=2, code="missing_reason", says="--reason"
    )
    second = creator.json("redeem", "mia", "20000", "--hold")["id"]
    expect_error(
        creator, "payout", "return", second, "--reason", "x", exit_code=1, code="payout_pending", says="still pending"
    )


def test_a_retry_with_the_same_id_replays(creator: Cli) -> None:
    hold = creator.json("redeem", "mia", "20000", "--hold", "--id", "hold-1")
    assert creator.json("redeem", "mia", "20000", "--hold", "--id", "hold-1")["replayed"] is True
    assert hold["id"] == "hold-1"
    first = creator.json("payout", "approve", "hold-1", "--id", "pay-1")
    before = snapshot(creator.ledger)
    again = creator.json("payout", "approve", "hold-1", "--id", "pay-1")
    assert again["replayed"] is True and again["id"] == first["id"] == "pay-1"
    assert snapshot(creator.ledger) == before
    expect_error(
        creator, "redeem", "mia", "20000", "--id", "hold-1", exit_code=1, code="id_conflict", says="already used"
    )


def test_a_dry_run_writes_nothing(creator: Cli) -> None:
    hold = creator.json("redeem", "mia", "20000", "--hold")["id"]
    before = snapshot(creator.ledger)
    shown = creator.json("payout", "approve", hold, "--dry-run")
    assert shown["dry_run"] is True and shown["state"] == "paid"
    assert snapshot(creator.ledger) == before
    assert creator.json("payout", "list", "--state", "pending")["payouts"][0]["id"] == hold


def test_a_clawback_never_takes_held_diamonds(cli: Cli) -> None:
    cli.made_by(("buy", "bob", "2500000"), ("gift", "bob", "mia", "TikTok Universe"))  # 44,999 diamonds
    hold = cli.json("redeem", "mia", "40000", "--hold")["id"]
    refund = cli.json("refund", "tx-1", "--clawback")
    assert refund["creators"][0]["diamonds"] == 4999 - 44999
    mia = cli.json("balance", "mia")
    assert (mia["diamonds"], mia["pending_diamonds"]) == (-40000, 40000)
    expect_error(cli, "redeem", "mia", "1", "--hold", exit_code=1, code="insufficient_diamonds", says="owes 40,000")
    cli.json("payout", "reject", hold, "--reason", "refund fraud")
    mia = cli.json("balance", "mia")
    assert (mia["diamonds"], mia["pending_diamonds"]) == (0, 0)
    assert cli.json("verify")["ok"] is True


def test_a_return_gives_the_cash_back_to_the_platform_and_the_diamonds_to_the_creator(creator: Cli) -> None:
    hold = creator.json("redeem", "mia", "20000", "--hold")["id"]
    paid = creator.json("payout", "approve", hold)
    returned = creator.json("payout", "return", hold, "--reason", "account closed")
    assert (returned["kind"], returned["state"], returned["approval"], returned["reason"]) == (
        "payout-return", "returned", paid["id"], "account closed",
    )  # fmt: skip
    mia = creator.json("balance", "mia")
    assert (mia["diamonds"], mia["pending_diamonds"], mia["net_cash"]) == (59998, 0, "0.00")
    platform = creator.json("rates")["platform"]
    assert platform["platform:payouts"]["cash"] == "0.00"
    expect_error(
        creator,
        "payout",
        "return",
        hold,
        "--reason",
        "again",
        exit_code=1,
        code="payout_settled",
        says="already returned",
    )
    row = creator.json("payout", "list", "mia")["payouts"][0]
    assert (row["state"], row["settled_by"], row["returned_by"], row["reason"]) == (
        "returned",
        paid["id"],
        returned["id"],
        "account closed",
    )
    assert creator.json("redeem", "mia", "59998")["cash"] == "299.99"  # its room in the day is freed too
    _postings_balance(creator)
    assert creator.json("verify")["ok"] is True


def test_payout_list_filters_by_account_and_state(creator: Cli) -> None:
    a = creator.json("redeem", "mia", "20000", "--hold")["id"]
    b = creator.json("redeem", "mia", "20000", "--hold")["id"]
    creator.json("payout", "reject", b, "--reason", "duplicate")
    assert [p["id"] for p in creator.json("payout", "list")["payouts"]] == [a, b]
    assert [p["id"] for p in creator.json("payout")["payouts"]] == [a, b]
    assert [p["id"] for p in creator.json("payout", "list", "--state", "rejected")["payouts"]] == [b]
    assert creator.json("payout", "list", "alice")["payouts"] == []
    expect_error(
        creator, "payout", "list", "--state", "lost", exit_code=2, code="unknown_state", says="unknown payout state"
    )
    shown = creator("payout", "list")
    assert shown.exit_code == 0 and a in shown.stdout and "rejected" in shown.stdout


# ----- expiry -----------------------------------------------------------------------


def test_reads_show_an_expired_hold_as_expired_and_write_nothing(creator: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    hold = creator.json("redeem", "mia", "20000", "--hold")["id"]
    monkeypatch.setenv("COINPURSE_NOW", LATER)
    before = snapshot(creator.ledger)
    mia = creator.json("balance", "mia")
    assert (mia["diamonds"], mia["pending_diamonds"], mia["total_diamonds"]) == (59998, 0, 59998)
    row = creator.json("payout", "list")["payouts"][0]
    assert (row["id"], row["state"], row["release_recorded"]) == (hold, "expired", False)
    assert "release not yet recorded" in flat(creator("payout", "list").stdout)
    assert snapshot(creator.ledger) == before
    expect_error(
        creator, "payout", "approve", hold, exit_code=1, code="payout_settled", says="expired at 2026-03-16T12:00:00Z"
    )


def test_the_next_write_touching_the_account_records_the_release_first(
    creator: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    hold = creator.json("redeem", "mia", "20000", "--hold")["id"]
    monkeypatch.setenv("COINPURSE_NOW", LATER)
    creator.json("buy", "bob", "700")  # touches no account with a hold: nothing released
    assert load(creator.ledger)["transactions"][-1]["kind"] == "buy"
    redeemed = creator.json("redeem", "mia", "59998")  # needs the released diamonds
    assert redeemed["cash"] == "299.99"
    expiry, redeem = load(creator.ledger)["transactions"][-2:]
    assert (expiry["kind"], expiry["at"], expiry["request"], expiry["details"]["expires"]) == (
        "payout-expire", LATER, {"hold": hold}, "2026-03-16T12:00:00Z",
    )  # fmt: skip
    assert redeem["kind"] == "redeem"
    row = creator.json("payout", "list")["payouts"][0]
    assert (row["state"], row["release_recorded"], row["settled_by"]) == ("expired", True, expiry["id"])
    assert creator.json("verify")["ok"] is True


def test_a_refused_write_records_no_release(creator: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    creator.json("redeem", "mia", "20000", "--hold")
    monkeypatch.setenv("COINPURSE_NOW", LATER)
    expect_error(
        creator, "redeem", "mia", "60000", exit_code=1, code="insufficient_diamonds", says="has 59998 diamonds"
    )


def test_payout_expire_records_every_due_release(creator: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    assert creator("rates", "set", "payout.review_days", "3").exit_code == 0
    first = creator.json("redeem", "mia", "20000", "--hold")["id"]
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-02T12:00:00Z")
    second = creator.json("redeem", "mia", "20000", "--hold")["id"]
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-04T13:00:00Z")  # the first is due, the second not
    assert creator.json("payout", "expire", "--dry-run")["dry_run"] is True
    done = creator.json("payout", "expire")
    assert [(r["payout"], r["expired_at"], r["at"]) for r in done["released"]] == [
        (first, "2026-03-04T12:00:00Z", "2026-03-04T13:00:00Z")
    ]
    assert creator.json("payout", "expire")["released"] == []
    states = {p["id"]: p["state"] for p in creator.json("payout", "list")["payouts"]}
    assert states == {first: "expired", second: "pending"}
    assert "nothing was recorded" in creator("payout", "expire").stdout
    assert creator.json("verify")["ok"] is True


def test_review_days_is_a_validated_rates_key(creator: Cli) -> None:
    assert creator.json("rates")["payout"]["review_days"] == 15
    expect_error(
        creator,
        "rates",
        "set",
        "payout.review_days",
        "0",
        exit_code=2,
        code="invalid_rates",
        says="payout.review_days must be a positive whole number",
    )
    expect_error(
        creator,
        "rates",
        "set",
        "payout.review_days",
        "2.5",
        exit_code=2,
        code="invalid_rates",
        says="payout.review_days",
    )
    expect_error(
        creator,
        "rates",
        "set",
        "payout.review_days",
        "3651",
        exit_code=2,
        code="invalid_rates",
        says="from 1 to 3650 days",
    )
    changed = creator.json("rates", "set", "payout.review_days", "30")
    assert changed["changes"] == [{"key": "payout.review_days", "from": None, "to": 30}]
    assert creator.json("redeem", "mia", "20000", "--hold")["expires"] == "2026-03-31T12:00:00Z"
    back = creator.json("rates", "set", "--remove", "payout.review_days")
    assert back["changes"] == [{"key": "payout.review_days", "from": 30, "to": None}]
    assert creator.json("rates")["payout"]["review_days"] == 15
    assert creator.json("verify")["ok"] is True


# ----- verify's replay ----------------------------------------------------------------


def _tampered(cli: Cli, edit) -> list[str]:  # type: ignore[no-untyped-def]
    from ledger_tools import rechain, save

    document = load(cli.ledger)
    edit(document["transactions"])
    rechain(document)
    save(cli.ledger, document)
    result = cli("verify", "--json")
    return [p["code"] for p in json.loads(result.stdout)["problems"]]


def test_verify_finds_a_payout_approved_twice(creator: Cli) -> None:
    hold = creator.json("redeem", "mia", "20000", "--hold")["id"]
    creator.json("payout", "approve", hold)
    creator.json("redeem", "mia", "20000", "--hold")
    other = creator.json("payout", "approve", "tx-8")["id"]

    def twice(transactions: list[dict]) -> None:  # type: ignore[type-arg]
        for tx in transactions:
            if tx["id"] == other:
                tx["request"]["hold"] = tx["details"]["hold"] = hold

    codes = _tampered(creator, twice)
    assert "payout_settled" in codes


def test_verify_finds_a_hold_whose_expiry_was_edited(creator: Cli) -> None:
    assert creator("rates", "set", "payout.daily_maximum", "150.00").exit_code == 0
    creator.json("redeem", "mia", "20000", "--hold")
    creator.json("gift", "alice", "mia", "rose")

    def sooner(transactions: list[dict]) -> None:  # type: ignore[type-arg]
        for tx in transactions:
            if tx["kind"] == "payout-hold":
                tx["details"]["expires"] = "2026-03-02T12:00:00Z"

    assert "details_mismatch" in _tampered(creator, sooner)


@pytest.mark.parametrize("store", ["json", "sqlite"])
def test_the_library_and_batches_hold_and_settle(tmp_path, store: str) -> None:  # type: ignore[no-untyped-def]
    ledger = Ledger(tmp_path / f"l.{store}")
    with ledger.batch() as batch:
        for _ in range(4):
            batch.buy("alice", 17500)
        batch.gift("alice", "mia", "Lion", count=2)
        hold = batch.redeem("mia", 20000, hold=True).transaction.id
        assert batch.balance("mia").pending == 20000
        assert [p.status.state for p in batch.payouts().payouts] == ["pending"]
        batch.payout_approve(hold)
        batch.payout_return(hold, "bounced")
        again = batch.redeem("mia", 20000, hold=True).transaction.id
        batch.payout_reject(again, "no")
    assert [p.status.state for p in ledger.payouts().payouts] == ["returned", "rejected"]
    assert ledger.verify().ok


# ----- apply scenarios -----------------------------------------------------------------

PAYOUT_OPS = [
    {"kind": "buy", "account": "bob", "coins": 2500000, "id": "b-1"},
    {"kind": "gift", "sender": "bob", "recipient": "mia", "gift": "TikTok Universe", "count": 2, "id": "g-1"},
    {"kind": "redeem", "account": "mia", "diamonds": 20000, "hold": True, "id": "h-1"},
    {"kind": "redeem", "account": "mia", "diamonds": 20000, "hold": True, "id": "h-2"},
    {"kind": "payout-approve", "hold": "h-1", "id": "a-1"},
    {"kind": "payout-reject", "hold": "h-2", "reason": "duplicate", "id": "j-1"},
    {"kind": "payout-return", "hold": "h-1", "reason": "bank sent it back", "id": "t-1"},
]
PAYOUT_COMMANDS = [
    ("buy", "bob", "2500000", "--id", "b-1"),
    ("gift", "bob", "mia", "TikTok Universe", "-n", "2", "--id", "g-1"),
    ("redeem", "mia", "20000", "--hold", "--id", "h-1"),
    ("redeem", "mia", "20000", "--hold", "--id", "h-2"),
    ("payout", "approve", "h-1", "--id", "a-1"),
    ("payout", "reject", "h-2", "--reason", "duplicate", "--id", "j-1"),
    ("payout", "return", "h-1", "--reason", "bank sent it back", "--id", "t-1"),
]


def _scenario(tmp_path, ops) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"ops": ops}))
    return str(path)


def test_a_scenario_of_holds_and_settlements_equals_the_same_commands(cli: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    report = cli.json("apply", _scenario(tmp_path, PAYOUT_OPS))
    assert (report["recorded"], report["written"]) == (7, True)
    assert [op["kind"] for op in report["ops"]][2:] == [
        "payout-hold",
        "payout-hold",
        "payout-approve",
        "payout-reject",
        "payout-return",
    ]
    folder = tmp_path / "commands"
    folder.mkdir()
    commands = Cli(another_ledger(cli.ledger, folder, "ledger"))
    for args in PAYOUT_COMMANDS:
        result = commands(*args)
        assert result.exit_code == 0, (args, result.stderr)
    strip = lambda c: [{k: v for k, v in tx.items() if k != "at"} for tx in c.json("history")["transactions"]]  # noqa: E731
    assert strip(cli) == strip(commands)
    before = snapshot(cli.ledger)
    again = cli.json("apply", _scenario(tmp_path, PAYOUT_OPS))
    assert again["recorded"] == 0 and snapshot(cli.ledger) == before
    assert cli.json("verify")["ok"] is True


def test_a_refused_settlement_in_a_scenario_applies_nothing(cli: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    ops = [*PAYOUT_OPS[:5], {"kind": "payout-approve", "hold": "h-1"}]
    result = cli("apply", _scenario(tmp_path, ops), "--json")
    assert result.exit_code == 1
    assert "op 6" in result.stderr and "already approved by a-1" in result.stderr
    assert not cli.ledger.exists()
    bad = cli("apply", _scenario(tmp_path, [*PAYOUT_OPS[:2], {"kind": "payout-approve", "hold": "g-1"}]), "--json")
    assert bad.exit_code == 2 and "not a held payout" in bad.stderr


def test_history_and_verify_after_read_a_ledger_with_payouts(creator: Cli) -> None:
    head = creator.json("verify")["head_hash"]
    hold = creator.json("redeem", "mia", "20000", "--hold")["id"]
    creator.json("payout", "approve", hold)
    shown = flat(creator("history").stdout)
    assert "held for review until 2026-03-16T12:00:00Z" in shown and f"pays {hold} to mia" in shown
    kinds = [tx["kind"] for tx in creator.json("history", "--kind", "payout-approve")["transactions"]]
    assert kinds == ["payout-approve"]
    after = creator.json("verify", "--after", head)
    assert after["ok"] is True


def test_verify_finds_a_settlement_of_no_hold_and_a_daily_maximum_passed_by_holds(creator: Cli) -> None:
    hold = creator.json("redeem", "mia", "20000", "--hold")["id"]
    approval = creator.json("payout", "approve", hold)["id"]
    creator.json("redeem", "mia", "20000", "--hold")

    def of_no_hold(transactions: list[dict]) -> None:  # type: ignore[type-arg]
        for tx in transactions:
            if tx["id"] == approval:
                tx["request"]["hold"] = tx["details"]["hold"] = "tx-1"

    assert "unknown_payout" in _tampered(creator, of_no_hold)


def test_verify_replays_the_daily_maximum_with_holds_in_it(creator: Cli) -> None:
    assert creator("rates", "set", "payout.daily_maximum", "150.00", "payout.minimum", "10.00").exit_code == 0
    creator.json("redeem", "mia", "20000", "--hold")
    creator.json("redeem", "mia", "10000")  # $50: exactly what is left of the day

    def redeem_more(transactions: list[dict]) -> None:  # type: ignore[type-arg]
        last = transactions[-1]
        assert last["kind"] == "redeem"
        last["request"]["diamonds"] = 20000

    assert "rules_refuse" in _tampered(creator, redeem_more)


def test_a_scenario_releases_one_expired_hold_and_refuses_one_not_due(cli: Cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    cli.json("apply", _scenario(tmp_path, PAYOUT_OPS[:4]))
    early = cli("apply", _scenario(tmp_path, [{"kind": "payout-expire", "hold": "h-1"}]), "--json")
    assert early.exit_code == 1 and "it is not expired" in early.stderr
    monkeypatch.setenv("COINPURSE_NOW", LATER)
    report = cli.json("apply", _scenario(tmp_path, [{"kind": "payout-expire", "hold": "h-1", "id": "e-1"}]))
    released = report["ops"][0]["result"]
    assert (released["kind"], released["payout"], released["expired_at"]) == (
        "payout-expire",
        "h-1",
        "2026-03-16T12:00:00Z",
    )
    again = cli.json("apply", _scenario(tmp_path, [{"kind": "payout-expire", "hold": "h-1", "id": "e-1"}]))
    assert again["recorded"] == 0
    states = {p["id"]: (p["state"], p["release_recorded"]) for p in cli.json("payout", "list")["payouts"]}
    assert states == {"h-1": ("expired", True), "h-2": ("expired", False)}
    assert cli.json("verify")["ok"] is True


def test_verify_finds_a_write_that_did_not_record_a_due_release_first(
    creator: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    creator.json("redeem", "mia", "20000", "--hold")
    monkeypatch.setenv("COINPURSE_NOW", LATER)
    creator.json("gift", "alice", "mia", "rose")  # records the release, then the gift

    def without_the_release(transactions: list[dict]) -> None:  # type: ignore[type-arg]
        transactions[:] = [tx for tx in transactions if tx["kind"] != "payout-expire"]

    assert "release_not_recorded" in _tampered(creator, without_the_release)


def test_on_sqlite_a_payouts_state_is_found_without_walking_the_history(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from coinpurse.storage.sqlite import SqliteBook

    ledger = Ledger(tmp_path / "ledger.sqlite")
    with ledger.batch() as batch:
        batch.buy("alice", 2_500_000)
        for _ in range(50):
            batch.gift("alice", "mia", "Rose")
        batch.gift("alice", "mia", "TikTok Universe", count=2)
    first = ledger.redeem("mia", 20000, hold=True).transaction.id
    second = ledger.redeem("mia", 20000, hold=True).transaction.id

    def walked(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole history was read")

    monkeypatch.setattr(SqliteBook, "iter_transactions", walked)
    ledger.payout_approve(first)
    ledger.payout_reject(second, "checks")
    ledger.payout_return(first, "bounced")
    assert [p.status.state for p in ledger.payouts("mia").payouts] == ["returned", "rejected"]
    assert [p.status.state for p in ledger.payouts().payouts] == ["returned", "rejected"]
    assert ledger.balance("mia").pending == 0
    later = ledger.redeem("mia", 20000, hold=True).transaction.id
    ledger.gift("alice", "mia", "Rose", now=LATER)  # releases it first
    assert [p.status.state for p in ledger.payouts().payouts if p.status.hold.id == later] == ["expired"]
