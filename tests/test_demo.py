"""`coinpurse demo`: a small realistic economy, deterministic, that never overwrites a ledger in use."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli


def test_demo_builds_the_economy_and_shows_balances(cli) -> None:
    result = cli("demo")
    assert result.exit_code == 0, result.stderr
    assert "Built the demo economy" in result.stdout
    for name in ("alice", "bob", "chen", "dara", "mia", "noah", "total"):
        assert name in result.stdout
    history = cli.json("history")["transactions"]
    kinds = [tx["kind"] for tx in history]
    assert {"buy", "gift", "redeem"} <= set(kinds) and kinds.count("redeem") == 1
    assert {tx["request"]["channel"] for tx in history if tx["kind"] == "buy"} == {"app", "web"}
    stream = [tx for tx in history if tx["details"].get("stream") == "friday-live"]
    assert len(stream) >= 8 and len({tx["details"]["gift"] for tx in stream}) >= 5
    payout = next(tx for tx in history if tx["kind"] == "redeem")
    assert payout["details"]["cash"] == "100.00"


def test_demo_json_reports_counts_and_balances(cli) -> None:
    data = cli.json("demo")
    assert data["recorded"] == data["count"] == 20
    assert data["kinds"] == {"buy": 6, "gift": 13, "redeem": 1}
    assert [a["account"] for a in data["balances"]["accounts"]] == ["alice", "bob", "chen", "dara", "mia", "noah"]


def test_demo_is_deterministic_under_a_fixed_clock(tmp_path: Path) -> None:
    first, second = Cli(tmp_path / "a.json"), Cli(tmp_path / "b.json")
    first("demo")
    second("demo")
    assert first.ledger.read_bytes() == second.ledger.read_bytes()


def test_demo_refuses_a_ledger_with_accounts(cli) -> None:
    cli("buy", "zoe", "70")
    before = cli.ledger.read_bytes()
    result = cli("demo")
    assert result.exit_code == 1
    assert (
        result.stderr
        == f"coinpurse: error: {cli.ledger} already has accounts; the demo only fills an empty ledger (use --force to add it anyway)\n"
    )
    assert result.stdout == ""
    assert cli.ledger.read_bytes() == before


def test_demo_force_adds_to_a_ledger_and_a_second_run_replays(cli) -> None:
    cli("buy", "zoe", "70")
    assert cli.json("demo", "--force")["recorded"] == 20
    after = cli.ledger.read_bytes()
    again = cli.json("demo", "--force")
    assert (again["recorded"], again["replayed"]) == (0, 20)
    assert cli.ledger.read_bytes() == after
    assert cli.json("balance", "zoe")["coins"] == 70


def test_running_the_demo_again_replays_it_and_writes_nothing(cli) -> None:
    assert cli("demo").exit_code == 0
    after = cli.ledger.read_bytes()
    again = cli.json("demo")
    assert (again["recorded"], again["replayed"]) == (0, 20)
    assert cli.ledger.read_bytes() == after


def test_demo_fills_a_ledger_that_init_started(cli) -> None:
    cli("init")
    assert cli("demo").exit_code == 0
