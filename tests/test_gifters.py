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
