"""--stream NAME on history and gifters: one live stream's gifts (and their reversals), and its leaderboard."""

from __future__ import annotations

import pytest

from cli_checks import expect_error
from conftest import Cli

# (time, command), each step at its own time: two streams of mia's, one of noah's, gifts without a stream.
STEPS: list[tuple[str, tuple[str, ...]]] = [
    ("2026-03-01T10:00:00Z", ("buy", "alice", "7000")),  # tx-1
    ("2026-03-01T10:00:00Z", ("buy", "bob", "7000")),  # tx-2
    ("2026-03-01T10:00:00Z", ("buy", "cy", "7000")),  # tx-3
    ("2026-03-01T20:00:00Z", ("gift", "alice", "mia", "rose", "-n", "5", "--stream", "launch")),  # tx-4
    ("2026-03-01T20:05:00Z", ("gift", "bob", "mia", "rose", "--stream", "launch")),  # tx-5
    ("2026-03-01T20:10:00Z", ("gift", "bob", "mia", "rose", "-n", "4", "--stream", "launch")),  # tx-6
    ("2026-03-01T20:15:00Z", ("gift", "cy", "mia", "rosa", "--stream", "launch")),  # tx-7
    ("2026-03-01T20:20:00Z", ("gift", "alice", "noah", "rose", "--stream", "launch")),  # tx-8: noah's, same name
    ("2026-03-02T20:00:00Z", ("gift", "alice", "mia", "rose", "--stream", "encore")),  # tx-9
    ("2026-03-02T21:00:00Z", ("gift", "cy", "mia", "rose")),  # tx-10: no stream
    ("2026-03-03T09:00:00Z", ("reverse", "tx-7", "--reason", "chargeback")),  # tx-11: undoes a launch gift
    ("2026-03-03T09:30:00Z", ("reverse", "tx-9", "--reason", "typo")),  # tx-12: undoes an encore gift
    ("2026-03-03T10:00:00Z", ("buy", "dee", "70")),  # tx-13
    ("2026-03-03T10:30:00Z", ("refund", "tx-13")),  # tx-14: a refund belongs to no stream
]


@pytest.fixture
def streams(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    for moment, args in STEPS:
        monkeypatch.setenv("COINPURSE_NOW", moment)
        result = cli(*args)
        assert result.exit_code == 0, (args, result.output)
    return cli


def _ids(cli: Cli, *args: str) -> list[str]:
    return [tx["id"] for tx in cli.json("history", *args)["transactions"]]


def test_history_of_a_stream_is_its_gifts_and_their_reversals(streams: Cli) -> None:
    assert _ids(streams, "--stream", "launch") == ["tx-4", "tx-5", "tx-6", "tx-7", "tx-8", "tx-11"]
    assert _ids(streams, "--stream", "encore") == ["tx-9", "tx-12"]
    assert _ids(streams, "--stream", "  encore ") == ["tx-9", "tx-12"]  # trimmed, as gift --stream records it
    assert _ids(streams, "--stream", "Launch") == []  # a stream's name is exact
    assert _ids(streams, "--stream", "none") == []
    reversed_gift = next(
        tx for tx in streams.json("history", "--stream", "launch")["transactions"] if tx["id"] == "tx-7"
    )
    assert reversed_gift["reversed_by"] == "tx-11"


def test_stream_combines_with_account_kind_and_limit(streams: Cli) -> None:
    assert _ids(streams, "mia", "--stream", "launch") == ["tx-4", "tx-5", "tx-6", "tx-7", "tx-11"]
    assert _ids(streams, "noah", "--stream", "launch") == ["tx-8"]
    assert _ids(streams, "bob", "--stream", "launch") == ["tx-5", "tx-6"]
    assert _ids(streams, "cy", "--stream", "launch") == ["tx-7", "tx-11"]
    assert _ids(streams, "--stream", "launch", "--kind", "gift") == ["tx-4", "tx-5", "tx-6", "tx-7", "tx-8"]
    assert _ids(streams, "--stream", "launch", "--kind", "REVERSAL") == ["tx-11"]
    assert _ids(streams, "--stream", "launch", "--kind", "buy") == []
    assert _ids(streams, "--stream", "launch", "--kind", "refund") == []
    assert _ids(streams, "--stream", "launch", "--limit", "2") == ["tx-8", "tx-11"]
    assert _ids(streams, "mia", "--stream", "launch", "--kind", "gift", "--limit", "3") == ["tx-5", "tx-6", "tx-7"]


def test_stream_combines_with_since_and_until(streams: Cli) -> None:
    assert _ids(streams, "--stream", "launch", "--since", "2026-03-01T20:10:00Z") == ["tx-6", "tx-7", "tx-8", "tx-11"]
    assert _ids(streams, "--stream", "launch", "--until", "2026-03-01T20:05:00Z") == ["tx-4", "tx-5"]
    assert _ids(streams, "--stream", "launch", "--since", "2026-03-02") == ["tx-11"]  # the reversal, of an earlier gift
    assert _ids(streams, "--stream", "launch", "--since", "2026-03-01", "--until", "2026-03-01") == [
        "tx-4",
        "tx-5",
        "tx-6",
        "tx-7",
        "tx-8",
    ]
    assert _ids(streams, "mia", "--stream", "encore", "--since", "2026-03-02", "--limit", "1") == ["tx-12"]
    assert _ids(streams, "--stream", "launch", "--since", "2026-03-04") == []


def test_the_table_of_a_stream_shows_its_rows(streams: Cli) -> None:
    table = streams("history", "--stream", "encore")
    assert table.exit_code == 0
    assert "tx-9" in table.stdout and "tx-12" in table.stdout and "tx-10" not in table.stdout


def test_the_leaderboard_of_a_stream_ranks_its_gifters(streams: Cli) -> None:
    board = streams.json("gifters", "mia", "--stream", "launch")
    assert (board["account"], board["stream"], board["currency"]) == ("mia", "launch", "USD")
    assert board["gifters"] == [
        {"rank": 1, "account": "alice", "gifts": 1, "items": 5, "coins": 5, "diamonds": 5, "diamond_value": "0.025"},
        {"rank": 1, "account": "bob", "gifts": 2, "items": 5, "coins": 5, "diamonds": 5, "diamond_value": "0.025"},
    ]  # alice and bob tie on diamonds: one rank, by name; cy's one gift (tx-7) was reversed, so it drops out
    assert [g["account"] for g in streams.json("gifters", "mia", "--stream", "launch", "--limit", "1")["gifters"]] == [
        "alice",
    ]
    assert streams.json("gifters", "mia", "--stream", "encore")["gifters"] == []  # its one gift, reversed
    assert [g["account"] for g in streams.json("gifters", "noah", "--stream", "launch")["gifters"]] == ["alice"]
    assert streams.json("gifters", "mia")["stream"] is None
    assert [(g["account"], g["gifts"]) for g in streams.json("gifters", "mia")["gifters"]] == [
        ("alice", 1),
        ("bob", 2),
        ("cy", 1),
    ]  # over every stream, less the reversed tx-7 and tx-9


def test_the_leaderboard_takes_since_and_until(streams: Cli) -> None:
    late = streams.json("gifters", "mia", "--stream", "launch", "--since", "2026-03-01T20:10:00Z")
    assert [(g["rank"], g["account"], g["gifts"], g["items"]) for g in late["gifters"]] == [(1, "bob", 1, 4)]
    then = streams.json(
        "gifters", "mia", "--stream", "launch", "--since", "2026-03-01T20:10:00Z", "--until", "2026-03-02"
    )
    assert [(g["rank"], g["account"], g["gifts"], g["items"]) for g in then["gifters"]] == [
        (1, "cy", 1, 1),
        (2, "bob", 1, 4),
    ]  # what stood at the span's end: tx-7 was reversed only on 2026-03-03
    early = streams.json("gifters", "mia", "--stream", "launch", "--until", "2026-03-01T20:05:00Z")
    assert [(g["account"], g["gifts"]) for g in early["gifters"]] == [("alice", 1), ("bob", 1)]


def test_the_table_shows_the_same_counts_as_the_json(streams: Cli) -> None:
    board = streams.json("gifters", "mia", "--stream", "launch")
    table = streams("gifters", "mia", "--stream", "launch")
    assert table.exit_code == 0
    assert "Top gifters of @mia on stream launch" in table.stdout
    header = next(line.split() for line in table.stdout.splitlines() if line.split()[:1] == ["#"])
    assert header[:6] == ["#", "gifter", "gifts", "items", "coins", "diamonds"]
    rows = [line.split() for line in table.stdout.splitlines() if line.split()[1:2] in (["cy"], ["alice"], ["bob"])]
    assert [row[:6] for row in rows] == [
        [str(g["rank"]), g["account"], str(g["gifts"]), str(g["items"]), str(g["coins"]), str(g["diamonds"])]
        for g in board["gifters"]
    ]
    assert [row[6] for row in rows] == ["$0.025", "$0.025"]


def test_a_stream_without_gifts_says_so(streams: Cli) -> None:
    assert (
        streams("gifters", "noah", "--stream", "encore").stdout.strip() == "No one sent noah a gift on stream encore."
    )
    quiet = streams("gifters", "mia", "--stream", "launch", "--since", "2026-03-04")
    assert quiet.stdout.strip() == "No one sent mia a gift on stream launch in that time."
    assert streams.json("gifters", "mia", "--stream", "[red]x")["gifters"] == []
    assert "[red]x" in streams("gifters", "mia", "--stream", "[red]x").stdout  # shown as typed, not as markup


@pytest.mark.parametrize("command", [("history",), ("gifters", "mia")])
def test_a_stream_no_gift_can_have_is_bad_input(streams: Cli, command: tuple[str, ...]) -> None:
    before = streams.ledger.read_bytes()
    expect_error(streams, *command, "--stream", "   ", exit_code=2, code="invalid_stream", says="--stream")
    expect_error(streams, *command, "--stream", "x" * 81, exit_code=2, code="invalid_stream", says="1 to 80")
    assert streams.ledger.read_bytes() == before


def test_the_library_takes_a_stream(streams: Cli) -> None:
    from coinpurse import Ledger

    ledger = Ledger(streams.ledger)
    assert [tx.id for tx in ledger.history(stream="encore").transactions] == ["tx-9", "tx-12"]
    board = ledger.gifters("mia", stream="launch")
    assert [(g.account, g.gifts) for g in board.gifters] == [("alice", 1), ("bob", 2)]  # cy's tx-7 was reversed
    assert board.ranks == (1, 1)


def test_on_sqlite_a_stream_is_read_through_its_index_not_the_history(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from coinpurse.storage.sqlite import open_for_reading

    cli = Cli(tmp_path / "ledger.sqlite")
    for moment, args in STEPS:
        monkeypatch.setenv("COINPURSE_NOW", moment)
        assert cli(*args).exit_code == 0, args
    book = open_for_reading(Path(cli.ledger))
    statements: list[str] = []
    book.db.set_trace_callback(statements.append)
    try:
        assert [tx.id for tx in book.stream_within("launch", 1, 14, "mia", limit=3)] == ["tx-6", "tx-7", "tx-11"]
        book.db.set_trace_callback(None)
        plans = [" ".join(row[3] for row in book.db.execute(f"EXPLAIN QUERY PLAN {sql}")) for sql in statements]
    finally:
        book.db.close()
    assert len(plans) == 2
    assert "USING INDEX gifts_by_stream" in plans[0]  # the stream's gifts, by stream and seq
    assert "USING INDEX transactions_of_rare_kinds" in plans[1] and "transactions_by_id" in plans[1]  # reversals
    assert not any("SCAN t" in plan or "SCAN transactions" in plan for plan in plans)


def test_a_schema_3_sqlite_ledger_answers_a_stream_and_gains_the_index_on_its_first_write(tmp_path) -> None:
    import sqlite3

    cli = Cli(tmp_path / "ledger.sqlite")
    for args in (("buy", "alice", "700"), ("gift", "alice", "mia", "rose", "--stream", "launch")):
        assert cli(*args).exit_code == 0, args
    with sqlite3.connect(cli.ledger) as db:
        db.execute("UPDATE meta SET value = '3' WHERE key = 'schema'")
        db.execute("DROP INDEX transactions_of_rare_kinds")
        db.execute("DROP INDEX gifts_by_stream")
    sqlite3.connect(cli.ledger).close()
    assert [g["gifts"] for g in cli.json("gifters", "mia", "--stream", "launch")["gifters"]] == [1]
    assert cli("gift", "alice", "mia", "rose", "--stream", "launch").exit_code == 0  # moves it to schema 4
    with sqlite3.connect(cli.ledger) as db:
        indexes = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert "gifts_by_stream" in indexes
    assert [g["gifts"] for g in cli.json("gifters", "mia", "--stream", "launch")["gifters"]] == [2]
    assert cli.json("verify")["ok"] is True


@pytest.mark.parametrize("name", ['say "hi" \\o/', "Lancement été", "mia"])
def test_any_stream_name_is_found_however_a_ledger_file_spells_it(cli: Cli, name: str) -> None:
    for args in (
        ("buy", "alice", "700"),
        ("gift", "alice", "mia", "rose", "-n", "3", "--stream", name),
        ("gift", "alice", "mia", "rose"),
    ):
        assert cli(*args).exit_code == 0, args
    board = cli.json("gifters", "mia", "--stream", name)
    assert [(g["account"], g["gifts"], g["items"]) for g in board["gifters"]] == [("alice", 1, 3)]
    assert board["stream"] == name
    assert [tx["id"] for tx in cli.json("history", "--stream", name)["transactions"]] == ["tx-2"]


def test_on_json_a_streams_leaderboard_reads_only_the_lines_naming_it(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coinpurse import Ledger
    from coinpurse.storage import files

    cli = Cli(tmp_path / "ledger.json")
    for moment, args in STEPS:
        monkeypatch.setenv("COINPURSE_NOW", moment)
        assert cli(*args).exit_code == 0, args

    def no_full_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole history was parsed")

    monkeypatch.setattr(files, "read_file_book", no_full_parse)
    ledger = Ledger(cli.ledger)
    board = ledger.gifters("mia", stream="launch")
    assert [(g.account, g.gifts) for g in board.gifters] == [("alice", 1), ("bob", 2)]  # cy's tx-7 was reversed
    assert [tx.id for tx in ledger.history(stream="launch", limit=2).transactions] == ["tx-8", "tx-11"]
    assert [tx.id for tx in ledger.history("cy", stream="launch").transactions] == ["tx-7", "tx-11"]
    assert [tx.id for tx in ledger.history(stream="encore", kind="reversal").transactions] == ["tx-12"]


def test_the_sqlite_index_finds_what_a_walk_of_the_history_finds(tmp_path) -> None:
    """For every span, account, kind and limit: SQLite's indexed read equals the plain walk of every store."""
    import random

    from coinpurse import Ledger
    from coinpurse.core.book import Book
    from coinpurse.storage.sqlite import open_for_reading

    chance = random.Random(7)
    ledger = Ledger.memory()
    gifts: list[str] = []
    with ledger.batch(now="2026-03-01T12:00:00Z") as batch:
        for viewer in ("ann", "ben", "cat"):
            batch.buy(viewer, "7000")
        for _ in range(60):
            roll = chance.random()
            if roll < 0.8 or not gifts:
                stream = chance.choice(("launch", "encore", None))
                sent = batch.gift(
                    chance.choice(("ann", "ben", "cat")), chance.choice(("mia", "noah")), "rose", "1", stream
                )
                gifts.append(sent.transaction.id)
            elif roll < 0.9:
                batch.reverse(gifts.pop(chance.randrange(len(gifts))), "correction")
            else:
                batch.buy("ann", "70")
    target = tmp_path / "ledger.sqlite"
    ledger.save_as(target)
    book = open_for_reading(target)
    try:
        length = book.head().length
        for stream in ("launch", "encore", "none"):
            for low, high in ((1, length), (1, 30), (20, length), (31, 40), (40, 39)):
                for account in (None, "mia", "ann", "noah"):
                    for kind in (None, "gift", "reversal", "buy"):
                        for limit in (None, 1, 5):
                            indexed = book.stream_within(stream, low, high, account, kind, limit)
                            walked = Book.stream_within(book, stream, low, high, account, kind, limit)
                            assert [tx.id for tx in indexed] == [tx.id for tx in walked], (
                                stream,
                                low,
                                high,
                                account,
                                kind,
                                limit,
                            )
        assert any(tx.kind == "reversal" for tx in book.stream_within("launch"))
    finally:
        book.db.close()
    from coinpurse.storage import files, reading

    memory = ledger._memory
    assert memory is not None
    ledger.save_as(tmp_path / "ledger.json")
    with reading(tmp_path / "ledger.json") as lines:  # read from the file's lines, newest first
        for stream in ("launch", "encore", "none"):
            for account in (None, "mia", "ann", "noah"):
                for kind in (None, "gift", "reversal"):
                    for limit in (None, 1, 5):
                        read = lines.stream_within(stream, account=account, kind=kind, limit=limit)
                        walked = Book.stream_within(memory, stream, 1, None, account, kind, limit)
                        assert [tx.id for tx in read] == [tx.id for tx in walked], (stream, account, kind, limit)
        assert isinstance(lines, files.LazyHistoryBook) and lines._loaded is None  # never parsed whole
