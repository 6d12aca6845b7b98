"""A write to a JSON ledger in coinpurse's layout keeps the history as lines and writes them back as they were."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from coinpurse.core.book import MemoryBook
from coinpurse.core.model import Transaction
from coinpurse.storage import _load
from coinpurse.storage.files import LinedBook, render_json
from conftest import Cli


@pytest.fixture
def json_ledger_with_history(json_cli: Cli, json_ledger: Path) -> Path:
    json_cli("buy", "alice", "700")
    json_cli("gift", "alice", "mia", "rose", "-n", "5", "--id", "g-1", "--stream", "café")  # non-ASCII is written as is
    json_cli("gift", "alice", "mia", "rose")
    return json_ledger


def _encoded_in_full(path: Path) -> bytes:
    book, _, _ = _load(path)
    return render_json(MemoryBook(book.currency, book.rates, book.accounts, list(book.records)))


def test_the_history_text_is_kept_and_the_file_is_what_a_full_encoding_gives(
    json_cli: Cli, json_ledger_with_history: Path
) -> None:
    ledger = json_ledger_with_history
    book, _, _ = _load(ledger, for_writing=True)
    assert isinstance(book, LinedBook) and book.stored_count == 3
    assert book.find("g-1") is not None and book.head().length == 3
    json_cli("buy", "bob", "350")
    json_cli("gift", "alice", "bob", "rose")
    assert ledger.read_bytes() == _encoded_in_full(ledger)
    assert [tx["id"] for tx in json_cli.json("history")["transactions"]][-2:] == ["tx-4", "tx-5"]
    assert json_cli("verify").exit_code == 0


def test_other_layouts_are_written_in_full_again(json_cli: Cli, json_ledger_with_history: Path) -> None:
    ledger = json_ledger_with_history
    text = ledger.read_text()
    # Two transactions on one line: the lines no longer match the records one to one.
    ledger.write_text(text.replace('},\n    {"id": "g-1"', '}, {"id": "g-1"', 1))
    book, _, _ = _load(ledger, for_writing=True)
    assert not isinstance(book, LinedBook)
    json_cli("buy", "bob", "350")
    assert ledger.read_bytes() == _encoded_in_full(ledger)
    assert len(json.loads(ledger.read_text())["transactions"]) == 4


def test_a_damaged_line_in_the_history_still_stops_a_write(json_cli: Cli, json_ledger_with_history: Path) -> None:
    ledger = json_ledger_with_history
    ledger.write_text(ledger.read_text().replace('"count": 5', '"count": 5.0', 1))
    before = ledger.read_bytes()
    result = json_cli("buy", "bob", "350", "--json")
    assert result.exit_code == 3
    assert ledger.read_bytes() == before


def test_a_line_damaged_in_shape_is_reported_when_a_write_looks_it_up(
    json_cli: Cli, json_ledger_with_history: Path
) -> None:
    ledger = json_ledger_with_history
    ledger.write_text(ledger.read_text().replace('"count": 5', '"count": "five"', 1))  # valid JSON, wrong shape
    before = ledger.read_bytes()
    retry = json_cli("gift", "alice", "mia", "rose", "-n", "5", "--id", "g-1", "--stream", "café", "--json")
    assert retry.exit_code == 3
    assert "g-1" in json.loads(retry.stderr)["error"]["message"]
    assert ledger.read_bytes() == before


def test_many_lookups_of_stored_ids_find_each_the_first_line_with_it(
    json_cli: Cli, json_ledger: Path, tmp_path: Path
) -> None:
    ops = [{"kind": "buy", "account": f"user{n:02d}", "coins": 70, "id": f"b-{n}"} for n in range(40)]
    scenario = tmp_path / "ops.json"
    scenario.write_text(json.dumps({"ops": ops}))
    assert json_cli("apply", str(scenario)).exit_code == 0
    before = json_ledger.read_bytes()
    book, _, _ = _load(json_ledger, for_writing=True)
    assert isinstance(book, LinedBook)
    assert [book.find(f"b-{n}").id for n in range(40)] == [f"b-{n}" for n in range(40)]  # searched, then indexed
    assert book.find("b-40") is None and book.next_auto_id() == "tx-41"
    assert json_cli("apply", str(scenario)).exit_code == 0
    assert json_ledger.read_bytes() == before  # every op replayed: nothing written


def test_a_write_keeps_the_lines_of_the_accounts_it_leaves_and_makes_the_others_again(
    json_cli: Cli, json_ledger_with_history: Path
) -> None:
    ledger = json_ledger_with_history
    json_cli("buy", "bob", "350")
    json_cli("gift", "bob", "carol", "rose")
    assert ledger.read_bytes() == _encoded_in_full(ledger)
    book, _, _ = _load(ledger, for_writing=True)
    assert isinstance(book, LinedBook) and set(book.kept_accounts()) == set(book.accounts)
    book.accounts["bob"] = book.accounts["alice"]  # a state other than the one read
    assert "bob" not in book.kept_accounts()


@pytest.mark.parametrize("block", [2, 3, 1024])
def test_a_write_keeps_what_it_appends_as_lines_and_reads_them_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """New transactions wait as the lines the file will hold, not as objects of several kB each, joined
    a block at a time: a read of one during the write parses its line, and the file is what a full encoding gives."""
    from coinpurse import Ledger
    from coinpurse.storage import files, write_book

    monkeypatch.setattr(files, "_BLOCK_LINES", block)

    ledger = tmp_path / "new.json"
    ops = [
        {"kind": "buy", "account": "alice", "coins": 700, "id": "b-1"},
        {"kind": "gift", "sender": "alice", "recipient": "mia", "gift": "rose", "count": 5, "stream": "café"},
        {"kind": "buy", "account": "alice", "coins": 700, "id": "b-1"},  # the same id: replays the line kept
        {"kind": "refund", "buy": "b-1", "clawback": True},  # reads the buy and the gift back from their lines
    ]
    with write_book(ledger) as new:  # a write that changes nothing leaves no file
        assert isinstance(new, LinedBook) and new.stored_count == 0
    assert not ledger.exists()
    results = Ledger(ledger).apply(ops)
    assert results.counts() == {"recorded": 3, "replayed": 1, "unchanged": 0}
    book, _, _ = _load(ledger, for_writing=True)
    assert isinstance(book, LinedBook) and book.stored_count == 3
    assert ledger.read_bytes() == _encoded_in_full(ledger)
    more = Ledger(ledger).apply([{"kind": "buy", "account": "bob", "coins": 350, "id": f"b-{n}"} for n in range(2, 9)])
    assert more.counts()["recorded"] == 7

    def again_ops() -> list[dict[str, Any]]:
        return [{"kind": "buy", "account": "bob", "coins": 70, "id": "b-9"}]

    again = Ledger(ledger).apply([*ops[:1], *again_ops()])
    assert again.counts() == {"recorded": 1, "replayed": 1, "unchanged": 0}
    ids = [{"kind": "buy", "account": "bob", "coins": 350, "id": f"b-{n}"} for n in range(2, 9)]
    assert (
        Ledger(ledger).apply([*ids, *again_ops(), *ops[:1]]).counts()["replayed"] == 9
    )  # every one read back from its line
    with write_book(ledger) as written:
        assert isinstance(written, LinedBook)
        for n in range(2, 12):  # lines of this write in blocks and after them, found by id and parsed
            written.append(*_a_buy(written, f"c-{n}"))
        assert [written.find(f"c-{n}").id for n in range(2, 12)] == [f"c-{n}" for n in range(2, 12)]
        assert written.transaction_at(written.head().length).id == "c-11"
    assert ledger.read_bytes() == _encoded_in_full(ledger)
    assert ledger.read_bytes() == _encoded_in_full(ledger)
    assert Ledger(ledger).verify().ok


def _a_buy(book: LinedBook, tx_id: str) -> tuple[Any, dict[str, Any]]:
    """A buy sealed onto the book's head, and the states it leaves, as rules.execute appends it."""
    from coinpurse.core import requests as rq
    from coinpurse.core.chain import recorded_state
    from coinpurse.core.rules import balances_after, plan_buy

    book.begin_write()
    made = plan_buy(book, rq.Buy.make("dora", 70, id=tx_id), tx_id, "2026-03-01T12:00:00Z")
    state = recorded_state(book.rates, made.states, book.currency, book.account_tree())
    tx = Transaction.sealed(
        tx_id, "2026-03-01T12:00:00Z", made.payload, made.postings, balances_after(made.states), book.head().hash, state
    )
    book.trust(made.states)
    return tx, made.states
