"""A JSON ledger read by time from its end (statement, balance --at, export --since): the same answers as
the full parse and as SQLite, for every moment, reading none of the history before the moment's line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from coinpurse import Ledger
from coinpurse.storage import reading
from coinpurse.storage.files import LazyHistoryBook

# Times repeat (several transactions stamped in one second) and skip, so every kind of edge is met.
_STEPS = [
    ("2026-03-01T10:00:00Z", "buy", "alice", 700),
    ("2026-03-01T10:00:00Z", "gift", "alice", "mia", "rose", 5),
    ("2026-03-01T10:00:00Z", "buy", "bob", 17500),
    ("2026-03-01T10:00:00Z", "buy", "bob", 3500),
    ("2026-03-01T10:05:00Z", "gift", "bob", "mia", "interstellar", 2),
    ("2026-03-01T10:05:00Z", "gift", "alice", "noah", "rose", 3, "live"),
    ("2026-03-02T09:00:00Z", "redeem", "mia", 20000),
    ("2026-03-02T09:00:00Z", "buy", "carol", 70),
    ("2026-03-03T12:00:00Z", "gift", "carol", "noah", "rose", 2),
    ("2026-03-03T12:00:00Z", "gift", "alice", "mia", "rose", 4, "live"),
    ("2026-03-03T12:00:01Z", "buy", "alice", 70),
    ("2026-03-05T00:00:00Z", "gift", "alice", "mia", "rose", 9, "live"),
    ("2026-03-05T00:00:00Z", "reverse", "tx-10"),  # the live gift of 2026-03-03
]
MOMENTS = sorted(
    {step[0] for step in _STEPS}
    | {"2026-02-28T00:00:00Z", "2026-03-01T09:59:59Z", "2026-03-01T10:00:01Z", "2026-03-02T23:59:59Z"}
    | {"2026-03-03T12:00:00Z", "2026-03-04T00:00:00Z", "2026-03-05T00:00:01Z", "2026-04-01T00:00:00Z"}
)


def _build(path: Path) -> None:
    ledger = Ledger(path)
    for at, kind, *args in _STEPS:
        if kind == "buy":
            ledger.buy(args[0], args[1], now=at)
        elif kind == "gift":
            ledger.gift(args[0], args[1], args[2], args[3], stream=(args[4:] or [None])[0], now=at)
        elif kind == "reverse":
            ledger.reverse(args[0], "wrong creator", now=at)
        else:
            ledger.redeem(args[0], args[1], now=at)


@pytest.fixture(scope="module")
def ledgers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("time-reads")
    json_path = folder / "ledger.json"
    _build(json_path)
    sqlite_path = folder / "ledger.sqlite"
    Ledger(json_path).convert(sqlite_path)
    return json_path, sqlite_path


def _from_the_end(path: Path, read: Any) -> Any:
    """What ``read(book)`` gives on the JSON book, which must not have parsed its whole history."""
    with reading(path) as book:
        assert isinstance(book, LazyHistoryBook)
        answer = read(book)
        assert book._loaded is None, "the whole history was parsed"
        return answer


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_statement_from_the_end_is_the_full_parse_s_and_sqlite_s(ledgers: tuple[Path, Path], moment: str) -> None:
    json_path, sqlite_path = ledgers
    from coinpurse.core.statement import make_statement

    for since, until in ((moment, None), (None, moment), (moment, "2026-03-03T12:00:00Z"), (moment, moment)):
        if since is not None and until is not None and since > until:
            continue
        for creator in ("mia", "noah", "alice"):
            lazy = _from_the_end(
                json_path, lambda book, c=creator, s=since, u=until: make_statement(book, c, s, u).to_dict()
            )
            assert lazy == Ledger(sqlite_path).statement(creator, since, until).to_dict(), (creator, since, until)
            with reading(json_path) as book:
                assert book.records  # the full parse, as before
                assert make_statement(book, creator, since, until).to_dict() == lazy


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_stream_s_span_from_the_end(ledgers: tuple[Path, Path], moment: str) -> None:
    json_path, sqlite_path = ledgers
    for since, until in ((moment, None), (None, moment), (moment, "2026-03-05T00:00:00Z")):
        if since is not None and until is not None and since > until:
            continue
        for account in (None, "mia", "alice"):
            lazy = _from_the_end(
                json_path, lambda book, s=since, u=until, a=account: book.stream_stamped("live", s, u, a)
            )
            with reading(sqlite_path) as book:
                expected = book.stream_stamped("live", since, until, account)
            assert [tx.id for tx in lazy] == [tx.id for tx in expected], (since, until, account)
        for args in (("statement", "mia"), ("report",)):
            made = getattr(Ledger(json_path), args[0])(*args[1:], since, until, stream="live").to_dict()
            assert made == getattr(Ledger(sqlite_path), args[0])(*args[1:], since, until, stream="live").to_dict()


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_balance_at_a_moment_from_the_end(ledgers: tuple[Path, Path], moment: str) -> None:
    json_path, sqlite_path = ledgers
    for inclusive in (True, False):
        last = _from_the_end(json_path, lambda book, i=inclusive: book.last_stamped(moment, i))
        with reading(sqlite_path) as book:
            expected_last = book.last_stamped(moment, inclusive)
        assert (None if last is None else last.id) == (None if expected_last is None else expected_last.id)
    for name in ("mia", "noah", "alice", "bob", "carol"):
        for inclusive in (True, False):
            as_of, found = _from_the_end(
                json_path, lambda book, n=name, i=inclusive: book.balance_stamped(n, moment, i)
            )
            with reading(sqlite_path) as book:
                expected_as_of, expected = book.balance_stamped(name, moment, inclusive)
            assert (None if as_of is None else as_of.id, found) == (
                None if expected_as_of is None else expected_as_of.id,
                expected,
            ), (name, moment, inclusive)
        assert (
            Ledger(json_path).balances_at(moment, name).to_dict()
            == Ledger(sqlite_path).balances_at(moment, name).to_dict()
        )


@pytest.mark.parametrize("moment", MOMENTS)
def test_an_export_since_a_moment_from_the_end(ledgers: tuple[Path, Path], moment: str) -> None:
    json_path, sqlite_path = ledgers
    tail = _from_the_end(json_path, lambda book: book.stamped_tail(moment))
    assert tail is not None and all(tx.at >= moment for tx in tail)
    with reading(sqlite_path) as book:
        assert [tx.id for tx in tail] == [tx.id for tx in book.stamped_within(moment, None)]
    for format in ("journal", "csv", "json"):
        for until in (None, "2026-03-03T12:00:00Z"):
            if until is not None and moment > until:
                continue
            lazy = Ledger(json_path).export(format, since=moment, until=until)
            expected = Ledger(sqlite_path).export(format, since=moment, until=until).text
            assert expected is not None and lazy.text == expected.replace("ledger.sqlite", "ledger.json"), format
            assert lazy.transactions == len([tx for tx in tail if until is None or tx.at <= until])


@pytest.mark.parametrize(
    ("written", "spelled"),
    [
        ('"kind": "redeem"', '"kind": "\\u0072edeem"'),  # an escape: the halving reads such a line no further
        ('"kind": "redeem", "at": "2026-03-02T09:00:00Z"', '"kind": "redeem", "at" : "2026-03-02T09:00:00Z"'),
    ],
)
def test_a_line_spelled_otherwise_gives_the_full_parse_s_answers(tmp_path: Path, written: str, spelled: str) -> None:
    path = tmp_path / "ledger.json"
    _build(path)
    text = path.read_text()
    assert text.count(written) == 1
    path.write_text(text.replace(written, spelled))
    for moment in MOMENTS:
        with reading(path) as book:
            lazy = (
                [tx.id for tx in book.stamped_within(moment, None, "mia")],
                book.balance_stamped("mia", moment),
                [tx.id for tx in book.stamped_tail(moment) or book.stamped_within(moment, None)],
            )
        with reading(path) as book:
            assert book.records  # the full parse
            full = (
                [tx.id for tx in book.stamped_within(moment, None, "mia")],
                book.balance_stamped("mia", moment),
                [tx.id for tx in book.stamped_within(moment, None)],
            )
        assert lazy == full, moment
