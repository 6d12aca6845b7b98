"""statement: a creator's period, on every store, as JSON, on a terminal and as one HTML page (also in a real browser)."""

from __future__ import annotations

import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_checks import expect_error, flat
from coinpurse import Ledger
from coinpurse.errors import BadInput, Refused
from conftest import Cli, examples
from page_checks import CHROMIUM
from page_checks import at_path as _at_path
from page_checks import chromium as _chromium
from page_checks import figures as _figures

MARCH = ("--month", "2026-03")


def _economy(path: Path) -> None:
    """February, a March with every kind a statement shows (tx-3 to tx-13), and April."""
    ledger = Ledger(path)
    ledger.buy("alice", 700, now="2026-02-10T10:00:00Z")  # tx-1
    ledger.gift("alice", "mia", "rose", 5, stream="valentine", now="2026-02-12T20:00:00Z")  # tx-2
    ledger.buy("bob", 17500, now="2026-03-02T09:00:00Z")  # tx-3
    ledger.buy("bob", 3500, channel="web", now="2026-03-02T09:05:00Z")  # tx-4
    ledger.gift("bob", "mia", "interstellar", 2, stream="launch", now="2026-03-03T20:00:00Z")  # tx-5
    ledger.gift("alice", "mia", "finger heart", now="2026-03-04T20:00:00Z")  # tx-6, outside any stream
    ledger.gift("bob", "noah", "galaxy", now="2026-03-05T20:00:00Z")  # tx-7, not mia's
    ledger.redeem("mia", 20000, now="2026-03-10T08:00:00Z")  # tx-8
    ledger.buy("carol", 70, now="2026-03-11T09:00:00Z")  # tx-9
    ledger.gift("carol", "mia", "rose", 3, stream="launch", now="2026-03-12T20:00:00Z")  # tx-10
    ledger.refund("tx-9", clawback=True, now="2026-03-20T10:00:00Z")  # tx-11: 3 diamonds back from mia
    ledger.gift("alice", "mia", "rose", 2, stream="launch", now="2026-03-21T20:00:00Z")  # tx-12
    ledger.reverse("tx-12", "wrong creator", now="2026-03-22T10:00:00Z")  # tx-13: 2 diamonds back
    ledger.gift("alice", "mia", "rose", now="2026-04-01T20:00:00Z")  # tx-14


@pytest.fixture
def economy(cli: Cli) -> Cli:
    _economy(cli.ledger)
    return cli


def test_march_on_every_store(economy: Cli) -> None:
    made = economy.json("statement", "@MIA", *MARCH)
    assert (made["account"], made["currency"]) == ("mia", "USD")
    assert (made["since"], made["until"]) == ("2026-03-01T00:00:00Z", "2026-03-31T23:59:59Z")
    assert made["opening"] == {"as_of": {"id": "tx-2", "at": "2026-02-12T20:00:00Z"}, "coins": 0, "diamonds": 5}
    assert made["closing"] == {"as_of": {"id": "tx-13", "at": "2026-03-22T10:00:00Z"}, "coins": 0, "diamonds": 10}
    assert made["transactions"] == 7  # tx-5, 6, 8, 10, 11, 12, 13
    gifts = made["gifts"]
    assert (gifts["gifts"], gifts["items"], gifts["coins"], gifts["diamonds"], gifts["diamond_value"]) == (
        4,
        8,
        20010,
        20010,
        "100.05",
    )
    assert [(g["gift"], g["diamonds"]) for g in made["by_gift"]] == [
        ("Interstellar", 20000),
        ("Finger Heart", 5),
        ("Rose", 5),
    ]
    assert [(s["stream"], s["gifts"], s["diamonds"]) for s in made["by_stream"]] == [("launch", 3, 20005), (None, 1, 5)]
    assert [(g["account"], g["diamonds"]) for g in made["top_gifters"]] == [("bob", 20000), ("alice", 7), ("carol", 3)]
    assert made["gifters"] == 3
    taken = made["taken_back"]
    assert [
        (t["id"], t["kind"], t["viewer"], t["gifts"], t["diamonds"], t["diamond_value"], t["reason"])
        for t in taken["items"]
    ] == [
        ("tx-11", "refund", "carol", ["tx-10"], 3, "0.015", None),
        ("tx-13", "reversal", "alice", ["tx-12"], 2, "0.01", "wrong creator"),
    ]
    assert (taken["diamonds"], taken["diamond_value"]) == (5, "0.025")
    assert made["diamonds_earned"] == {"diamonds": 20005, "diamond_value": "100.025"}
    assert made["payouts"]["items"] == [
        {"id": "tx-8", "kind": "redeem", "at": "2026-03-10T08:00:00Z", "status": "paid", "diamonds": 20000,
         "cash": "100.00", "fee": "0.00", "net": "100.00"},
    ]  # fmt: skip
    assert made["payouts"]["totals"] == {
        "paid": {"count": 1, "diamonds": 20000, "cash": "100.00", "fee": "0.00", "net": "100.00"}
    }
    # The diamonds move as the sections say.
    moved = gifts["diamonds"] - taken["diamonds"] - made["payouts"]["totals"]["paid"]["diamonds"]
    assert made["closing"]["diamonds"] - made["opening"]["diamonds"] == moved

    # The share: the gifts' recorded worth over what their coins cost the viewers, as history has them, less
    # the refunded (tx-10, all of its coins from the refunded buy) and the reversed (tx-12).
    gift_rows = economy.json("history", "mia", "--kind", "gift", *_window_of(made))["transactions"]
    kept = [
        tx["details"] for tx in gift_rows if tx["request"]["recipient"] == "mia" and tx["id"] not in ("tx-10", "tx-12")
    ]
    paid = sum((Decimal(d["paid"]) for d in kept), Decimal(0))
    worth = sum((Decimal(d["diamond_value"]) for d in kept), Decimal(0))
    assert (Decimal(made["share"]["paid"]), Decimal(made["share"]["diamond_value"])) == (paid, worth)
    assert made["share"]["diamond_value"] == made["diamonds_earned"]["diamond_value"]
    assert Decimal(made["share"]["share"]) == (worth / paid).quantize(Decimal("0.0001"))
    taken_paid = [Decimal(tx["details"]["paid"]) for tx in gift_rows if tx["id"] in ("tx-10", "tx-12")]
    assert [Decimal(t["paid"]) for t in taken["items"]] == taken_paid
    assert Decimal(made["gifts"]["paid"]) - Decimal(taken["paid"]) == paid

    # The same figures as the commands that read the same span.
    for edge, moment in (("opening", "2026-02-28"), ("closing", "2026-03-31")):
        then = economy.json("balance", "mia", "--at", moment)
        assert (then["coins"], then["diamonds"], then["as_of"]) == (
            made[edge]["coins"],
            made[edge]["diamonds"],
            made[edge]["as_of"],
        )
    # gifters shows what stands: the top gifters less what was taken back of their gifts (carol's all of it).
    ranking = economy.json("gifters", "mia", *_window_of(made))["gifters"]
    back = {t["viewer"]: t["diamonds"] for t in taken["items"]}
    stands = [(g["account"], g["diamonds"] - back.get(g["account"], 0)) for g in made["top_gifters"]]
    assert [(g["account"], g["diamonds"]) for g in ranking] == [row for row in stands if row[1]]


def _window_of(made: dict[str, Any]) -> tuple[str, ...]:
    return ("--since", made["since"], "--until", made["until"])


def test_since_and_until_name_any_span_and_open_ends_reach_the_history_s(economy: Cli) -> None:
    assert economy.json("statement", "mia", "--since", "2026-03-01", "--until", "2026-03-31") == economy.json(
        "statement", "mia", *MARCH
    )
    april = economy.json("statement", "mia", "--since", "2026-04-01")
    assert (april["until"], april["gifts"]["diamonds"], april["opening"]["diamonds"], april["closing"]["diamonds"]) == (
        None,
        1,
        10,
        11,
    )
    assert april["anchor"]["id"] == "tx-14"
    whole = economy.json("statement", "mia")
    assert whole["opening"] == {"as_of": None, "coins": 0, "diamonds": 0}
    assert (whole["closing"]["diamonds"], whole["gifts"]["diamonds"]) == (11, 20016)
    assert whole["by_stream"][0]["stream"] == "launch"
    before = economy.json("statement", "mia", "--until", "2026-01-31")
    assert before["anchor"] is None and before["gifts"]["gifts"] == 0 and before["share"]["share"] is None
    quiet_month = economy.json("statement", "mia", "--month", "2026-05")
    assert (
        quiet_month["anchor"]["id"] == "tx-14" and quiet_month["transactions"] == 0
    )  # the span stands on what came before
    assert quiet_month["opening"]["diamonds"] == quiet_month["closing"]["diamonds"] == 11
    assert [g["account"] for g in economy.json("statement", "mia", *MARCH, "--top", "1")["top_gifters"]] == ["bob"]


def test_a_refund_of_an_earlier_month_s_gift_is_taken_back_in_its_own_month(economy: Cli) -> None:
    Ledger(economy.ledger).refund("tx-3", clawback=True, now="2026-04-05T10:00:00Z")  # tx-15: bob's coins of tx-5
    april = economy.json("statement", "mia", "--month", "2026-04")
    [refund] = april["taken_back"]["items"]
    assert (refund["id"], refund["kind"], refund["viewer"], refund["gifts"], refund["reason"]) == (
        "tx-15",
        "refund",
        "bob",
        ["tx-5"],
        None,
    )
    assert (
        refund["diamonds"] == 17500 and april["closing"]["diamonds"] == 11 - 17500
    )  # owed: mia redeemed them in March
    history = economy.json("history", "mia", "--kind", "gift", "--since", "2026-03-03", "--until", "2026-03-03")[
        "transactions"
    ]
    [gift] = [tx for tx in history if tx["id"] == "tx-5"]
    assert Decimal(refund["paid"]) == sum(
        (Decimal(cost) for source, _, cost in gift["details"]["lots"] if source == "tx-3"), Decimal(0)
    )
    assert april["share"]["share"] is None  # more was given back than paid for April's one rose
    assert Decimal(april["share"]["paid"]) == Decimal(april["gifts"]["paid"]) - Decimal(refund["paid"]) < 0
    assert economy.json("statement", "mia", *MARCH) == economy.json(
        "statement", "mia", "--until", "2026-03-31T23:59:59Z", "--since", "2026-03-01"
    )


_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.sampled_from(["alice", "bob"]), st.sampled_from([70, 700, 17500])),
        st.tuples(
            st.just("gift"),
            st.sampled_from(["alice", "bob"]),
            st.sampled_from(["rose", "finger heart", "galaxy"]),
            st.integers(1, 5),
            st.sampled_from([None, "live", "late"]),
        ),
        st.tuples(st.just("redeem")),
        st.tuples(st.just("reverse"), st.integers(0, 9)),
        st.tuples(st.just("refund"), st.integers(0, 9)),
    ),
    max_size=30,
)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS, split=st.integers(1, 28))
def test_statements_chain_and_their_diamonds_add_up(ops: list[tuple[Any, ...]], split: int) -> None:
    ledger = Ledger.memory()
    ledger.rates_set({"payout.minimum": "0.50"}, now="2026-01-01T00:00:00Z")  # tx-1: small payouts happen
    for viewer in ("alice", "bob"):  # tx-2, tx-3
        ledger.buy(viewer, 17500, now="2026-01-01T00:00:00Z")
    ledger.buy("mia", 70, now="2026-01-01T00:00:00Z")  # tx-4: mia has an account before any gift
    ids: dict[str, list[str]] = {"buy": ["tx-2", "tx-3"], "gift": []}  # what a refund or a reversal can name
    for day, op in enumerate(ops, start=1):
        now = f"2026-02-{day % 28 + 1:02d}T{day % 24:02d}:00:00Z" if day < 28 else f"2026-03-{day - 27:02d}T00:00:00Z"
        try:
            if op[0] == "buy":
                ids["buy"].append(ledger.buy(op[1], op[2], now=now).transaction.id)
            elif op[0] == "gift":
                ids["gift"].append(ledger.gift(op[1], "mia", op[2], op[3], stream=op[4], now=now).transaction.id)
            elif op[0] == "redeem":
                ledger.redeem("mia", all=True, now=now)
            elif op[0] == "reverse" and ids["gift"]:
                ledger.reverse(ids["gift"][op[1] % len(ids["gift"])], "test", now=now)
            elif op[0] == "refund":
                ledger.refund(ids["buy"][op[1] % len(ids["buy"])], clawback=True, now=now)
        except (Refused, BadInput):  # refused (already reversed, diamonds gone ...): nothing written
            pass
    edge = f"2026-02-{split:02d}T12:00:00Z"
    before, after = (
        ledger.statement("mia", until=edge),
        ledger.statement("mia", since=edge.replace("12:00:00", "12:00:01")),
    )
    assert before.closing == after.opening
    for made in (before, after, ledger.statement("mia")):
        paid_out = sum(payout.diamonds for payout in made.payouts)
        assert made.closing.diamonds - made.opening.diamonds == made.diamonds_earned - paid_out
        for rows in (made.by_gift, made.by_stream, made.top_gifters):
            assert sum(row.diamonds for row in rows) == made.gifts.diamonds
            assert sum((row.paid for row in rows), Decimal(0)) == made.gifts.paid
    whole = ledger.statement("mia")
    assert whole.gifts.diamonds == before.gifts.diamonds + after.gifts.diamonds
    assert whole.closing.diamonds == ledger.balance("mia").state.diamonds


def test_the_terminal_view_fits_80_columns(economy: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    shown = economy("statement", "mia", *MARCH)
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, [line for line in lines if len(line) > 80]
    text = flat(shown.stdout)
    made = economy.json("statement", "mia", *MARCH)
    for expected in (
        "Statement for @mia: March 2026, 2026-03-01 to 2026-03-31 (UTC)", made["anchor"]["hash"], "Interstellar",
        "(no stream)", "launch", "tx-11 refund carol tx-10 3 $0.015", "tx-13 reversal alice tx-12 2 $0.01",
        "tx-8 2026-03-10T08:00:00Z paid 20,000 $100.00 $0.00 $100.00", "earned 20,005 $100.025",
    ):  # fmt: skip
        assert expected in text, expected
    assert "Share of viewers' cash that reached @mia: " in text


def test_reading_a_statement_changes_nothing_and_bad_input_says_why(economy: Cli) -> None:
    expect_error(economy, "statement", "mya", *MARCH, exit_code=2, code="unknown_account", says="did you mean mia")
    expect_error(
        economy, "statement", "mia", "--month", "2026-13", exit_code=2, code="bad_time", says="--month takes a month"
    )
    expect_error(
        economy, "statement", "mia", *MARCH, "--since", "2026-03-02", exit_code=2, code="usage", says="not both"
    )
    expect_error(
        economy,
        "statement",
        "mia",
        "--since",
        "2026-03-05",
        "--until",
        "2026-03-01",
        exit_code=2,
        code="bad_time",
        says="starts after",
    )
    expect_error(
        economy, "statement", "mia", "--until", "soon", exit_code=2, code="bad_time", says="--until takes a date"
    )
    expect_error(
        economy,
        "statement",
        "mia",
        "--html",
        str(economy.ledger),
        exit_code=2,
        code="output_is_ledger",
        says="the ledger itself",
    )
    both = economy("statement", "mia", "--html", "-", "--json")
    assert both.exit_code == 2 and both.stdout == ""
    assert json.loads(both.stderr)["error"]["code"] == "usage" and "both write to stdout" in both.stderr


def test_another_kind_of_payout_is_one_reader(economy: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Held payouts will come as kinds of their own: a reader for a kind is all the statement needs."""
    from coinpurse.core import statement

    redeemed = statement.PAYOUT_READERS["redeem"]

    def held_too(tx: Any, creator: str) -> Any:
        for paid in redeemed(tx, creator):
            yield paid
            yield paid._replace(status="held", net=paid.net / 2)

    monkeypatch.setitem(statement.PAYOUT_READERS, "redeem", held_too)
    made = economy.json("statement", "mia", *MARCH)
    assert [row["status"] for row in made["payouts"]["items"]] == ["paid", "held"]
    assert made["payouts"]["totals"]["held"] == {
        "count": 1,
        "diamonds": 20000,
        "cash": "100.00",
        "fee": "0.00",
        "net": "50.00",
    }
    page = _page(economy, tmp_path / "page.html", *MARCH).decode()
    assert _figures(page)["payouts.totals.held.net"] == ["50.00"]
    assert "Total held: 1 payout, 20,000 diamonds, net $50.00" in flat(economy("statement", "mia", *MARCH).stdout)


# ----- the HTML page --------------------------------------------------------------------------------


def _page(cli: Cli, target: Path, *args: str) -> bytes:
    result = cli("statement", "mia", *args, "--html", str(target))
    assert result.exit_code == 0, result.stderr
    assert str(target) in result.stdout
    return target.read_bytes()


def test_the_page_regenerates_byte_for_byte_and_its_hash_is_the_period_s_last(economy: Cli, tmp_path: Path) -> None:
    first = _page(economy, tmp_path / "first.html", *MARCH)
    made = economy.json("statement", "mia", *MARCH)
    last = economy.json("history", "--until", "2026-03-31", "--limit", "1")["transactions"][0]
    assert made["anchor"] == {"id": last["id"], "at": last["at"], "hash": last["hash"]} and last["id"] == "tx-13"
    assert last["hash"].encode() in first
    # Later transactions don't change a month that is over.
    Ledger(economy.ledger).gift("alice", "mia", "rose", now="2026-04-02T20:00:00Z")
    assert _page(economy, tmp_path / "again.html", *MARCH) == first
    stdout = economy("statement", "mia", *MARCH, "--html", "-")
    assert stdout.exit_code == 0 and stdout.stdout.encode() == first
    checked = economy.json("verify", "--anchor", made["anchor"]["hash"])
    assert checked["ok"] and checked["anchors"] == [{"hash": last["hash"], "transaction": "tx-13", "position": 13}]


def test_every_store_makes_the_same_page(tmp_path: Path) -> None:
    pages = set()
    for suffix in ("json", "toml", "sqlite"):
        path = tmp_path / f"ledger.{suffix}"
        _economy(path)
        pages.add(_page(Cli(path), tmp_path / f"{suffix}.html", *MARCH))
    assert len(pages) == 1


def test_text_from_the_ledger_is_escaped_in_the_page(json_cli: Cli, tmp_path: Path) -> None:
    ledger = Ledger(json_cli.ledger)
    ledger.buy("alice", 700)
    ledger.rates_set({"gift.<script>alert(1)</script>.coins": 5})
    ledger.gift("alice", "mia", "<script>alert(1)</script>", stream='<img src=x onerror="alert(2)">&amp;')
    page = _page(json_cli, tmp_path / "page.html").decode()
    assert "<script" not in page and "<img" not in page and 'onerror="' not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;&amp;amp;" in page
    assert 'src="' not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', ""
    )  # nothing fetched
    made = json_cli.json("statement", "mia")
    figures = _figures(page)
    assert figures["by_gift.0.gift"] == [made["by_gift"][0]["gift"]] == ["<script>alert(1)</script>"]
    assert figures["by_stream.0.stream"] == [made["by_stream"][0]["stream"]]


def _same(shown: str, value: Any) -> bool:
    """A figure as the page shows it (1,234 or 12.005 or 37.02%) against its JSON value."""
    if isinstance(value, int):
        return int(shown.replace(",", "")) == value
    if shown.endswith("%"):
        return Decimal(shown[:-1]) / 100 == Decimal(value)
    try:
        return Decimal(shown.replace(",", "")) == Decimal(value)
    except ArithmeticError:
        return bool(shown == value)


def _check_figures(figures: dict[str, list[str]], made: dict[str, Any]) -> None:
    wrong = [
        (path, text, _at_path(made, path))
        for path, texts in figures.items()
        for text in texts
        if not _same(text, _at_path(made, path))
    ]
    assert not wrong, wrong
    for path in ("opening.diamonds", "closing.diamonds", "gifts.diamonds", "taken_back.diamonds", "diamonds_earned.diamonds",
                 "share.share", "share.paid", "anchor.hash", "by_gift.0.paid", "by_stream.1.diamonds", "top_gifters.2.account",
                 "taken_back.items.1.diamond_value", "payouts.items.0.net", "payouts.totals.paid.net"):  # fmt: skip
        assert path in figures, path


def test_every_figure_on_the_page_is_the_json_s(economy: Cli, tmp_path: Path) -> None:
    page = _page(economy, tmp_path / "page.html", *MARCH).decode()
    _check_figures(_figures(page), economy.json("statement", "mia", *MARCH))


# ----- in a real browser ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it where apt can)")
def test_a_browser_shows_the_json_s_figures_on_a_phone(tmp_path: Path) -> None:
    """The page as Chromium renders it; its phone-sized screenshot stays in this test's temp folder
    (pytest keeps the folders of failed tests; -o tmp_path_retention_policy=all keeps every one)."""
    economy = Cli(tmp_path / "ledger.sqlite")  # one store: every store makes the same page
    _economy(economy.ledger)
    target = tmp_path / "statement.html"
    _page(economy, target, *MARCH)
    dumped = _chromium("--dump-dom", target.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert "Statement for @mia" in dumped.stdout
    _check_figures(_figures(dumped.stdout), economy.json("statement", "mia", *MARCH))
    screenshot = tmp_path / "statement-phone.png"  # kept under the test's temp folder, to look at
    shot = _chromium(f"--screenshot={screenshot}", "--window-size=390,844", "--hide-scrollbars", target.as_uri())
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ----- SQLite: the span through the indexes --------------------------------------------------------------


def test_sqlite_reads_only_the_creator_s_span(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from coinpurse.storage import sqlite as store

    path = tmp_path / "long.sqlite"
    with Ledger(path).batch(now="2026-01-01T00:00:00Z") as batch:
        for day in range(1, 29):
            moment = f"2026-02-{day:02d}T12:00:00Z"
            batch.buy("alice", 700, now=moment)
            batch.gift("alice", "mia", "rose", now=moment)
            batch.buy(f"v{day}", 700, now=moment)
    read: list[int] = []
    statements: list[str] = []
    original_transaction, original_reader = store.SqliteBook._transaction, store.SqliteBook._reader

    def transaction(self: Any, seq: int, *rest: Any) -> Any:
        read.append(seq)
        return original_transaction(self, seq, *rest)

    def reader(self: Any) -> sqlite3.Connection:
        connection = original_reader(self)
        connection.set_trace_callback(statements.append)
        return connection

    monkeypatch.setattr(store.SqliteBook, "_transaction", transaction)
    monkeypatch.setattr(store.SqliteBook, "_reader", reader)
    made = Ledger(path).statement("mia", "2026-02-10T00:00:00Z", "2026-02-11T23:59:59Z")
    assert (made.gifts.gifts, made.opening.diamonds, made.closing.diamonds) == (2, 9, 11)
    assert len(read) <= 6, read  # the two gifts, and the balances and anchors at the two edges
    with sqlite3.connect(path) as connection:
        plans = [
            (sql, row[-1])
            for sql in statements
            if sql.lstrip().upper().startswith("SELECT") and ("transactions" in sql or "postings" in sql)
            for row in connection.execute("EXPLAIN QUERY PLAN " + sql)
        ]
    scans = [
        (sql, d) for sql, d in plans if d.startswith("SCAN") and not ("WHERE" not in sql and sql.endswith("LIMIT 1"))
    ]
    assert plans and not scans, scans


def test_held_payouts_show_each_step_with_its_status(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    for args in (
        ("buy", "bob", "17500"),
        ("buy", "bob", "17500"),
        ("buy", "bob", "17500"),
        ("gift", "bob", "mia", "interstellar", "-n", "4"),
        ("redeem", "mia", "20000", "--hold", "--id", "h-1"),
        ("payout", "approve", "h-1"),
        ("redeem", "mia", "20000", "--hold", "--id", "h-2"),
        ("payout", "reject", "h-2", "--reason", "failed checks"),
    ):
        assert cli(*args).exit_code == 0, args
    payouts = cli.json("statement", "mia", "--month", "2026-03")["payouts"]
    assert [(row["id"], row["status"]) for row in payouts["items"]] == [
        ("h-1", "held"),
        ("tx-6", "paid"),
        ("h-2", "held"),
        ("tx-8", "rejected"),
    ]
    assert payouts["totals"]["paid"]["net"] == "100.00"
