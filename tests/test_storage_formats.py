"""The three ledger formats keep the same promises; SQLite answers by index, not by walking."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import Cli, examples, files_beside


def snapshot(ledger: Path) -> bytes:
    return ledger.read_bytes()


def test_refusals_leave_every_format_byte_identical(cli, ledger: Path) -> None:
    cli("buy", "alice", "700", "--id", "first")
    before = snapshot(ledger)
    refused = [
        cli("gift", "alice", "mia", "lion"),  # too few coins
        cli("gift", "alice", "alice", "rose"),  # to oneself
        cli("buy", "alice", "1400", "--id", "first"),  # id reused for another request
        cli("redeem", "alice", "10"),  # no diamonds
    ]
    assert [result.exit_code for result in refused] == [1, 1, 1, 1]
    assert cli("buy", "alice", "700", "--id", "first").exit_code == 0  # a replay writes nothing either
    assert snapshot(ledger) == before
    assert not [p for p in files_beside(ledger) if p.name.endswith(".tmp") or p.name.endswith("-journal")]


def test_reading_or_refusing_on_a_missing_ledger_creates_nothing(cli, ledger: Path) -> None:
    assert cli("rates", "--json").exit_code == 0
    assert cli("balance", "--json").exit_code == 0
    assert cli("history", "--json").exit_code == 0
    assert cli("balance", "mia").exit_code == 0  # an empty economy: every account at zero
    assert cli("gift", "alice", "mia", "rose").exit_code == 1
    assert not ledger.exists()
    assert files_beside(ledger) == []  # no temp file, and no lock file either


def test_history_filters_agree_across_formats(tmp_path: Path) -> None:
    results = []
    for suffix in ("json", "toml", "sqlite"):
        cli = Cli(tmp_path / f"h.{suffix}")
        cli("buy", "alice", "17500")
        cli("buy", "alice", "17500")
        cli("buy", "bob", "700")
        for n in range(1, 6):
            cli("gift", "alice", "mia", "rose", "-n", str(n))
        cli("gift", "bob", "zoe", "rose")
        cli("gift", "alice", "mia", "interstellar", "-n", "2")
        cli("redeem", "mia", "20000")
        results.append(
            [
                cli.json("history"),
                cli.json("history", "mia"),
                cli.json("history", "mia", "--limit", "2"),
                cli.json("history", "--kind", "gift", "--limit", "3"),
                cli.json("history", "zoe", "--kind", "buy"),
                cli.json("balance"),
                cli.json("rates"),
            ]
        )
    assert results[0] == results[1] == results[2]
    assert [tx["kind"] for tx in results[2][1]["transactions"]] == ["gift"] * 6 + ["redeem"]
    assert len(results[2][2]["transactions"]) == 2


def test_sqlite_keeps_the_history_in_indexed_tables(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    cli = Cli(ledger)
    cli("buy", "alice", "700")
    cli("gift", "alice", "mia", "rose", "-n", "5")
    with sqlite3.connect(ledger) as db:
        assert db.execute("SELECT seq, id, kind FROM transactions ORDER BY seq").fetchall() == [
            (1, "tx-1", "buy"),
            (2, "tx-2", "gift"),
        ]
        assert db.execute("SELECT seq FROM postings WHERE account = 'mia'").fetchall() == [(2,)]
        assert db.execute("SELECT coins, diamonds, cash FROM accounts WHERE name = 'alice'").fetchone() == (
            695,
            0,
            "-9.99",
        )
        assert dict(db.execute("SELECT key, value FROM meta").fetchall())["schema"] == "5"
        plan = " ".join(
            str(row) for row in db.execute("EXPLAIN QUERY PLAN SELECT seq FROM transactions WHERE id = 'x'")
        )
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"", "ledger_damaged"), (b"not a database at all" * 100, "ledger_damaged"), (None, "ledger_damaged")],
)
def test_unusable_sqlite_files_are_named_and_left_alone(tmp_path: Path, content: bytes | None, code: str) -> None:
    ledger = tmp_path / "bad.sqlite"
    if content is None:  # a SQLite database, but not a coinpurse ledger
        sqlite3.connect(ledger).execute("CREATE TABLE other (x)").connection.close()
    else:
        ledger.write_bytes(content)
    before = ledger.read_bytes()
    cli = Cli(ledger)
    for args in (("balance", "--json"), ("buy", "alice", "700", "--json")):
        result = cli(*args)
        assert result.exit_code == 3, result.stderr
        error = json.loads(result.stderr)["error"]
        assert error["code"] == code and str(ledger) in error["message"]
    assert ledger.read_bytes() == before


@pytest.mark.faults
def test_concurrent_writers_on_sqlite_lose_nothing(tmp_path: Path) -> None:
    ledger = tmp_path / "race.sqlite"
    script = (
        "import sys\n"
        "from coinpurse import api\n"
        "from pathlib import Path\n"
        "for i in range(10):\n"
        "    api.buy(Path(sys.argv[1]), 'u' + sys.argv[2], 700)\n"
    )
    env = {**os.environ, "COINPURSE_LOCK_TIMEOUT": "60"}
    workers = [subprocess.Popen([sys.executable, "-c", script, str(ledger), str(n)], env=env) for n in range(6)]
    assert [w.wait(timeout=120) for w in workers] == [0] * 6
    history = Cli(ledger).json("history")["transactions"]
    assert len(history) == 60
    assert len({tx["id"] for tx in history}) == 60
    assert sum(a["coins"] for a in Cli(ledger).json("balance")["accounts"]) == 60 * 700


_lot_parts = st.one_of(
    st.text(max_size=4), st.integers(min_value=-(10**30), max_value=10**30), st.booleans(), st.none(),
    st.sampled_from(["0.5", "1", "-2.25", "NaN", "sNaN", "Infinity", "1e40", "x", "1E+2"]),
)  # fmt: skip


@settings(max_examples=examples(200), deadline=None)
@given(
    lots=st.lists(
        st.one_of(st.lists(_lot_parts, min_size=2, max_size=4), st.tuples(st.text(), st.integers(), st.text())),
        max_size=5,
    )
)
def test_lots_read_in_a_few_steps_are_those_checked_one_by_one(lots: list[Any]) -> None:
    from coinpurse.core import model

    stored = {"coins": 0, "diamonds": 0, "cash": "0", "lots": lots}
    fast = model._plain_lots(lots)
    try:
        with mock.patch.object(model, "_plain_lots", lambda raw: None):
            checked = model.account_from_dict(stored, "account 'a'").lots
    except model.DamagedRecord:
        assert fast is None  # the one-by-one reading says what is wrong
        return
    assert fast is None or fast == checked
    if fast is not None:
        assert all(type(lot) is model.Lot for lot in fast)
        assert model.account_from_dict(stored, "account 'a'").lots == checked
