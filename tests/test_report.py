"""report: the platform's cash in, refunds, payouts and what it kept over a window, and what it owes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli_checks import expect_error
from coinpurse import Ledger
from coinpurse.cli import app
from coinpurse.core.report import period_of, periods_between
from coinpurse.errors import CoinpurseError
from conftest import examples
from page_checks import CHROMIUM
from page_checks import at_path as _at_path
from page_checks import chromium as _chromium
from page_checks import figures as _figures

# (time, command): across a Sunday night into Monday (ISO weeks 48 and 49 of 2026) and into December.
ECONOMY: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("2026-11-29T23:59:59Z", ("buy", "alice", "700", "--id", "b-alice")),  # Sunday: W48, November
    ("2026-11-30T00:00:00Z", ("buy", "bob", "17500", "--id", "b-bob")),  # Monday: W49
    ("2026-11-30T12:00:00Z", ("gift", "alice", "mia", "rose", "-n", "5", "--id", "g-rose")),
    ("2026-12-01T00:00:00Z", ("buy", "bob", "3500", "--channel", "web")),  # Tuesday: W49, December
    ("2026-12-01T00:00:01Z", ("gift", "bob", "mia", "interstellar", "-n", "2")),
    ("2026-12-01T10:00:00Z", ("redeem", "mia", "20000")),
    ("2026-12-02T09:00:00Z", ("buy", "carol", "700", "--id", "b-carol")),
    ("2026-12-02T09:30:00Z", ("gift", "carol", "noah", "rose", "-n", "100")),
    ("2026-12-03T08:00:00Z", ("refund", "b-carol", "--clawback")),
    ("2026-12-03T09:00:00Z", ("reverse", "g-rose", "--reason", "wrong creator")),
)
FIGURES = (
    "buys", "coins_sold", "cash_in", "refunds", "refunded", "gifts", "diamonds_issued", "diamonds_reversed",
    "diamonds_clawed_back", "diamonds_net", "payouts", "diamonds_redeemed", "payout_cash", "payout_fees", "paid_out", "kept",
    "store_fees", "store_fee_unrecorded_buys", "kept_after_store_fees",
)  # fmt: skip


def _run(cli, monkeypatch: pytest.MonkeyPatch, steps=ECONOMY) -> None:
    for at, args in steps:
        monkeypatch.setenv("COINPURSE_NOW", at)
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr or result.output)


@pytest.fixture
def economy(cli, monkeypatch: pytest.MonkeyPatch):
    _run(cli, monkeypatch)
    monkeypatch.setenv("COINPURSE_NOW", "2026-12-05T12:00:00Z")
    return cli


def _sum(rows: list[dict], key: str) -> Decimal | int:
    values = [row[key] for row in rows]
    if values and isinstance(values[0], str):
        return sum((Decimal(value) for value in values), Decimal(0))
    return sum(values)


def test_the_figures_on_every_store(economy) -> None:
    made = economy.json("report")
    totals = made["totals"]
    assert (totals["buys"], totals["coins_sold"], totals["cash_in"]) == (4, 22400, "307.46")
    assert (totals["refunds"], totals["refunded"]) == (1, "9.99")
    assert (totals["gifts"], totals["diamonds_issued"]) == (3, 20105)
    assert (totals["diamonds_reversed"], totals["diamonds_clawed_back"], totals["diamonds_net"]) == (5, 100, 20000)
    assert (totals["payouts"], totals["diamonds_redeemed"], totals["payout_cash"], totals["paid_out"]) == (
        1,
        20000,
        "100.00",
        "100.00",
    )
    assert (totals["kept"], totals["kept_percent"]) == ("197.47", "64.23")  # 197.47 / 307.46 = 64.2262...%
    # The app store keeps 25% of each app price by default (9.99 -> 2.50, 249.99 -> 62.50), the web none.
    assert (totals["store_fees"], totals["store_fee_unrecorded_buys"]) == ("67.50", 0)
    assert (totals["kept_after_store_fees"], totals["kept_after_store_fees_percent"]) == ("129.97", "42.27")
    assert made["channels"] == [
        {
            "channel": "app", "buys": 3, "coins_sold": 18900, "cash_in": "269.97", "refunds": 1, "refunded": "9.99",
            "store_fees": "67.50", "store_fee_unrecorded_buys": 0, "net": "202.47",
        },
        {
            "channel": "web", "buys": 1, "coins_sold": 3500, "cash_in": "37.49", "refunds": 0, "refunded": "0.00",
            "store_fees": "0.00", "store_fee_unrecorded_buys": 0, "net": "37.49",
        },
    ]  # fmt: skip
    assert [(c["account"], c["diamonds"], c["paid_out"], c["share_of_viewer_cash"]) for c in made["creators"]] == [
        ("mia", 20000, "100.00", "32.52"),  # 20,005 received, 5 given back by the reversal
        ("noah", 0, "0.00", "0.00"),  # 100 received, all clawed back
    ]
    owed = made["liabilities"]
    balances = economy.json("balance")
    coin_cost = sum((Decimal(a["coin_cost"]) for a in balances["accounts"]), Decimal(0))
    assert owed["coins"] == balances["totals"]["coins"] == 1700  # alice's 700 again after the reversal, bob's 1,000
    assert Decimal(owed["coin_cost"]) == coin_cost
    assert (owed["diamonds"], owed["diamonds_owed"], owed["diamond_value"]) == (0, 0, "0.00")
    assert owed["pending_payouts"] == {"payouts": 0, "cash": "0.00"}
    assert owed["as_of"] is None and Decimal(owed["total"]) == coin_cost


def test_the_numbers_add_up(economy) -> None:
    for by in ("day", "week", "month"):
        made = economy.json("report", "--by", by)
        totals, periods = made["totals"], made["periods"]
        assert Decimal(totals["cash_in"]) == Decimal(totals["kept"]) + Decimal(totals["paid_out"]) + Decimal(
            totals["refunded"]
        )
        assert Decimal(totals["payout_cash"]) == Decimal(totals["paid_out"]) + Decimal(totals["payout_fees"])
        for key in FIGURES:
            assert _sum(periods, key) == (Decimal(totals[key]) if isinstance(totals[key], str) else totals[key]), (
                by,
                key,
            )
        for period in periods:
            assert Decimal(period["cash_in"]) == Decimal(period["kept"]) + Decimal(period["paid_out"]) + Decimal(
                period["refunded"]
            )
        assert _sum(made["channels"], "cash_in") == Decimal(totals["cash_in"])
        assert _sum(made["channels"], "refunded") == Decimal(totals["refunded"])
        assert _sum(made["channels"], "store_fees") == Decimal(totals["store_fees"])
        assert Decimal(totals["kept"]) == Decimal(totals["kept_after_store_fees"]) + Decimal(totals["store_fees"])
        for channel in made["channels"]:
            assert Decimal(channel["cash_in"]) == Decimal(channel["net"]) + Decimal(channel["store_fees"])
        assert _sum(made["creators"], "paid_out") == Decimal(totals["paid_out"])
        assert _sum(made["creators"], "diamonds") == totals["diamonds_net"]


def test_periods_bucket_days_iso_weeks_and_months_at_their_edges(economy) -> None:
    by_day = economy.json("report", "--by", "day")["periods"]
    assert [p["period"] for p in by_day] == ["2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02", "2026-12-03"]
    assert by_day[0]["cash_in"] == "9.99"  # the last second of Sunday
    by_week = economy.json("report", "--by", "week")["periods"]
    assert [(p["period"], p["buys"]) for p in by_week] == [("2026-W48", 1), ("2026-W49", 3)]
    by_month = economy.json("report", "--by", "month")["periods"]
    assert [(p["period"], p["buys"], p["cash_in"]) for p in by_month] == [
        ("2026-11", 2, "259.98"),
        ("2026-12", 2, "47.48"),
    ]
    assert economy.json("report")["by"] == "month"


def test_quiet_periods_show_as_zeros_and_names_cross_years() -> None:
    assert list(periods_between("2026-12-30", "2027-01-02", "day")) == [
        "2026-12-30",
        "2026-12-31",
        "2027-01-01",
        "2027-01-02",
    ]
    assert list(periods_between("2026-W52", "2027-W01", "week")) == ["2026-W52", "2026-W53", "2027-W01"]
    assert list(periods_between("2026-11", "2027-02", "month")) == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert period_of("2027-01-01T00:00:00Z", "week") == "2026-W53"  # a Friday: ISO week 53 of 2026
    assert period_of("2026-12-28T00:00:00Z", "week") == "2026-W53"


def test_a_quiet_day_inside_the_window_is_a_row_of_zeros(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(
        cli,
        monkeypatch,
        (("2026-03-01T10:00:00Z", ("buy", "alice", "700")), ("2026-03-03T10:00:00Z", ("buy", "bob", "700"))),
    )
    periods = cli.json("report", "--by", "day")["periods"]
    assert [(p["period"], p["buys"], p["kept_percent"]) for p in periods] == [
        ("2026-03-01", 1, "100.00"), ("2026-03-02", 0, None), ("2026-03-03", 1, "100.00"),
    ]  # fmt: skip


def test_a_window_counts_only_its_transactions(economy) -> None:
    made = economy.json("report", "--since", "2026-11-30", "--until", "2026-11-30", "--by", "day")
    assert (made["since"], made["until"]) == ("2026-11-30T00:00:00Z", "2026-11-30T23:59:59Z")
    assert [p["period"] for p in made["periods"]] == ["2026-11-30"]
    totals = made["totals"]
    assert (totals["buys"], totals["cash_in"], totals["gifts"], totals["payouts"], totals["refunds"]) == (
        1,
        "249.99",
        1,
        0,
        0,
    )
    later = economy.json("report", "--since", "2026-12-02T09:30:00Z")
    assert (later["totals"]["buys"], later["totals"]["gifts"], later["totals"]["refunds"]) == (0, 1, 1)
    assert later["totals"]["kept_percent"] is None  # no cash in to divide
    assert later["creators"][0]["share_of_viewer_cash"] is None


def test_liabilities_at_a_past_until_are_as_they_were_then(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rolled back from the accounts' states through the later transactions: the same as the report made then."""
    then: dict[str, dict] = {}
    for at, args in ECONOMY:
        _run(cli, monkeypatch, ((at, args),))
        then[at] = cli.json("report")["liabilities"]
    for at, owed in then.items():
        past = cli.json("report", "--until", at)["liabilities"]
        assert {**past, "as_of": None} == owed, at
        assert past["as_of"] == at
    assert then["2026-12-02T09:30:00Z"]["diamonds"] == 105  # mia's 5 and noah's 100, before the clawback


def test_liabilities_count_diamonds_owed_after_a_clawback_apart(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(
        cli, monkeypatch,
        (
            ("2026-03-01T10:00:00Z", ("buy", "bob", "17500", "--id", "b1")),
            ("2026-03-01T10:00:01Z", ("buy", "bob", "3500", "--channel", "web")),
            ("2026-03-01T10:01:00Z", ("gift", "bob", "mia", "interstellar", "-n", "2")),
            ("2026-03-01T10:02:00Z", ("redeem", "mia", "20000")),
            ("2026-03-01T10:03:00Z", ("refund", "b1", "--clawback")),
        ),
    )  # fmt: skip
    owed = cli.json("report")["liabilities"]
    assert (owed["diamonds_owed"], owed["diamonds"]) == (17500, 0)  # the refunded lot's share of the gift
    assert owed["diamond_value"] == "0.00"
    totals = cli.json("report")["totals"]
    assert Decimal(totals["kept"]) < 0  # the cash went back and the payout was made


def test_json_shape_money_as_strings(economy) -> None:
    made = economy.json("report", "--by", "week")
    assert set(made) == {
        "since",
        "until",
        "by",
        "currency",
        "percent_rounding",
        "totals",
        "periods",
        "channels",
        "creators",
        "liabilities",
        "sponsors",
        "anchor",
        "stream",
    }
    assert made["percent_rounding"] == "half up, to 0.01 percent"
    for period in made["periods"]:
        assert set(period) == {"period", *FIGURES, "kept_percent", "kept_after_store_fees_percent"}
        assert all(
            isinstance(period[key], str)
            for key in ("cash_in", "refunded", "paid_out", "kept", "payout_cash", "payout_fees")
        )
    assert isinstance(made["liabilities"]["coin_cost"], str)


def test_the_library_gives_the_same_report(economy) -> None:
    made = Ledger(economy.ledger).report(by="week").to_dict()
    assert made == economy.json("report", "--by", "week")


def test_an_empty_ledger_reports_nothing_and_owes_nothing(cli) -> None:
    assert cli("init").exit_code == 0
    made = cli.json("report")
    assert made["periods"] == [] and made["creators"] == [] and made["channels"] == []
    assert made["totals"]["cash_in"] == "0.00" and made["liabilities"]["total"] == "0.00"
    shown = cli("report")
    assert shown.exit_code == 0 and "No transactions in that time." in shown.stdout


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("--by", "year"), "bad_period", "--by takes day, week or month, not 'year'"),
        (("--by", ""), "bad_period", "--by takes day, week or month"),
        (("--since", "last tuesday"), "bad_time", "--since takes a date"),
        (("--until", "2026-02-30"), "bad_time", "--until is not a real date"),
        (("--since", "2026-12-02", "--until", "2026-12-01"), "bad_time", "is after --until"),
    ],
)
def test_bad_periods_and_times_are_bad_input(json_cli, args: tuple[str, ...], code: str, says: str) -> None:
    assert json_cli("buy", "alice", "700").exit_code == 0
    expect_error(json_cli, "report", *args, exit_code=2, code=code, says=says)


def test_by_takes_any_case(json_cli) -> None:
    assert json_cli("buy", "alice", "700").exit_code == 0
    assert json_cli.json("report", "--by", "WEEK")["by"] == "week"


def test_the_terminal_view_draws_bars_within_80_columns(economy) -> None:
    result = CliRunner().invoke(app, ["--ledger", str(economy.ledger), "report", "--by", "day"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, [line for line in lines if len(line) > 80]
    text = result.stdout
    for heading in ("Viewer cash in by period", "Sales by channel", "Creators' earnings", "What the platform owes now"):
        assert heading in text
    assert "█" in text and "░" in text  # the period of the payout kept part of its cash in
    assert "64.23% of cash in" in text
    kept = next(line for line in lines if line.strip().startswith("platform kept"))
    assert "$197.47" in kept


def test_many_creators_show_the_top_ten_and_say_so(json_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    ops = [{"kind": "buy", "account": "viewer", "coins": 17500}]
    ops += [
        {"kind": "gift", "sender": "viewer", "recipient": f"creator{n:02d}", "gift": "rose", "count": n + 1}
        for n in range(12)
    ]
    scenario = Path(json_cli.ledger).with_name("ops.json")
    scenario.write_text(json.dumps({"ops": ops}))
    assert json_cli("apply", str(scenario)).exit_code == 0
    assert len(json_cli.json("report")["creators"]) == 12
    shown = json_cli("report").stdout
    assert "the top 10 of 12" in shown
    assert "creator11" in shown and "creator01" not in shown and "creator00" not in shown


def test_a_json_ledger_in_another_layout_gives_the_same_report(json_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lines are streamed where the file is in coinpurse's layout; another one is read in full, to the same figures."""
    _run(json_cli, monkeypatch)
    expected = {by: json_cli.json("report", "--by", by, "--since", "2026-11-30T12:00:00Z") for by in ("day", "week")}
    document = json.loads(json_cli.ledger.read_text())
    json_cli.ledger.write_text(json.dumps(document, indent=1))
    for by, made in expected.items():
        assert json_cli.json("report", "--by", by, "--since", "2026-11-30T12:00:00Z") == made


def test_a_damaged_record_in_the_window_is_an_unusable_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from conftest import Cli

    cli = Cli(tmp_path / "ledger.sqlite")
    _run(cli, monkeypatch, ECONOMY[:4])
    with sqlite3.connect(cli.ledger) as db:
        db.execute("UPDATE transactions SET body = json_set(body, '$.details.diamonds', 'x') WHERE seq = 3")
    db.close()
    result = cli("report", "--json")
    assert result.exit_code == 3
    error = json.loads(result.stderr)["error"]
    assert (
        error["code"] == "ledger_damaged"
        and "transaction 3 ('g-rose'): details is not what a gift records" in error["message"]
    )


# ----- invariants over random economies (in memory: the pass is the same on every store) ---------------

_OPS = st.lists(
    st.tuples(
        st.sampled_from(("buy", "buy", "gift", "gift", "gift", "redeem", "refund", "reverse")),
        st.sampled_from(("alice", "bob")),  # viewers
        st.sampled_from(("mia", "noah")),  # creators
        st.sampled_from((70, 700, 3500, 17500)),
        st.integers(min_value=0, max_value=3 * 86400),  # seconds after the op before
        st.booleans(),  # the web channel; a refund's clawback
    ),
    min_size=4,
    max_size=30,
)


@settings(max_examples=examples(60), deadline=None)
@given(_OPS)
def test_any_economy_adds_up_and_owes_what_the_balances_hold(ops) -> None:
    ledger = Ledger.memory()
    ledger.rates_set({"payout.minimum": "0.01"}, now="2026-12-27T00:00:00Z")  # small payouts too, so redeems happen
    moment = datetime(2026, 12, 27, 12, 0, 0)  # a Sunday, near a month's, a year's and an ISO week's edges
    buys: list[str] = []
    gifts: list[str] = []
    owed_then: dict[str, dict] = {}
    for kind, viewer, creator, coins, step, flag in ops:
        moment += timedelta(seconds=step)
        now = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            if kind == "buy":
                buys.append(ledger.buy(viewer, coins, "web" if flag else "app", now=now).transaction.id)
            elif kind == "gift":
                gifts.append(ledger.gift(viewer, creator, "Rose", count=coins // 70, now=now).transaction.id)
            elif kind == "redeem":
                ledger.redeem(creator, all=True, now=now)
            elif kind == "refund" and buys:
                ledger.refund(buys[coins % len(buys)], clawback=flag, now=now)
            elif kind == "reverse" and gifts:
                ledger.reverse(gifts[coins % len(gifts)], "test", now=now)
        except CoinpurseError:
            continue
        owed_then[now] = ledger.report().to_dict()["liabilities"]
    for by in ("day", "week", "month"):
        made = ledger.report(by=by).to_dict()
        totals = made["totals"]
        assert Decimal(totals["cash_in"]) == Decimal(totals["kept"]) + Decimal(totals["paid_out"]) + Decimal(
            totals["refunded"]
        )
        for key in FIGURES:
            assert _sum(made["periods"], key) == (Decimal(totals[key]) if isinstance(totals[key], str) else totals[key])
        assert _sum(made["creators"], "diamonds") == totals["diamonds_net"]
        assert _sum(made["channels"], "refunded") == Decimal(totals["refunded"])
        assert _sum(made["channels"], "store_fees") == Decimal(totals["store_fees"])
        assert Decimal(totals["kept"]) == Decimal(totals["kept_after_store_fees"]) + Decimal(totals["store_fees"])
        for channel in made["channels"]:
            assert Decimal(channel["cash_in"]) == Decimal(channel["net"]) + Decimal(channel["store_fees"])
    owed = ledger.report().to_dict()["liabilities"]
    balances = ledger.balances().to_dict()["accounts"]
    assert owed["coins"] == sum(a["coins"] for a in balances)
    assert Decimal(owed["coin_cost"]) == sum((Decimal(a["coin_cost"]) for a in balances), Decimal(0))
    assert owed["diamonds"] == sum(max(a["diamonds"], 0) for a in balances)
    assert owed["diamonds_owed"] == sum(max(-a["diamonds"], 0) for a in balances)
    for at, then in owed_then.items():
        assert {**ledger.report(until=at).to_dict()["liabilities"], "as_of": None} == then, at


def test_bars_scale_to_the_longest_to_an_eighth_of_a_cell() -> None:
    from coinpurse.cli.render_report import bar, split_bar

    assert bar(200, 200, 10) == "█" * 10
    assert bar(100, 200, 10) == "█" * 5
    assert bar(Decimal("1.5"), 10, 10) == "█▌"
    assert bar(1, 10**6, 10) == "▏"  # something is never drawn as nothing
    assert bar(0, 10, 10) == bar(5, 0, 10) == ""
    assert split_bar(Decimal(75), Decimal(100), Decimal(100), 8) == "██████░░"
    assert split_bar(Decimal(-5), Decimal(50), Decimal(100), 8) == "░░░░"  # kept less than nothing: all given back


SPONSORED = (
    ("2026-12-01T00:00:00Z", ("rates", "set", "gift.Rose.sponsor", "acme", "gift.Rose.bonus_diamonds", "100")),
    ("2026-12-01T00:00:01Z", ("sponsor", "fund", "acme", "5.00")),
    ("2026-12-01T00:00:02Z", ("buy", "alice", "700", "--id", "b-alice")),
    ("2026-12-01T00:00:03Z", ("gift", "alice", "mia", "rose", "-n", "2", "--id", "g-mia")),  # bonus 200: $1.00
    ("2026-12-02T00:00:00Z", ("gift", "alice", "zoe", "rose", "--id", "g-zoe")),  # bonus 100: $0.50
    ("2026-12-02T00:00:01Z", ("reverse", "g-zoe", "--reason", "test")),  # its bonus back
    ("2026-12-03T00:00:00Z", ("sponsor", "withdraw", "acme", "1.00")),
    ("2026-12-03T00:00:01Z", ("refund", "b-alice", "--clawback")),  # mia's gift and its bonus clawed back
)


def test_sponsors_show_what_their_budgets_paid_and_got_back(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(cli, monkeypatch, SPONSORED)
    data = cli.json("report", "--by", "day")
    assert data["sponsors"] == [
        {
            "sponsor": "acme", "funded": "5.00", "withdrawn": "1.00", "bonuses": 2, "bonus_diamonds": 300,
            "spent": "1.50", "returned": "1.50", "creators": 2,
        }
    ]  # fmt: skip
    totals = data["totals"]
    assert totals["diamonds_issued"] == 3 + 300  # the gifts' diamonds and the bonuses'
    assert totals["diamonds_reversed"] == 101 and totals["diamonds_clawed_back"] == 202
    assert {c["account"]: c["diamonds"] for c in data["creators"]} == {"mia": 0, "zoe": 0}
    before = cli.json("report", "--until", "2026-12-02T00:00:00Z")
    assert before["sponsors"][0]["spent"] == "1.50" and before["sponsors"][0]["returned"] == "0.00"
    assert before["liabilities"]["diamonds"] == 303  # the bonus diamonds held then, taken back from now
    assert "acme" in cli("report").stdout


HELD = (
    ("2026-12-01T00:00:00Z", ("buy", "bob", "17500")),
    ("2026-12-01T00:00:01Z", ("buy", "bob", "17500")),
    ("2026-12-01T00:00:01Z", ("buy", "bob", "17500")),
    ("2026-12-01T00:00:02Z", ("gift", "bob", "mia", "interstellar", "-n", "4")),
    ("2026-12-01T00:00:03Z", ("redeem", "mia", "20000", "--hold", "--id", "h-1")),
    ("2026-12-01T00:00:04Z", ("payout", "approve", "h-1")),
    ("2026-12-02T00:00:00Z", ("redeem", "mia", "20000", "--hold", "--id", "h-2")),
    ("2026-12-03T00:00:00Z", ("payout", "return", "h-1", "--reason", "bank sent it back")),
)


def test_held_payouts_are_owed_until_settled_and_approvals_are_payouts(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    _run(cli, monkeypatch, HELD)
    paid = cli.json("report", "--until", "2026-12-02T12:00:00Z")
    assert paid["totals"]["payouts"] == 1 and paid["totals"]["paid_out"] == "100.00"
    assert paid["liabilities"]["pending_payouts"] == {"payouts": 1, "cash": "100.00"}  # h-2
    assert paid["liabilities"]["diamonds"] == 0  # h-2's diamonds are pending, not mia's
    now = cli.json("report")
    assert now["totals"]["payouts"] == 0 and now["totals"]["paid_out"] == "0.00"  # h-1 came back
    assert now["liabilities"]["diamonds"] == 20_000  # h-1's, back
    monkeypatch.setenv("COINPURSE_NOW", "2026-12-30T00:00:00Z")  # past h-2's review: its diamonds are mia's again
    assert cli.json("report")["liabilities"]["pending_payouts"] == {"payouts": 0, "cash": "0.00"}


# ----- the anchor and the page (--html) -------------------------------------------------------------------

WEEK = ("--by", "week", "--since", "2026-11-30", "--until", "2026-12-02")
SPONSOR_AFTER = (
    ("2026-12-04T00:00:00Z", ("rates", "set", "gift.Rose.sponsor", "acme", "gift.Rose.bonus_diamonds", "100")),
    ("2026-12-04T00:00:01Z", ("sponsor", "fund", "acme", "5.00")),
    ("2026-12-04T00:00:02Z", ("gift", "bob", "mia", "rose", "-n", "2")),  # bonus 200: $1.00
)


def _page(cli, target: Path, *args: str) -> bytes:
    result = cli("report", *args, "--html", str(target))
    assert result.exit_code == 0, result.stderr
    assert str(target) in result.stdout
    return target.read_bytes()


def test_the_anchor_is_the_last_transaction_by_the_window_s_end(economy) -> None:
    def last(*args: str) -> dict | None:
        found = economy.json("history", *args, "--limit", "1")["transactions"]
        return {key: found[0][key] for key in ("id", "at", "hash")} if found else None

    assert economy.json("report")["anchor"] == last() and last()["id"] == "tx-10"
    assert economy.json("report", *WEEK)["anchor"] == last("--until", "2026-12-02")
    quiet = economy.json("report", "--since", "2026-12-04", "--until", "2026-12-04")  # none in it: the one before
    assert quiet["anchor"] == last() and quiet["periods"] == []
    assert economy.json("report", "--since", "2026-12-10")["anchor"] == last()
    assert economy.json("report", "--until", "2026-11-01")["anchor"] is None  # before the first transaction
    # The SQLite cursor, the file's lines and a handle's memory give the same hash.
    memory = Ledger.memory()
    memory.buy("alice", 700, now="2026-03-01T10:00:00Z")
    made = memory.report().to_dict()["anchor"]
    assert made["id"] == "tx-1" and made["hash"] == memory.history().to_dict()["transactions"][0]["hash"]


def test_the_page_regenerates_byte_for_byte_and_its_hash_is_the_window_s_last(economy, tmp_path: Path) -> None:
    first = _page(economy, tmp_path / "first.html", *WEEK)
    made = economy.json("report", *WEEK)
    last = economy.json("history", "--until", "2026-12-02", "--limit", "1")["transactions"][0]
    assert made["anchor"] == {"id": last["id"], "at": last["at"], "hash": last["hash"]} and last["id"] == "tx-8"
    assert f'<code data-figure="anchor.hash">{last["hash"]}</code>'.encode() in first
    assert f"coinpurse verify --anchor {last['hash']}".encode() in first
    written = economy("report", *WEEK, "--html", str(tmp_path / "again.html"))
    assert written.stdout.strip().endswith(f"last transaction tx-8, hash {last['hash']}")
    # Later transactions (after the window) don't change a window that is over.
    economy("buy", "alice", "700")
    assert _page(economy, tmp_path / "again.html", *WEEK) == first
    stdout = economy("report", *WEEK, "--html", "-")
    assert stdout.exit_code == 0 and stdout.stdout.encode() == first
    with_json = economy("report", *WEEK, "--html", str(tmp_path / "third.html"), "--json")
    assert json.loads(with_json.stdout) == made and (tmp_path / "third.html").read_bytes() == first
    checked = economy.json("verify", "--anchor", made["anchor"]["hash"])
    assert checked["ok"] and checked["anchors"] == [{"hash": last["hash"], "transaction": "tx-8", "position": 8}]


def test_every_store_makes_the_same_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import Cli

    pages = set()
    for suffix in ("json", "toml", "sqlite"):
        cli = Cli(tmp_path / f"ledger.{suffix}")
        _run(cli, monkeypatch, ECONOMY + SPONSOR_AFTER)
        pages.add(_page(cli, tmp_path / f"{suffix}.html", "--by", "day"))
    assert len(pages) == 1


MARKUP = ("<script>alert(1)</script>", '<img src=x onerror="alert(2)">&amp;')


def test_text_from_the_ledger_is_escaped_in_the_page(json_cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Channels, creators and sponsors are names the input checks (no markup gets in); the page escapes them all the
    same, as a ledger edited by hand could hold anything: here a real report with its names swapped for markup."""
    from coinpurse.formats.report_html import report_page

    for args in (
        ("rates", "set", f"channel.{MARKUP[0]}.coin_price", "0.01"),
        ("gift", "alice", "<b>mia</b>", "rose"),
        ("sponsor", "fund", "<script>", "1.00"),
    ):
        assert json_cli(*args).exit_code == 2, args
    _run(json_cli, monkeypatch, ECONOMY + SPONSOR_AFTER)
    made = Ledger(json_cli.ledger).report(by="day").report
    script, image = MARKUP
    made = made._replace(
        channels=tuple(c._replace(channel=script) for c in made.channels),
        creators=(made.creators[0]._replace(account=image), *made.creators[1:]),
        sponsors=tuple(b._replace(sponsor=script) for b in made.sponsors),
        anchor=made.anchor._replace(id=image),
        periods=(made.periods[0]._replace(name=script), *made.periods[1:]),
    )
    page = report_page(made)
    assert "<script" not in page and "<img" not in page and 'onerror="' not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 5  # two channels (table, bars), a sponsor, a period
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;&amp;amp;" in page
    assert 'src="' not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    shown = _figures(page)
    assert shown["channels.0.channel"] == shown["channels.1.channel"] == shown["sponsors.0.sponsor"] == [script]
    assert shown["creators.0.account"] == [image]


def _same(shown: str, value: object) -> bool:
    """A figure as the page shows it (1,234 or -62.51 or 64.23% or n/a) against its JSON value."""
    if value is None:
        return shown == "n/a"
    if isinstance(value, int):
        return int(shown.replace(",", "")) == value
    text = shown.removesuffix("%").replace(",", "").rstrip("\u2007")  # figure spaces align the points
    try:
        return Decimal(text) == Decimal(str(value))
    except ArithmeticError:
        return shown == value


EVERY_KIND_OF_FIGURE = (
    "anchor.hash", "totals.cash_in", "totals.kept", "totals.kept_percent", "totals.diamonds_net", "periods.0.period",
    "periods.0.cash_in", "periods.2.kept", "periods.2.kept_percent", "periods.4.kept_percent", "channels.1.channel", "channels.0.refunded",
    "creators.0.account", "creators.1.diamonds_taken_back", "creators.0.share_of_viewer_cash", "sponsors.0.spent",
    "liabilities.coin_cost", "liabilities.diamonds", "liabilities.pending_payouts.cash", "liabilities.total",
    "totals.store_fees", "totals.kept_after_store_fees", "channels.0.store_fees",
)  # fmt: skip


def _check_figures(shown: dict[str, list[str]], made: dict) -> None:
    wrong = [
        (path, text, _at_path(made, path)) for path, texts in shown.items() for text in texts
        if not _same(text, _at_path(made, path))
    ]  # fmt: skip
    assert not wrong, wrong
    missing = [path for path in EVERY_KIND_OF_FIGURE if path not in shown]
    assert not missing, missing


def test_every_figure_on_the_page_is_the_json_s(cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _run(cli, monkeypatch, ECONOMY + SPONSOR_AFTER)
    page = _page(cli, tmp_path / "page.html", "--by", "day").decode()
    made = cli.json("report", "--by", "day")
    assert made["periods"][2]["kept_percent"] is not None and made["periods"][4]["kept_percent"] is None
    _check_figures(_figures(page), made)


def test_an_empty_window_s_page_says_so(json_cli, tmp_path: Path) -> None:
    from coinpurse.core.safetext import html_text
    from coinpurse.formats.report_html import NOTHING_COUNTED

    assert json_cli("init").exit_code == 0  # a rates transaction: not counted, but the anchor
    page = _page(json_cli, tmp_path / "empty.html").decode()
    assert (
        html_text(NOTHING_COUNTED) in page
        and "verify --anchor" in page
        and json_cli.json("report")["anchor"] is not None
    )
    before = _page(json_cli, tmp_path / "before.html", "--until", "2000-01-01").decode()
    assert "No transaction in the ledger by the end of the period." in before and "verify --anchor" not in before
    assert json_cli.json("report", "--until", "2000-01-01")["anchor"] is None


def test_the_page_is_not_written_over_the_ledger_nor_beside_json_on_stdout(economy) -> None:
    expect_error(
        economy, "report", "--html", str(economy.ledger), exit_code=2, code="output_is_ledger", says="the ledger itself"
    )
    both = economy("report", "--html", "-", "--json")
    assert both.exit_code == 2 and both.stdout == ""
    assert json.loads(both.stderr)["error"]["code"] == "usage" and "both write to stdout" in both.stderr


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it where apt can)")
def test_a_browser_shows_the_json_s_figures_on_a_phone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page as Chromium renders it; its phone-sized screenshot stays in this test's temp folder
    (pytest keeps the folders of failed tests; -o tmp_path_retention_policy=all keeps every one)."""
    from conftest import Cli

    cli = Cli(tmp_path / "ledger.sqlite")  # one store: every store makes the same page
    _run(cli, monkeypatch, ECONOMY + SPONSOR_AFTER)
    target = tmp_path / "report.html"
    _page(cli, target, "--by", "day")
    dumped = _chromium("--dump-dom", target.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert "<h1>Platform report</h1>" in dumped.stdout
    _check_figures(_figures(dumped.stdout), cli.json("report", "--by", "day"))
    screenshot = tmp_path / "report-phone.png"  # kept under the test's temp folder, to look at
    shot = _chromium(f"--screenshot={screenshot}", "--window-size=390,844", "--hide-scrollbars", target.as_uri())
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
