"""export --since/--until/--stream: part of the history, and a journal from --since that opens with the balances then."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

from coinpurse import Ledger
from coinpurse.formats.export import journal_account
from conftest import Cli
from test_export import TOOLS, build_economy, coinpurse_balances, strict_checks, tool_balances

# After build_economy (tx-1 to tx-9, on 2026-03-01 at noon): two more days, with streams, a reversal and a refund.
LATER: list[tuple[str, tuple[str, ...]]] = [
    ("2026-03-02T10:00:00Z", ("buy", "alice", "1400")),  # tx-10
    ("2026-03-02T11:00:00Z", ("gift", "alice", "mia", "rose", "-n", "50", "--stream", "launch")),  # tx-11
    ("2026-03-02T11:30:00Z", ("gift", "bob", "mia", "finger heart", "--stream", "launch")),  # tx-12
    ("2026-03-02T12:00:00Z", ("gift", "alice", "noah", "rose", "--stream", "encore")),  # tx-13
    ("2026-03-03T09:00:00Z", ("reverse", "tx-12", "--reason", "sent by mistake")),  # tx-14
    ("2026-03-03T10:00:00Z", ("refund", "tx-10")),  # tx-15
    ("2026-03-03T11:00:00Z", ("gift", "bob", "mia", "galaxy", "-n", "2", "--stream", "launch")),  # tx-16
    ("2026-03-03T12:00:00Z", ("redeem", "mia", "--all")),  # tx-17
]
CUTS = ["2026-03-01", "2026-03-02", "2026-03-02T11:30:00Z", "2026-03-03", "2026-03-03T12:00:00Z", "2026-03-04"]


@pytest.fixture
def days(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    build_economy(cli)
    for moment, args in LATER:
        monkeypatch.setenv("COINPURSE_NOW", moment)
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
    return cli


def _ids_of_csv(text: str) -> list[str]:
    return list(dict.fromkeys(row["id"] for row in csv.DictReader(io.StringIO(text))))


def _history_ids(cli: Cli, *args: str) -> list[str]:
    return [tx["id"] for tx in cli.json("history", *args)["transactions"]]


@pytest.mark.parametrize(
    "window",
    [
        ("--since", "2026-03-02"),
        ("--until", "2026-03-02T11:30:00Z"),
        ("--since", "2026-03-02T11:00:00Z", "--until", "2026-03-03T09:00:00Z"),
        ("--stream", "launch"),
        ("--stream", "launch", "--since", "2026-03-03"),
        ("--since", "2026-03-05"),
    ],
)
def test_every_format_exports_what_history_shows_for_the_same_window(days: Cli, window: tuple[str, ...]) -> None:
    shown = days.json("history", *window)["transactions"]
    moving = [
        tx["id"] for tx in shown if tx["postings"]
    ]  # a rates change moves nothing: no CSV row, a comment in a journal
    assert _ids_of_csv(days("export", "--format", "csv", *window).stdout) == moving
    document = json.loads(days("export", "--format", "json", *window).stdout)
    assert document["transactions"] == [{k: v for k, v in tx.items() if k != "reversed_by"} for tx in shown]
    journal = days("export", "--format", "journal", *window).stdout
    codes = [line.split("(")[1].split(")")[0] for line in journal.splitlines() if line[:1].isdigit()]
    opens = "--since" in window and "--stream" not in window  # every --since here is after the first transaction
    assert codes == (["opening"] if opens else []) + moving
    assert (" = " in journal) == ("--stream" not in window and bool(codes))


def test_the_stream_export_is_its_gifts_and_their_reversals(days: Cli) -> None:
    assert _history_ids(days, "--stream", "launch") == ["tx-11", "tx-12", "tx-14", "tx-16"]
    text = days("export", "--stream", "launch").stdout
    assert " = " not in text  # no balance assertions: other transactions moved these balances too
    assert "; no balance assertions" in text and "live stream launch" in text and "(opening)" not in text


def test_the_export_reports_what_it_wrote(days: Cli, tmp_path: Path) -> None:
    target = tmp_path / "march.journal"
    report = days.json("export", "--since", "2026-03-03", "-o", str(target))
    assert (report["format"], report["transactions"]) == ("journal", 4)  # the opening entry is no transaction
    assert "(opening) balances at 2026-03-03T00:00:00Z" in target.read_text()


@pytest.mark.parametrize("cut", CUTS)
def test_the_opening_entry_holds_every_balance_at_that_moment(days: Cli, cut: str) -> None:
    """Each account's COIN, DIAMOND and cash then: the final balances less what the exported entries move."""
    text = days("export", "--since", cut).stdout
    moved: dict[tuple[str, str], Decimal] = {}
    opening: dict[tuple[str, str], Decimal] = {}
    into = None
    for line in text.splitlines():
        if line[:1].isdigit():
            into = opening if "(opening)" in line else moved
        elif line.startswith("    ") and not line.strip().startswith(";") and into is not None:
            account, amount, commodity = line.split()[:3]
            into[account, commodity] = into.get((account, commodity), Decimal(0)) + Decimal(amount)
    final = coinpurse_balances(days.ledger)
    for key in set(final) | set(opening) | set(moved):
        assert opening.get(key, 0) + moved.get(key, 0) == final.get(key, 0), (cut, key)
    first = Ledger(days.ledger).balances_at(_just_before(days, cut))
    for row in first.accounts:  # users' coins and diamonds agree with balance --at, from the recorded states
        assert opening.get((journal_account(row.account), "COIN"), 0) == row.coins
        assert opening.get((journal_account(row.account), "DIAMOND"), 0) == row.diamonds


def _just_before(cli: Cli, cut: str) -> str:
    """The time of the last transaction before the cut (what balance --at of that moment reads)."""
    since = cut if "T" in cut else f"{cut}T00:00:00Z"
    earlier = [tx["at"] for tx in cli.json("history")["transactions"] if tx["at"] < since]
    return earlier[-1] if earlier else "2000-01-01T00:00:00Z"


@pytest.mark.skipif(not TOOLS, reason="neither hledger nor ledger is installed (Debian packages hledger, ledger)")
@pytest.mark.parametrize("cut", CUTS)
def test_the_real_tools_check_a_journal_from_since_and_balance_it_as_coinpurse(
    days: Cli, tmp_path: Path, cut: str
) -> None:
    journal = tmp_path / "since.journal"
    assert days("export", "--since", cut, "-o", str(journal)).exit_code == 0
    for name, run in strict_checks(journal).items():  # every balance assertion after the opening holds
        assert run.returncode == 0 and not run.stderr, (cut, name, run.stderr)
    for tool in TOOLS:
        assert tool_balances(tool, journal) == coinpurse_balances(days.ledger), (cut, tool)


@pytest.mark.skipif(not TOOLS, reason="neither hledger nor ledger is installed (Debian packages hledger, ledger)")
def test_the_real_tools_accept_journals_of_a_window_and_of_a_stream(days: Cli, tmp_path: Path) -> None:
    for window in (
        ("--since", "2026-03-02", "--until", "2026-03-02T23:59:59Z"),
        ("--stream", "launch"),
        ("--until", "2026-03-02"),
    ):
        journal = tmp_path / "part.journal"
        assert days("export", *window, "-o", str(journal)).exit_code == 0
        for name, run in strict_checks(journal).items():
            assert run.returncode == 0 and not run.stderr, (window, name, run.stderr)


def test_a_wrong_window_or_stream_is_bad_input(days: Cli, tmp_path: Path) -> None:
    from cli_checks import expect_error

    target = tmp_path / "x.journal"
    expect_error(days, "export", "--since", "soon", "-o", str(target), exit_code=2, code="bad_time", says="--since")
    expect_error(
        days, "export", "--stream", " ", "-o", str(target), exit_code=2, code="invalid_stream", says="--stream"
    )
    assert not target.exists()


def test_the_library_exports_a_window(days: Cli) -> None:
    ledger = Ledger(days.ledger)
    text = ledger.export("csv", since="2026-03-03T00:00:00Z", until="2026-03-03T10:00:00Z").text
    assert _ids_of_csv(text or "") == ["tx-14", "tx-15"]
    only = ledger.export("json", live_stream="encore").text
    assert [tx["id"] for tx in json.loads(only or "")["transactions"]] == ["tx-13"]
