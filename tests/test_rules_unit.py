"""The rules and the typed records on an in-memory ledger: no files, no command line."""

from __future__ import annotations

from decimal import Decimal

import pytest

from coinpurse.core import requests as rq
from coinpurse.core.book import MemoryBook
from coinpurse.core.kinds import BuyRecord, GiftRecord, RedeemRecord, WrongPart, record_from_dicts
from coinpurse.core.model import AccountState, DamagedRecord, Lot, Posting, transaction_from_dict
from coinpurse.core.money import COIN, parse_count
from coinpurse.core.names import normalize_handle
from coinpurse.core.rates import Channel, Gift, Package, Payout, Rates
from coinpurse.core.rules import RULES, draw_lots, execute, plan_buy, plan_gift, plan_redeem
from coinpurse.core.sentences import cash_text, receipt
from coinpurse.core.verify import verify_book
from coinpurse.errors import BadInput, Refused

NOW = "2026-03-01T12:00:00Z"


def _rates() -> Rates:
    app = Channel("app", (Package(70, Decimal("0.99")), Package(350, Decimal("4.99"))), Decimal("0.0143"), 30, 100_000)
    gifts = (Gift("Rose", 1), Gift("Finger Heart", 5), Gift("Doughnut", 30))
    payout = Payout(Decimal("0.005"), Decimal("1.00"), Decimal("10.00"), Decimal("2"))
    return Rates((app,), gifts, Decimal("0.5"), payout)


def _book(**accounts: AccountState) -> MemoryBook:
    return MemoryBook("USD", _rates(), dict(accounts), [])


def test_buy_of_a_package_posts_coins_and_cash_and_adds_a_lot() -> None:
    plan = plan_buy(_book(), rq.Buy.make("@Alice", "70"), "tx-1", NOW)
    assert isinstance(plan.payload, BuyRecord)
    assert plan.payload.details.price == Decimal("0.99") and plan.payload.details.package
    assert plan.postings == (
        Posting("alice", COIN, 70), Posting("platform:coin-issue", COIN, -70),
        Posting("alice", "USD", Decimal("-0.99")), Posting("platform:revenue", "USD", Decimal("0.99")),
    )  # fmt: skip
    assert plan.states["alice"].lots == (Lot("tx-1", 70, Decimal("0.99")),)
    assert plan.payload.to_dicts()[1] == {"channel": "app", "package": {"coins": 70, "price": "0.99"}}


def test_custom_buy_is_priced_per_coin_within_bounds() -> None:
    plan = plan_buy(_book(), rq.Buy.make("alice", "100"), "tx-1", NOW)
    assert plan.payload.details.price == Decimal("1.43") and not plan.payload.details.package
    assert plan.payload.to_dicts()[1] == {"channel": "app", "coin_price": "0.0143"}
    with pytest.raises(BadInput) as error:
        plan_buy(_book(), rq.Buy.make("alice", "10"), "tx-1", NOW)
    assert error.value.code == "amount_out_of_bounds"


def test_draw_lots_takes_first_in_first_out_and_splits_cost_to_the_mill() -> None:
    lots = (Lot("a", 70, Decimal("0.99")), Lot("b", 350, Decimal("4.99")))
    drawn, remaining = draw_lots(lots, 100)
    assert drawn == [Lot("a", 70, Decimal("0.99")), Lot("b", 30, Decimal("0.428"))]
    assert remaining == (Lot("b", 320, Decimal("4.562")),)
    assert sum(lot.cost for lot in drawn) + remaining[0].cost == Decimal("5.98")  # nothing lost to rounding
    drawn, remaining = draw_lots((), 5)
    assert drawn == [Lot("", 5, Decimal(0))] and remaining == ()


def test_gift_draws_the_senders_lots_and_values_the_diamonds() -> None:
    alice = AccountState(coins=70, lots=(Lot("tx-1", 70, Decimal("0.99")),))
    plan = plan_gift(_book(alice=alice), rq.Gift.make("alice", "mia", " finger   heart ", "2", "live"), "tx-2", NOW)
    record = plan.payload
    assert isinstance(record, GiftRecord)
    d = record.details
    assert (d.gift, d.count, d.coins, d.diamonds) == ("Finger Heart", 2, 10, 5)
    assert d.paid == Decimal("0.141") and d.diamond_value == Decimal("0.025")  # exact: 5 diamonds at half a cent
    assert plan.states["alice"].lots == (Lot("tx-1", 60, Decimal("0.849")),)
    assert plan.states["mia"].diamonds == 5
    request, _, details = record.to_dicts()
    assert request == {"sender": "alice", "recipient": "mia", "gift": "finger heart", "count": 2, "stream": "live"}
    assert (
        details["paid"] == "0.141"
        and details["diamond_value"] == "0.025"
        and details["lots"] == [["tx-1", 10, "0.141"]]
    )


def test_gift_refusals() -> None:
    book = _book(alice=AccountState(coins=3))
    with pytest.raises(Refused) as refused:
        plan_gift(book, rq.Gift.make("alice", "alice", "Rose"), "tx-1", NOW)
    assert refused.value.code == "self_gift"
    with pytest.raises(Refused) as refused:
        plan_gift(book, rq.Gift.make("alice", "mia", "Doughnut"), "tx-1", NOW)
    assert refused.value.code == "insufficient_coins"
    with pytest.raises(BadInput) as bad:
        plan_gift(book, rq.Gift.make("alice", "mia", "Rosé"), "tx-1", NOW)
    assert bad.value.code == "unknown_gift"


def test_redeem_pays_the_cents_less_the_fee_and_keeps_the_payout_day() -> None:
    mia = AccountState(diamonds=1001)
    plan = plan_redeem(_book(mia=mia), rq.Redeem.make("mia", all=True), "tx-3", NOW)
    record = plan.payload
    assert isinstance(record, RedeemRecord)
    d = record.details
    assert (d.diamonds, d.cash, d.fee, d.net, d.kept_diamonds) == (
        1000,
        Decimal("5.00"),
        Decimal("0.10"),
        Decimal("4.90"),
        1,
    )
    assert plan.states["mia"].payout_day == "2026-03-01" and plan.states["mia"].paid_that_day == Decimal("5.00")
    assert record.to_dicts()[1] == {
        "cash_per_diamond": "0.005",
        "minimum": "1.00",
        "daily_maximum": "10.00",
        "fee_percent": "2",
    }
    paid = AccountState(diamonds=5000, payout_day="2026-03-01", paid_that_day=Decimal("8.00"))
    with pytest.raises(Refused) as refused:
        plan_redeem(_book(mia=paid), rq.Redeem.make("mia", "1000"), "tx-4", NOW)
    assert refused.value.code == "over_daily_maximum"
    with pytest.raises(Refused) as refused:
        plan_redeem(_book(mia=mia), rq.Redeem.make("mia", "100"), "tx-4", NOW)
    assert refused.value.code == "below_minimum"


def test_count_and_handle_parsing() -> None:
    assert parse_count("17,500", "coins") == 17_500 and parse_count(" 17_500 ", "coins") == 17_500
    for bad in ("0", "-1", "1.5", "1e3", True, 10**15):
        with pytest.raises(BadInput):
            parse_count(bad, "coins")
    assert normalize_handle(" @Alice ") == "alice"
    for bad in ("a", "bad name", 5, "platform:revenue"):
        with pytest.raises(BadInput):
            normalize_handle(bad)


def test_every_rule_is_listed_by_its_kind() -> None:
    assert set(RULES) == {
        "buy", "gift", "redeem", "reversal", "refund", "sponsor-fund", "sponsor-withdraw",
        "payout-hold", "payout-approve", "payout-reject", "payout-expire", "payout-return",
    }  # fmt: skip


def test_a_written_transaction_reads_back_to_the_same_record() -> None:
    book = _book()
    for request in (
        rq.Buy.make("alice", "350"),
        rq.Gift.make("alice", "mia", "Doughnut", "3", "live"),
        rq.Buy.make("mia", "100"),
    ):
        tx = execute(book, request, NOW).transaction
        again = transaction_from_dict(tx.to_dict())
        assert again.payload.to_dicts() == tx.payload.to_dicts()
        assert again.to_dict() == tx.to_dict() and again.content() == tx.content()
        assert receipt(again.payload) == receipt(tx.payload)
    assert verify_book(book).ok


def test_a_part_that_is_not_what_its_kind_records_is_named() -> None:
    book = _book()
    stored = execute(book, rq.Buy.make("alice", "70"), NOW).transaction.to_dict()
    with pytest.raises(WrongPart) as wrong:
        record_from_dicts("buy", stored["request"], stored["rates"], {"price": 0.99, "package": True})
    assert wrong.value.part == "details"
    with pytest.raises(DamagedRecord, match="request is not what a buy records"):
        transaction_from_dict({**stored, "request": {"account": "alice", "coins": "70", "channel": "app"}})


def test_stored_transactions_cannot_be_changed_through_the_transaction() -> None:
    tx = execute(_book(), rq.Buy.make("alice", "70"), NOW).transaction
    with pytest.raises(TypeError):
        tx.details["price"] = "0"  # type: ignore[index]
    with pytest.raises(AttributeError):
        tx.payload.details.price = Decimal(0)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        ("35750", "$35,750.00"),
        ("35106.471", "$35,106.471"),  # a lot's cost to the mill: no digit is rounded away
        ("-1234567.8915", "-$1,234,567.8915"),
        ("999.99", "$999.99"),
        ("0.025", "$0.025"),
        ("-0.5", "-$0.50"),
    ],
)
def test_receipts_group_cash_in_thousands_as_tables_do_and_keep_every_exact_digit(amount: str, shown: str) -> None:
    assert cash_text(Decimal(amount)) == shown
