"""explain TX_ID: every kind's path of value, on every store, and that its figures add up exactly."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli_checks import expect_error
from conftest import Cli, examples
from test_json_contract import conforms

# The economy every kind is explained in: each kind (and each way a buy is priced) once at least.
ECONOMY: tuple[tuple[str, ...], ...] = (
    ("buy", "alice", "700"),  # tx-1: a package
    ("buy", "bob", "1234", "--channel", "web"),  # tx-2: a custom amount, rounded to the cent
    ("gift", "alice", "mia", "rose", "-n", "5"),  # tx-3: from one lot
    ("buy", "bob", "17500"),  # tx-4
    ("buy", "bob", "17500"),  # tx-5
    ("gift", "bob", "mia", "interstellar", "-n", "2"),  # tx-6: from three lots
    ("rates", "set", "payout.fee_percent", "2.5"),  # tx-7
    ("redeem", "mia", "20003"),  # tx-8: a fee, and diamonds worth under a cent kept
    ("buy", "zed", "700"),  # tx-9
    ("gift", "zed", "ann", "rose", "-n", "3"),  # tx-10
    ("refund", "tx-9", "--clawback"),  # tx-11
    ("gift", "alice", "ivy", "rose", "-n", "5"),  # tx-12
    ("reverse", "tx-12", "--reason", "sent by mistake"),  # tx-13
    ("rates", "set", "gift.Rose.sponsor", "acme", "gift.Rose.bonus_diamonds", "100"),  # tx-14: $0.50 a Rose
    ("sponsor", "fund", "acme", "2.00"),  # tx-15
    ("gift", "alice", "mia", "rose"),  # tx-16: its bonus paid
    ("sponsor", "withdraw", "acme", "0.50"),  # tx-17
    ("gift", "alice", "noah", "rose", "-n", "5"),  # tx-18: a bonus of $2.50 the $1.00 left can't cover
    ("reverse", "tx-16", "--reason", "test gift"),  # tx-19: the bonus back to acme
    ("buy", "carl", "700"),  # tx-20
    ("gift", "carl", "zoe", "rose", "-n", "2"),  # tx-21: its bonus paid
    ("refund", "tx-20", "--clawback"),  # tx-22: the bonus back with the diamonds
    ("buy", "bob", "17500"),  # tx-23
    ("buy", "bob", "17500"),  # tx-24
    ("gift", "bob", "mia", "interstellar", "-n", "3"),  # tx-25
    ("redeem", "mia", "20003", "--hold"),  # tx-26: a diamond worth under a cent kept
    ("payout", "approve", "tx-26"),  # tx-27
    ("payout", "return", "tx-26", "--reason", "bank sent it back"),  # tx-28
    ("redeem", "mia", "20000", "--hold"),  # tx-29
    ("payout", "reject", "tx-29", "--reason", "failed checks"),  # tx-30
    ("redeem", "mia", "20000", "--hold"),  # tx-31: expires untouched (tx-32, recorded by the fixture)
)
EXPIRED_AT = "2026-03-20T00:00:00Z"  # after tx-31's review days: `payout expire` then records tx-32

# One row per kind (a new kind adds its explainer to core.explain.EXPLAINERS and a row here):
# the transaction of ECONOMY explained, and the ids its steps must draw on.
KIND_ROWS: dict[str, tuple[str, set[str]]] = {
    "buy": ("tx-1", {"tx-1"}),
    "gift": ("tx-6", {"tx-2", "tx-4", "tx-5"}),
    "redeem": ("tx-8", set()),
    "rates": ("tx-7", set()),
    "refund": ("tx-11", {"tx-9", "tx-10"}),
    "reversal": ("tx-13", {"tx-12", "tx-1"}),
    "sponsor-fund": ("tx-15", set()),
    "sponsor-withdraw": ("tx-17", set()),
    "payout-hold": ("tx-26", set()),
    "payout-approve": ("tx-27", {"tx-26"}),
    "payout-return": ("tx-28", {"tx-26", "tx-27"}),
    "payout-reject": ("tx-30", {"tx-29"}),
    "payout-expire": ("tx-32", {"tx-31"}),
}
SPONSORED = ("tx-16", "tx-18", "tx-19", "tx-21", "tx-22")  # gifts with a bonus paid or not, and the bonus back
CUSTOM_BUY = "tx-2"


def _made(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    cli.made_by(*ECONOMY)
    with monkeypatch.context() as later:
        later.setenv("COINPURSE_NOW", EXPIRED_AT)
        assert cli("payout", "expire").exit_code == 0
    return cli


@pytest.fixture
def economy(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    return _made(cli, monkeypatch)


def _explained(cli: Cli, tx_id: str) -> dict[str, Any]:
    data: dict[str, Any] = cli.json("explain", tx_id)
    return data


def _figures(data: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """Each step's figures by (step label, figure name)."""
    return {(step["label"], f["name"]): f["amount"] for step in data["steps"] for f in step["figures"]}


def test_every_kind_has_an_explainer_and_a_row() -> None:
    from coinpurse.core.explain import EXPLAINERS
    from coinpurse.core.kinds import RECORDS

    assert set(RECORDS) <= set(EXPLAINERS), "a kind without an explainer is explained by its postings only"
    assert set(EXPLAINERS) == set(KIND_ROWS)


@pytest.mark.parametrize("kind", sorted(KIND_ROWS))
def test_every_kind_on_every_store_adds_up(economy: Cli, kind: str) -> None:
    tx_id, draws_on = KIND_ROWS[kind]
    data = _explained(economy, tx_id)
    conforms(data, "explain")
    assert (data["id"], data["kind"]) == (tx_id, kind)
    assert data["steps"] and data["adds_up"] is True
    assert all(check["holds"] for check in data["checks"]), [c for c in data["checks"] if not c["holds"]]
    assert {source for step in data["steps"] for source in step["draws_on"]} == draws_on
    if kind != "rates":  # a rates change posts nothing to check
        assert any(check["label"].startswith("postings in") for check in data["checks"])


def test_a_custom_buy_shows_its_per_coin_price_and_rounding(economy: Cli) -> None:
    data = _explained(economy, CUSTOM_BUY)
    assert data["adds_up"]
    figures = _figures(data)
    assert figures[("on web, a custom amount at the per-coin price", "per coin")] == "0.0106"
    assert figures[("rounded half up to the cent", "coins × per coin")] == "13.0804"
    assert figures[("rounded half up to the cent", "rounding")] == "-0.0004"
    assert figures[("no app store takes a fee on web", "fee")] == "0.00"  # the web's store fee is 0 by default
    assert figures[("what reached the platform: the price less the store's fee", "cash")] == "13.08"
    assert any("No app store stands between" in note for note in data["notes"])


def test_an_app_buy_shows_the_stores_cut_its_rounding_and_what_reached_the_platform(economy: Cli) -> None:
    data = _explained(economy, "tx-1")  # 700 coins for $9.99 on the app, whose store keeps 25% by default
    assert data["adds_up"]
    figures = _figures(data)
    fee_step = "the app store's fee on app, rounded half up to the cent"
    assert figures[(fee_step, "fee percent")] == "25"
    assert figures[(fee_step, "price × fee percent")] == "2.4975"  # exact
    assert figures[(fee_step, "rounding")] == "0.0025"
    assert figures[(fee_step, "fee")] == "2.50"
    assert figures[("what reached the platform: the price less the store's fee", "cash")] == "7.49"
    checks = {check["label"]: check for check in data["checks"]}
    assert checks["price = store's fee + what reached the platform"]["parts"] == ["2.50", "7.49"]
    assert any("reckoned from the rate this buy recorded (25% on app)" in note for note in data["notes"])


def test_a_gift_shows_what_app_stores_took_of_its_coins_cost(economy: Cli) -> None:
    data = _explained(economy, "tx-6")  # lots of tx-2 (web, no store fee), tx-4 and tx-5 (app, 25%)
    assert data["adds_up"]
    costs = {step["draws_on"][0]: Decimal(f["amount"]) for step in data["steps"] for f in step["figures"]
             if step["draws_on"] and f["name"] == "cost"}  # fmt: skip
    stores = (costs["tx-4"] + costs["tx-5"]) * Decimal("0.25")  # exact: a lot's share of its buy's fee
    figures = _figures(data)
    assert Decimal(figures[("of which app stores took", "cash")]) == stores
    kept = Decimal(figures[("the platform's take", "cash")])
    assert Decimal(figures[("the platform's take after store fees", "cash")]) == kept - stores


def test_a_buy_recorded_before_the_store_fee_key_says_it_was_not_recorded(tmp_path: Path) -> None:
    import shutil

    ledger = tmp_path / "ledger.json"
    shutil.copy(Path(__file__).parent / "fixtures" / "ledger-before-store-fees.json", ledger)
    data = Cli(ledger).json("explain", "order-1")
    assert data["adds_up"]
    assert not any("store" in step["label"] for step in data["steps"])  # no figure guessed
    assert any("name no app-store fee for channel app" in note for note in data["notes"])


def test_a_gift_names_its_lots_what_they_cost_and_the_platforms_take(economy: Cli) -> None:
    data = _explained(economy, "tx-6")
    lots = [step for step in data["steps"] if step["label"].startswith("coins of buy")]
    assert [step["draws_on"] for step in lots] == [["tx-2"], ["tx-4"], ["tx-5"]]
    coins = [f["amount"] for step in lots for f in step["figures"] if f["name"] == "coins"]
    assert coins == [1234, 17500, 1266]
    costs = [Decimal(f["amount"]) for step in lots for f in step["figures"] if f["name"] == "cost"]
    figures = _figures(data)
    paid = Decimal(figures[("what those coins cost bob", "cash")])
    assert sum(costs) == paid
    value = Decimal(figures[("the diamonds' cash value at the payout rate", "cash")])
    take = Decimal(figures[("the platform's take", "cash")])
    assert value + take == paid and value == Decimal("100.000")
    share, kept = (
        figures[("the diamonds' cash value at the payout rate", "of what was paid")],
        figures[("the platform's take", "of what was paid")],
    )
    assert share == str((value * 100 / paid).quantize(Decimal("0.01")))  # two places, always
    assert kept == str((take * 100 / paid).quantize(Decimal("0.01")))
    assert data["percent_rounding"] == "half up, to 2 places"


def test_a_redeem_shows_cash_fee_rounding_and_what_stayed(economy: Cli) -> None:
    figures = _figures(_explained(economy, "tx-8"))
    assert figures[("diamonds used: only those the cents need", "diamonds")] == 20002
    assert figures[("cash: their worth rounded down to the cent", "cash")] == "100.01"
    assert figures[("fee, rounded up to the cent, to platform:revenue", "cash")] == "2.51"
    assert figures[("fee, rounded up to the cent, to platform:revenue", "fee percent")] == "2.5"
    assert figures[("paid out to mia", "cash")] == "97.50"
    assert figures[("stays in mia's balance", "kept (worth under a cent)")] == 1
    assert figures[("stays in mia's balance", "diamonds after")] == 3


def test_a_refund_shows_cash_back_coins_removed_and_each_clawback(economy: Cli) -> None:
    data = _explained(economy, "tx-11")
    figures = _figures(data)
    assert figures[("cash back to zed for buy tx-9 (700 coins on app)", "cash")] == "9.99"
    assert figures[("the lot's unspent coins removed from zed", "coins")] == 697
    clawback = next(step for step in data["steps"] if step["label"].startswith("clawed back from ann"))
    assert clawback["draws_on"] == ["tx-10"]
    assert {f["name"]: f["amount"] for f in clawback["figures"]} == {"coins": 3, "diamonds": 3, "worth": "0.015"}
    first = data["checks"][0]
    assert first["label"].startswith("cash back = ") and first["holds"]
    assert sum(map(Decimal, first["parts"])) == Decimal(first["total"]) == Decimal("9.99")


def test_a_refund_totals_a_creators_clawbacks_over_several_gifts() -> None:
    from coinpurse import Ledger

    ledger = Ledger.memory()
    ledger.buy("bob", 700)
    ledger.gift("bob", "mia", "Rosa", 3)
    ledger.gift("bob", "zoe", "Rose", 7)
    ledger.gift("bob", "mia", "Doughnut")
    refund = ledger.refund("tx-1", clawback=True).transaction.id
    explained = ledger.explain(refund)
    assert explained.to_json() == explained.to_dict()
    data = explained.to_dict()
    assert data["adds_up"]
    total = next(step for step in data["steps"] if step["label"] == "clawed back from mia in all")
    assert total["draws_on"] == ["tx-2", "tx-4"]
    assert {f["name"]: f["amount"] for f in total["figures"]} == {"diamonds": 60, "worth": "0.30"}
    posted = next(check for check in data["checks"] if check["label"].startswith("diamonds posted out of mia"))
    assert (posted["total"], posted["parts"]) == (60, [30, 30])


def test_a_reversal_shows_the_lots_the_coins_go_back_into(economy: Cli) -> None:
    data = _explained(economy, "tx-13")
    lot = next(step for step in data["steps"] if step["label"] == "coins back into the lot of buy tx-1")
    assert {f["name"]: f["amount"] for f in lot["figures"]} == {"coins": 5, "cost": "0.071"}
    assert _figures(data)[("diamonds taken back from ivy", "diamonds")] == 5


def test_an_unknown_id_is_exit_2_on_every_store(economy: Cli) -> None:
    expect_error(economy, "explain", "tx-99", exit_code=2, code="unknown_transaction", says="no transaction 'tx-99'")


def test_unknown_id_says_what_reverse_says(economy: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINPURSE_NOW", EXPIRED_AT)  # a write after the economy's last transaction
    explained = economy("explain", "--json", "tx-99")
    reversed_ = economy("reverse", "--json", "tx-99", "--reason", "r")
    assert explained.exit_code == reversed_.exit_code == 2
    assert json.loads(explained.stderr) == json.loads(reversed_.stderr)


@pytest.mark.parametrize("kind", sorted(KIND_ROWS))
def test_the_receipt_reads_at_80_columns(economy: Cli, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    tx_id, _ = KIND_ROWS[kind]
    shown = economy("explain", tx_id)
    assert shown.exit_code == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == f"{kind} {tx_id} at {EXPIRED_AT if kind == 'payout-expire' else '2026-03-01T12:00:00Z'}"
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    if kind != "rates":
        assert "checks add up exactly." in shown.stdout


# ----- checks that can fail, and kinds with no explainer ------------------------------


def _stored(cli: Cli, tx_id: str) -> dict[str, Any]:
    history: list[dict[str, Any]] = cli.json("history")["transactions"]
    return next(tx for tx in history if tx["id"] == tx_id)


def _from_stored(data: dict[str, Any]) -> Any:
    from coinpurse.core.model import transaction_from_dict

    record = dict(data)
    if record.get("state") is None:
        record.pop("state", None)
    return transaction_from_dict(record)


@pytest.fixture
def json_economy(json_cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    return _made(json_cli, monkeypatch)


def test_a_figure_changed_in_the_details_is_caught(json_economy: Cli) -> None:
    from coinpurse.core.explain import explain

    stored = _stored(json_economy, "tx-3")
    assert explain(_from_stored(stored), lambda _: None).adds_up
    stored["details"] = {**stored["details"], "platform_kept": "0.045"}
    failed = [check.label for check in explain(_from_stored(stored), lambda _: None).checks if not check.holds]
    assert failed == ["what alice paid = diamonds' value + platform's take"]


def test_a_changed_ledger_is_shown_not_to_add_up(json_economy: Cli) -> None:
    lines = json_economy.ledger.read_text().splitlines()
    changed = [
        line.replace('"platform_kept": "0.046"', '"platform_kept": "0.047"') if '{"id": "tx-3"' in line else line
        for line in lines
    ]
    assert changed != lines
    json_economy.ledger.write_text("\n".join(changed) + "\n")
    result = json_economy("explain", "tx-3", "--json")  # a read does not check the chain: verify does
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["adds_up"] is False
    assert "do not add up" in json_economy("explain", "tx-3").stdout


def test_a_kind_without_an_explainer_is_explained_by_its_postings(json_economy: Cli) -> None:
    from coinpurse.core.explain import explain
    from coinpurse.results import Explained

    stored = _stored(json_economy, "tx-1")
    stored["kind"] = "future-kind"  # a kind this version does not know
    explained = explain(_from_stored(stored), lambda _: None)
    assert explained.kind == "future-kind" and explained.adds_up
    assert [step.label for step in explained.steps] == [
        "alice receives COIN",
        "platform:coin-issue gives COIN",
        "alice gives USD",
        "platform:revenue receives USD",
    ]
    assert {check.label for check in explained.checks} == {"postings in COIN balance", "postings in USD balance"}
    conforms(Explained(explained, "USD").to_dict(), "explain")


# ----- on SQLite, the transaction by id and the records it names, never the history -----


@pytest.fixture
def long_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "long.sqlite"
    ops: list[tuple[str, ...]] = []
    for day in range(20):
        ops += [("buy", "alice", "700"), ("gift", "alice", "mia", "rose", "-n", "3"), ("buy", f"v{day}", "700")]
    ops += [("gift", "alice", "mia", "galaxy", "-n", "2"), ("refund", "tx-58", "--clawback")]
    cli = Cli(path)
    cli.made_by(*ops)
    return path


@pytest.mark.parametrize(("tx_id", "names"), [("tx-61", 3), ("tx-62", 1), ("tx-30", 0), ("tx-32", 1)])
def test_sqlite_reads_the_transaction_and_what_it_names(
    long_sqlite: Path, monkeypatch: pytest.MonkeyPatch, tx_id: str, names: int
) -> None:
    from test_balance_at import _plans, _sqlite_statements

    statements = _sqlite_statements(long_sqlite, monkeypatch, "explain", tx_id, "--json")
    history = [sql for sql in statements if "transactions" in sql or "postings" in sql]
    assert len(history) == 1 + names, history  # the transaction by id, then each record it names
    scans = [(sql, detail) for sql, detail in _plans(long_sqlite, history) if detail.startswith("SCAN")]
    assert not scans, scans
    assert Cli(long_sqlite).json("explain", tx_id)["adds_up"]


# ----- on JSON, a byte search of the history's lines, parsing only the lines found -------------


def test_json_explains_without_parsing_the_history(json_economy: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from coinpurse.storage import files

    expected = {tx_id: _explained(json_economy, tx_id) for tx_id, _ in KIND_ROWS.values()}

    def whole(self: Any) -> bytes:
        raise AssertionError("the whole file was read")

    monkeypatch.setattr(files.LazyHistoryBook, "_whole_file", whole)
    for tx_id, data in expected.items():
        assert _explained(json_economy, tx_id) == data
    expect_error(
        json_economy, "explain", "tx-99", exit_code=2, code="unknown_transaction", says="no transaction 'tx-99'"
    )


def test_json_finds_an_id_however_its_line_spells_it(json_economy: Cli) -> None:
    expected = _explained(json_economy, "tx-3")
    text = json_economy.ledger.read_text()
    assert text.count('{"id": "tx-3", ') == 1
    json_economy.ledger.write_text(text.replace('{"id": "tx-3", ', '{"id": "tx\\u002d3", '))  # the same id to a parser
    assert _explained(json_economy, "tx-3") == expected


# ----- a property: for random economies, every transaction's explanation adds up -------

_NAMES = ("ann", "ben", "cy")
_KINDS = ("buy",) * 3 + ("gift",) * 6 + ("redeem",) * 2 + ("refund", "reverse", "rates")  # drawn in these proportions
_RATES = (("payout.cash_per_diamond", "0.0037"), ("payout.fee_percent", "1.5"), ("conversion.diamonds_per_coin", "0.7"))
_OPS = st.lists(
    st.tuples(st.sampled_from(_KINDS), st.integers(0, 20), st.sampled_from(_NAMES), st.integers(0, 4), st.booleans()),
    min_size=4,
    max_size=30,
)


def _run_op(ledger: Any, op: tuple[Any, ...], made: dict[str, list[str]]) -> None:
    """One op: ``n`` picks among what was made so far (a buy to refund, a gift to reverse, a buyer to send a gift)."""
    kind, n, name, size, flag = op
    if kind == "buy":
        made["buy"].append(ledger.buy(name, (70, 700, 31, 1234, 17500)[size], "web" if flag else "app").transaction.id)
        made["buyer"].append(name)
    elif kind == "gift" and made["buyer"]:
        sender = made["buyer"][n % len(made["buyer"])]
        gift = ("Rose", "Rosa", "Swan", "Rose", "Rosa")[size]
        made["gift"].append(ledger.gift(sender, name, gift, 1 + n % 9, new_account=True).transaction.id)
        made["recipient"].append(name)
    elif kind == "redeem" and made["recipient"]:
        ledger.redeem(made["recipient"][n % len(made["recipient"])], None if flag else 2 + n * 97, all=flag)
    elif kind == "refund" and made["buy"]:
        ledger.refund(made["buy"][n % len(made["buy"])], clawback=flag)
    elif kind == "reverse" and made["gift"]:
        ledger.reverse(made["gift"][n % len(made["gift"])], "property")
    elif kind == "rates":
        ledger.rates_set(dict([_RATES[size % len(_RATES)]]))


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=_OPS)
def test_property_every_explanation_adds_up(ops: list[tuple[Any, ...]]) -> None:
    from coinpurse import Ledger
    from coinpurse.errors import CoinpurseError

    ledger = Ledger.memory()
    ledger.rates_set({"payout.minimum": "0.01"})
    made: dict[str, list[str]] = {"buy": [], "buyer": [], "gift": [], "recipient": []}
    for op in (("buy", 0, "ann", 4, False), ("buy", 0, "ben", 3, True), *ops):  # coins to start with
        try:
            _run_op(ledger, op, made)
        except CoinpurseError:  # refused or bad input: nothing changed
            pass
    for tx in ledger.history().transactions:
        explained = ledger.explain(tx.id)
        failed = [check for check in explained.explanation.checks if not check.holds]
        assert not failed, (tx.kind, tx.id, failed)
        assert explained.explanation.adds_up
        conforms(explained.to_dict(), "explain")


@pytest.mark.parametrize("tx_id", SPONSORED)
def test_sponsored_gifts_and_their_bonuses_back_add_up(economy: Cli, tx_id: str) -> None:
    data = _explained(economy, tx_id)
    assert data["adds_up"], [c for c in data["checks"] if not c["holds"]]
    labels = " ".join(step["label"] for step in data["steps"])
    assert "sponsor acme" in labels
    if tx_id == "tx-18":
        assert "no bonus from sponsor acme" in labels
