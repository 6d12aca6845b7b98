"""Schema versions: a committed version-1 ledger is read, backed up, migrated; newer ones are refused."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from coinpurse.core.model import GENESIS_HASH, chain_hash

FIXTURE = Path(__file__).with_name("fixtures") / "ledger-v1.json"


@pytest.fixture
def v1(json_cli):  # type: ignore[no-untyped-def]
    shutil.copyfile(FIXTURE, json_cli.ledger)
    return json_cli


def _backup(ledger: Path) -> Path:
    return ledger.with_name(ledger.name + ".v1.bak")


def test_the_fixture_is_version_1_without_hashes() -> None:
    document = json.loads(FIXTURE.read_text())
    assert document["schema"] == 1
    assert len(document["transactions"]) == 8
    assert all("hash" not in tx for tx in document["transactions"])


def test_reading_a_v1_ledger_works_and_changes_nothing(v1) -> None:
    before = v1.ledger.read_bytes()
    assert v1.json("balance", "mia")["diamonds"] == 20
    assert [tx["kind"] for tx in v1.json("history", "mia")["transactions"]] == ["gift", "gift", "redeem", "gift"]
    assert v1.json("rates")["currency"] == "USD"
    assert v1.ledger.read_bytes() == before
    assert not _backup(v1.ledger).exists()


def test_verify_passes_on_v1_and_shows_the_chain_it_would_get(v1) -> None:
    result = v1.json("verify")
    previous = GENESIS_HASH
    for tx in json.loads(FIXTURE.read_text())["transactions"]:
        previous = chain_hash(previous, tx)
    assert result["ok"] is True and result["head_hash"] == previous
    assert not _backup(v1.ledger).exists()


def test_first_write_backs_up_then_rewrites_as_v5_after_a_checkpoint(v1) -> None:
    original = v1.ledger.read_bytes()
    assert v1("buy", "alice", "70").exit_code == 0
    backup = _backup(v1.ledger)
    assert backup.read_bytes() == original
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    document = json.loads(v1.ledger.read_text())
    assert document["schema"] == 5
    assert len(document["transactions"]) == 10  # 8, the checkpoint, the buy
    assert all(len(tx["hash"]) == 64 for tx in document["transactions"])
    checkpoint, bought = document["transactions"][8:]
    assert (checkpoint["kind"], checkpoint["details"]["source"], checkpoint["postings"]) == ("rates", "checkpoint", [])
    assert sorted(checkpoint["state"]["accounts"]) == sorted(json.loads(original)["accounts"])
    assert (bought["id"], bought["request"]["coins"]) == ("tx-10", 70)
    assert v1.json("verify")["ok"] is True
    # Later writes keep the first backup as it was.
    assert v1("buy", "alice", "70").exit_code == 0
    assert backup.read_bytes() == original


def test_a_refused_write_on_v1_neither_backs_up_nor_rewrites(v1) -> None:
    before = v1.ledger.read_bytes()
    assert v1("redeem", "mia", "20").exit_code == 1
    assert v1.ledger.read_bytes() == before
    assert not _backup(v1.ledger).exists()


@pytest.mark.parametrize("command", [("balance",), ("verify",), ("buy", "alice", "70")])
def test_a_newer_schema_is_refused_naming_the_version_needed(json_cli, command) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(FIXTURE.read_text())
    document["schema"] = 6
    json_cli.ledger.write_text(json.dumps(document))
    before = json_cli.ledger.read_bytes()
    result = json_cli(*command, "--json")
    assert result.exit_code == 3
    message = json.loads(result.stderr)["error"]["message"]
    assert str(json_cli.ledger) in message
    assert "schema version 6" in message and "reads versions up to 5" in message
    assert json_cli.ledger.read_bytes() == before


@pytest.mark.parametrize("schema", [0, -1, "2", None, 2.5, True])
def test_a_schema_that_is_not_a_known_version_is_refused(json_cli, schema) -> None:  # type: ignore[no-untyped-def]
    document = json.loads(FIXTURE.read_text())
    document["schema"] = schema
    json_cli.ledger.write_text(json.dumps(document))
    before = json_cli.ledger.read_bytes()
    result = json_cli("balance")
    assert result.exit_code == 3
    assert json_cli.ledger.read_bytes() == before


def _as_schema(ledger: Path, version: int) -> None:
    if ledger.suffix == ".sqlite":
        import sqlite3
        from contextlib import closing

        with closing(sqlite3.connect(ledger)) as db, db:  # closed here, so the change is folded into the file
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(version),))
            if version < 4:
                db.execute("DROP INDEX transactions_of_rare_kinds")  # schema 3 had no index of rare kinds
            if version < 5:
                db.execute("DROP INDEX gifts_by_stream")  # nor of the gifts of live streams
        return
    text = ledger.read_text()
    marker = '"schema": 5,' if ledger.suffix == ".json" else "schema = 5\n"
    assert marker in text
    ledger.write_text(text.replace(marker, marker.replace("5", str(version)), 1))


def _as_schema_3(ledger: Path) -> None:
    _as_schema(ledger, 3)


def _schema_of(ledger: Path, suffix: str) -> int:
    if suffix == ".sqlite":
        import sqlite3

        with sqlite3.connect(ledger) as db:
            return int(db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0])
    import tomllib

    text = ledger.read_text()
    return int(json.loads(text)["schema"] if suffix == ".json" else tomllib.loads(text)["schema"])


@pytest.mark.files_only("the PostgreSQL store began at schema 4: there is no schema 3 database to move")
def test_a_version_3_ledger_is_read_as_it_is_and_moved_to_5_on_its_first_write(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("buy", "alice", "700").exit_code == 0
    assert cli("gift", "alice", "mia", "rose", "-n", "5").exit_code == 0
    _as_schema_3(cli.ledger)
    before = cli.ledger.read_bytes()
    assert cli.json("balance", "mia")["diamonds"] == 5
    assert cli.json("verify")["ok"] is True
    assert cli("gift", "alice", "mia", "lion").exit_code == 1  # refused: nothing moves
    assert cli.ledger.read_bytes() == before
    backup = cli.ledger.with_name(cli.ledger.name + ".v3.bak")
    assert not backup.exists()
    assert cli("gift", "alice", "mia", "rose").exit_code == 0
    suffix = cli.ledger.suffix
    assert _schema_of(cli.ledger, suffix) == 5 and _schema_of(backup, suffix) == 3
    assert cli.json("balance", "mia")["diamonds"] == 6
    assert cli.json("verify")["ok"] is True


@pytest.mark.files_only("the PostgreSQL store began at schema 5: there is no schema 4 database to move")
def test_a_version_4_ledger_is_read_as_it_is_and_moved_to_5_on_its_first_write(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("buy", "alice", "700").exit_code == 0
    assert cli("gift", "alice", "mia", "rose", "-n", "5").exit_code == 0
    _as_schema(cli.ledger, 4)
    before = cli.ledger.read_bytes()
    assert cli.json("balance", "mia")["diamonds"] == 5
    assert cli.json("verify")["ok"] is True
    assert cli("gift", "alice", "mia", "lion").exit_code == 1  # refused: nothing moves
    assert cli.ledger.read_bytes() == before
    backup = cli.ledger.with_name(cli.ledger.name + ".v4.bak")
    assert not backup.exists()
    assert cli("gift", "alice", "mia", "rose").exit_code == 0
    suffix = cli.ledger.suffix
    assert _schema_of(cli.ledger, suffix) == 5 and _schema_of(backup, suffix) == 4
    if suffix != ".sqlite":  # SQLite's backup copies the pages, not the header's change counter
        assert backup.read_bytes() == before
    assert cli.json("balance", "mia")["diamonds"] == 6
    assert cli.json("verify")["ok"] is True
