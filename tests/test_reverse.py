"""`coinpurse reverse`: a gift undone, its coins back into the same lots in first-in-first-out place."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from coinpurse import Ledger
from conftest import examples

ECONOMY = (
    ("buy", "alice", "700"),  # tx-1: 700 coins for 9.99
    ("buy", "alice", "1400"),  # tx-2: 1400 coins for 19.99
    ("gift", "alice", "mia", "rose", "-n", "800"),  # tx-3: all of tx-1 and 100 of tx-2
)


def lots(cli, account: str = "alice") -> list[tuple[str, int, Decimal]]:
    with Ledger.open(cli.ledger).batch(dry_run=True) as batch:
        return [(lot.source, lot.coins, lot.cost) for lot in batch.state(account).lots]


def made(cli, *extra: tuple[str, ...]):  # type: ignore[no-untyped-def]
    for args in (*ECONOMY, *extra):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
    return cli


def test_reversing_a_gift_restores_the_same_lots_and_the_diamonds(cli) -> None:
    made(cli, ("gift", "alice", "mia", "rose", "-n", "100"))  # tx-4: 100 more of tx-2
    before = lots(cli)
    assert before == [("tx-2", 1200, Decimal("17.134"))]
    data = cli.json("reverse", "tx-3", "--reason", "wrong creator")
    assert data["kind"] == "reversal" and data["original"] == "tx-3" and data["reason"] == "wrong creator"
    assert data["coins"] == 800 and data["diamonds"] == 800 and data["replayed"] is False and data["dry_run"] is False
    assert data["lots_restored"] == [
        {"source": "tx-1", "coins": 700, "cost": "9.99"},
        {"source": "tx-2", "coins": 100, "cost": "1.428"},
    ]
    assert data["sender"] == {"account": "alice", "coins": 2000, "diamonds": 0}
    assert data["recipient"] == {"account": "mia", "coins": 0, "diamonds": 100}
    # The cost basis is what it was before the gift, less what the later gift drew.
    assert lots(cli) == [("tx-1", 700, Decimal("9.99")), ("tx-2", 1300, Decimal("18.562"))]
    assert cli("verify").exit_code == 0


def test_the_cost_basis_is_as_before_the_gift_and_a_later_gift_draws_the_same_lots(cli) -> None:
    for args in ECONOMY[:2]:
        assert cli(*args).exit_code == 0
    untouched = lots(cli)
    assert cli(*ECONOMY[2]).exit_code == 0
    first = cli.json("history", "--kind", "gift")["transactions"][0]["details"]
    assert cli("reverse", "tx-3", "--reason", "test").exit_code == 0
    assert lots(cli) == untouched
    again = cli.json("gift", "alice", "mia", "rose", "-n", "800")
    assert again["paid"] == first["paid"]
    assert cli.json("history", "--kind", "gift")["transactions"][-1]["details"]["lots"] == first["lots"]
    assert cli("verify").exit_code == 0


def test_lots_restored_out_of_order_go_back_in_buy_order(cli) -> None:
    made(cli, ("gift", "alice", "mia", "rose", "-n", "1300"))  # tx-4: the rest of tx-2
    assert cli("buy", "alice", "70").exit_code == 0  # tx-5
    assert cli("reverse", "tx-3", "--reason", "a").exit_code == 0  # tx-1 and part of tx-2 come back
    assert cli("reverse", "tx-4", "--reason", "b").exit_code == 0  # the rest of tx-2: merged into it
    assert lots(cli) == [
        ("tx-1", 700, Decimal("9.99")),
        ("tx-2", 1400, Decimal("19.99")),
        ("tx-5", 70, Decimal("0.99")),
    ]
    assert cli("verify").exit_code == 0


def test_refusals_and_bad_input_leave_the_ledger_byte_identical(cli) -> None:
    made(cli, ("buy", "bob", "700"), ("rates", "set", "payout.minimum", "1.00"), ("redeem", "mia", "--all"))
    # mia redeemed the diamonds: this gift can't be undone any more.
    cases = [
        (("reverse", "tx-3", "--reason", "x"), 1, "insufficient_diamonds"),
        (("reverse", "tx-1", "--reason", "x"), 2, "not_reversible"),  # a buy: refund it
        (("reverse", "tx-6", "--reason", "x"), 2, "not_reversible"),  # a redeem
        (("reverse", "tx-5", "--reason", "x"), 2, "not_reversible"),  # a rates change
        (("reverse", "tx-99", "--reason", "x"), 2, "unknown_transaction"),
        (("reverse", "tx-3", "--reason", " "), 2, None),
    ]
    for args, code, error in cases:
        before = cli.ledger.read_bytes()
        result = cli(*args, "--json")
        assert result.exit_code == code, (args, result.stderr)
        assert cli.ledger.read_bytes() == before
        if error is not None:
            assert json.loads(result.stderr)["error"]["code"] == error
    assert "refund" in cli("reverse", "tx-1", "--reason", "x").stderr


def test_a_gift_is_reversed_once_and_a_reversal_never(cli) -> None:
    made(cli)
    assert cli("reverse", "tx-3", "--reason", "once", "--id", "fix-1").exit_code == 0
    before = cli.ledger.read_bytes()
    again = cli("reverse", "tx-3", "--reason", "twice")
    assert again.exit_code == 1 and "fix-1" in again.stderr
    reversal = cli("reverse", "fix-1", "--reason", "undo the undo")
    assert reversal.exit_code == 2 and "can't be reversed" in reversal.stderr
    assert cli.ledger.read_bytes() == before


def test_a_retry_with_the_same_id_replays(cli) -> None:
    made(cli)
    first = cli.json("reverse", "tx-3", "--reason", "dup", "--id", "fix-1")
    before = cli.ledger.read_bytes()
    retry = cli.json("reverse", "tx-3", "--reason", "dup", "--id", "fix-1")
    assert retry["replayed"] is True and retry["id"] == first["id"] == "fix-1"
    assert cli.ledger.read_bytes() == before
    other = cli("reverse", "tx-3", "--reason", "another reason", "--id", "fix-1")
    assert other.exit_code == 1 and cli.ledger.read_bytes() == before


def test_a_dry_run_shows_the_receipt_and_writes_nothing(cli) -> None:
    made(cli)
    before = cli.ledger.read_bytes()
    shown = cli.json("reverse", "tx-3", "--reason", "check", "--dry-run")
    assert shown["dry_run"] is True and shown["coins"] == 800 and len(shown["lots_restored"]) == 2
    assert cli.ledger.read_bytes() == before
    text = cli("reverse", "tx-3", "--reason", "check", "--dry-run")
    assert text.exit_code == 0 and "reversed tx-3" in text.stdout and "nothing was written" in text.stdout
    assert cli.ledger.read_bytes() == before
    done = cli.json("reverse", "tx-3", "--reason", "check")
    assert {k: v for k, v in done.items() if k != "dry_run"} == {k: v for k, v in shown.items() if k != "dry_run"}


def test_history_links_the_gift_and_its_reversal_both_ways(cli) -> None:
    made(cli, ("gift", "alice", "mia", "rose"))
    assert cli("reverse", "tx-3", "--reason", "wrong creator").exit_code == 0
    found = {tx["id"]: tx for tx in cli.json("history")["transactions"]}
    assert found["tx-3"]["reversed_by"] == "tx-5"
    assert "reversed_by" not in found["tx-4"]
    reversal = found["tx-5"]
    assert reversal["kind"] == "reversal" and reversal["request"] == {"original": "tx-3", "reason": "wrong creator"}
    assert reversal["details"]["original"] == "tx-3" and reversal["details"]["lots"] == [
        ["tx-1", 700, "9.99"],
        ["tx-2", 100, "1.428"],
    ]
    gifts = cli.json("history", "--kind", "gift")["transactions"]
    assert gifts[0]["reversed_by"] == "tx-5"
    table = cli("history", "--all").stdout
    assert "reversed by tx-5" in table and "reverses tx-3" in table


def test_exports_include_the_reversal(cli, tmp_path) -> None:
    made(cli)
    assert cli("reverse", "tx-3", "--reason", "wrong creator").exit_code == 0
    journal = cli("export").stdout
    assert "reversal of tx-3: wrong creator" in journal and "; kind: reversal" in journal
    csv_out = tmp_path / "out.csv"
    assert cli("export", "-o", str(csv_out)).exit_code == 0
    assert ",reversal," in csv_out.read_text()
    json_out = tmp_path / "out.json"
    assert cli("export", "-o", str(json_out)).exit_code == 0
    assert "reversal" in [tx["kind"] for tx in json.loads(json_out.read_text())["transactions"]]


def test_verify_replays_a_reversal_and_catches_a_tampered_one(json_cli) -> None:
    made(json_cli)
    assert json_cli("reverse", "tx-3", "--reason", "wrong creator").exit_code == 0
    assert json_cli("verify").exit_code == 0
    document = json.loads(json_cli.ledger.read_text())
    reversal = document["transactions"][-1]
    reversal["details"]["lots"] = [["tx-2", 800, "11.418"]]  # restored to another lot than the gift drew
    json_cli.ledger.write_text(json.dumps(document, indent=2))
    result = json_cli("verify", "--json")
    assert result.exit_code != 0
    problems = json.loads(result.stdout)["problems"]
    assert any(p["transaction"] == "tx-4" and p["code"] == "details_mismatch" for p in problems), problems


@settings(max_examples=examples(60), deadline=None)
@given(
    buys=st.lists(st.integers(min_value=30, max_value=3000), min_size=1, max_size=5),
    before=st.integers(min_value=0, max_value=100),
    share=st.integers(min_value=1, max_value=100),
)
def test_a_reversed_gift_leaves_the_lots_as_they_were_before_it(buys, before, share) -> None:
    ledger = Ledger.memory()
    now = "2026-03-01T12:00:00Z"
    for coins in buys:
        ledger.buy("alice", coins, now=now)
    total = sum(buys)
    drawn_before = total * before // 200  # an earlier gift, kept: the reversed one starts inside a lot
    if drawn_before:
        ledger.gift("alice", "mia", "rose", count=drawn_before, now=now)
    left = total - drawn_before
    with ledger.batch(dry_run=True) as batch:
        untouched = batch.state("alice")
    gift = ledger.gift("alice", "noah", "rose", count=max(1, left * share // 100), now=now)
    ledger.reverse(gift.transaction.id, "test", now=now)
    with ledger.batch(dry_run=True) as batch:
        restored = batch.state("alice")
    assert restored.coins == untouched.coins
    assert [(lot.source, lot.coins, lot.cost) for lot in restored.lots] == [
        (lot.source, lot.coins, lot.cost) for lot in untouched.lots
    ]
    assert ledger.verify().ok


def test_a_reversal_row_in_history_shows_what_the_coins_given_back_had_cost(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("buy", "alice", "700").exit_code == 0
    assert cli("gift", "alice", "mia", "rose", "-n", "70").exit_code == 0
    assert cli("reverse", "tx-2", "--reason", "wrong recipient").exit_code == 0
    rows = {line.split()[0]: line for line in cli("history").stdout.splitlines() if line.strip().startswith("tx-")}
    assert "$0.999" in rows["tx-2"] and "$0.999" in rows["tx-3"]
