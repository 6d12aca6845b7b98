"""``convert``: a ledger moves between JSON, TOML and SQLite losing nothing."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from conftest import Cli


def document(path: Path) -> dict:
    """A ledger's logical content, whatever its format (a JSON file's checksum of its own lines aside)."""
    if path.suffix == ".json":
        content = json.loads(path.read_text())
        del content["history_sha256"]
        return content
    if path.suffix == ".toml":
        return tomllib.loads(path.read_text())
    raise AssertionError(path)


@pytest.fixture
def busy_json(tmp_path: Path) -> Path:
    ledger = tmp_path / "start.json"
    Cli(ledger).made_by(
        ("buy", "alice", "17500"),
        ("buy", "bob", "3500", "--channel", "web"),
        ("buy", "bob", "17500"),
        ("gift", "alice", "mia", "rose", "-n", "5", "--stream", "friday"),
        ("gift", "bob", "mia", "interstellar", "--id", "client-1"),
        ("gift", "alice", "mia", "interstellar"),
        ("redeem", "mia", "20000"),
    )
    return ledger


def test_round_trip_json_sqlite_toml_json_keeps_everything(busy_json: Path, tmp_path: Path) -> None:
    cli = Cli(busy_json)
    as_sqlite, as_toml, back = tmp_path / "a.sqlite", tmp_path / "b.toml", tmp_path / "c.json"
    done = cli.json("convert", str(busy_json), str(as_sqlite))
    assert done == {
        "source": str(busy_json),
        "target": str(as_sqlite),
        "format": "sqlite",
        "transactions": 7,
        "accounts": done["accounts"],
    }
    assert cli("convert", str(as_sqlite), str(as_toml)).exit_code == 0
    assert cli("convert", str(as_toml), str(back)).exit_code == 0
    original, final = document(busy_json), document(back)
    assert final == original  # every transaction with its hash, accounts and rates
    assert document(as_toml) == original
    assert [tx["hash"] for tx in final["transactions"]] == [tx["hash"] for tx in original["transactions"]]
    # Through SQLite alone even the key order survives, so the bytes are the same.
    straight = tmp_path / "d.json"
    assert cli("convert", str(as_sqlite), str(straight)).exit_code == 0
    assert straight.read_bytes() == busy_json.read_bytes()


def test_a_converted_ledger_carries_on_where_the_old_one_stopped(busy_json: Path, tmp_path: Path) -> None:
    moved = tmp_path / "moved.sqlite"
    Cli(busy_json)("convert", str(busy_json), str(moved))
    old, new = Cli(busy_json), Cli(moved)
    assert new.json("balance") == old.json("balance")
    assert new.json("history", "mia") == old.json("history", "mia")
    # The same next operation gives the same transaction, hash chain included.
    assert new.json("gift", "alice", "zoe", "rose") == old.json("gift", "alice", "zoe", "rose")
    assert new.json("gift", "bob", "mia", "interstellar", "--id", "client-1")["replayed"] is True
    last_new = new.json("history", "--limit", "1")["transactions"][0]
    assert last_new == old.json("history", "--limit", "1")["transactions"][0]


def test_convert_refuses_an_existing_target_and_leaves_it(busy_json: Path, tmp_path: Path) -> None:
    target = tmp_path / "taken.sqlite"
    target.write_bytes(b"someone's file")
    result = Cli(busy_json)("convert", str(busy_json), str(target), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stderr)["error"]["code"] == "target_exists"
    assert target.read_bytes() == b"someone's file"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    ("source", "target", "code", "exit_code"),
    [("missing.json", "out.sqlite", "no_ledger", 2), ("start.json", "out.csv", "unknown_suffix", 2)],
)
def test_convert_bad_input(
    busy_json: Path, tmp_path: Path, source: str, target: str, code: str, exit_code: int
) -> None:
    result = Cli(busy_json)("convert", str(tmp_path / source), str(tmp_path / target), "--json")
    assert result.exit_code == exit_code
    assert json.loads(result.stderr)["error"]["code"] == code
    assert not (tmp_path / target).exists()


def test_convert_refuses_to_copy_a_damaged_record(tmp_path: Path) -> None:
    ledger = tmp_path / "damaged.json"
    cli = Cli(ledger)
    cli("buy", "alice", "700")
    text = ledger.read_text().replace('"kind": "buy"', '"kind": 7')
    ledger.write_text(text)
    result = cli("convert", str(ledger), str(tmp_path / "out.sqlite"), "--json")
    assert result.exit_code == 3
    assert str(ledger) in json.loads(result.stderr)["error"]["message"]
    assert not (tmp_path / "out.sqlite").exists()


@pytest.mark.parametrize("target", ["out.json", "out.toml", "out.sqlite"])
def test_convert_refuses_to_copy_a_broken_hash_chain(busy_json: Path, tmp_path: Path, target: str) -> None:
    """A copy gets a fresh history checksum, so it must not carry over a history whose hashes no longer hold."""
    text = busy_json.read_text()
    edited = text.replace('"amount": "-249.99"', '"amount": "-24.99"', 1).replace(
        '"amount": "249.99"', '"amount": "24.99"', 1
    )
    assert edited != text
    busy_json.write_text(edited)
    result = Cli(busy_json)("convert", str(busy_json), str(tmp_path / target), "--json")
    assert result.exit_code == 3, result.output
    assert "does not match its hash" in json.loads(result.stderr)["error"]["message"]
    assert not (tmp_path / target).exists()
