"""The bytes a ledger is written with: the same commands under a fixed clock give the committed files.

The golden files were made by the code before the redesign of the transaction
model, so any change of layout, key order, number text or hash shows here.
JSON and TOML ledgers are compared directly, a SQLite ledger through
``convert`` to JSON. Regenerate them only for an intended change of format:
``COINPURSE_REGENERATE_GOLDEN=1 python -m pytest tests/test_golden_bytes.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import Cli

GOLDEN = Path(__file__).parent / "golden"

# Every kind and variant: packages and custom amounts on two channels, gifts by name and count with a stream,
# lots drawn across buys, a payout with its fee and rounding, a payout refused, rates changes, a bulk apply and a retry.
COMMANDS: list[tuple[str, ...]] = [
    ("buy", "alice", "700", "--id", "order-1"),
    ("buy", "alice", "700", "--id", "order-1"),  # a retry: nothing recorded
    ("buy", "alice", "123", "--channel", "web"),
    ("gift", "alice", "mia", "rose", "-n", "5", "--stream", "launch-night"),
    ("buy", "bob", "17500"),
    ("buy", "bob", "3500", "--channel", "web"),
    ("gift", "bob", "mia", "interstellar", "-n", "2"),
    ("gift", "alice", "mia", "Finger Heart", "-n", "3"),
    ("redeem", "mia", "20000"),
    ("rates", "set", "gift.Rose.coins", "2"),
    ("rates", "set", "payout.fee_percent", "2.5"),
    ("gift", "alice", "mia", "rose", "-n", "7"),
    ("redeem", "mia", "--all"),  # refused: under the payout minimum
    ("rates", "set", "payout.minimum", "10"),
    ("buy", "bob", "17500", "--id", "order-2"),
    ("gift", "bob", "mia", "interstellar"),
    ("redeem", "mia", "--all"),
    ("apply", "{scenario}"),
]
REFUSED = {("redeem", "mia", "--all")}  # the first time only
SCENARIO = {
    "ops": [
        {"kind": "buy", "account": "carol", "coins": 1400, "channel": "web", "id": "bulk-1"},
        {"kind": "gift", "sender": "carol", "recipient": "mia", "gift": "Doughnut", "count": 3, "stream": "s2"},
        {"kind": "gift", "sender": "carol", "recipient": "leo", "gift": "Rose", "count": 11},
        {"kind": "buy", "account": "carol", "coins": 1400, "channel": "web", "id": "bulk-1"},  # replayed
    ]
}


def _run_commands(ledger: Path, scenario: Path) -> None:
    cli = Cli(ledger)
    refused = set(REFUSED)
    for command in COMMANDS:
        args = [arg.format(scenario=scenario) for arg in command]
        result = cli(*args)
        assert result.exit_code == (1 if command in refused else 0), (args, result.stdout, result.stderr)
        refused.discard(command)


def _written(tmp_path: Path, suffix: str) -> bytes:
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(SCENARIO))
    ledger = tmp_path / f"ledger.{suffix}"
    _run_commands(ledger, scenario)
    if suffix != "sqlite":
        return ledger.read_bytes()
    copy = tmp_path / "from-sqlite.json"
    assert Cli(ledger)("convert", str(ledger), str(copy)).exit_code == 0
    return copy.read_bytes()


@pytest.mark.parametrize("suffix", ["json", "toml", "sqlite"])
def test_the_same_commands_write_the_same_bytes(tmp_path: Path, suffix: str) -> None:
    golden = GOLDEN / (
        "ledger-json.json" if suffix == "sqlite" else f"ledger-{suffix}.{suffix}"
    )  # SQLite through convert
    written = _written(tmp_path, suffix)
    if os.environ.get("COINPURSE_REGENERATE_GOLDEN"):
        golden.write_bytes(written)
    assert written == golden.read_bytes(), f"{golden.name} differs: the stored form of a ledger changed"
