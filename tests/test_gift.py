"""coinpurse gift: coins become diamonds, spent coins carry what they cost, and every refusal."""

from __future__ import annotations

import pytest

from cli_checks import expect_error, flat, snapshot
from conftest import Cli


@pytest.fixture
def funded(cli: Cli) -> Cli:
    return cli.made_by(("buy", "alice", "700"))


def test_a_gift_moves_coins_to_diamonds(funded: Cli) -> None:
    sent = funded.json("gift", "alice", "mia", "Finger Heart", "-n", "3")
    assert sent["kind"] == "gift"
    assert sent["id"] == "tx-2"
    assert (sent["gift"], sent["count"], sent["coins"], sent["diamonds"]) == ("Finger Heart", 3, 15, 15)
    assert sent["sender"] == {"account": "alice", "coins": 685, "diamonds": 0}
    assert sent["recipient"] == {"account": "mia", "coins": 0, "diamonds": 15}
    assert sent["diamond_value"] == "0.075"
    assert sent["currency"] == "USD"
    assert sent["stream"] is None
    assert sent["replayed"] is False


def test_the_count_defaults_to_one(funded: Cli) -> None:
    sent = funded.json("gift", "alice", "mia", "rosa")
    assert (sent["count"], sent["coins"], sent["diamonds"]) == (1, 10, 10)
    assert funded.json("gift", "alice", "mia", "rosa", "--count", "2")["coins"] == 20


@pytest.mark.parametrize("written", ["Finger Heart", "finger heart", "FINGER HEART", "  finger   Heart "])
def test_gift_names_are_case_insensitive(funded: Cli, written: str) -> None:
    assert funded.json("gift", "alice", "mia", written)["gift"] == "Finger Heart"


def test_names_drop_the_at_sign_and_are_case_insensitive(funded: Cli) -> None:
    sent = funded.json("gift", "@Alice", "@MIA", "rose")
    assert (sent["sender"]["account"], sent["recipient"]["account"]) == ("alice", "mia")
    assert funded.json("balance", "mia")["diamonds"] == 1


def test_the_stream_tag_is_kept(funded: Cli) -> None:
    sent = funded.json("gift", "alice", "mia", "rose", "--stream", "Friday night")
    assert sent["stream"] == "Friday night"
    stored = funded.json("history", "mia")["transactions"][-1]
    assert stored["details"]["stream"] == "Friday night"


def test_spent_coins_cost_what_their_purchases_cost_first_in_first_out(funded: Cli) -> None:
    funded.json("buy", "alice", "700", "--channel", "web")  # 7.49 for 700
    first = funded.json("gift", "alice", "mia", "rose", "-n", "1000")
    # all 700 app coins (9.99) and 300 of the 700 web coins (7.49 × 3/7 = 3.21)
    assert first["paid"] == "13.20"
    assert first["diamond_value"] == "5.00"
    assert first["platform_kept"] == "8.20"
    rest = funded.json("gift", "alice", "mia", "rose", "-n", "400")
    assert rest["paid"] == "4.28"  # exactly what remained of the web purchase
    assert funded.json("balance", "alice")["coins"] == 0


def test_any_account_holds_coins_and_diamonds(funded: Cli) -> None:
    funded.json("buy", "mia", "70")
    funded.json("gift", "alice", "mia", "rosa")
    funded.json("gift", "mia", "alice", "rose", "-n", "3")
    mia = funded.json("balance", "mia")
    alice = funded.json("balance", "alice")
    assert (mia["coins"], mia["diamonds"]) == (67, 10)
    assert (alice["coins"], alice["diamonds"]) == (690, 3)


def test_the_receipt_says_where_every_coin_went(funded: Cli) -> None:
    result = funded("gift", "alice", "mia", "rose", "-n", "5")
    assert result.exit_code == 0, result.stderr
    text = flat(result.stdout)
    assert "5 coins from alice → 5 diamonds to mia (worth $0.025)" in text
    assert "the platform kept $0.046 of the $0.071 alice paid" in text


def test_the_same_id_and_request_replays_and_writes_nothing(funded: Cli) -> None:
    first = funded.json("gift", "alice", "mia", "rose", "-n", "5", "--id", "g-1")
    before = snapshot(funded.ledger)
    again = funded.json("gift", "ALICE", "@mia", "ROSE", "--count", "5", "--id", "g-1")
    assert snapshot(funded.ledger) == before
    assert again["replayed"] is True
    assert {**again, "replayed": False} == first
    assert funded.json("balance", "mia")["diamonds"] == 5


@pytest.mark.parametrize(
    "other",
    [
        ("gift", "alice", "mia", "rose", "-n", "6", "--id", "g-1"),
        ("gift", "alice", "mia", "rosa", "-n", "5", "--id", "g-1"),
        ("gift", "alice", "zoe", "rose", "-n", "5", "--id", "g-1"),
        ("gift", "alice", "mia", "rose", "-n", "5", "--stream", "live", "--id", "g-1"),
        ("buy", "alice", "700", "--id", "g-1"),
    ],
)
def test_the_same_id_for_another_request_is_refused(funded: Cli, other: tuple[str, ...]) -> None:
    funded.json("gift", "alice", "mia", "rose", "-n", "5", "--id", "g-1")
    expect_error(funded, *other, exit_code=1, code="id_conflict", says="id 'g-1' was already used")


# --- refusals (exit 1) ---------------------------------------------------------------


def test_too_few_coins_is_refused(funded: Cli) -> None:
    expect_error(
        funded,
        "gift",
        "alice",
        "mia",
        "lion",
        exit_code=1,
        code="insufficient_coins",
        says="alice has 700 coins; Lion costs 29999",
    )
    expect_error(
        funded,
        "gift",
        "alice",
        "mia",
        "swan",
        "-n",
        "2",
        exit_code=1,
        code="insufficient_coins",
        says="alice has 700 coins; 2 × Swan costs 1398",
    )


def test_spending_exactly_the_balance_is_allowed_and_one_more_coin_is_not(funded: Cli) -> None:
    assert funded.json("gift", "alice", "mia", "rose", "-n", "700")["sender"]["coins"] == 0
    expect_error(
        funded, "gift", "alice", "mia", "rose", exit_code=1, code="insufficient_coins", says="alice has 0 coins"
    )


def test_a_sender_never_seen_has_no_coins(funded: Cli) -> None:
    expect_error(
        funded, "gift", "nobody", "mia", "rose", exit_code=1, code="insufficient_coins", says="nobody has 0 coins"
    )


def test_a_refused_gift_on_a_missing_ledger_creates_no_ledger(cli: Cli) -> None:
    expect_error(cli, "gift", "alice", "mia", "rose", exit_code=1, code="insufficient_coins", says="alice has 0 coins")
    assert not cli.ledger.exists()


@pytest.mark.parametrize("recipient", ["alice", "@alice", "ALICE"])
def test_a_gift_to_oneself_is_refused(funded: Cli, recipient: str) -> None:
    expect_error(
        funded,
        "gift",
        "alice",
        recipient,
        "rose",
        exit_code=1,
        code="self_gift",
        says="alice can't send a gift to themselves",
    )


# --- bad input (exit 2) --------------------------------------------------------------


def test_an_unknown_gift_is_bad_input_with_a_suggestion(funded: Cli) -> None:
    error = expect_error(
        funded,
        "gift",
        "alice",
        "mia",
        "rosee",
        exit_code=2,
        code="unknown_gift",
        says="unknown gift 'rosee' (did you mean Rose",
    )
    assert "coinpurse rates" in error["message"]


def test_an_unknown_gift_with_no_close_name_gets_no_suggestion(funded: Cli) -> None:
    error = expect_error(
        funded, "gift", "alice", "mia", "zzzzzz", exit_code=2, code="unknown_gift", says="unknown gift 'zzzzzz'"
    )
    assert "did you mean" not in error["message"]


def test_an_empty_gift_name_is_bad_input(funded: Cli) -> None:
    expect_error(
        funded, "gift", "alice", "mia", "  ", exit_code=2, code="unknown_gift", says="gift must be a gift's name"
    )


@pytest.mark.parametrize(
    ("count", "says"),
    [
        ("0", "count must be a positive whole number, not 0"),
        ("-2", "count must be a positive whole number, not -2"),
        ("1.5", "count must be a whole number, not '1.5'"),
        ("two", "count must be a whole number, not 'two'"),
    ],
)
def test_a_non_positive_or_non_integer_count_is_bad_input(funded: Cli, count: str, says: str) -> None:
    expect_error(funded, "gift", "alice", "mia", "rose", f"--count={count}", exit_code=2, code="bad_input", says=says)


@pytest.mark.parametrize(
    ("sender", "recipient", "bad"),
    [
        ("a", "mia", "a"),
        ("alice", "m", "m"),
        ("alice", "platform:diamond-issue", "platform:diamond-issue"),
        ("platform:coin-issue", "mia", "platform:coin-issue"),
        ("alice", "mia!", "mia!"),
        ("alice", "x" * 25, "x" * 25),
    ],
)
def test_an_invalid_name_is_bad_input(funded: Cli, sender: str, recipient: str, bad: str) -> None:
    expect_error(
        funded,
        "gift",
        sender,
        recipient,
        "rose",
        exit_code=2,
        code="invalid_name",
        says=f"invalid account name '{bad}'",
    )


@pytest.mark.parametrize("stream", ["", "   ", "x" * 81, "no\u00a0break"])
def test_an_unusable_stream_name_is_bad_input(funded: Cli, stream: str) -> None:
    expect_error(
        funded,
        "gift",
        "alice",
        "mia",
        "rose",
        "--stream",
        stream,
        exit_code=2,
        code="bad_input",
        says="stream must be printable text",
    )


def test_a_gift_whose_value_passes_what_a_ledger_holds_is_refused_before_writing(cli) -> None:
    # Each input is within bounds; their product is not.
    changed = cli("rates", "set", "payout.cash_per_diamond", "999999.99999999", "channel.web.custom_max", "2000000000")
    assert changed.exit_code == 0, changed.output
    bought = cli("buy", "whale", "1100000000", "--channel", "web")
    assert bought.exit_code == 0, bought.stderr
    before = cli.ledger.read_bytes() if cli.ledger.suffix != ".sqlite" else None
    result = cli("gift", "whale", "mia", "tiktok universe", "-n", "22300")
    assert result.exit_code == 2, result.output
    assert "beyond what a ledger holds" in result.stderr
    if before is not None:
        assert cli.ledger.read_bytes() == before
    assert cli("verify").exit_code == 0
