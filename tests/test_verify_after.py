"""`verify --after HASH`: trust the history up to a hash an earlier verify gave, check only what came after."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing

import pytest

from coinpurse.core.book import MemoryBook
from coinpurse.core.verify import verify_book
from ledger_tools import load, rechain, save, seed

LATER = (
    ("buy", "alice", "700"),
    ("gift", "alice", "mia", "swan"),  # draws the rest of alice's first lot and part of her second
    ("gift", "alice", "zed", "rose", "-n", "3"),  # zed is new after the hash
    ("buy", "bob", "17500"),
    ("buy", "bob", "17500"),
    ("gift", "bob", "mia", "rosa nebula"),
    ("gift", "bob", "mia", "interstellar"),
    ("redeem", "mia", "20000"),  # mia was paid earlier the same day, before the hash
    ("rates", "set", "gift.Rose.coins", "2"),
    ("gift", "carol", "zed", "rose", "-n", "2"),
    ("buy", "zed", "70"),
)


def _verified(cli) -> dict:  # type: ignore[no-untyped-def]
    report = cli.json("verify")
    assert report["ok"] and report["after"] is None
    return report


def _verify_after(cli, tx_hash: str) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    result = cli("verify", "--json", "--after", tx_hash)
    return result.exit_code, json.loads(result.stdout)


def _run(cli, commands) -> None:  # type: ignore[no-untyped-def]
    for args in commands:
        result = cli(*args)
        assert result.exit_code == 0, result.output


def test_after_checks_only_what_came_after_and_says_what_it_trusted(cli) -> None:
    seed(cli)
    earlier = _verified(cli)
    _run(cli, LATER)
    code, report = _verify_after(cli, earlier["head_hash"])
    assert code == 0, report["problems"]
    whole = cli.json("verify")
    assert (report["transactions"], report["accounts"], report["head_hash"]) == (
        whole["transactions"], whole["accounts"], whole["head_hash"],
    )  # fmt: skip
    assert report["after"] == {
        "hash": earlier["head_hash"], "transaction": "tx-8", "position": 8, "trusted": 8, "checked": len(LATER),
        "whole_chain": False,
    }  # fmt: skip
    human = cli("verify", "--after", earlier["head_hash"])
    assert human.exit_code == 0
    assert (
        f"trusted up to 'tx-8' (#8, hash {earlier['head_hash'][:12]}…), checked the {len(LATER)} after it"
        in human.stdout
    )


def test_after_the_head_itself_checks_nothing_and_passes(cli) -> None:
    seed(cli)
    earlier = _verified(cli)
    code, report = _verify_after(cli, earlier["head_hash"])
    assert code == 0 and report["after"]["checked"] == 0 and report["after"]["trusted"] == 8


def test_a_tampered_transaction_after_the_hash_is_caught(cli) -> None:
    seed(cli)
    earlier = _verified(cli)
    _run(cli, LATER)
    document = load(cli.ledger)
    document["transactions"][9]["postings"][0]["amount"] = -1  # alice's gift of a lion, rechained
    rechain(document)
    save(cli.ledger, document)
    code, report = _verify_after(cli, earlier["head_hash"])
    assert code == 3 and not report["ok"]
    assert report["first_problem"]["position"] == 10, report["problems"]


def test_tampered_accounts_after_the_hash_are_caught(cli) -> None:
    seed(cli)
    earlier = _verified(cli)
    _run(cli, LATER)
    document = load(cli.ledger)
    document["accounts"]["zed"]["coins"] += 100
    save(cli.ledger, document)
    code, report = _verify_after(cli, earlier["head_hash"])
    assert code == 3
    assert "balance_mismatch" in [p["code"] for p in report["problems"]] or report["after"]["whole_chain"]


def test_an_unknown_hash_is_a_verify_problem(cli) -> None:
    seed(cli)
    result = cli("verify", "--json", "--after", "ab" * 32)
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["first_problem"]["code"] == "after_not_found"
    assert report["after"]["position"] is None and report["transactions"] == 8
    assert json.loads(result.stderr)["error"]["code"] == "verify_after_not_found"


def test_a_hash_whose_history_was_rewritten_is_not_found(cli) -> None:
    seed(cli)
    earlier = _verified(cli)
    document = load(cli.ledger)
    document["transactions"][2]["id"] = "tx-x"  # an edit before it, rechained
    rechain(document)
    save(cli.ledger, document)
    code, report = _verify_after(cli, earlier["head_hash"])
    assert code == 3 and report["first_problem"]["code"] == "after_not_found"


@pytest.mark.parametrize("ledger", ["json", "sqlite"], indirect=True)
def test_the_history_before_the_hash_is_not_read_again(cli) -> None:
    """A damaged transaction before the hash is found by a whole verify, and not looked at by --after."""
    seed(cli)
    earlier = _verified(cli)
    _run(cli, LATER)
    if cli.ledger.suffix == ".sqlite":
        with closing(sqlite3.connect(cli.ledger)) as db, db:
            db.execute("UPDATE transactions SET body = json_set(body, '$.postings', 5) WHERE seq = 3")
    else:
        text = cli.ledger.read_text()
        line = next(line for line in text.splitlines() if line.startswith('    {"id": "tx-3"'))
        cli.ledger.write_text(text.replace(line, line.replace('"postings": [', '"postings": [5, ', 1)))
    whole = cli("verify", "--json")
    assert whole.exit_code == 3
    assert json.loads(whole.stdout)["first_problem"]["code"] == "damaged_record"
    code, report = _verify_after(cli, earlier["head_hash"])
    assert code == 0, report["problems"]
    assert report["after"]["checked"] == len(LATER) and not report["after"]["whole_chain"]


def test_after_is_a_hash_and_is_not_combined_with_anchors(cli) -> None:
    seed(cli)
    head = _verified(cli)["head_hash"]
    assert cli("verify", "--after", "tx-8").exit_code == 2
    assert cli("verify", "--after", head, "--anchor", head).exit_code == 2


def test_after_in_memory_matches_a_whole_verify() -> None:
    from coinpurse import Ledger

    ledger = Ledger.memory()
    ledger.buy("alice", 700)
    ledger.gift("alice", "mia", "rose", 5)
    head = ledger.verify().head_hash
    ledger.gift("alice", "mia", "coral")
    ledger.buy("bob", 70)
    report = ledger.verify(after=head)
    assert report.ok and report.after is not None and report.after.checked == 2
    assert report.head_hash == ledger.verify().head_hash
    assert isinstance(ledger._memory, MemoryBook)
    assert verify_book(ledger._memory, after=head).to_dict() == report.to_dict()


@pytest.mark.parametrize("opening", ['{"id": "tx-99", "id": "custom", ', '{"id": "\\u0063ustom", '])
def test_an_id_used_again_after_the_hash_is_caught_however_the_line_before_spells_it(json_cli, opening) -> None:
    """The ids before the hash are the parse's, not what a line opens with: a duplicate after it is still one."""
    import hashlib
    import re

    from coinpurse.core.model import chain_hash

    cli = json_cli
    seed(cli)
    _run(cli, [("gift", "alice", "mia", "rose", "--id", "custom")])
    earlier = _verified(cli)
    _run(cli, [("gift", "bob", "mia", "rose", "--id", "later"), ("buy", "carol", "70")])
    text = cli.ledger.read_text()
    head, rest = text.split('\n  "transactions": [\n', 1)
    lines = rest[: -len("\n  ]\n}\n")].split(",\n")
    lines[8] = lines[8].replace('{"id": "custom", ', opening, 1)  # before the hash: the same transaction
    previous = json.loads(lines[8])["hash"]
    for index in (9, 10):  # after it: "later" renamed "custom", and the suffix rechained as a forger would
        tx = json.loads(lines[index])
        tx["id"] = "custom" if tx["id"] == "later" else tx["id"]
        tx["hash"] = previous = chain_hash(previous, {k: v for k, v in tx.items() if k != "hash"})
        lines[index] = "    " + json.dumps(tx, ensure_ascii=False)
    history = ",\n".join(lines)
    digest = hashlib.sha256(history.encode()).hexdigest()
    head = re.sub(r'"history_sha256": "[0-9a-f]{64}"', f'"history_sha256": "{digest}"', head)
    cli.ledger.write_text(head + '\n  "transactions": [\n' + history + "\n  ]\n}\n")
    whole = cli("verify", "--json")
    assert whole.exit_code == 3 and "duplicate_id" in [p["code"] for p in json.loads(whole.stdout)["problems"]]
    code, report = _verify_after(cli, earlier["head_hash"])
    assert code == 3, report
    assert "duplicate_id" in [p["code"] for p in report["problems"]]


def _schema_2_after_a_hash(tmp_path):  # type: ignore[no-untyped-def]
    """A SQLite ledger verified at 'custom', two transactions later, then in schema 2's layout (plain id column)."""
    from pathlib import Path

    from conftest import Cli
    from ledger_tools import as_sqlite_schema_2

    cli = Cli(Path(tmp_path) / "ledger.sqlite")
    _run(cli, [("buy", "alice", "700"), ("buy", "bob", "17500"), ("gift", "alice", "mia", "rose", "--id", "custom")])
    earlier = _verified(cli)
    _run(cli, [("gift", "bob", "mia", "rose", "--id", "later"), ("buy", "carol", "70")])
    as_sqlite_schema_2(cli.ledger)
    return cli, earlier["head_hash"]


def test_after_checks_a_schema_2_sqlite_ledger(tmp_path) -> None:
    cli, tx_hash = _schema_2_after_a_hash(tmp_path)
    assert cli("verify").exit_code == 0
    code, report = _verify_after(cli, tx_hash)
    assert code == 0, report["problems"]
    assert report["after"]["checked"] == 2


def test_an_id_used_again_after_the_hash_is_caught_on_schema_2_whatever_its_id_column_says(tmp_path) -> None:
    from coinpurse.core.model import chain_hash

    cli, tx_hash = _schema_2_after_a_hash(tmp_path)
    with closing(sqlite3.connect(cli.ledger)) as db, db:
        db.execute("UPDATE transactions SET id = 'zzz' WHERE seq = 3")  # a plain column, before the hash
        previous = tx_hash
        for seq, body in db.execute("SELECT seq, body FROM transactions WHERE seq > 3 ORDER BY seq").fetchall():
            tx = json.loads(body)
            tx["id"] = "custom" if tx["id"] == "later" else tx["id"]
            previous = chain_hash(previous, tx)
            db.execute(
                "UPDATE transactions SET body = ?, hash = ?, id = ? WHERE seq = ?",
                (json.dumps(tx), previous, tx["id"], seq),
            )
    assert cli("verify").exit_code == 3
    code, report = _verify_after(cli, tx_hash)
    assert code == 3
    assert "duplicate_id" in [p["code"] for p in report["problems"]], report["problems"]
