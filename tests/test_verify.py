"""`verify`: balances rebuilt from history, the rules replayed, the hash chain, tamper evidence."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from coinpurse import api
from coinpurse.core import requests as rq
from coinpurse.core import rules
from coinpurse.core.book import MemoryBook
from coinpurse.core.model import DamagedRecord, transaction_from_dict
from coinpurse.core.verify import KIND_CHECKS, verify_book
from coinpurse.errors import BadInput, Refused
from coinpurse.storage import read_book
from conftest import Cli, another_ledger
from ledger_tools import load, save, seed


def _verify_json(cli):  # type: ignore[no-untyped-def]
    result = cli("verify", "--json")
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_clean_ledger_passes_with_one_line_summary(cli) -> None:
    seed(cli)
    result = cli("verify")
    assert result.exit_code == 0, result.output
    head = load(cli.ledger)["transactions"][-1]["hash"]
    assert result.stdout == f"ok: 8 transactions, 8 accounts, head hash {head}\n"


def test_json_report_names_count_accounts_and_head(cli) -> None:
    seed(cli)
    code, report, stderr = _verify_json(cli)
    assert code == 0 and stderr == ""
    assert report["ok"] is True
    assert (report["transactions"], report["accounts"]) == (8, 8)
    assert report["head_hash"] == load(cli.ledger)["transactions"][-1]["hash"]
    assert report["problems"] == [] and report["first_problem"] is None


def test_a_missing_ledger_is_unusable_and_not_created(cli) -> None:
    missing = cli("verify")
    assert missing.exit_code == 3
    assert "no ledger here" in missing.stderr
    assert not cli.ledger.exists()


def _tampered(cli, edit) -> tuple[int, dict, str]:  # type: ignore[no-untyped-def]
    seed(cli)
    document = load(cli.ledger)
    edit(document)
    save(cli.ledger, document)
    before = cli.ledger.read_bytes()
    code, report, stderr = _verify_json(cli)
    assert cli.ledger.read_bytes() == before  # verify never writes
    return code, report, stderr


def test_removing_a_middle_transaction_is_caught(cli) -> None:
    code, report, stderr = _tampered(cli, lambda d: d["transactions"].pop(2))
    assert code == 3
    first = report["first_problem"]
    assert (first["transaction"], first["code"]) == ("tx-4", "chain_broken")
    assert json.loads(stderr)["error"]["code"] == "verify_chain_broken"


def test_changing_an_amount_is_caught_even_with_a_rehashed_chain(cli) -> None:
    def edit(document: dict) -> None:
        tx = document["transactions"][2]  # bob's 17500 package
        tx["postings"][2]["amount"] = "-24.99"
        tx["postings"][3]["amount"] = "24.99"

    code, report, _ = _tampered(cli, edit)
    assert code == 3
    assert report["first_problem"]["transaction"] == "tx-3"
    codes = {p["code"] for p in report["problems"]}
    assert {"chain_broken", "postings_mismatch", "balance_mismatch"} <= codes

    # A tamperer who also recomputes every hash is still caught by the rules and balances.
    document = load(cli.ledger)
    _rehash(document)
    save(cli.ledger, document)
    code, report, _ = _verify_json(cli)
    assert code == 3
    assert report["first_problem"]["code"] == "postings_mismatch"
    assert "chain_broken" not in {p["code"] for p in report["problems"]}


def _rehash(document: dict) -> None:
    from coinpurse.core.model import GENESIS_HASH, chain_hash

    previous = GENESIS_HASH
    for tx in document["transactions"]:
        content = {k: v for k, v in tx.items() if k != "hash"}
        tx["hash"] = previous = chain_hash(previous, content)


def test_reordering_is_caught(cli) -> None:
    def edit(document: dict) -> None:
        txs = document["transactions"]
        txs[2], txs[3] = txs[3], txs[2]

    code, report, _ = _tampered(cli, edit)
    assert code == 3
    assert report["first_problem"]["transaction"] == "tx-4"
    assert report["first_problem"]["code"] == "chain_broken"


def test_editing_a_stored_balance_is_caught(cli) -> None:
    def edit(document: dict) -> None:
        document["accounts"]["alice"]["coins"] = 100_000

    code, report, _ = _tampered(cli, edit)
    assert code == 3
    first = report["first_problem"]
    assert (first["account"], first["code"], first["transaction"]) == ("alice", "balance_mismatch", None)
    assert "stored coins 100000 but the history gives 695" in first["message"]


def test_human_failure_names_first_bad_transaction(cli) -> None:
    seed(cli)
    document = load(cli.ledger)
    document["transactions"][1]["postings"][0]["amount"] = -4
    save(cli.ledger, document)
    result = cli("verify")
    assert result.exit_code == 3
    assert result.stdout == ""
    first_line = result.stderr.splitlines()[0]
    assert first_line.startswith(f"coinpurse: error: {cli.ledger}: transaction 'tx-2' (#2): its hash does not match")
    assert "do not sum to zero: 1 COIN" in result.stderr


@pytest.mark.parametrize(
    ("ledger", "edit", "code"),
    [
        (ledger, edit, code)
        for edit, code in [
            (lambda d: d["transactions"][3].update(id="tx-1"), "duplicate_id"),
            (lambda d: d["transactions"][3].update(at="2026-02-01T00:00:00Z"), "time_backwards"),
            (lambda d: d["transactions"][1]["rates"]["gift"].update(name="Moon Rose"), "unknown_rate"),
            (lambda d: d["transactions"][0]["rates"]["package"].update(price="0.09"), "unknown_rate"),
            (lambda d: d["transactions"][5]["rates"].update(minimum="1.00"), "unknown_rate"),
            (lambda d: d["transactions"][1].update(kind="airdrop"), "unknown_kind"),
            (lambda d: d["transactions"][1]["details"].update(paid="0.001"), "details_mismatch"),
            (lambda d: d["transactions"][1]["after"]["alice"].update(coins=1), "after_mismatch"),
            (lambda d: [p.update(commodity="EUR") for p in d["transactions"][0]["postings"][2:]], "unknown_commodity"),
            (lambda d: d["transactions"][1].update(hash="nope"), "damaged_record"),
            (lambda d: d["transactions"][1].update(request={"sender": 5}), "damaged_record"),
            (lambda d: d["transactions"][1]["request"].update(extra=1), "request_mismatch"),
            (lambda d: d["accounts"].update(zed={"coins": 0, "diamonds": 0, "cash": "0"}), "account_not_in_history"),
            (lambda d: d["accounts"].pop("platform:payouts", None), "account_missing"),
        ]
        for ledger in ("json", "toml", "sqlite")
        if (code, ledger)
        != ("duplicate_id", "sqlite")  # a SQLite ledger's UNIQUE index refuses a second row with the same id
    ],
    indirect=["ledger"],
)
def test_each_kind_of_damage_is_named(cli, edit, code: str) -> None:
    # Rehash so the chain does not hide the finding; edit again for damage to the hash itself.
    exit_code, report, _ = _tampered(cli, lambda d: (edit(d), _rehash(d), edit(d)))
    assert exit_code == 3
    assert code in [p["code"] for p in report["problems"]], report["problems"]


def test_payout_over_the_daily_maximum_is_caught(cli) -> None:
    seed(cli)
    cli("buy", "bob", "17500")
    cli("buy", "bob", "3500")
    assert cli("gift", "bob", "mia", "interstellar", "-n", "2").exit_code == 0
    assert cli("redeem", "mia", "20000").exit_code == 0
    document = load(cli.ledger)
    # Pretend the daily maximum was lower when mia was paid twice that day.
    document["rates"]["payout"]["daily_maximum"] = "150.00"
    for tx in document["transactions"]:
        if tx["kind"] == "redeem":
            tx["rates"]["daily_maximum"] = "150.00"
    _rehash(document)
    save(cli.ledger, document)
    code, report, _ = _verify_json(cli)
    assert code == 3
    refused = [p for p in report["problems"] if p["code"] == "rules_refuse"]
    assert refused and "daily maximum" in refused[0]["message"]


def test_unknown_kind_is_reported_not_crashed_on_and_hook_checks_it(json_cli, monkeypatch) -> None:
    seed(json_cli)
    document = load(json_cli.ledger)
    tx = document["transactions"][-1]
    extra = {
        **tx,
        "id": "note-1",
        "kind": "note",
        "postings": [],
        "details": {},
        "after": {},
        "request": {},
        "rates": {},
        "state": {**tx["state"], "accounts": {}},
    }  # it changes no account
    document["transactions"].append(extra)
    _rehash(document)
    save(json_cli.ledger, document)
    code, report, _ = _verify_json(json_cli)
    assert code == 3
    assert report["first_problem"]["code"] == "unknown_kind"
    monkeypatch.setitem(KIND_CHECKS, "note", lambda replay, tx: [])
    assert _verify_json(json_cli)[0] == 0


def test_rates_change_kind_moves_the_rates_of_its_time(json_cli) -> None:
    """A 'rates' transaction sets the rates later transactions are checked against."""
    seed(json_cli)
    changed = json_cli("rates", "set", "gift.Comet.coins", "7", "--remove", "gift.Rose")
    assert changed.exit_code == 0, changed.output
    assert _verify_json(json_cli)[0] == 0
    assert json_cli("gift", "carol", "mia", "comet").exit_code == 0
    assert _verify_json(json_cli)[0] == 0
    # A Comet moved before the change names a gift that did not exist then.
    document = load(json_cli.ledger)
    gift = document["transactions"][-1]
    document["transactions"].insert(1, {**gift, "id": "early"})
    _rehash(document)
    save(json_cli.ledger, document)
    code, report, _ = _verify_json(json_cli)
    assert code == 3
    assert report["first_problem"]["code"] == "unknown_rate"
    assert report["first_problem"]["transaction"] == "early"


def test_a_rates_change_must_list_what_it_changed(json_cli) -> None:
    seed(json_cli)
    assert json_cli("rates", "set", "gift.Rose.coins", "2").exit_code == 0
    document = load(json_cli.ledger)
    document["transactions"][-1]["details"]["changes"][0]["to"] = 3
    _rehash(document)
    save(json_cli.ledger, document)
    code, report, _ = _verify_json(json_cli)
    assert code == 3
    assert report["first_problem"]["code"] == "rates_changes_mismatch"


def test_works_over_the_book_interface(cli) -> None:
    seed(cli)
    book = read_book(cli.ledger)
    copy = MemoryBook(book.currency, book.rates, book.all_accounts(), [tx.to_dict() for tx in book.iter_transactions()])
    report = verify_book(copy)
    assert report.ok and report.transactions == 8
    assert report.head_hash == api.verify(cli.ledger).head_hash


def test_damaged_record_midway_is_named(json_cli) -> None:
    seed(json_cli)
    document = load(json_cli.ledger)
    document["transactions"][4]["postings"] = "gone"
    save(json_cli.ledger, document)
    code, report, _ = _verify_json(json_cli)
    assert code == 3
    assert report["first_problem"]["position"] == 5
    assert report["first_problem"]["code"] == "damaged_record"
    with pytest.raises(DamagedRecord):
        transaction_from_dict(document["transactions"][4])


def test_verify_is_listed_in_help(cli) -> None:
    assert "verify" in cli("--help").stdout
    assert Path(cli.ledger).exists() is False


@pytest.mark.parametrize("ledger", ["json"], indirect=True)
def test_a_value_of_another_json_type_is_caught_even_where_python_deems_it_equal(cli) -> None:
    """true and 1 are equal in Python: a buy's "package": true edited to 1 (hash untouched) must still fail."""
    seed(cli)
    text = cli.ledger.read_text()
    line = next(line for line in text.splitlines() if line.startswith('    {"id": "tx-1"'))
    assert '"package": true' in line
    cli.ledger.write_text(text.replace(line, line.replace('"package": true', '"package": 1')))
    code, report, _ = _verify_json(cli)
    assert code == 3 and report["first_problem"]["position"] == 1, report["problems"]


def test_a_clean_ledger_verifies_the_same_record_by_record_as_made_again(cli) -> None:
    """Every stored record the rules make again passes; the one-check-at-a-time path agrees on the whole report."""
    from coinpurse.core import verify

    seed(cli)
    fast = _verify_json(cli)[1]
    original = verify._FastPath.as_ruled
    try:
        verify._FastPath.as_ruled = lambda self, walk, record, tx_hash: False  # type: ignore[method-assign]
        slow = _verify_json(cli)[1]
    finally:
        verify._FastPath.as_ruled = original  # type: ignore[method-assign]
    assert fast == slow and fast["ok"]


# ----- a refund forged consistently: its lineage, postings, balances and chain all agree ---------
# The forger's refund is made by the rules themselves from a lineage the forger chose, so every
# figure from it on (postings, balances, states, hashes) agrees: only the gift records give it away.

SPENT = (
    ("buy", "bob", "2500000"),  # tx-1
    ("gift", "bob", "mia", "TikTok Universe"),  # tx-2: 44,999 coins of tx-1
    ("gift", "bob", "zoe", "rose", "-n", "3"),  # tx-3: 3 more
    ("redeem", "mia", "40000"),  # tx-4
)


def _made(cli, *commands: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    for command in commands:
        assert cli(*command).exit_code == 0, command


def _refund_forged(cli, monkeypatch, forge, *args: str) -> None:  # type: ignore[no-untyped-def]
    """``refund ARGS`` recorded from ``forge(book, lineage)`` instead of the lineage the rules find (None: they refuse)."""
    honest = rules.refund_lineage

    def forged(book, buy_id):  # type: ignore[no-untyped-def]
        try:
            lineage = honest(book, buy_id)
        except (BadInput, Refused):
            lineage = None
        return forge(book, lineage)

    with monkeypatch.context() as patched:
        patched.setattr(rules, "refund_lineage", forged)
        assert cli("refund", *args).exit_code == 0


def _lineage_problem(cli, tx_id: str = "tx-5", *args: str) -> dict:  # type: ignore[no-untyped-def]
    result = cli("verify", *args, "--json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    first = report["first_problem"]
    assert (first["code"], first["transaction"]) == ("refund_lineage_mismatch", tx_id), report["problems"]
    assert first["message"].startswith("its lineage is not what the records before it give: ")
    return report  # type: ignore[no-any-return]


def _to_zoe_only(book, lineage):  # type: ignore[no-untyped-def]
    """mia's clawback moved to zoe: mia keeps the diamonds she was paid out for."""
    mia, zoe = lineage.gifts
    return replace(lineage, gifts=(replace(zoe, coins=mia.coins + zoe.coins, gift_coins=45002, gift_diamonds=45002),))


def test_a_refund_that_claws_back_fewer_diamonds_than_the_gift_made_is_caught(cli, monkeypatch) -> None:
    def lighter(book, lineage):  # type: ignore[no-untyped-def]
        mia, zoe = lineage.gifts
        return replace(lineage, gifts=(replace(mia, gift_diamonds=4), zoe))  # the gift made 44,999 diamonds

    _made(cli, *SPENT)
    _refund_forged(cli, monkeypatch, lighter, "tx-1", "--clawback")
    report = _lineage_problem(cli)
    message = report["first_problem"]["message"]
    assert "claws back from gift tx-2 to mia (44,999 of its 44,999 coins, 4 diamonds at 0.005)" in message
    assert "spent the buy's coins as gift tx-2 to mia (44,999 of its 44,999 coins, 44,999 diamonds" in message
    assert len(report["problems"]) == 1  # all else the forger made agrees with itself


def test_a_refund_that_moves_a_clawback_to_another_creator_is_caught(cli, monkeypatch) -> None:
    _made(cli, *SPENT)
    _refund_forged(cli, monkeypatch, _to_zoe_only, "tx-1", "--clawback")
    assert "claws back from gift tx-3 to zoe (45,002 of" in _lineage_problem(cli)["first_problem"]["message"]


def test_a_refund_of_more_cash_than_the_buy_cost_is_caught(cli, monkeypatch) -> None:
    def dearer(book, lineage):  # type: ignore[no-untyped-def]
        return replace(lineage, price=Decimal("99999.00"))

    _made(cli, *SPENT)
    _refund_forged(cli, monkeypatch, dearer, "tx-1", "--clawback")
    message = _lineage_problem(cli)["first_problem"]["message"]
    assert "records buy tx-1 as 2,500,000 coins for 99999.00 by bob" in message
    assert "but the buy was 2,500,000 coins for 35750.00 by bob" in message


def test_a_refund_of_a_buy_refunded_before_is_caught(cli, monkeypatch) -> None:
    def again(book, lineage):  # type: ignore[no-untyped-def]
        # The rules refuse it; the lot is gone, so the forger says gifts spent every coin (zoe's roses, no diamonds).
        drawn = rq.Drawn("tx-3", "zoe", 2500000, 2500000, 0, Decimal("0.005"))
        return rq.Lineage("bob", 2500000, book.find("tx-1").payload.details.price, (drawn,))

    _made(cli, *SPENT, ("refund", "tx-1", "--clawback"), ("buy", "bob", "700"))  # tx-5 the honest refund, tx-6
    _refund_forged(cli, monkeypatch, again, "tx-1", "--clawback")  # tx-7: the cash paid back twice
    assert "buy tx-1 was already refunded by tx-5" in _lineage_problem(cli, "tx-7")["first_problem"]["message"]


def test_a_refund_of_no_buy_is_caught(cli, monkeypatch) -> None:
    _made(cli, *SPENT)
    _refund_forged(cli, monkeypatch, lambda book, lineage: rq.Lineage("bob", 0, Decimal("500.00")), "tx-9")
    assert "no buy tx-9 comes before it" in _lineage_problem(cli)["first_problem"]["message"]


def test_a_refund_after_the_trusted_hash_is_checked_against_the_gifts_before_it(cli, monkeypatch) -> None:
    """verify --after sees no gift before the hash, which a refund after it needs: it checks the whole chain."""
    _made(cli, *SPENT)
    trusted = load(cli.ledger)["transactions"][-1]["hash"]  # tx-4's
    _refund_forged(cli, monkeypatch, _to_zoe_only, "tx-1", "--clawback")
    assert _lineage_problem(cli, "tx-5", "--after", trusted)["after"]["whole_chain"] is True


def test_an_honest_refund_verifies_after_a_reversal_and_a_refund_of_another_buy(cli) -> None:
    _made(
        cli, *SPENT, ("buy", "bob", "700"), ("gift", "bob", "mia", "rose", "-n", "2"),  # tx-5, tx-6
        ("reverse", "tx-3", "--reason", "wrong creator"), ("refund", "tx-5", "--clawback"),  # tx-7, tx-8
        ("refund", "tx-1", "--clawback"),  # tx-9: zoe's reversed roses are no longer spent; tx-6 drew from tx-1 too
    )  # fmt: skip
    refund = cli.json("history", "--kind", "refund")["transactions"][-1]
    assert [c["gift"] for c in refund["details"]["clawbacks"]] == ["tx-2", "tx-6"]
    assert _verify_json(cli)[0] == 0


def test_a_reversal_of_a_gift_whose_buy_was_refunded_is_caught(cli, monkeypatch) -> None:
    """The rules refuse it, as the lot is gone; a forger who records it anyway is named by verify."""
    _made(cli, ("buy", "alice", "700"), ("gift", "alice", "mia", "rose", "-n", "7"), ("refund", "tx-1", "--clawback"))
    _made(cli, ("buy", "bob", "700"), ("gift", "bob", "mia", "rose", "-n", "7"))  # mia holds diamonds again
    before = read_book(cli.ledger)

    class Unrefunded:  # the history as the forger shows it to the rule: with no refund in it
        def find(self, tx_id: str):  # type: ignore[no-untyped-def]
            return before.find(tx_id)

        def transactions(self, account=None, kind=None):  # type: ignore[no-untyped-def]
            return [] if kind == "refund" else before.transactions(account=account, kind=kind)

    make = rq.Reverse.make
    with monkeypatch.context() as patched:
        patched.setattr(rq.Reverse, "make", lambda *args: replace(make(*args), lookup=Unrefunded()))
        assert cli("reverse", "tx-2", "--reason", "forged").exit_code == 0
    code, report, _ = _verify_json(cli)
    assert code == 3
    first = report["first_problem"]
    assert (first["code"], first["transaction"]) == ("reversed_after_refund", "tx-6"), report["problems"]
    assert "came from buy tx-1, refunded by tx-3 before it" in first["message"]


def test_a_reversal_recorded_before_its_gift_is_caught(cli, monkeypatch) -> None:
    """A forger reverses a gift ahead of time (the rule is shown the gift to come), then records the gift."""
    start = (("buy", "alice", "700"), ("buy", "bob", "700"), ("gift", "bob", "mia", "rose", "-n", "700"))
    ahead = ("gift", "alice", "mia", "rose", "-n", "700", "--id", "later")
    make = rq.Reverse.make

    def forged(target: Cli, gift):  # type: ignore[no-untyped-def]
        class Ahead:  # the history as the forger shows it to the rule: with the gift already in it
            def find(self, tx_id: str):  # type: ignore[no-untyped-def]
                return gift

            def transactions(self, account=None, kind=None):  # type: ignore[no-untyped-def]
                return read_book(target.ledger).transactions(account=account, kind=kind)

        _made(target, *start)
        with monkeypatch.context() as patched:
            patched.setattr(rq.Reverse, "make", lambda *args: replace(make(*args), lookup=Ahead()))
            assert target("reverse", "later", "--reason", "ahead").exit_code == 0  # tx-4
        _made(target, ahead)
        return read_book(target.ledger).find("later")

    honest = Cli(another_ledger(cli.ledger, cli.ledger.parent, "honest"))
    _made(honest, *start, ahead)  # the gift as it would be without the reversal: the forger's first guess
    guessed = forged(
        Cli(another_ledger(cli.ledger, cli.ledger.parent, "guess")), read_book(honest.ledger).find("later")
    )
    forged(cli, guessed)  # the gift that guess led to: the same from here on, so everything agrees
    code, report, _ = _verify_json(cli)
    assert code == 3
    first = report["first_problem"]
    assert (first["code"], first["transaction"]) == ("reversed_before_gift", "tx-4"), report["problems"]
    assert "it reverses later, which comes after it in the history" in first["message"]
