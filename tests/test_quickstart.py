"""The issue's walkthrough, end to end, in both file formats."""

from __future__ import annotations


def test_walkthrough_moves_every_coin_and_cent(cli) -> None:
    bought = cli.json("buy", "alice", "700")
    assert bought["price"] == "9.99"
    assert bought["currency"] == "USD"
    assert bought["balance"]["coins"] == 700

    gift = cli.json("gift", "alice", "mia", "rose", "-n", "5")
    assert (gift["coins"], gift["diamonds"]) == (5, 5)
    assert gift["paid"] == "0.071"
    assert gift["diamond_value"] == "0.025"
    assert gift["platform_kept"] == "0.046"
    assert gift["sender"]["coins"] == 695
    assert gift["recipient"]["diamonds"] == 5

    mia = cli.json("balance", "mia")
    assert (mia["coins"], mia["diamonds"], mia["diamond_value"]) == (0, 5, "0.025")

    assert cli.json("buy", "bob", "17500")["price"] == "249.99"
    assert cli.json("buy", "bob", "3500", "--channel", "web")["price"] == "37.49"
    assert cli.json("gift", "bob", "mia", "interstellar", "-n", "2")["diamonds"] == 20000

    payout = cli.json("redeem", "mia", "20000")
    assert payout["cash"] == "100.00"
    assert payout["balance"]["diamonds"] == 5

    listed = cli.json("history", "mia")["transactions"]
    assert [tx["kind"] for tx in listed] == ["gift", "gift", "redeem"]

    rates = cli.json("rates")
    assert rates["currency"] == "USD"
    assert {"name": "Lion", "coins": 29999} in rates["gifts"]


def test_human_receipt_says_where_the_money_went(cli) -> None:
    cli("buy", "alice", "700")
    result = cli("gift", "alice", "mia", "rose", "-n", "5")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "5 coins from alice → 5 diamonds to mia (worth $0.025)" in text
    assert "the platform kept $0.046 of the $0.071 alice paid" in text
