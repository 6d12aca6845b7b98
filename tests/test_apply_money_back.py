"""Refunds and reversals as scenario ops of `coinpurse apply` and as `Ledger.batch()` operations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cli_checks import snapshot
from coinpurse import Ledger
from coinpurse.core import requests as rq
from conftest import FIXED_NOW, Cli, another_ledger

# bob's buy paid a TikTok Universe to mia (who redeemed part of it) and roses to zoe; ann's
# roses to zoe are reversed, then bob's buy is refunded with the diamonds clawed back.
OPS: list[dict[str, Any]] = [
    {"kind": "buy", "account": "bob", "coins": 2500000, "id": "b-bob"},
    {"kind": "buy", "account": "ann", "coins": 700, "id": "b-ann"},
    {"kind": "gift", "sender": "bob", "recipient": "mia", "gift": "TikTok Universe", "id": "g-1"},
    {"kind": "gift", "sender": "bob", "recipient": "zoe", "gift": "Rose", "count": 3, "id": "g-2"},
    {"kind": "gift", "sender": "ann", "recipient": "zoe", "gift": "Rose", "count": 2, "id": "g-3"},
    {"kind": "redeem", "account": "mia", "diamonds": 40000, "id": "r-1"},
    {"kind": "reverse", "original": "g-3", "reason": "sent to the wrong creator", "id": "v-1"},
    {"kind": "refund", "buy": "b-bob", "clawback": True, "id": "f-1"},
]

COMMANDS: list[tuple[str, ...]] = [
    ("buy", "bob", "2500000", "--id", "b-bob"),
    ("buy", "ann", "700", "--id", "b-ann"),
    ("gift", "bob", "mia", "TikTok Universe", "--id", "g-1"),
    ("gift", "bob", "zoe", "Rose", "--count", "3", "--id", "g-2"),
    ("gift", "ann", "zoe", "Rose", "--count", "2", "--id", "g-3"),
    ("redeem", "mia", "40000", "--id", "r-1"),
    ("reverse", "g-3", "--reason", "sent to the wrong creator", "--id", "v-1"),
    ("refund", "b-bob", "--clawback", "--id", "f-1"),
]


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)  # a JSON string or integer is the same in TOML


def scenario(folder: Path, ops: list[dict[str, Any]], suffix: str = ".json") -> Path:
    path = folder / f"scenario{suffix}"
    if suffix == ".json":
        path.write_text(json.dumps({"ops": ops}, indent=1) + "\n")
    else:
        tables = ("[[ops]]\n" + "".join(f"{key} = {_toml_value(value)}\n" for key, value in op.items()) for op in ops)
        path.write_text("\n".join(tables))
    return path


def history(cli: Cli) -> list[dict[str, Any]]:
    """Every transaction as history --json shows it, without its time."""
    return [{key: value for key, value in tx.items() if key != "at"} for tx in cli.json("history")["transactions"]]


def other(cli: Cli, tmp_path: Path) -> Cli:
    """A second, new ledger of the same store."""
    folder = tmp_path / "commands"
    folder.mkdir()
    return Cli(another_ledger(cli.ledger, folder, cli.ledger.stem))


@pytest.mark.parametrize("suffix", [".json", ".toml"])
def test_a_scenario_with_a_reversal_and_a_clawback_equals_the_same_commands(
    cli: Cli, tmp_path: Path, suffix: str
) -> None:
    report = cli.json("apply", str(scenario(tmp_path, OPS, suffix)))
    assert (report["count"], report["recorded"], report["written"]) == (8, 8, True)
    assert [op["kind"] for op in report["ops"]][-2:] == ["reversal", "refund"]
    refund = report["ops"][-1]["result"]
    assert [(c["creator"], c["gift"], c["coins"]) for c in refund["clawbacks"]] == [
        ("mia", "g-1", 44999),
        ("zoe", "g-2", 3),
    ]
    reversal = report["ops"][-2]["result"]
    assert (reversal["id"], reversal["kind"]) == ("v-1", "reversal")

    commands = other(cli, tmp_path)
    for args in COMMANDS:
        result = commands(*args)
        assert result.exit_code == 0, result.stderr
    assert history(cli) == history(commands)
    assert cli.json("balance")["accounts"] == commands.json("balance")["accounts"]
    assert {row["account"]: row["diamonds"] for row in cli.json("balance")["accounts"]}["mia"] == -40000
    assert cli("verify").exit_code == 0


def test_a_refund_sees_the_buy_and_gifts_earlier_in_the_same_file(cli: Cli, tmp_path: Path) -> None:
    ops = [
        {"kind": "buy", "account": "alice", "coins": 700},
        {"kind": "gift", "sender": "alice", "recipient": "mia", "gift": "Rose", "count": 5},
        {"kind": "refund", "buy": "tx-1", "clawback": True},
    ]
    report = cli.json("apply", str(scenario(tmp_path, ops)))
    refund = report["ops"][2]["result"]
    assert (refund["buy"], refund["spent"], refund["coins_removed"]) == ("tx-1", 5, 695)
    assert cli.json("balance", "mia")["diamonds"] == 0
    assert cli.json("balance", "alice")["coins"] == 0


def test_a_refused_refund_applies_nothing_and_names_its_op(cli: Cli, tmp_path: Path) -> None:
    cli("buy", "zoe", "70")
    before = snapshot(cli.ledger)
    ops = [
        {"kind": "buy", "account": "alice", "coins": 700, "id": "b-1"},
        {"kind": "gift", "sender": "alice", "recipient": "mia", "gift": "Rose", "count": 5},
        {"kind": "refund", "buy": "b-1"},  # spent coins without clawback: refused
    ]
    path = scenario(tmp_path, ops)
    result = cli("apply", str(path), "--json")
    assert result.exit_code == 1
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "coins_spent"
    assert error["message"].startswith(f"{path}:") and "op 3 (refund): nothing was applied: " in error["message"]
    assert snapshot(cli.ledger) == before
    assert cli.json("balance", "zoe")["coins"] == 70


def test_a_refused_refund_leaves_a_new_ledger_uncreated(cli: Cli, tmp_path: Path) -> None:
    ops = [
        {"kind": "buy", "account": "alice", "coins": 700, "id": "b-1"},
        {"kind": "refund", "buy": "b-1"},
        {"kind": "refund", "buy": "b-1"},  # the second refund of the same buy in one file
    ]
    result = cli("apply", str(scenario(tmp_path, ops)), "--json")
    assert result.exit_code == 1
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "already_refunded" and "op 3 (refund)" in error["message"]
    assert snapshot(cli.ledger) is None


@pytest.mark.parametrize(
    ("op", "code", "exit_code"),
    [
        ({"kind": "reverse", "original": "b-1", "reason": "no"}, "not_reversible", 2),  # as the command: bad input
        ({"kind": "refund", "buy": "nope"}, "unknown_transaction", 2),
        ({"kind": "reverse", "original": "b-1"}, "invalid_op", 2),
        ({"kind": "refund", "buy": "b-1", "clawback": "yes"}, None, 2),
        ({"kind": "refund", "original": "b-1"}, "invalid_op", 2),
    ],
)
def test_bad_or_refused_money_back_ops_change_nothing(
    cli: Cli, tmp_path: Path, op: dict, code: str | None, exit_code: int
) -> None:
    cli("buy", "alice", "700", "--id", "b-1")
    before = snapshot(cli.ledger)
    result = cli("apply", str(scenario(tmp_path, [{"kind": "buy", "account": "ann", "coins": 70}, op])), "--json")
    assert result.exit_code == exit_code, result.stderr
    error = json.loads(result.stderr)["error"]
    if code is not None:
        assert error["code"] == code
    assert "op 2 (" in error["message"]
    assert snapshot(cli.ledger) == before


def test_rerunning_the_file_replays_every_op_and_changes_no_byte(cli: Cli, tmp_path: Path) -> None:
    path = scenario(tmp_path, OPS, ".toml")
    cli.json("apply", str(path))
    before = snapshot(cli.ledger)
    again = cli.json("apply", str(path))
    assert (again["recorded"], again["replayed"], again["written"]) == (0, 8, False)
    assert [op["result"]["id"] for op in again["ops"]][-2:] == ["v-1", "f-1"]
    assert snapshot(cli.ledger) == before


def test_an_id_reused_for_another_refund_is_refused(cli: Cli, tmp_path: Path) -> None:
    cli.json("apply", str(scenario(tmp_path, OPS)))
    before = snapshot(cli.ledger)
    changed = [*OPS[:-1], {"kind": "refund", "buy": "b-ann", "id": "f-1"}]
    result = cli("apply", str(scenario(tmp_path, changed)))
    assert result.exit_code != 0
    assert "op 8 (refund)" in result.stderr
    assert snapshot(cli.ledger) == before


def test_apply_takes_refund_and_reverse_requests(cli: Cli, tmp_path: Path) -> None:
    ledger = Ledger.open(cli.ledger)
    ops: list[Any] = [
        *OPS[:6],
        rq.Reverse.make("g-3", "sent to the wrong creator", "v-1"),
        rq.Refund.make("b-bob", True, "f-1"),
    ]
    report = ledger.apply(ops, now=FIXED_NOW)
    assert report.to_dict()["recorded"] == 8

    commands = other(cli, tmp_path)
    for args in COMMANDS:
        assert commands(*args).exit_code == 0
    assert history(cli) == history(commands)


def test_a_batch_refunds_and_reverses_what_it_recorded_itself(cli: Cli, tmp_path: Path) -> None:
    ledger = Ledger.open(cli.ledger)
    with ledger.batch(now=FIXED_NOW) as batch:
        batch.buy("bob", 2500000, id="b-bob")
        batch.buy("ann", 700, id="b-ann")
        batch.gift("bob", "mia", "TikTok Universe", id="g-1")
        batch.gift("bob", "zoe", "Rose", 3, id="g-2")
        batch.gift("ann", "zoe", "Rose", 2, id="g-3")
        batch.redeem("mia", 40000, id="r-1")
        reversal = batch.reverse("g-3", "sent to the wrong creator", id="v-1")
        refund = batch.refund("b-bob", clawback=True, id="f-1")
        assert reversal.to_dict()["dry_run"] is False
        assert refund.to_dict()["spent"] == 45002
        assert batch.balance("mia").to_dict()["diamonds"] == -40000
        again = batch.refund("b-bob", clawback=True, id="f-1")  # a retry in the same batch replays
        assert again.to_dict()["replayed"] is True

    commands = other(cli, tmp_path)
    for args in COMMANDS:
        assert commands(*args).exit_code == 0
    assert history(cli) == history(commands)
    assert cli("verify").exit_code == 0


def test_a_dry_run_reports_the_refund_and_reversal_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    cli("buy", "zoe", "70")
    before = snapshot(cli.ledger)
    report = cli.json("apply", str(scenario(tmp_path, OPS)), "--dry-run")
    assert (report["dry_run"], report["written"], report["recorded"]) == (True, False, 8)
    assert report["ops"][-1]["result"]["spent"] == 45002
    assert snapshot(cli.ledger) == before
