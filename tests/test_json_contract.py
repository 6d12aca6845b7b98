"""Every command's --json output against docs/json.md, key for key and type for type."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import typer.main

from coinpurse.cli import app

DOC = Path(__file__).resolve().parent.parent / "docs" / "json.md"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")  # never exponent notation such as 1E-7
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def documented() -> dict[str, Any]:
    """Each `### command` heading's json block, parsed."""
    text = DOC.read_text()
    sections = {}
    for heading, block in re.findall(r"^### (.+?)\n.*?```json\n(.*?)```", text, flags=re.DOTALL | re.MULTILINE):
        sections[heading.strip()] = json.loads(block)
    return sections


SHAPES = documented()


def _is(value: Any, name: str) -> bool:
    if name == "string":
        return isinstance(value, str)
    if name in ("money", "decimal"):
        return isinstance(value, str) and _DECIMAL.fullmatch(value) is not None
    if name == "time":
        return isinstance(value, str) and _TIME.fullmatch(value) is not None
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "boolean":
        return isinstance(value, bool)
    if name == "null":
        return value is None
    if name == "object":
        return isinstance(value, dict)
    raise AssertionError(f"docs/json.md uses an undefined type {name!r}")


NULLABLE = "?"  # docs/json.md: an object shape holding "?": "null" is that object or null


def problems(value: Any, shape: Any, where: str = "$") -> list[str]:
    """Where ``value`` departs from the documented ``shape``."""
    if isinstance(shape, str):
        if any(_is(value, name) for name in shape.split("|")):
            return []
        return [f"{where}: {value!r} is not {shape}"]
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {type(value).__name__}"]
        return [p for i, item in enumerate(value) for p in problems(item, shape[0], f"{where}[{i}]")]
    if NULLABLE in shape:  # an object documented with "?": "null" may be null in its place
        if value is None:
            return []
        shape = {key: item for key, item in shape.items() if key != NULLABLE}
    if not isinstance(value, dict):
        return [f"{where}: expected an object, got {type(value).__name__}"]
    if set(shape) == {"*"}:
        return [p for key, item in value.items() for p in problems(item, shape["*"], f"{where}.{key}")]
    found = []
    if set(value) != set(shape):
        missing, extra = sorted(set(shape) - set(value)), sorted(set(value) - set(shape))
        found.append(f"{where}: undocumented keys {extra}, documented keys missing {missing}")
    for key in set(value) & set(shape):
        found += problems(value[key], shape[key], f"{where}.{key}")
    return found


def conforms(value: Any, section: str) -> None:
    assert section in SHAPES, f"docs/json.md has no ### {section} section"
    assert problems(value, SHAPES[section]) == []


def leaf_commands() -> set[str]:
    names: set[str] = set()

    def walk(command: Any, prefix: str) -> None:
        if hasattr(command, "commands"):  # a group
            if prefix:
                names.add(prefix)  # a group that shows something on its own, such as `rates`
            for name, sub in command.commands.items():
                walk(sub, f"{prefix} {name}".strip())
        else:
            names.add(prefix)

    walk(typer.main.get_command(app), "")
    return names


def test_every_command_has_a_documented_shape() -> None:
    documented_commands = {heading.split()[0] if heading.startswith("balance") else heading for heading in SHAPES}
    assert leaf_commands() <= documented_commands
    assert "error" in SHAPES


def test_the_checker_catches_drift() -> None:
    shape = SHAPES["buy"]
    good = {
        "id": "tx-1", "kind": "buy", "at": "2026-03-01T12:00:00Z", "account": "a1", "coins": 70, "channel": "app",
        "price": "0.99", "currency": "USD", "package": True, "balance": {"account": "a1", "coins": 70, "diamonds": 0},
        "replayed": False,
    }  # fmt: skip
    assert problems(good, shape) == []
    assert problems({**good, "price": 0.99}, shape)  # a float where money must be a string
    assert problems({**good, "coins": "70"}, shape)
    assert problems({**good, "extra": 1}, shape)
    assert problems({k: v for k, v in good.items() if k != "id"}, shape)
    assert problems({**good, "at": "yesterday"}, shape)


@pytest.fixture
def economy(json_cli, tmp_path):
    """A ledger where every kind of output has something to show, and every list is non-empty."""
    cli = json_cli
    for args in (
        ("init",),
        ("buy", "alice", "700"),
        ("buy", "bob", "17500", "--channel", "web"),
        ("buy", "bob", "17500"),
        ("gift", "bob", "mia", "interstellar", "-n", "2", "--stream", "launch"),
    ):
        assert cli(*args).exit_code == 0, args
    return cli


def run_json(cli, *args: str) -> Any:
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_operation_commands_match_the_doc(economy) -> None:
    conforms(run_json(economy, "buy", "alice", "70"), "buy")
    conforms(run_json(economy, "gift", "alice", "mia", "rose", "-n", "3"), "gift")
    conforms(run_json(economy, "gift", "alice", "mia", "rose", "--stream", "s"), "gift")
    conforms(run_json(economy, "redeem", "mia", "20000"), "redeem")


def test_reading_commands_match_the_doc(economy) -> None:
    conforms(run_json(economy, "balance", "alice"), "balance ACCOUNT")
    everyone = run_json(economy, "balance")
    assert everyone["accounts"]
    conforms(everyone, "balance")
    rates = run_json(economy, "rates")
    assert rates["platform"] and rates["packages"]
    conforms(rates, "rates")
    history = run_json(economy, "history")
    assert {tx["kind"] for tx in history["transactions"]} == {"rates", "buy", "gift"}
    conforms(history, "history")


def test_rates_commands_match_the_doc(economy, tmp_path) -> None:
    changed = run_json(
        economy, "rates", "set", "gift.Comet.coins", "9", "--remove", "gift.Lion", "payout.minimum", "5.00"
    )
    assert len(changed["changes"]) == 3
    conforms(changed, "rates set")
    conforms(run_json(economy, "rates", "set", "payout.minimum", "5.00"), "rates set")  # unchanged: nulls
    target = tmp_path / "rates.toml"
    conforms(run_json(economy, "rates", "export", str(target)), "rates export")
    target.write_text(target.read_text().replace('minimum = "5.00"', 'minimum = "6.00"'))
    conforms(run_json(economy, "rates", "import", str(target)), "rates import")


def test_init_matches_the_doc(json_cli, tmp_path) -> None:
    conforms(run_json(json_cli, "init"), "init")
    target = tmp_path / "rates.toml"
    run_json(json_cli, "rates", "export", str(target))
    target.write_text(target.read_text().replace('fee_percent = "0"', 'fee_percent = "1.5"'))
    other = tmp_path / "other.json"
    result = json_cli.runner.invoke(app, ["--ledger", str(other), "init", "--rates", str(target), "--json"])
    data = json.loads(result.stdout)
    assert data["rates"]["changes"]
    conforms(data, "init")


def test_apply_matches_the_doc_and_each_op_its_command(economy) -> None:
    report = run_json(economy, "apply", str(EXAMPLES / "scenario.toml"))
    conforms(report, "apply")
    for op in report["ops"]:
        conforms(op["result"], "rates set" if op["kind"] == "rates" else op["kind"])
    again = run_json(economy, "apply", str(EXAMPLES / "scenario.toml"), "--dry-run")
    conforms(again, "apply")


def test_export_and_demo_match_the_doc(economy, tmp_path) -> None:
    conforms(run_json(economy, "export", "-o", str(tmp_path / "out.journal")), "export")
    demo = run_json(economy, "demo", "--force")
    conforms(demo, "demo")
    conforms(demo["balances"], "balance")


def test_gifters_matches_the_doc(economy) -> None:
    ranking = run_json(economy, "gifters", "mia")
    assert ranking["gifters"]
    conforms(ranking, "gifters")


def test_convert_matches_the_doc(economy, tmp_path) -> None:
    converted = run_json(economy, "convert", str(economy.ledger), str(tmp_path / "copy.sqlite"))
    conforms(converted, "convert")
    assert converted["format"] == "sqlite"


def test_verify_matches_the_doc_when_clean_and_when_not(economy) -> None:
    clean = run_json(economy, "verify")
    conforms(clean, "verify")
    anchored = run_json(economy, "verify", "--anchor", clean["head_hash"])
    assert anchored["anchors"] == [{"hash": clean["head_hash"], "transaction": "tx-5", "position": 5}]
    conforms(anchored, "verify")
    missing = economy("verify", "--json", "--anchor", "0" * 64)
    assert missing.exit_code == 3
    conforms(json.loads(missing.stdout), "verify")
    document = json.loads(economy.ledger.read_text())
    document["accounts"]["alice"]["coins"] += 1
    economy.ledger.write_text(json.dumps(document))
    result = economy("verify", "--json")
    assert result.exit_code == 3
    report = json.loads(result.stdout)
    conforms(report, "verify")
    assert report["first_problem"] == report["problems"][0]
    assert problems(report["first_problem"], SHAPES["verify"]["problems"][0]) == []


def test_errors_match_the_doc(economy) -> None:
    for args in (("gift", "alice", "mia", "lion"), ("redeem", "nobody", "1"), ("rates", "set", "nope", "1"), ("init",)):
        result = economy(*args, "--json")
        assert result.exit_code in (1, 2)
        assert result.stdout == ""
        conforms(json.loads(result.stderr), "error")


def test_info_matches_the_doc(economy, tmp_path) -> None:
    conforms(run_json(economy, "info"), "info")
    missing = economy.runner.invoke(app, ["--ledger", str(tmp_path / "none.sqlite"), "info", "--json"])
    conforms(json.loads(missing.stdout), "info")


def test_reverse_matches_the_doc(economy) -> None:
    shown = run_json(economy, "reverse", "tx-5", "--reason", "wrong creator", "--dry-run")
    conforms(shown, "reverse")
    assert shown["dry_run"] is True and shown["lots_restored"]
    conforms(run_json(economy, "reverse", "tx-5", "--reason", "wrong creator"), "reverse")


def test_refund_matches_the_doc(economy) -> None:
    conforms(run_json(economy, "refund", "tx-3", "--clawback", "--dry-run"), "refund")
    conforms(run_json(economy, "refund", "tx-3", "--clawback"), "refund")


def test_report_matches_the_doc(economy) -> None:
    assert economy("redeem", "mia", "20000").exit_code == 0
    assert economy("refund", "tx-3", "--clawback").exit_code == 0
    made = run_json(economy, "report", "--by", "week")
    assert made["periods"] and made["channels"] and made["creators"]
    conforms(made, "report")
    conforms(run_json(economy, "report", "--since", "2026-03-01", "--until", "2026-03-01", "--by", "day"), "report")
    assert economy("gift", "alice", "mia", "rose", "--stream", "late").exit_code == 0
    stream = run_json(economy, "report", "--stream", "late")
    assert stream["stream"]["gifts"] == 1 and stream["liabilities"] is None
    conforms(stream, "report")


def test_statement_matches_the_doc(economy, monkeypatch) -> None:
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-02T12:00:00Z")  # a day after the economy: its span has an opening
    for args in (
        ("gift", "alice", "mia", "rose", "-n", "2"),
        ("redeem", "mia", "20000"),
        ("refund", "tx-2", "--clawback"),
        ("gift", "bob", "mia", "rose", "--stream", "late"),
        ("reverse", "tx-9", "--reason", "wrong creator"),
    ):
        assert economy(*args).exit_code == 0, args
    made = run_json(economy, "statement", "mia", "--since", "2026-03-02")
    assert made["opening"]["as_of"] and made["anchor"] and made["by_gift"] and made["by_stream"] and made["top_gifters"]
    assert {row["kind"] for row in made["taken_back"]["items"]} == {"refund", "reversal"} and made["payouts"]["items"]
    conforms(made, "statement")
    empty = run_json(economy, "statement", "mia", "--until", "2026-01-01")
    assert empty["anchor"] is None and empty["share"]["share"] is None
    conforms(empty, "statement")
    late = run_json(economy, "statement", "mia", "--stream", "late")
    assert late["stream"] == "late" and late["payouts"] is None and late["taken_back"]["items"]
    conforms(late, "statement")


def test_payout_commands_match_the_doc(json_cli, monkeypatch) -> None:
    cli = json_cli
    for args in (("buy", "alice", "17500"), ("buy", "alice", "17500"), ("gift", "alice", "mia", "Lion")):
        assert cli(*args).exit_code == 0
    held = run_json(cli, "redeem", "mia", "20000", "--hold")
    conforms(held, "redeem --hold")
    conforms(run_json(cli, "balance", "mia"), "balance ACCOUNT")
    conforms(run_json(cli, "balance"), "balance")
    conforms(run_json(cli, "payout"), "payout")
    conforms(run_json(cli, "payout", "list", "mia", "--state", "pending"), "payout list")
    conforms(run_json(cli, "payout", "approve", held["id"]), "payout approve")
    conforms(run_json(cli, "payout", "return", held["id"], "--reason", "bounced"), "payout return")
    second = run_json(cli, "redeem", "mia", "20000", "--hold")
    conforms(run_json(cli, "payout", "reject", second["id"], "--reason", "no"), "payout reject")
    run_json(cli, "redeem", "mia", "20000", "--hold")
    monkeypatch.setenv("COINPURSE_NOW", "2026-04-01T00:00:00Z")
    conforms(run_json(cli, "payout", "list"), "payout list")
    expired = run_json(cli, "payout", "expire")
    assert len(expired["released"]) == 1
    conforms(expired, "payout expire")
    conforms(run_json(cli, "history"), "history")
