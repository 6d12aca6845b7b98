"""balance and rates read only the head of a JSON ledger in coinpurse's layout; history and gifters read
the lines they need from its end; everything else reads it all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coinpurse.storage import read_book
from coinpurse.storage.files import LazyHistoryBook, read_file_book
from conftest import Cli


@pytest.fixture
def json_ledger_with_history(json_cli: Cli, json_ledger: Path) -> Path:
    json_cli("buy", "alice", "700")
    json_cli("gift", "alice", "mia", "rose", "-n", "5")
    json_cli("gift", "alice", "mia", "rose")
    return json_ledger


def test_the_head_answers_balances_and_the_history_loads_when_used(json_ledger_with_history: Path) -> None:
    book = read_book(json_ledger_with_history)
    assert isinstance(book, LazyHistoryBook)
    assert book._loaded is None
    assert book.account("mia").diamonds == 6
    assert book._loaded is None  # the balance needed no history
    assert [tx.kind for tx in book.transactions("mia")] == ["gift", "gift"]
    assert book.head().length == 3


def test_history_read_from_the_lines_is_what_the_full_parse_gives(json_cli: Cli, json_ledger: Path) -> None:
    json_cli("demo")
    json_cli("rates", "set", "gift.Rose.coins", "2")
    json_cli("gift", "bob", "mia", "rose", "-n", "3")
    full, _ = read_file_book(json_ledger, json_ledger.read_bytes())
    names = [*full.accounts, "nobody"]
    for account in [None, *names]:
        for kind in [None, "buy", "gift", "redeem", "rates"]:
            for limit in [None, 1, 3, 100]:
                book = read_book(json_ledger)
                assert isinstance(book, LazyHistoryBook)
                found = book.transactions(account, kind, limit)
                assert book._loaded is None  # from the lines, not the full parse
                assert [tx.to_dict() for tx in found] == [
                    tx.to_dict() for tx in full.transactions(account, kind, limit)
                ]


def test_a_name_spelt_with_an_escape_is_still_found(json_cli: Cli, json_ledger_with_history: Path) -> None:
    ledger = json_ledger_with_history
    text = ledger.read_text()
    newest = text.rindex('    {"id": "tx-3"')
    ledger.write_text(text[:newest] + text[newest:].replace('"mia"', '"\\u006dia"'))  # as another writer might
    found = json_cli.json("history", "mia", "--limit", "1")["transactions"]
    assert [tx["id"] for tx in found] == ["tx-3"]
    assert json_cli.json("gifters", "mia")["gifters"][0]["items"] == 6


def test_history_reads_only_the_lines_it_needs(json_cli: Cli, json_ledger_with_history: Path) -> None:
    ledger = json_ledger_with_history
    ledger.write_text(ledger.read_text().replace('"kind": "buy"', '"kind": 1.5', 1))  # the oldest line
    assert [tx["id"] for tx in json_cli.json("history", "--limit", "2")["transactions"]] == ["tx-2", "tx-3"]
    assert json_cli.json("gifters", "mia")["gifters"][0]["items"] == 6  # gifts only: the buy is not read
    for args in (("history", "--limit", "3"), ("history", "alice"), ("history", "alice", "--kind", "buy")):
        result = json_cli(*args, "--json")  # these read the damaged line: the full parse reports it
        assert result.exit_code == 3
        assert json.loads(result.stderr)["error"]["code"] == "ledger_damaged"


def test_damage_in_the_history_is_reported_by_anything_that_reads_it(
    json_cli: Cli, json_ledger_with_history: Path
) -> None:
    ledger = json_ledger_with_history
    ledger.write_text(ledger.read_text().replace('"kind": "gift"', '"kind": 1.5', 1))
    before = ledger.read_bytes()
    assert json_cli.json("balance", "mia")["diamonds"] == 6  # the accounts are intact
    for args in (("history", "--json"), ("gift", "alice", "mia", "rose", "--json")):
        result = json_cli(*args)
        assert result.exit_code == 3
        assert str(ledger) in json.loads(result.stderr)["error"]["message"]
    assert ledger.read_bytes() == before


def test_a_truncated_file_gets_the_full_parse_and_its_error(json_cli: Cli, json_ledger_with_history: Path) -> None:
    ledger = json_ledger_with_history
    ledger.write_bytes(ledger.read_bytes()[:-40])
    result = json_cli("balance", "mia", "--json")
    assert result.exit_code == 3
    assert json.loads(result.stderr)["error"]["code"] == "ledger_damaged"


@pytest.mark.parametrize("indent", [None, 4])
def test_hand_edited_layouts_are_read_in_full(
    json_cli: Cli, json_ledger_with_history: Path, indent: int | None
) -> None:
    ledger = json_ledger_with_history
    ledger.write_text(json.dumps(json.loads(ledger.read_text()), indent=indent))
    assert not isinstance(read_book(ledger), LazyHistoryBook)
    assert json_cli.json("balance", "mia")["diamonds"] == 6
    assert len(json_cli.json("history")["transactions"]) == 3


def test_an_empty_history_reads_from_the_head(json_cli: Cli, json_ledger: Path) -> None:
    json_cli("buy", "alice", "700")
    text = json_ledger.read_text()
    head, _ = text.split('  "transactions": [\n')
    json_ledger.write_text(head + '  "transactions": []\n}\n')
    book = read_book(json_ledger)
    assert isinstance(book, LazyHistoryBook)
    assert book.account("alice").coins == 700 and book.head().length == 0


def test_one_account_parses_only_its_own_line_and_every_account_all_of_them(json_cli: Cli, json_ledger: Path) -> None:
    json_cli("demo")
    full, _ = read_file_book(json_ledger, json_ledger.read_bytes())
    book = read_book(json_ledger)
    assert isinstance(book, LazyHistoryBook)
    assert book.account("mia") == full.accounts["mia"]
    assert set(book._parsed) == {"mia"}  # no other account's line was parsed
    assert book.has_account("alice") and not book.has_account("nobody")
    assert book.stored_account("nobody") is None
    assert book.accounts == full.accounts and list(book.accounts) == list(full.accounts)


def test_a_damaged_account_line_is_reported_when_that_account_is_read(json_cli: Cli, json_ledger: Path) -> None:
    json_cli("buy", "alice", "700")
    json_cli("buy", "bob", "70")
    text = json_ledger.read_text()
    json_ledger.write_text(text.replace('"bob": {"coins": 70', '"bob": {"coins": "70"', 1))
    assert json_cli.json("balance", "alice")["coins"] == 700  # its own line is sound
    for command in (("balance", "bob"), ("balance",)):
        result = json_cli(*command, "--json")
        assert result.exit_code == 3 and "account 'bob'" in result.output, result.output
