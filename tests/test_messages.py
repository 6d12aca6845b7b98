"""No message shows Python's own text for a dict or list, whatever the input held."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import Cli
from ledger_tools import load, save

# What Python prints for a dict, a list or a set holding something: {'a': 1}, [1, 2], ['x'], {"a" ...
PYTHON_TEXT = re.compile(r"""\{['"]|\[['"\d{\[]|\{\d""")

BAD_VALUES: list[object] = [[1, 2], {"a": 1}, ["x"], [{"k": "v"}]]

FIELDS = {
    "buy": {"account": "alice", "coins": 70},
    "gift": {"sender": "alice", "recipient": "mia", "gift": "Rose"},
    "redeem": {"account": "mia", "diamonds": 1},
}


def _ops() -> list[dict[str, object]]:
    ops: list[dict[str, object]] = []
    for kind, fields in FIELDS.items():
        for field in [
            *fields,
            "id",
            *(("channel",) if kind == "buy" else ()),
            *(("all", "new_account") if kind == "redeem" else ()),
        ]:
            for bad in BAD_VALUES:
                ops.append({"kind": kind, **fields, field: bad})
    for bad in BAD_VALUES:
        ops.append({"kind": bad, "account": "alice"})
        ops.append({"kind": "rates", "set": {"gift.Rose.coins": bad}})
        ops.append({"kind": "rates", "remove": bad})
        ops.append({"kind": "gift", **FIELDS["gift"], "count": bad, "stream": "s"})
        ops.append({"kind": "gift", **FIELDS["gift"], "stream": bad})
    return ops


def test_the_pattern_finds_python_text() -> None:
    # The control for the tests below.
    for text in ("not {'a': 1}", "not [1, 2]", "not ['x']", "package {'coins': 17500} did not exist", "not [{'k'"):
        assert PYTHON_TEXT.search(text), text
    assert not PYTHON_TEXT.search("not a list; give each key once (did you mean Rose?)")


@pytest.mark.parametrize("op", _ops(), ids=lambda op: json.dumps(op)[:60])
def test_no_scenario_op_error_shows_python_text(json_cli: Cli, tmp_path: Path, op: dict[str, object]) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"ops": [op]}))
    result = json_cli("apply", "--json", str(scenario))
    assert result.exit_code == 2, (result.stdout, result.stderr)
    message = json.loads(result.stderr)["error"]["message"]
    assert not PYTHON_TEXT.search(message), message


FAILING = [
    ("gift", "alice", "mai", "rose"),
    ("gift", "alice", "mia", "lino"),
    ("rates", "set", "gift.Rose.coins", "1", "gift.Rose.coins", "2"),
    ("rates", "set", "gift.Rose.coins", "--", "-1"),
    ("rates", "set", "gift.Rose.coins", "3", "--remove", "gift.Rose"),
    ("rates", "set", "payout.minimun", "3"),
    ("rates", "set", "channel.web.custom_max", "10"),
    ("buy", "alice", "abc"),
    ("redeem", "mia"),
    ("history", "--kind", "bye"),
    ("blance",),
]


@pytest.mark.parametrize("args", FAILING, ids=" ".join)
def test_no_failing_command_shows_python_text(json_cli: Cli, args: tuple[str, ...]) -> None:
    json_cli.made_by(("buy", "alice", "700"), ("gift", "alice", "mia", "rose"))
    result = json_cli(*args)
    assert result.exit_code in (1, 2), (result.stdout, result.stderr)
    assert not PYTHON_TEXT.search(result.stderr), result.stderr


def test_verify_names_a_package_that_did_not_exist_in_words(json_cli: Cli) -> None:
    from test_verify import _rehash

    assert json_cli("buy", "alice", "17500").exit_code == 0
    assert json_cli("rates", "set", "--remove", "channel.app.package.17500").exit_code == 0
    document = load(json_cli.ledger)
    document["transactions"].append({**document["transactions"][0], "id": "late"})  # a buy of a package gone by then
    _rehash(document)
    save(json_cli.ledger, document)
    result = json_cli("verify")
    assert result.exit_code == 3
    assert "a package of 17500 coins at 249.99 did not exist on app" in result.stdout + result.stderr
    assert not PYTHON_TEXT.search(result.stdout + result.stderr), result.stdout + result.stderr
