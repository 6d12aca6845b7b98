"""coinpurse refund: a coin purchase given back, its lot's coins removed, and with --clawback the diamonds they became."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cli_checks import expect_error, flat, snapshot
from coinpurse import Ledger
from conftest import Cli
from ledger_tools import load, rechain, save


@pytest.fixture
def spent(cli: Cli) -> Cli:
    """bob's buy tx-1 (2,500,000 coins) paid a TikTok Universe to mia (who redeemed 40,000 of its diamonds) and roses to zoe."""
    return cli.made_by(
        ("buy", "bob", "2500000"),
        ("gift", "bob", "mia", "TikTok Universe"),
        ("gift", "bob", "zoe", "rose", "-n", "3"),
        ("redeem", "mia", "40000"),
    )


def _postings_balance(cli: Cli) -> None:
    document = load(cli.ledger)
    for tx in document["transactions"]:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for p in tx["postings"]:
            totals[p["commodity"]] += Decimal(str(p["amount"]))
        assert all(total == 0 for total in totals.values()), tx


def test_an_unspent_purchase_gives_its_cash_back_and_removes_its_coins(cli: Cli) -> None:
    cli.json("buy", "alice", "700")
    cli.json("buy", "alice", "1400", "--id", "second")
    refund = cli.json("refund", "tx-1")
    assert (refund["kind"], refund["buy"], refund["account"]) == ("refund", "tx-1", "alice")
    assert (refund["cash_back"], refund["coins_removed"], refund["spent"], refund["clawbacks"]) == ("9.99", 700, 0, [])
    assert refund["balance"] == {"account": "alice", "coins": 1400, "diamonds": 0}
    alice = cli.json("balance", "alice")
    assert (alice["coins"], alice["net_cash"]) == (1400, "-19.99")
    # The lot is gone: the next gift draws from the second buy.
    gift = cli.json("gift", "alice", "mia", "rose")
    assert gift["paid"] == "0.014"
    _postings_balance(cli)
    assert cli("verify").exit_code == 0


def test_a_partly_spent_purchase_is_refused_without_clawback_naming_where_the_coins_went(spent: Cli) -> None:
    error = expect_error(spent, "refund", "tx-1", exit_code=1, code="coins_spent", says="44,999 in gift tx-2 to mia")
    assert "3 in gift tx-3 to zoe" in error["message"]
    assert "45,002 of the 2,500,000 coins" in error["message"]


def test_clawback_across_two_creators_leaves_the_one_paid_out_owing(spent: Cli) -> None:
    refund = spent.json("refund", "tx-1", "--clawback")
    assert refund["spent"] == 45002 and refund["coins_removed"] == 2500000 - 45002
    assert [(c["creator"], c["gift"], c["coins"], c["diamonds"]) for c in refund["clawbacks"]] == [
        ("mia", "tx-2", 44999, 44999),
        ("zoe", "tx-3", 3, 3),
    ]
    assert {b["account"]: b["diamonds"] for b in refund["creators"]} == {"mia": -40000, "zoe": 0}
    assert spent.json("balance", "mia")["diamonds"] == -40000
    shown = flat(spent("balance", "mia").stdout)
    assert "owed" in shown and "-40,000" in shown
    assert "mia (owed)" in flat(spent("balance").stdout)
    expect_error(
        spent, "redeem", "mia", "--all", exit_code=1, code="insufficient_diamonds", says="mia owes 40,000 diamonds"
    )
    # Later gifts repay the debt first.
    spent.json("buy", "ann", "2500000")
    spent.json("gift", "ann", "mia", "TikTok Universe")
    assert spent.json("balance", "mia")["diamonds"] == 4999
    _postings_balance(spent)
    assert spent("verify").exit_code == 0


def test_the_receipt_lists_every_step(spent: Cli) -> None:
    text = flat(spent("refund", "tx-1", "--clawback").stdout)
    for step in (
        "$35,750.00 back to bob",
        "2,454,998 unspent coins (cost $35,106.471)",
        "44,999 diamonds (worth $224.995) clawed back from mia",
        "3 diamonds (worth $0.015) clawed back from zoe",
        "the platform gives back",
    ):
        assert step in text, step


def test_a_rounding_remainder_is_booked_and_shown(cli: Cli) -> None:
    cli.json("rates", "set", "conversion.diamonds_per_coin", "0.5")
    cli.json("buy", "bob", "700")  # tx-2
    cli.json("buy", "bob", "700")  # tx-3
    cli.json("gift", "bob", "mia", "rose", "-n", "699")
    gift = cli.json("gift", "bob", "mia", "rose", "-n", "3")  # 1 coin from tx-2, 2 from tx-3: 1 diamond
    assert gift["diamonds"] == 1
    assert "1/3 of a diamond under one stays with mia" in flat(cli("refund", "tx-2", "--clawback", "--dry-run").stdout)
    refund = cli.json("refund", "tx-2", "--clawback")
    last = refund["clawbacks"][-1]
    assert (last["coins"], last["diamonds"], last["remainder"]) == (1, 0, "1/3")
    assert refund["clawbacks"][0]["diamonds"] == 349 and refund["clawbacks"][0]["remainder"] == "0/699"
    _postings_balance(cli)
    assert cli("verify").exit_code == 0


def test_a_purchase_is_refunded_at_most_once(spent: Cli) -> None:
    spent.json("refund", "tx-1", "--clawback", "--id", "rf-1")
    expect_error(
        spent, "refund", "tx-1", "--clawback", exit_code=1, code="already_refunded", says="already refunded by rf-1"
    )


def test_a_retry_with_the_same_id_replays(spent: Cli) -> None:
    first = spent.json("refund", "tx-1", "--clawback", "--id", "rf-1")
    before = snapshot(spent.ledger)
    again = spent.json("refund", "tx-1", "--clawback", "--id", "rf-1")
    assert again["replayed"] is True and again["id"] == first["id"]
    assert snapshot(spent.ledger) == before


@pytest.mark.parametrize(
    ("buy_id", "code", "says"),
    [("tx-99", "unknown_transaction", "no transaction 'tx-99'"), ("tx-2", "not_a_buy", "'tx-2' is a gift")],
)
def test_an_unknown_id_or_one_not_a_buy_is_bad_input(spent: Cli, buy_id: str, code: str, says: str) -> None:
    expect_error(spent, "refund", buy_id, "--clawback", exit_code=2, code=code, says=says)


def test_a_dry_run_shows_every_clawback_and_writes_nothing(spent: Cli) -> None:
    before = snapshot(spent.ledger)
    shown = spent.json("refund", "tx-1", "--clawback", "--dry-run")
    assert shown["dry_run"] is True and len(shown["clawbacks"]) == 2
    text = flat(spent("refund", "tx-1", "--clawback", "--dry-run").stdout)
    assert "clawed back from mia" in text and "clawed back from zoe" in text and "nothing was written" in text
    assert snapshot(spent.ledger) == before


def test_verify_catches_a_tampered_refund(spent: Cli) -> None:
    spent.json("refund", "tx-1", "--clawback")
    assert spent("verify").exit_code == 0

    def lighter(document: dict) -> None:
        tx = document["transactions"][-1]
        for p in tx["postings"]:
            if p["account"] == "mia":
                p["amount"] = -40000
            if p["account"] == "platform:diamond-issue":
                p["amount"] = 40003

    document = load(spent.ledger)
    lighter(document)
    rechain(document)
    save(spent.ledger, document)
    result = spent("verify", "--json")
    assert result.exit_code == 3
    codes = {p["code"] for p in json.loads(result.stdout)["problems"]}
    assert "postings_mismatch" in codes


def test_exports_include_the_refund(spent: Cli, tmp_path) -> None:
    spent.json("refund", "tx-1", "--clawback")
    journal = spent("export", "--format", "journal").stdout
    assert "bob refunded buy tx-1 with clawback" in journal and "users:mia" in journal
    csv = tmp_path / "out.csv"
    assert spent("export", "-o", str(csv)).exit_code == 0
    assert "refund" in csv.read_text()
    out = tmp_path / "out.json"
    assert spent("export", "-o", str(out)).exit_code == 0
    assert any(tx["kind"] == "refund" for tx in json.loads(out.read_text())["transactions"])


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=6),
    creators=st.lists(st.sampled_from(["mia", "zoe", "kai"]), min_size=6, max_size=6),
    rate=st.sampled_from(["0.5", "0.3", "1", "0.7"]),
)
def test_any_clawback_balances_and_verifies(sizes: list[int], creators: list[str], rate: str) -> None:
    ledger = Ledger.memory()
    now = "2026-03-01T12:00:00Z"
    ledger.rates_set({"conversion.diamonds_per_coin": rate}, now=now)
    buy_id = ledger.buy("bob", 700, now=now).transaction.id  # the lot to refund: gifts draw from it first
    ledger.buy("bob", 1400, now=now)
    for size, creator in zip(sizes, creators, strict=False):
        ledger.gift("bob", creator, "rose", size, now=now)
    before = {name: ledger.balance(name).state.diamonds for name in set(creators[: len(sizes)])}
    refund = ledger.refund(buy_id, clawback=True, now=now).to_dict()
    spent = min(sum(sizes), 700)
    assert refund["spent"] == spent and refund["coins_removed"] == 700 - spent
    assert sum(c["coins"] for c in refund["clawbacks"]) == spent
    for tx in ledger.history().transactions:
        totals: dict[str, Decimal] = defaultdict(Decimal)
        for p in tx.postings:
            totals[p.commodity] += Decimal(p.amount)
        assert not any(totals.values())
    taken = defaultdict(int)
    for c in refund["clawbacks"]:
        taken[c["creator"]] += c["diamonds"]
        whole, part = c["remainder"].split("/")
        assert 0 <= int(whole) < int(part)
    for name, diamonds in before.items():
        assert ledger.balance(name).state.diamonds == diamonds - taken[name]
    assert ledger.balance("bob").state.coins == 2100 - sum(sizes) - (700 - spent)
    assert ledger.verify().ok


def test_a_reversed_gift_no_longer_counts_as_spending_the_refunded_coins(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("buy", "alice", "700").exit_code == 0
    assert cli("gift", "alice", "mia", "rose", "-n", "7").exit_code == 0
    assert cli("reverse", "tx-2", "--reason", "wrong recipient").exit_code == 0
    refunded = cli.json("refund", "tx-1")  # every coin is back in the lot: nothing to claw back
    assert refunded["coins_removed"] == 700 and refunded["clawbacks"] == []
    assert cli.json("balance", "alice")["coins"] == 0
    assert cli.json("verify")["ok"] is True


def test_a_gift_paid_by_a_refunded_buy_can_not_be_reversed(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("buy", "alice", "700").exit_code == 0
    assert cli("gift", "alice", "mia", "rose", "-n", "7").exit_code == 0
    assert cli("refund", "tx-1", "--clawback").exit_code == 0
    before = cli.ledger.read_bytes()
    result = cli("reverse", "tx-2", "--reason", "too late", "--json")
    assert result.exit_code == 1
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "lot_refunded" and "tx-3" in error["message"]
    assert cli.ledger.read_bytes() == before
