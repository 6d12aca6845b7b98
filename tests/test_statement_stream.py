"""statement --stream: one live stream's gifts and what was taken back of them, on every store, in each view."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from cli_checks import expect_error, flat
from coinpurse import Ledger
from conftest import Cli
from page_checks import at_path
from page_checks import figures as _figures
from test_statement import MARCH, _economy, _same

LAUNCH = ("--stream", "launch")


@pytest.fixture
def economy(cli: Cli) -> Cli:
    _economy(cli.ledger)
    return cli


def test_a_stream_s_statement_holds_its_gifts_and_what_was_taken_back_of_them(economy: Cli) -> None:
    made = economy.json("statement", "mia", *MARCH, *LAUNCH)
    whole = economy.json("statement", "mia", *MARCH)
    assert made["stream"] == "launch" and whole["stream"] is None
    # The balances are the creator's whole balances: one balance, whatever stream its diamonds came from.
    assert (made["opening"], made["closing"], made["anchor"]) == (whole["opening"], whole["closing"], whole["anchor"])
    assert made["transactions"] == 5  # gifts tx-5, 10, 12; the refund tx-11 of tx-10; the reversal tx-13 of tx-12
    assert (made["gifts"]["gifts"], made["gifts"]["diamonds"]) == (3, 20005)
    assert [(s["stream"], s["gifts"], s["diamonds"]) for s in made["by_stream"]] == [("launch", 3, 20005)]
    assert [(g["gift"], g["diamonds"]) for g in made["by_gift"]] == [("Interstellar", 20000), ("Rose", 5)]
    assert [(g["account"], g["diamonds"]) for g in made["top_gifters"]] == [("bob", 20000), ("carol", 3), ("alice", 2)]
    assert [(t["id"], t["kind"], t["gifts"], t["diamonds"]) for t in made["taken_back"]["items"]] == [
        ("tx-11", "refund", ["tx-10"], 3),
        ("tx-13", "reversal", ["tx-12"], 2),
    ]
    assert made["diamonds_earned"]["diamonds"] == 20000
    assert made["payouts"] is None  # a payout belongs to no stream: left out, not "none"
    assert made["share"]["diamond_value"] == made["diamonds_earned"]["diamond_value"] == "100.00"
    # A stream without mia's gifts in the span, and one with none at all, show nothing received.
    for stream in ("valentine", "nobody-streamed-this"):
        quiet = economy.json("statement", "mia", *MARCH, "--stream", stream)
        assert (quiet["transactions"], quiet["gifts"]["gifts"], quiet["taken_back"]["items"]) == (0, 0, [])
        assert quiet["closing"] == whole["closing"]
    valentine = economy.json("statement", "mia", "--stream", " valentine ")
    assert (valentine["stream"], valentine["gifts"]["diamonds"], valentine["opening"]["diamonds"]) == (
        "valentine",
        5,
        0,
    )


def test_a_refund_counts_for_a_stream_only_for_the_clawbacks_of_its_gifts(cli: Cli) -> None:
    ledger = Ledger(cli.ledger)
    ledger.buy("ann", 70, now="2026-03-01T09:00:00Z")  # tx-1
    ledger.gift("ann", "mia", "rose", 2, stream="launch", now="2026-03-01T10:00:00Z")  # tx-2
    ledger.gift("ann", "mia", "rose", 3, stream="late", now="2026-03-01T11:00:00Z")  # tx-3
    ledger.refund("tx-1", clawback=True, now="2026-03-02T10:00:00Z")  # tx-4: claws back both gifts
    launch = cli.json("statement", "mia", *LAUNCH)
    late = cli.json("statement", "mia", "--stream", "late")
    assert [(t["id"], t["gifts"], t["diamonds"]) for t in launch["taken_back"]["items"]] == [("tx-4", ["tx-2"], 2)]
    assert [(t["id"], t["gifts"], t["diamonds"]) for t in late["taken_back"]["items"]] == [("tx-4", ["tx-3"], 3)]
    assert launch["transactions"] == late["transactions"] == 2
    whole = cli.json("statement", "mia")
    assert whole["taken_back"]["diamonds"] == launch["taken_back"]["diamonds"] + late["taken_back"]["diamonds"]


def test_the_terminal_and_the_page_say_it_is_one_stream_s(
    economy: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    shown = economy("statement", "mia", *MARCH, *LAUNCH)
    assert shown.exit_code == 0, shown.stderr
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80
    text = flat(shown.stdout)
    for expected in (
        "Only live stream launch: its gifts and what reversals and refunds took back of them",
        "payouts belong to no stream", "the balances are the creator's whole balances",
        "Payouts: not shown, as they belong to no stream.", "earned 20,000 $100.00",
    ):  # fmt: skip
        assert expected in text, expected
    assert "tx-8" not in text  # the redeem
    page = tmp_path / "launch.html"
    done = economy("statement", "mia", *MARCH, *LAUNCH, "--html", str(page))
    assert done.exit_code == 0, done.stderr
    html = page.read_text()
    assert "Only live stream launch" in html and "Not shown: payouts belong to no stream." in html
    figures = _figures(html)
    made = economy.json("statement", "mia", *MARCH, *LAUNCH)
    wrong = [(path, text) for path, texts in figures.items() for text in texts if not _same(text, at_path(made, path))]
    assert not wrong, wrong
    assert figures["stream"] == ["launch"]
    assert not any(path.startswith("payouts") for path in figures)


def test_a_bad_stream_name_is_bad_input(economy: Cli) -> None:
    expect_error(economy, "statement", "mia", "--stream", "  ", exit_code=2, code="invalid_stream", says="--stream")


def test_sqlite_reads_a_stream_s_statement_through_its_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from coinpurse.storage import sqlite as store

    path = tmp_path / "long.sqlite"
    with Ledger(path).batch(now="2026-01-01T00:00:00Z") as batch:
        for day in range(1, 29):
            moment = f"2026-02-{day:02d}T12:00:00Z"
            batch.buy("alice", 700, now=moment)
            batch.gift("alice", "mia", "rose", stream="daily", now=moment)
            batch.gift("alice", "mia", "rose", stream="launch" if day == 10 else None, now=moment)
    statements: list[str] = []
    original_reader = store.SqliteBook._reader

    def reader(self: Any) -> sqlite3.Connection:
        connection = original_reader(self)
        connection.set_trace_callback(statements.append)
        return connection

    monkeypatch.setattr(store.SqliteBook, "_reader", reader)
    made = Ledger(path).statement("mia", "2026-02-05T00:00:00Z", "2026-02-20T23:59:59Z", stream="launch")
    assert (made.gifts.gifts, made.gifts.diamonds) == (1, 1)
    with sqlite3.connect(path) as connection:
        plans = [
            (sql, row[-1])
            for sql in statements
            if "'$.details.stream'" in sql
            for row in connection.execute("EXPLAIN QUERY PLAN " + sql)
        ]
    assert any("gifts_by_stream" in detail for _, detail in plans), plans
