"""gifters: a creator's top gifters, ranked by diamonds."""

from __future__ import annotations

from cli_checks import expect_error


def _economy(cli) -> None:
    for args in (
        ("buy", "alice", "700"),
        ("buy", "bob", "17500"),
        ("buy", "bob", "3500", "--channel", "web"),
        ("gift", "alice", "mia", "rose", "-n", "5"),
        ("gift", "bob", "mia", "interstellar", "-n", "2"),
        ("gift", "alice", "mia", "finger heart"),
        ("gift", "bob", "noah", "galaxy"),  # to someone else: not mia's
        ("buy", "mia", "70"),
    ):
        assert cli(*args).exit_code == 0, args


def test_gifters_are_ranked_by_diamonds_with_their_worth(cli) -> None:
    _economy(cli)
    ranking = cli.json("gifters", "@MIA")
    assert ranking["account"] == "mia"
    assert ranking["gifters"] == [
        {
            "rank": 1,
            "account": "bob",
            "gifts": 1,
            "items": 2,
            "coins": 20000,
            "diamonds": 20000,
            "diamond_value": "100.00",
        },
        {"rank": 2, "account": "alice", "gifts": 2, "items": 6, "coins": 10, "diamonds": 10, "diamond_value": "0.05"},
    ]
    assert [g["account"] for g in cli.json("gifters", "mia", "--limit", "1")["gifters"]] == ["bob"]


def test_worth_is_what_each_gift_recorded_even_after_a_rates_change(cli) -> None:
    _economy(cli)
    assert cli("rates", "set", "payout.cash_per_diamond", "0.01").exit_code == 0
    assert cli("gift", "alice", "mia", "rose").exit_code == 0
    alice = cli.json("gifters", "mia")["gifters"][1]
    assert (alice["diamonds"], alice["diamond_value"]) == (11, "0.06")  # 10 at $0.005, then 1 at $0.01


def test_the_table_ranks_people_and_an_account_without_gifts_says_so(cli) -> None:
    _economy(cli)
    table = cli("gifters", "mia")
    assert table.exit_code == 0
    lines = [line.split() for line in table.stdout.splitlines()]
    ranks = [line[:2] for line in lines if line and line[0] in ("1", "2")]
    assert ranks == [["1", "bob"], ["2", "alice"]]
    assert "$100.00" in table.stdout
    assert cli("gifters", "bob").stdout.strip() == "No one has sent bob a gift yet."


def test_an_unknown_account_is_bad_input_and_reading_changes_nothing(cli) -> None:
    _economy(cli)
    expect_error(cli, "gifters", "mya", exit_code=2, code="unknown_account", says="did you mean mia")


def test_the_board_shows_what_stands_after_reversals_and_clawbacks(cli) -> None:
    """A reversed gift drops out; a refund's clawback takes its coins, diamonds and worth off the gift (a gift
    clawed back whole drops out); what came after the span's end does not count for it."""
    from coinpurse import Ledger

    ledger = Ledger(cli.ledger)
    ledger.buy("ann", 70, now="2026-03-01T09:00:00Z")  # tx-1
    ledger.buy("ann", 70, now="2026-03-01T09:01:00Z")  # tx-2
    ledger.gift(
        "ann", "mia", "rose", 100, stream="live", now="2026-03-01T10:00:00Z"
    )  # tx-3: 70 of tx-1's, 30 of tx-2's
    ledger.buy("bo", 70, now="2026-03-01T10:00:30Z")  # tx-4
    ledger.gift("bo", "mia", "rose", 40, stream="live", now="2026-03-01T10:01:00Z")  # tx-5: all of tx-4's coins
    ledger.buy("cy", 70, now="2026-03-01T10:01:30Z")  # tx-6
    ledger.gift("cy", "mia", "rose", 60, stream="live", now="2026-03-01T10:02:00Z")  # tx-7
    ledger.refund("tx-1", clawback=True, now="2026-03-02T10:00:00Z")  # tx-8: 70 of tx-3's coins and diamonds
    ledger.refund("tx-4", clawback=True, now="2026-03-02T11:00:00Z")  # tx-9: all of tx-5
    ledger.reverse("tx-7", "wrong creator", now="2026-03-02T12:00:00Z")  # tx-10
    for args in ((), ("--stream", "live")):
        board = cli.json("gifters", "mia", *args)["gifters"]
        assert [(g["rank"], g["account"], g["gifts"], g["items"], g["coins"], g["diamonds"]) for g in board] == [
            (1, "ann", 1, 100, 30, 30)
        ], args
        assert board[0]["diamond_value"] == "0.15"
        table = cli("gifters", "mia", *args)
        assert table.exit_code == 0
        rows = [line.split() for line in table.stdout.splitlines() if line.split()[1:2] in (["ann"], ["bo"], ["cy"])]
        assert [row[:6] for row in rows] == [["1", "ann", "1", "100", "30", "30"]]  # the table agrees with the JSON
    before = cli.json("gifters", "mia", "--until", "2026-03-01T23:59:59Z")["gifters"]  # as it stood then
    assert [(g["account"], g["coins"], g["diamonds"]) for g in before] == [
        ("ann", 100, 100),
        ("cy", 60, 60),
        ("bo", 40, 40),
    ]
    between = cli.json("gifters", "mia", "--until", "2026-03-02T11:30:00Z")["gifters"]  # clawbacks, not the reversal
    assert [(g["account"], g["diamonds"]) for g in between] == [("cy", 60), ("ann", 30)]
