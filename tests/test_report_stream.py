"""report --stream: one live stream's gifts, net of what was taken back of them, on every store and in each view."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cli_checks import expect_error, flat
from coinpurse import Ledger
from conftest import Cli
from page_checks import CHROMIUM, at_path, chromium
from page_checks import figures as _figures
from test_report import _same
from test_statement import _economy
from test_statement import _same as _same_in_a_statement

MARCH = ("--since", "2026-03-01", "--until", "2026-03-31")
LAUNCH = ("--stream", "launch")


@pytest.fixture
def economy(cli: Cli) -> Cli:
    _economy(cli.ledger)
    return cli


def test_a_stream_s_report_counts_its_gifts_net_of_what_was_taken_back(economy: Cli) -> None:
    made = economy.json("report", *MARCH, *LAUNCH)
    whole = economy.json("report", *MARCH)
    assert whole["stream"] is None and whole["liabilities"] is not None
    stream = made["stream"]
    # tx-5 (bob, 2 Interstellar), tx-10 (carol, 3 roses: clawed back by tx-11), tx-12 (alice, 2 roses: reversed by tx-13)
    assert (stream["stream"], stream["gifts"], stream["items"], stream["coins"], stream["diamonds"]) == (
        "launch", 3, 7, 20005, 20005,
    )  # fmt: skip
    assert (stream["diamonds_taken_back"], stream["diamonds_net"], stream["creators"]) == (5, 20000, 1)
    statement = economy.json("statement", "mia", "--month", "2026-03", *LAUNCH)  # mia is the stream's one creator
    assert Decimal(stream["paid"]) == Decimal(statement["gifts"]["paid"])
    assert Decimal(stream["paid_back"]) == Decimal(statement["taken_back"]["paid"])
    assert Decimal(stream["paid_net"]) == Decimal(statement["share"]["paid"])
    assert Decimal(stream["value_net"]) == Decimal(statement["share"]["diamond_value"]) == Decimal("100.00")
    take = Decimal(stream["paid_net"]) - Decimal(stream["value_net"])
    assert Decimal(stream["platform_take"]) == take
    assert Decimal(stream["platform_take_percent"]) == (take * 100 / Decimal(stream["paid_net"])).quantize(
        Decimal("0.01")
    )
    # The platform's take for those gifts: what each gift recorded it kept, less what reversals and refunds gave back.
    assert stream["left_out"] == ["buys", "payouts", "refunded cash", "liabilities"]
    totals = made["totals"]
    assert (totals["buys"], totals["cash_in"], totals["payouts"], totals["paid_out"], totals["refunded"]) == (
        0, "0.00", 0, "0.00", "0.00",
    )  # fmt: skip
    assert (totals["gifts"], totals["diamonds_reversed"], totals["diamonds_clawed_back"], totals["diamonds_net"]) == (
        3, 2, 3, 20000,
    )  # fmt: skip
    assert made["channels"] == [] and made["liabilities"] is None
    assert [(c["account"], c["diamonds_received"], c["diamonds_taken_back"]) for c in made["creators"]] == [
        ("mia", 20005, 5)
    ]
    assert made["anchor"] == whole["anchor"]  # the ledger's last transaction by the window's end, as the whole's
    assert [p["period"] for p in made["periods"]] == ["2026-03"]


def test_a_refund_counts_for_a_stream_only_for_its_clawbacks_of_the_stream_s_gifts(cli: Cli) -> None:
    ledger = Ledger(cli.ledger)
    ledger.buy("ann", 70, now="2026-03-01T09:00:00Z")  # tx-1
    ledger.gift("ann", "mia", "rose", 2, stream="launch", now="2026-03-01T10:00:00Z")  # tx-2
    ledger.gift("ann", "zoe", "rose", 3, stream="late", now="2026-03-01T11:00:00Z")  # tx-3
    ledger.refund("tx-1", clawback=True, now="2026-04-02T10:00:00Z")  # tx-4: claws back both, in April
    launch = cli.json("report", "--by", "month", *LAUNCH)
    late = cli.json("report", "--stream", "late")
    assert [(p["period"], p["gifts"], p["diamonds_clawed_back"]) for p in launch["periods"]] == [
        ("2026-03", 1, 0),
        ("2026-04", 0, 2),
    ]
    assert [(c["account"], c["diamonds"]) for c in launch["creators"]] == [("mia", 0)]
    assert [(c["account"], c["diamonds"]) for c in late["creators"]] == [("zoe", 0)]
    assert (launch["stream"]["diamonds_net"], late["stream"]["diamonds_net"]) == (0, 0)
    assert launch["stream"]["paid_net"] == late["stream"]["paid_net"] == "0.00"
    assert launch["stream"]["platform_take_percent"] is None  # nothing stands of the viewers' cash
    april = cli.json("report", "--since", "2026-04-01", *LAUNCH)  # the gift before the window, its clawback in it
    assert (april["stream"]["gifts"], april["stream"]["diamonds_taken_back"]) == (0, 2)
    assert [(c["account"], c["diamonds_taken_back"]) for c in april["creators"]] == [("mia", 2)]


def test_the_terminal_and_the_page_say_what_is_left_out(
    economy: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    shown = economy("report", *MARCH, *LAUNCH)
    assert shown.exit_code == 0, shown.stderr
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80
    text = flat(shown.stdout)
    for expected in (
        "Live stream launch: report, 2026-03-01T00:00:00Z to 2026-03-31T23:59:59Z, by month",
        "buys, payouts, refunded cash and what the platform owes belong to no stream and are left out",
        "viewers paid", "platform take", "20,000 net, to 1 creator", "mia",
    ):  # fmt: skip
        assert expected in text, expected
    assert "What the platform owes" not in text and "Sales by channel" not in text
    page = tmp_path / "launch.html"
    done = economy("report", *MARCH, *LAUNCH, "--html", str(page))
    assert done.exit_code == 0, done.stderr
    html = page.read_text()
    assert "Only live stream launch" in html and "What the platform owes" not in html
    figures = _figures(html)
    made = economy.json("report", *MARCH, *LAUNCH)
    wrong = [(path, t) for path, texts in figures.items() for t in texts if not _same(t, at_path(made, path))]
    assert not wrong, wrong
    for path in ("stream.paid", "stream.platform_take", "stream.platform_take_percent", "stream.diamonds_net",
                 "creators.0.diamonds", "anchor.hash"):  # fmt: skip
        assert path in figures, path
    assert not any(path.startswith(("liabilities", "channels", "totals")) for path in figures)
    quiet = economy("report", "--stream", "nobody-streamed-this")
    assert quiet.exit_code == 0 and "No gifts of this stream in that time." in flat(quiet.stdout)


def test_a_bad_stream_name_is_bad_input(economy: Cli) -> None:
    expect_error(economy, "report", "--stream", "", exit_code=2, code="invalid_stream", says="--stream")


def test_sqlite_reads_a_stream_s_report_through_its_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from coinpurse.storage import sqlite as store

    path = tmp_path / "long.sqlite"
    with Ledger(path).batch(now="2026-01-01T00:00:00Z") as batch:
        for day in range(1, 29):
            moment = f"2026-02-{day:02d}T12:00:00Z"
            batch.buy("alice", 700, now=moment)
            batch.gift("alice", "mia", "rose", stream="daily", now=moment)
            batch.gift("alice", "mia", "rose", stream="launch" if day == 10 else None, now=moment)
    statements: list[str] = []
    read: list[int] = []
    original_reader, original_transaction = store.SqliteBook._reader, store.SqliteBook._transaction

    def reader(self: Any) -> sqlite3.Connection:
        connection = original_reader(self)
        connection.set_trace_callback(statements.append)
        return connection

    def transaction(self: Any, seq: int, *rest: Any) -> Any:
        read.append(seq)
        return original_transaction(self, seq, *rest)

    monkeypatch.setattr(store.SqliteBook, "_reader", reader)
    monkeypatch.setattr(store.SqliteBook, "_transaction", transaction)
    made = Ledger(path).report("2026-02-05T00:00:00Z", "2026-02-20T23:59:59Z", stream="launch").report
    assert made.stream is not None and (made.stream.gifts, made.stream.diamonds) == (1, 1)
    assert len(read) <= 3, read  # the stream's gift and the anchor
    with sqlite3.connect(path) as connection:
        plans = [
            row[-1]
            for sql in statements
            if "'$.details.stream'" in sql
            for row in connection.execute("EXPLAIN QUERY PLAN " + sql)
        ]
    assert any("gifts_by_stream" in detail for detail in plans), plans


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it where apt can)")
@pytest.mark.parametrize("command", [("report", *MARCH), ("statement", "mia", "--month", "2026-03")])
def test_a_browser_shows_a_stream_s_figures_on_a_phone(tmp_path: Path, command: tuple[str, ...]) -> None:
    """A stream's page as Chromium renders it: every figure its JSON's; the screenshot stays in the temp folder."""
    economy = Cli(tmp_path / "ledger.sqlite")  # one store: every store makes the same page
    _economy(economy.ledger)
    target = tmp_path / "stream.html"
    done = economy(*command, *LAUNCH, "--html", str(target))
    assert done.exit_code == 0, done.stderr
    dumped = chromium("--dump-dom", target.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert "Only live stream launch" in dumped.stdout
    made = economy.json(*command, *LAUNCH)
    shown = _figures(dumped.stdout)
    same = _same if command[0] == "report" else _same_in_a_statement
    wrong = [(path, t) for path, texts in shown.items() for t in texts if not same(t, at_path(made, path))]
    assert not wrong, wrong
    assert "anchor.hash" in shown and any(
        path.startswith("creators." if command[0] == "report" else "gifts.") for path in shown
    )
    screenshot = tmp_path / "stream-phone.png"
    shot = chromium(f"--screenshot={screenshot}", "--window-size=390,844", "--hide-scrollbars", target.as_uri())
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
