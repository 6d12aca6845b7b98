"""A bulk apply's shortcuts give what the plain way gives.

A SQLite write keeps what it makes in memory and saves it in pieces; the report
keeps and prints its lines in blocks; an account's digest is made from the text of its lots digested before.
Each is checked here against the plain way, with the sizes made small so that
a few ops cross every boundary.
"""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coinpurse import Ledger
from coinpurse.core.chain import account_digest, state_digest
from coinpurse.core.model import AccountState, Lot
from coinpurse.errors import Refused
from coinpurse.storage import sqlite as sqlite_store
from conftest import examples

OPS: list[dict[str, Any]] = [
    {"kind": "buy", "account": "ann", "coins": 700, "id": "b1"},
    {"kind": "buy", "account": "bob", "coins": 350, "id": "b2"},
    {"kind": "gift", "sender": "ann", "recipient": "mia", "gift": "Rose", "count": 5, "id": "g1"},
    {"kind": "gift", "sender": "bob", "recipient": "mia", "gift": "Doughnut", "id": "g2"},
    {"kind": "buy", "account": "ann", "coins": 1400},
    {"kind": "rates", "set": {"gift.Rose.coins": 2}},
    {"kind": "gift", "sender": "ann", "recipient": "leo", "gift": "Rose", "count": 3, "id": "g3"},
    {"kind": "buy", "account": "cat", "coins": 70, "channel": "web", "id": "b3"},
    {"kind": "gift", "sender": "ann", "recipient": "mia", "gift": "Hand Hearts", "count": 2},
    {"kind": "buy", "account": "ann", "coins": 700, "id": "b1"},  # a retry of the first op: replayed
]

TABLES = ("meta", "accounts", "transactions", "postings", "account_digests", "bucket_digests")


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(path) as connection:
        return {table: connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() for table in TABLES}


def _one_by_one(path: Path, ops: list[dict[str, Any]]) -> None:
    for op in ops:
        Ledger.open(path).apply([op])


@pytest.mark.parametrize("save_every", [1, 3, 2000])
def test_a_sqlite_batch_saved_in_pieces_stores_what_one_write_per_op_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, save_every: int
) -> None:
    _one_by_one(tmp_path / "plain.sqlite", OPS)
    monkeypatch.setattr(sqlite_store.SqliteWriteBook, "_SAVE_EVERY", save_every)
    report = Ledger.open(tmp_path / "batch.sqlite").apply(OPS)
    assert report.counts() == {"recorded": 9, "replayed": 1, "unchanged": 0}
    assert _tables(tmp_path / "batch.sqlite") == _tables(tmp_path / "plain.sqlite")
    assert Ledger.open(tmp_path / "batch.sqlite").verify().ok


def test_a_sqlite_batch_onto_a_ledger_with_history_stores_what_one_write_per_op_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("plain.sqlite", "batch.sqlite"):
        _one_by_one(tmp_path / name, OPS[:4])
    _one_by_one(tmp_path / "plain.sqlite", OPS[4:])
    monkeypatch.setattr(sqlite_store.SqliteWriteBook, "_SAVE_EVERY", 2)
    Ledger.open(tmp_path / "batch.sqlite").apply(OPS[4:])
    assert _tables(tmp_path / "batch.sqlite") == _tables(tmp_path / "plain.sqlite")


def test_reads_inside_a_sqlite_batch_see_what_it_has_not_saved_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store.SqliteWriteBook, "_SAVE_EVERY", 2)
    ledger = Ledger.open(tmp_path / "ledger.sqlite")
    with ledger.batch() as batch:
        batch.buy("ann", 700, id="b1")
        batch.buy("bob", 350, id="b2")  # the second: saved
        batch.gift("ann", "mia", "Rose", count=5, id="g1")  # not saved yet
        assert batch.balance("mia").to_dict()["diamonds"] == 5
        assert [b.account for b in batch.balances().accounts] == ["ann", "bob", "mia"]
        assert batch.buy("ann", 700, id="b1").replayed  # saved before
        assert batch.gift("ann", "mia", "Rose", count=5, id="g1").replayed  # not saved
        with pytest.raises(Refused):
            batch.buy("ann", 70, id="g1")  # an id this batch used for another request
        assert batch.state("ann").coins == 695
    assert ledger.balance("ann").to_dict()["coins"] == 695
    assert len(ledger.history().to_dict()["transactions"]) == 3
    assert ledger.verify().ok


def test_a_refused_op_after_saved_pieces_leaves_the_sqlite_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.sqlite"
    _one_by_one(path, OPS[:2])
    before = path.read_bytes()
    monkeypatch.setattr(sqlite_store.SqliteWriteBook, "_SAVE_EVERY", 2)
    refused = [*OPS[2:8], {"kind": "gift", "sender": "cat", "recipient": "mia", "gift": "Galaxy"}]
    with pytest.raises(Refused):
        Ledger.open(path).apply(refused)
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists()


def test_the_report_kept_and_printed_in_blocks_is_the_plain_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coinpurse import reports

    ops = [{"kind": "buy", "account": f"viewer{n % 7}", "coins": 70, "id": f"op-{n}"} for n in range(40)]
    monkeypatch.setattr(reports, "_LINES_PER_WRITE", 3)
    monkeypatch.setattr(reports, "_BLOCK_BYTES", 500)  # a few lines per block, most blocks cut inside a line
    report = Ledger.memory().apply(ops)
    whole = report.to_dict()
    assert [op["index"] for op in whole["ops"]] == list(range(1, 41))
    assert "".join(report.json_chunks(False)) == json.dumps(whole, ensure_ascii=False, separators=(",", ":")) + "\n"
    assert json.loads("".join(report.json_chunks(True))) == whole
    assert [json.loads(line) for line in report.log.lines()] == whole["ops"]


def test_a_report_with_no_ops_prints_an_empty_list() -> None:
    report = Ledger.memory().apply([])
    assert json.loads("".join(report.json_chunks(False)))["ops"] == []


lot_values = st.builds(
    Lot,
    st.sampled_from(["b1", "b2", "op-17", "tx-9", ""]),
    st.integers(min_value=0, max_value=5000),
    st.sampled_from([Decimal("0.071"), Decimal("1"), Decimal("1.00"), Decimal("0"), Decimal("12.5")]),
)
lot_changes = st.lists(
    st.tuples(
        st.sampled_from(["buy", "draw", "part", "other"]),
        st.sampled_from(["ann", "bob"]),
        st.integers(0, 4),
        lot_values,
    ),
    max_size=40,
)


@settings(max_examples=examples(200), deadline=None)
@given(changes=lot_changes)
def test_an_accounts_digest_made_from_its_last_lots_is_its_state_digest(changes: list[Any]) -> None:
    lots: dict[str, tuple[Lot, ...]] = {"ann": (), "bob": ()}
    for how, name, count, lot in changes:
        held = lots[name]
        if how == "buy":
            held = (*held, *([lot] * (count + 1)))
        elif how == "draw":
            held = held[count:]
        elif how == "part" and held:
            first = held[min(count, len(held) - 1)]
            held = (Lot(first.source, first.coins + 1, first.cost), *held[min(count, len(held) - 1) + 1 :])
        else:
            held = tuple([lot] * count)
        lots[name] = held
        state = AccountState(count, 3, Decimal("-1.5"), held, "2026-03-01" if count % 2 else "", Decimal("2"))
        assert account_digest(name, state) == state_digest(state)
