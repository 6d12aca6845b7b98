"""JSON and TOML ledgers: the same results, stable bytes, and byte-identical files from the same commands."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from cli_checks import snapshot
from coinpurse.storage.files import read_file_book, render
from conftest import Cli

SESSION: list[tuple[str, ...]] = [
    ("buy", "alice", "700"),
    ("gift", "alice", "mia", "rose", "-n", "5", "--stream", "Friday night"),
    ("buy", "bob", "17500"),
    ("buy", "bob", "3500", "--channel", "web"),
    ("buy", "@Carol", "1001", "--channel", "web", "--id", "shop:42"),
    ("gift", "bob", "mia", "interstellar", "-n", "2"),
    ("gift", "carol", "alice", "Finger Heart", "-n", "7"),
    ("redeem", "mia", "--all", "--id", "payout-1"),
]
READS: list[tuple[str, ...]] = [
    ("balance",),
    ("balance", "mia"),
    ("history",),
    ("history", "alice", "--kind", "gift"),
    ("rates",),
]


def _play(cli: Cli) -> list[Any]:
    return [cli.json(*command) for command in SESSION] + [cli.json(*command) for command in READS]


def _document(path: Path) -> Any:
    from ledger_tools import in_tables

    if in_tables(path):
        from ledger_tools import load

        return load(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        return tomllib.loads(text)
    document = json.loads(text)
    del document["history_sha256"]  # the checksum of the file's own lines (tests/test_chain.py)
    return document


def _no_floats(value: Any) -> None:
    assert not isinstance(value, float), value
    if isinstance(value, dict):
        for item in value.values():
            _no_floats(item)
    elif isinstance(value, list):
        for item in value:
            _no_floats(item)


def test_json_and_toml_ledgers_give_the_same_results(tmp_path: Path) -> None:
    as_json = Cli(tmp_path / "ledger.json")
    as_toml = Cli(tmp_path / "ledger.toml")
    assert _play(as_json) == _play(as_toml)
    assert _document(as_json.ledger) == _document(as_toml.ledger)


def test_the_stored_document_has_the_documented_shape_and_no_floats(ledger: Path) -> None:
    _play(Cli(ledger))
    document = _document(ledger)
    assert list(document) == ["schema", "currency", "rates", "accounts", "transactions"]
    assert (document["schema"], document["currency"]) == (5, "USD")
    assert "platform:revenue" in document["accounts"]
    stored = document["transactions"][0]
    keys = ["id", "kind", "at", "request", "rates", "postings", "details", "after", "state", "hash"]
    # JSON and SQLite keep this exact order; TOML writes plain values before tables.
    assert (sorted(stored) if ledger.suffix == ".toml" else list(stored)) == (
        sorted(keys) if ledger.suffix == ".toml" else keys
    )
    assert [tx["id"] for tx in document["transactions"]] == [
        "tx-1",
        "tx-2",
        "tx-3",
        "tx-4",
        "shop:42",
        "tx-6",
        "tx-7",
        "payout-1",
    ]
    _no_floats(document)


def test_a_json_ledger_keeps_one_transaction_per_line(json_ledger: Path) -> None:
    _play(Cli(json_ledger))
    lines = json_ledger.read_text().splitlines()
    transaction_lines = [line for line in lines if line.startswith('    {"id": ')]
    assert len(transaction_lines) == len(SESSION)
    for line in transaction_lines:
        json.loads(line.strip().rstrip(","))


@pytest.mark.parametrize(
    "ledger", ["json", "toml"], indirect=True
)  # SQLite ledgers are not rendered as text; tests/test_convert.py round-trips them
def test_writing_what_was_read_gives_identical_bytes(ledger: Path) -> None:
    _play(Cli(ledger))
    data = ledger.read_bytes()
    book, version = read_file_book(ledger, data)
    assert version == 5
    assert render(ledger, book) == data


@pytest.mark.parametrize(
    "command",
    [
        ("buy", "alice", "700"),  # a new transaction, for the control case below
        ("redeem", "mia", "--all", "--id", "payout-1"),  # a replay
        ("buy", "carol", "1001", "--channel", "web", "--id", "shop:42"),  # a replay, name written differently above
        ("buy", "alice", "1400", "--id", "shop:42"),  # an id conflict
        ("gift", "mia", "bob", "lion"),  # too few coins
        ("gift", "bob", "bob", "rose"),  # to oneself
        ("redeem", "alice", "1"),  # too few diamonds
        ("buy", "alice", "10"),  # out of bounds
        ("balance",),
        ("history",),
        ("rates",),
    ],
    ids=" ".join,
)
def test_only_a_new_transaction_changes_the_bytes(ledger: Path, command: tuple[str, ...]) -> None:
    cli = Cli(ledger)
    _play(cli)
    before = snapshot(ledger)
    result = cli(*command)
    changed = snapshot(ledger) != before
    assert changed == (command == ("buy", "alice", "700")), (result.exit_code, result.stderr)


@pytest.mark.parametrize("suffix", ["json", "toml"])
def test_the_same_commands_on_a_fresh_ledger_write_byte_identical_files(tmp_path: Path, suffix: str) -> None:
    first = Cli(tmp_path / "one" / f"ledger.{suffix}")
    second = Cli(tmp_path / "two" / f"ledger.{suffix}")
    assert _play(first) == _play(second)
    assert first.ledger.read_bytes() == second.ledger.read_bytes()


def test_a_different_clock_gives_a_different_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The control for the test above: the bytes do depend on COINPURSE_NOW.
    first = Cli(tmp_path / "one" / "ledger.json")
    first.json("buy", "alice", "700")
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-01T12:00:01Z")
    second = Cli(tmp_path / "two" / "ledger.json")
    second.json("buy", "alice", "700")
    assert first.ledger.read_bytes() != second.ledger.read_bytes()
