"""A gift or redeem naming a new account one typo from an existing one is refused unless meant."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from cli_checks import expect_error, snapshot
from coinpurse import Ledger
from coinpurse.core import new_accounts
from coinpurse.core.book import MemoryBook
from coinpurse.core.new_accounts import near_accounts, neighbours, not_only_digits
from coinpurse.core.rates import default_rates
from coinpurse.core.suggest import one_edit_apart
from coinpurse.errors import BadInput
from conftest import Cli


@pytest.fixture
def economy(cli: Cli) -> Cli:
    return cli.made_by(("buy", "alice", "700"), ("gift", "alice", "mia", "rose"), ("gift", "alice", "noah", "rose"))


@pytest.mark.parametrize("typo", ["mai", "mi", "miaa", "mja", "amia"])
def test_a_gift_to_a_new_name_one_typo_from_an_account_is_refused(economy: Cli, typo: str) -> None:
    error = expect_error(
        economy, "gift", "alice", typo, "rose", exit_code=2, code="new_account_close", says="did you mean mia?"
    )
    assert typo in error["message"] and "--new-account" in error["message"]


def test_the_sender_is_checked_too(economy: Cli) -> None:
    expect_error(
        economy, "gift", "alcie", "mia", "rose", exit_code=2, code="new_account_close", says="did you mean alice?"
    )


def test_a_redeem_of_a_new_name_one_typo_away_is_refused(economy: Cli) -> None:
    expect_error(economy, "redeem", "noha", "10", exit_code=2, code="new_account_close", says="did you mean noah?")
    # Meant: then the rules speak (a new account has no diamonds).
    expect_error(
        economy, "redeem", "noha", "10", "--new-account", exit_code=1, code="insufficient_diamonds", says="noha has 0"
    )


def test_new_account_says_it_is_meant_and_a_retry_with_the_same_id_replays(economy: Cli) -> None:
    made = economy.json("gift", "alice", "mai", "rose", "--new-account", "--id", "g-1")
    assert made["recipient"]["account"] == "mai" and made["replayed"] is False
    before = snapshot(economy.ledger)
    for retry in (("--new-account",), ()):
        again = economy.json("gift", "alice", "mai", "rose", "--id", "g-1", *retry)
        assert again["replayed"] is True and again["id"] == "g-1"
        assert snapshot(economy.ledger) == before
    stored = economy.json("history", "mai")["transactions"][-1]["request"]
    assert "new_account" not in stored


def test_existing_accounts_and_far_names_go_through(economy: Cli) -> None:
    assert economy.json("gift", "alice", "mia", "rose")["recipient"]["account"] == "mia"
    assert economy.json("gift", "alice", "zoe", "rose")["recipient"]["account"] == "zoe"


def test_names_that_differ_only_in_digits_never_count(cli: Cli) -> None:
    cli.json("buy", "alice", "700")
    for name in ("creator0001", "creator0002", "creator0012", "creator001", "creator0021"):
        assert cli.json("gift", "alice", name, "rose")["recipient"]["account"] == name


def test_buy_creates_viewers_freely(economy: Cli) -> None:
    assert economy.json("buy", "alcie", "70")["account"] == "alcie"


def test_a_scenario_op_takes_new_account(economy: Cli, tmp_path: Path) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"ops": [{"kind": "gift", "sender": "alice", "recipient": "mai", "gift": "Rose"}]}))
    expect_error(
        economy,
        "apply",
        str(scenario),
        exit_code=2,
        code="new_account_close",
        says="op 1 (gift): nothing was applied: mai would be a new account",
    )
    scenario.write_text(
        json.dumps(
            {"ops": [{"kind": "gift", "sender": "alice", "recipient": "mai", "gift": "Rose", "new_account": True}]}
        )
    )
    assert economy(("apply"), str(scenario)).exit_code == 0
    assert economy.json("balance", "mai")["diamonds"] == 1
    scenario.write_text(
        json.dumps(
            {"ops": [{"kind": "gift", "sender": "alice", "recipient": "x1", "gift": "Rose", "new_account": "yes"}]}
        )
    )
    expect_error(
        economy, "apply", str(scenario), exit_code=2, code="invalid_op", says="new_account must be true or false"
    )


def test_the_library_has_the_same_rule() -> None:
    ledger = Ledger.memory()
    ledger.buy("alice", 700)
    ledger.gift("alice", "mia", "Rose")
    with pytest.raises(BadInput, match="did you mean mia"):
        ledger.gift("alice", "mai", "Rose")
    assert ledger.gift("alice", "mai", "Rose", new_account=True).to_dict()["recipient"]["account"] == "mai"
    with ledger.batch() as batch, pytest.raises(BadInput, match="did you mean mia"):
        batch.redeem("mia.", 1)
    with ledger.batch() as batch, pytest.raises(BadInput, match="did you mean mai or mia"):
        batch.gift("alice", "ma", "Rose")


@pytest.mark.parametrize("name", ["mia", "ab", "a1b2", "x.y_z", "creator0001", "zz9"])
def test_neighbours_are_exactly_the_names_one_edit_away_in_more_than_digits(name: str) -> None:
    letters = "abmiz._19"
    found = neighbours(name)
    for length in (len(name) - 1, len(name), len(name) + 1):
        if not 2 <= length <= 24 or length > 4:
            continue
        for chars in itertools.product(letters, repeat=length):
            other = "".join(chars)
            expected = other != name and one_edit_apart(name, other) and not_only_digits(name, other)
            assert (other in found) == expected, other
    assert all(one_edit_apart(name, other) and not_only_digits(name, other) for other in found)


def test_the_index_finds_what_trying_neighbours_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ["mia", "mai", "noah", "creator1", "creator2", "alice", "bob", "bobb", "x.y", "xy.", "viewer10"]
    probes = [
        "mia",
        "ma",
        "mix",
        "naoh",
        "creator3",
        "creatr1",
        "alcie",
        "bo",
        "bobbb",
        "x.yz",
        "yx.",
        "viewer1",
        "vewer10",
        "qq",
    ]
    book = MemoryBook("USD", default_rates(), dict.fromkeys(names), [])  # type: ignore[arg-type]
    tried = {probe: near_accounts(book, probe) for probe in probes if not book.has_account(probe)}
    monkeypatch.setattr(new_accounts, "TRIES_BEFORE_INDEX", 0)
    indexed_book = MemoryBook("USD", default_rates(), dict.fromkeys(names), [])  # type: ignore[arg-type]
    indexed = {probe: near_accounts(indexed_book, probe) for probe in tried}
    assert indexed == tried
    assert (
        tried["ma"] == ["mai", "mia"]
        and tried["creator3"] == []
        and tried["viewer1"] == []
        and tried["vewer10"] == ["viewer10"]
    )


def test_the_index_learns_accounts_created_after_it_was_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(new_accounts, "TRIES_BEFORE_INDEX", 0)
    ledger = Ledger.memory()
    with ledger.batch() as batch:
        batch.buy("alice", 700)
        batch.gift("alice", "mia", "Rose")  # builds the index
        batch.buy("bobby", 70)  # a buy adds its name
        batch.gift("alice", "zed", "Rose")  # a checked new name is added
        with pytest.raises(BadInput, match="did you mean bobby"):
            batch.gift("alice", "boby", "Rose")
        with pytest.raises(BadInput, match="did you mean zed"):
            batch.gift("alice", "zex", "Rose")


def test_the_path_functions_take_new_account(tmp_path: Path) -> None:
    from coinpurse import api

    path = tmp_path / "l.json"
    api.buy(path, "alice", 700)
    api.gift(path, "alice", "mia", "Rose")
    with pytest.raises(BadInput, match="did you mean mia"):
        api.gift(path, "alice", "mai", "Rose")
    assert api.gift(path, "alice", "mai", "Rose", new_account=True).to_dict()["recipient"]["account"] == "mai"
    with pytest.raises(BadInput, match="did you mean mia"):
        api.redeem(path, "mxa", 1)


def test_a_book_too_big_to_index_goes_on_trying_neighbours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(new_accounts, "TRIES_BEFORE_INDEX", 0)
    monkeypatch.setattr(new_accounts, "INDEX_MOST", 3)
    names = ["mia", "noah", "alice", "bob"]
    book = MemoryBook("USD", default_rates(), dict.fromkeys(names), [])  # type: ignore[arg-type]
    assert near_accounts(book, "mai") == ["mia"] and near_accounts(book, "bbo") == ["bob"]
    assert new_accounts._index_of(book).names is None


def test_an_account_made_earlier_in_the_same_scenario_counts(cli: Cli, tmp_path: Path) -> None:
    # The accounts a write holds unsaved are accounts too (SQLite answers them without saving first).
    scenario = tmp_path / "s.json"
    ops = [
        {"kind": "buy", "account": "alice", "coins": 70},
        {"kind": "gift", "sender": "alice", "recipient": "mia", "gift": "Rose", "new_account": True},
        {"kind": "gift", "sender": "alice", "recipient": "mia", "gift": "Rose"},
        {"kind": "gift", "sender": "alice", "recipient": "mai", "gift": "Rose"},
    ]
    scenario.write_text(json.dumps({"ops": ops}))
    expect_error(
        cli,
        "apply",
        str(scenario),
        exit_code=2,
        code="new_account_close",
        says="op 4 (gift): nothing was applied: mai would be a new account",
    )
    scenario.write_text(json.dumps({"ops": ops[:3]}))
    assert cli("apply", str(scenario)).exit_code == 0
    assert cli.json("balance", "mia")["diamonds"] == 2
