"""An export from PostgreSQL walks the history through a server-side cursor, a batch at a time, never all of it at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from coinpurse import Ledger
from conftest import Cli
from test_export import build_economy

pytestmark = pytest.mark.postgres

WAYS = [
    ("csv", {}),
    ("journal", {}),
    ("json", {}),
    ("journal", {"since": "2026-03-01T12:00:00Z"}),  # opens with the balances then, summed from the history
    ("json", {"until": "2026-03-01T12:00:00Z"}),  # a part, each record checked whole
]


@pytest.mark.parametrize(("fmt", "window"), WAYS, ids=[f"{fmt}{'-' + ','.join(w) if w else ''}" for fmt, w in WAYS])
def test_an_export_from_postgresql_fetches_the_history_in_batches(
    pg_ledger: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, window: dict[str, Any]
) -> None:
    import psycopg

    from coinpurse.storage import postgres

    cli = Cli(pg_ledger)
    build_economy(cli)
    whole = Ledger.open(pg_ledger).export(fmt, **window)
    assert whole.transactions
    fetched_whole: list[str] = []
    batches: list[int] = []
    fetchall = postgres._Rows.fetchall
    fetch_page = psycopg.ServerCursor._fetch_gen  # what iterating a server-side cursor calls for each page

    def fetchall_noted(rows: Any) -> Any:
        found = fetchall(rows)
        if "body" in rows.sql and len(found) > 1:
            fetched_whole.append(rows.sql)
        return found

    def page_noted(cursor: Any, size: int | None) -> Any:
        found = yield from fetch_page(cursor, size)
        batches.append(len(found))
        return found

    monkeypatch.setattr(postgres._Rows, "fetchall", fetchall_noted)
    monkeypatch.setattr(psycopg.ServerCursor, "_fetch_gen", page_noted)
    monkeypatch.setattr(postgres, "BATCH_ROWS", 2)
    streamed = Ledger.open(pg_ledger).export(fmt, **window)
    assert streamed.text == whole.text
    assert fetched_whole == []  # no query of stored bodies read all its rows at once
    assert batches and max(batches) <= 2 and sum(batches) >= whole.transactions
