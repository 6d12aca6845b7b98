"""`verify`: balances rebuilt from history, the rules replayed, the hash chain, tamper evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coinpurse import api
from coinpurse.core.book import MemoryBook
from coinpurse.core.model import DamagedRecord, transaction_from_dict
from coinpurse.core.verify import KIND_CHECKS, verify_book
from coinpurse.storage import read_book
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
