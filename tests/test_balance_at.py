"""balance --at: balances as they were right after the last transaction by then; history/gifters --since/--until."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_checks import expect_error
from conftest import Cli, another_ledger, files_beside

# (time, command): each step at its own time, some sharing one, two on the same day.
STEPS: list[tuple[str, tuple[str, ...]]] = [
    ("2026-03-01T10:00:00Z", ("buy", "alice", "700")),  # tx-1
    ("2026-03-01T11:00:00Z", ("buy", "bob", "17500")),  # tx-2
    ("2026-03-01T11:00:00Z", ("gift", "alice", "mia", "rose", "-n", "5")),  # tx-3
    ("2026-03-02T09:30:00Z", ("buy", "bob", "3500", "--channel", "web")),  # tx-4
    ("2026-03-03T08:00:00Z", ("gift", "bob", "mia", "interstellar", "-n", "2")),  # tx-5
    ("2026-03-05T12:00:00Z", ("redeem", "mia", "20000")),  # tx-6
]


def _table(cli: Cli) -> dict[str, tuple[int, int]]:
    return {a["account"]: (a["coins"], a["diamonds"]) for a in cli.json("balance")["accounts"]}


def _at(cli: Cli, moment: str, *account: str) -> Any:
    return cli.json("balance", *account, "--at", moment)


def _at_table(cli: Cli, moment: str) -> dict[str, tuple[int, int]]:
    return {a["account"]: (a["coins"], a["diamonds"]) for a in _at(cli, moment)["accounts"]}


@pytest.fixture
def replayed(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> tuple[Cli, list[dict[str, tuple[int, int]]]]:
    """The economy of STEPS, and the balances the CLI printed right after each step."""
    after = []
    for moment, args in STEPS:
        monkeypatch.setenv("COINPURSE_NOW", moment)
        result = cli("-q", *args)
        assert result.exit_code == 0, result.stderr or result.output
        after.append(_table(cli))
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-10T00:00:00Z")
    return cli, after


def test_between_transactions_is_the_balance_right_after_the_earlier_one(replayed: Any) -> None:
    cli, after = replayed
    assert _at_table(cli, "2026-03-01T10:59:59Z") == after[0]
    assert _at_table(cli, "2026-03-01T11:00:00Z") == after[2]  # both at 11:00 are in
    assert _at_table(cli, "2026-03-02T10:00:00Z") == after[3]
    assert _at_table(cli, "2026-03-04T00:00:00Z") == after[4]
    assert _at_table(cli, "2026-03-09T00:00:00Z") == after[5] == _table(cli)
    one = _at(cli, "2026-03-03T08:00:00", "@MIA")  # a zone-less time is UTC; the handle is normalized
    assert one == {
        "account": "mia",
        "coins": 0,
        "diamonds": 20005,
        "at": "2026-03-03T08:00:00Z",
        "as_of": {"id": "tx-5", "at": "2026-03-03T08:00:00Z"},
    }


def test_at_each_transaction_time_matches_the_replay(replayed: Any) -> None:
    cli, after = replayed
    for index, (moment, _) in enumerate(STEPS):
        last = max(i for i, (other, _) in enumerate(STEPS) if other <= moment)
        got = _at(cli, moment)
        assert got["as_of"] == {"id": f"tx-{last + 1}", "at": STEPS[last][0]}
        assert _at_table(cli, moment) == after[last], (index, moment)
        for name, balance in after[last].items():
            single = _at(cli, moment, name)
            assert (single["coins"], single["diamonds"]) == balance


def test_a_date_means_the_end_of_that_day(replayed: Any) -> None:
    cli, after = replayed
    day = _at(cli, "2026-03-01")
    assert day["at"] == "2026-03-01T23:59:59Z"
    assert day["as_of"] == {"id": "tx-3", "at": "2026-03-01T11:00:00Z"}
    assert _at_table(cli, "2026-03-01") == after[2]
    assert _at_table(cli, "2026-03-02") == after[3]
    assert _at_table(cli, "today") == after[5]  # COINPURSE_NOW is 2026-03-10
    assert _at(cli, "yesterday")["at"] == "2026-03-09T23:59:59Z"


def test_before_the_first_transaction_is_zero(replayed: Any) -> None:
    cli, _ = replayed
    every = _at(cli, "2026-02-28")
    assert every == {"accounts": [], "totals": {"coins": 0, "diamonds": 0}, "at": "2026-02-28T23:59:59Z", "as_of": None}
    assert _at(cli, "2026-02-28", "mia") == {
        "account": "mia",
        "coins": 0,
        "diamonds": 0,
        "at": "2026-02-28T23:59:59Z",
        "as_of": None,
    }
    # mia has no transaction before tx-3: zeros, and the all-accounts view leaves her out
    assert _at(cli, "2026-03-01T10:30:00Z", "mia")["diamonds"] == 0
    assert "mia" not in _at_table(cli, "2026-03-01T10:30:00Z")
    plain = cli("balance", "--at", "2026-02-28")
    assert plain.exit_code == 0 and "2026-02-28T23:59:59Z" in plain.stdout


def test_the_human_view_names_the_moment(replayed: Any) -> None:
    cli, _ = replayed
    shown = cli("balance", "mia", "--at", "2026-03-02")
    assert shown.exit_code == 0, shown.stderr
    assert "2026-03-02T23:59:59Z" in shown.stdout and "tx-4" in shown.stdout
    assert "5" in shown.stdout
    every = cli("balance", "--at", "2026-03-01T10:00:00Z")
    assert "alice" in every.stdout and "bob" not in every.stdout and "2026-03-01T10:00:00Z" in every.stdout


@pytest.mark.parametrize("bad", ["soon", "2026-02-30", "2026-13-01T00:00:00Z", "10000-01-01", ""])
def test_a_bad_time_is_bad_input_naming_at(replayed: Any, bad: str) -> None:
    cli, _ = replayed
    result = cli("balance", "--at", bad)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "--at" in result.stderr, result.stderr
    expect_error(cli, "balance", "mia", "--at", bad, exit_code=2, code="bad_time", says="")


def test_an_unknown_account_is_still_refused(replayed: Any) -> None:
    cli, _ = replayed
    expect_error(cli, "balance", "nobody", "--at", "2026-03-01", exit_code=2, code="unknown_account", says="nobody")


def _ids(cli: Cli, *args: str) -> list[str]:
    return [tx["id"] for tx in cli.json("history", *args)["transactions"]]


def test_history_since_and_until(replayed: Any) -> None:
    cli, _ = replayed
    assert _ids(cli, "--since", "2026-03-02") == ["tx-4", "tx-5", "tx-6"]
    assert _ids(cli, "--until", "2026-03-01") == ["tx-1", "tx-2", "tx-3"]
    assert _ids(cli, "--since", "2026-03-01T11:00:00Z", "--until", "2026-03-01T11:00:00Z") == [
        "tx-2",
        "tx-3",
    ]  # inclusive
    assert _ids(cli, "--since", "2026-03-02", "--until", "2026-03-02") == ["tx-4"]  # that whole day
    assert _ids(cli, "--since", "2026-03-04", "--until", "2026-03-04") == []
    assert _ids(cli, "--since", "2026-03-06", "--until", "2026-03-01") == []
    assert _ids(cli, "--since", "2027-01-01") == []
    assert _ids(cli, "mia", "--until", "2026-03-04") == ["tx-3", "tx-5"]
    assert _ids(cli, "bob", "--since", "2026-03-01T11:00:01Z", "--kind", "buy") == ["tx-4"]
    assert _ids(cli, "--since", "2026-03-01", "--limit", "2") == ["tx-5", "tx-6"]
    assert _ids(cli, "--until", "2026-03-03", "--limit", "2", "--kind", "buy") == ["tx-2", "tx-4"]
    plain = cli("history", "--since", "2026-03-05")
    assert plain.exit_code == 0 and "tx-6" in plain.stdout and "tx-5" not in plain.stdout


@pytest.mark.parametrize("option", ["--since", "--until"])
def test_history_bad_bound_names_its_option(replayed: Any, option: str) -> None:
    cli, _ = replayed
    result = cli("history", option, "next week")
    assert result.exit_code == 2 and option in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_gifters_since_and_until(replayed: Any) -> None:
    cli, _ = replayed
    everyone = [g["account"] for g in cli.json("gifters", "mia")["gifters"]]
    assert everyone == ["bob", "alice"]
    assert [g["account"] for g in cli.json("gifters", "mia", "--until", "2026-03-02")["gifters"]] == ["alice"]
    assert [g["account"] for g in cli.json("gifters", "mia", "--since", "2026-03-02")["gifters"]] == ["bob"]
    assert cli.json("gifters", "mia", "--since", "2026-03-04")["gifters"] == []


# ----- SQLite: an indexed lookup per account, never a walk of the history ---------------------------


def _sqlite_statements(path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> list[str]:
    from coinpurse.storage import sqlite as store

    seen: list[str] = []
    original = store.SqliteBook._reader

    def reader(self: Any) -> sqlite3.Connection:
        connection = original(self)
        connection.set_trace_callback(seen.append)
        return connection

    monkeypatch.setattr(store.SqliteBook, "_reader", reader)
    result = Cli(path)(*args)
    assert result.exit_code == 0, result.stderr or result.output
    return seen


def _plans(path: Path, statements: list[str]) -> list[tuple[str, str]]:
    plans = []
    with sqlite3.connect(path) as connection:
        for sql in statements:
            if sql.lstrip().upper().startswith("SELECT"):
                for row in connection.execute("EXPLAIN QUERY PLAN " + sql):
                    plans.append((sql, row[-1]))
    return plans


@pytest.fixture
def long_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "long.sqlite"
    cli = Cli(path)
    for day in range(1, 29):
        monkeypatch.setenv("COINPURSE_NOW", f"2026-02-{day:02d}T12:00:00Z")
        for args in (("buy", "alice", "700"), ("gift", "alice", "mia", "rose", "-n", "1"), ("buy", f"v{day}", "700")):
            assert cli("-q", *args).exit_code == 0
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-01T00:00:00Z")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ("balance", "mia", "--at", "2026-02-10"),
        ("balance", "--at", "2026-02-10T12:00:00Z"),
        ("history", "--since", "2026-02-10", "--until", "2026-02-11"),
        ("history", "mia", "--since", "2026-02-10", "--until", "2026-02-11", "--kind", "gift"),
        ("gifters", "mia", "--since", "2026-02-10"),
    ],
)
def test_sqlite_reads_the_past_by_index(
    long_sqlite: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    statements = _sqlite_statements(long_sqlite, monkeypatch, *args)
    plans = _plans(long_sqlite, statements)
    touching = [(sql, detail) for sql, detail in plans if "transactions" in sql or "postings" in sql]
    assert touching
    # the head (the newest row by seq, no condition, LIMIT 1) reads one row; every other read searches an index
    scans = [
        (sql, d) for sql, d in touching if d.startswith("SCAN") and not ("WHERE" not in sql and sql.endswith("LIMIT 1"))
    ]
    sorts = [(sql, d) for sql, d in touching if "TEMP B-TREE" in d and ("--at" in args or "--since" in args)]
    assert not scans, scans
    assert not sorts, sorts  # read in the index's own order


def test_sqlite_balance_at_reads_a_few_rows_per_account(long_sqlite: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 84 transactions: halving needs about 7 reads of a time, then the account's one transaction
    statements = _sqlite_statements(long_sqlite, monkeypatch, "balance", "mia", "--at", "2026-02-10")
    history = [sql for sql in statements if "transactions" in sql or "postings" in sql]
    assert len(history) <= 15, history


def test_sqlite_balance_at_is_right(long_sqlite: Path) -> None:
    cli = Cli(long_sqlite)
    assert _at(cli, "2026-02-10", "mia")["diamonds"] == 10
    assert _at(cli, "2026-02-10", "alice")["coins"] == 10 * 699
    table = _at_table(cli, "2026-02-02")
    assert table == {"alice": (1398, 0), "mia": (0, 2), "v1": (700, 0), "v2": (700, 0)}


# ----- a property: at each transaction's time, the running balances ----------------------------------

_ACTIONS = st.lists(
    st.tuples(
        st.integers(0, 3),  # hours after the previous step (0: the same time)
        st.sampled_from(["buy-a", "buy-b", "gift-a", "gift-b"]),
    ),
    min_size=1,
    max_size=6,
)
_COMMANDS = {
    "buy-a": ("buy", "ann", "700"),
    "buy-b": ("buy", "ben", "700"),
    "gift-a": ("gift", "ann", "cy", "rose", "-n", "3"),
    "gift-b": ("gift", "ben", "cy", "rose", "-n", "2"),
}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=_ACTIONS)
def test_property_at_each_time_the_running_balances(
    ledger: Path, monkeypatch: pytest.MonkeyPatch, actions: list[tuple[int, str]]
) -> None:
    from datetime import UTC, datetime, timedelta

    path = another_ledger(ledger, ledger.parent, f"p{abs(hash(tuple(actions)))}")
    for leftover in files_beside(path):
        if leftover.name.startswith(path.name):
            leftover.unlink()
    cli = Cli(path)
    moment = datetime(2026, 4, 1, tzinfo=UTC)
    seen: list[tuple[str, dict[str, tuple[int, int]]]] = []
    for hours, action in actions:
        moment += timedelta(hours=hours)
        stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        monkeypatch.setenv("COINPURSE_NOW", stamp)
        result = cli("-q", *_COMMANDS[action])
        if result.exit_code == 1:  # refused (not enough coins): nothing changed
            continue
        assert result.exit_code == 0, result.stderr
        seen.append((stamp, _table(cli)))
    for stamp, _ in seen:
        last = [table for other, table in seen if other <= stamp][-1]
        assert _at_table(cli, stamp) == last


def test_the_json_shapes_are_documented(replayed: Any) -> None:
    from test_json_contract import conforms

    cli, _ = replayed
    conforms(_at(cli, "2026-03-02", "mia"), "balance ACCOUNT --at")
    conforms(_at(cli, "2026-02-01", "mia"), "balance ACCOUNT --at")
    conforms(_at(cli, "2026-03-02"), "balance --at")
    conforms(_at(cli, "2026-02-01"), "balance --at")


def test_gifters_in_a_window_without_gifts_says_so_not_that_there_were_never_any(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("buy", "alice", "700").exit_code == 0
    assert cli("gift", "alice", "mia", "rose").exit_code == 0
    shown = cli("gifters", "mia", "--until", "2000-01-01").stdout.strip()
    assert shown == "No one sent mia a gift in that time."
