"""Where the ledger is, which files it can be, and files that can't be used (exit 3, never overwritten)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli_checks import expect_error, snapshot
from coinpurse.cli import app
from conftest import Cli

pytestmark = pytest.mark.files_only("these are the files a ledger can be, and those it can't")

EVERY_COMMAND = [
    ("buy", "alice", "700"),
    ("gift", "alice", "mia", "rose"),
    ("redeem", "mia", "--all"),
    ("balance",),
    ("balance", "alice"),
    ("rates",),
    ("history",),
    ("history", "alice"),
]


def _valid_ledger(path: Path) -> bytes:
    Cli(path).json("buy", "alice", "700")
    return path.read_bytes()


def _newer_schema(path: Path) -> bytes:
    data = _valid_ledger(path).decode()
    marker = '"schema": 5,' if path.suffix == ".json" else "schema = 5\n"
    assert marker in data
    return data.replace(marker, marker.replace("5", "99"), 1).encode()


def _float_amount(path: Path) -> bytes:
    data = _valid_ledger(path).decode()
    marker = '"coins": 700' if path.suffix == ".json" else "coins = 700"
    assert marker in data
    return data.replace(marker, marker.replace("700", "700.5"), 1).encode()


def _truncated(path: Path) -> bytes:
    data = _valid_ledger(path)
    return data[: len(data) // 2]


# name -> (bytes for a .json ledger, bytes for a .toml ledger) or a maker from a valid ledger
DAMAGE: dict[str, Callable[[Path], bytes]] = {
    "empty": lambda path: b"",
    "blank": lambda path: b"\n   \n",
    "invalid": lambda path: b'{"schema": 2,' if path.suffix == ".json" else b"schema = [\n",
    "truncated": _truncated,
    "not utf-8": lambda path: b"\xff\xfe\x00junk",
    "not a ledger": lambda path: (
        b'{"name": "shopping list"}\n' if path.suffix == ".json" else b'name = "shopping list"\n'
    ),
    "a list": lambda path: b"[1, 2, 3]\n" if path.suffix == ".json" else b"items = [1, 2, 3]\n",
    "newer schema": _newer_schema,
    "a float": _float_amount,
}

MESSAGES = {
    "empty": "the ledger file is empty",
    "blank": "the ledger file is empty",
    "invalid": "not valid",
    "truncated": "not valid",
    "not utf-8": "not UTF-8",
    "not a ledger": "not a coinpurse ledger",
    "a list": "not a coinpurse ledger",
    "newer schema": "a coinpurse that reads schema version 99 is needed",
    "a float": "a number with a fraction",
}


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("ledger", ["json", "toml"], indirect=True)  # text damage; SQLite has its own cases below
def test_an_unusable_file_is_refused_by_name_and_never_overwritten(
    ledger: Path, damage: str, command: tuple[str, ...]
) -> None:
    content = DAMAGE[damage](ledger)
    ledger.write_bytes(content)
    folder_before = sorted(p.name for p in ledger.parent.iterdir() if not p.name.endswith(".lock"))
    error = expect_error(Cli(ledger), *command, exit_code=3, code="ledger_damaged", says=str(ledger))
    assert MESSAGES[damage] in error["message"]
    assert ledger.read_bytes() == content
    assert sorted(p.name for p in ledger.parent.iterdir() if not p.name.endswith(".lock")) == folder_before


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
def test_a_folder_where_the_ledger_should_be_is_refused(ledger: Path, command: tuple[str, ...]) -> None:
    ledger.mkdir()
    expect_error(Cli(ledger), *command, exit_code=3, code="ledger_unreadable", says=f"{ledger}: is a folder")
    assert ledger.is_dir() and not any(ledger.iterdir())


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a user that file permissions apply to")
@pytest.mark.parametrize("command", [("buy", "alice", "700"), ("balance",)], ids=" ".join)
def test_an_unreadable_file_is_refused(ledger: Path, command: tuple[str, ...]) -> None:
    content = _valid_ledger(ledger)
    ledger.chmod(0)
    try:
        expect_error(Cli(ledger), *command, exit_code=3, code="ledger_unreadable", says=f"{ledger}: can't read it")
    finally:
        ledger.chmod(0o600)
    assert ledger.read_bytes() == content


# --- suffixes ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ledger.yaml", "ledger", "ledger.json.bak", "ledger.txt"])
@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
def test_an_unknown_suffix_is_bad_input_and_nothing_is_written(
    tmp_path: Path, name: str, command: tuple[str, ...]
) -> None:
    path = tmp_path / "sub" / name
    expect_error(Cli(path), *command, exit_code=2, code="unknown_suffix", says="unknown ledger format")
    assert not path.parent.exists()


def test_an_existing_file_with_an_unknown_suffix_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "ledger.yaml"
    path.write_bytes(b"schema: 2\n")
    expect_error(Cli(path), "buy", "alice", "700", exit_code=2, code="unknown_suffix", says="'.yaml'")
    assert path.read_bytes() == b"schema: 2\n"


def test_the_suffix_is_case_insensitive(tmp_path: Path) -> None:
    upper = Cli(tmp_path / "ledger.JSON")
    upper.json("buy", "alice", "700")
    assert json.loads(upper.ledger.read_text())["schema"] == 5


# --- where the ledger is -------------------------------------------------------------


def _run(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_coinpurse_ledger_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "from-env.toml"
    monkeypatch.setenv("COINPURSE_LEDGER", str(path))
    _run("buy", "alice", "700")
    assert path.is_file()
    assert path.read_text().startswith("schema = 5")


def test_the_ledger_option_wins_over_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINPURSE_LEDGER", str(tmp_path / "from-env.json"))
    _run("--ledger", str(tmp_path / "from-option.json"), "buy", "alice", "700")
    assert (tmp_path / "from-option.json").is_file()
    assert not (tmp_path / "from-env.json").exists()


def test_without_either_the_ledger_is_in_the_user_data_folder(tmp_path: Path) -> None:
    _run("buy", "alice", "700")
    assert (tmp_path / "xdg-data" / "coinpurse" / "ledger.json").is_file()
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("ledger.json"))


def test_the_variable_with_an_unknown_suffix_is_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINPURSE_LEDGER", str(tmp_path / "ledger.yaml"))
    result = CliRunner().invoke(app, ["balance", "--json"], catch_exceptions=False)
    assert result.exit_code == 2
    assert json.loads(result.stderr)["error"]["code"] == "unknown_suffix"


def test_a_write_leaves_no_temp_files(ledger: Path) -> None:
    cli = Cli(ledger)
    cli.json("buy", "alice", "700")
    cli.json("gift", "alice", "mia", "rose")
    leftovers = sorted(p.name for p in ledger.parent.iterdir() if p.name.startswith(ledger.name))
    assert leftovers in ([ledger.name], sorted([ledger.name, ledger.name + ".lock"]))
    assert snapshot(ledger) is not None


def _sqlite_without_meta(path: Path) -> bytes:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE notes (text TEXT)")
    return path.read_bytes()


def _sqlite_newer_schema(path: Path) -> bytes:
    import sqlite3
    from contextlib import closing

    assert Cli(path)("buy", "alice", "700").exit_code == 0
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    return path.read_bytes()


def _sqlite_truncated(path: Path) -> bytes:
    assert Cli(path)("buy", "alice", "700").exit_code == 0
    data = path.read_bytes()
    return data[: len(data) // 3]


SQLITE_DAMAGE: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "empty": (lambda path: b"", "the ledger file is empty"),
    "not a database": (lambda path: b"junk, not a database at all\n" * 10, "not a SQLite database"),
    "truncated": (_sqlite_truncated, "not a SQLite database, or a damaged one"),
    "another database": (_sqlite_without_meta, "not a coinpurse ledger"),
    "newer schema": (_sqlite_newer_schema, "a coinpurse that reads schema version 99 is needed"),
}


@pytest.mark.parametrize("command", EVERY_COMMAND, ids=" ".join)
@pytest.mark.parametrize("damage", sorted(SQLITE_DAMAGE))
def test_an_unusable_sqlite_ledger_is_refused_by_name_and_never_overwritten(
    tmp_path: Path, damage: str, command: tuple[str, ...]
) -> None:
    ledger = tmp_path / "ledger.sqlite"
    make, says = SQLITE_DAMAGE[damage]
    content = make(ledger)
    ledger.write_bytes(content)
    error = expect_error(Cli(ledger), *command, exit_code=3, code="ledger_damaged", says=str(ledger))
    assert says in error["message"]
    assert ledger.read_bytes() == content
