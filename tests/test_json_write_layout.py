"""A JSON write trusts the history's lines by their checksum, but not their layout: a line laid out another way
(the same transaction, its keys in another order) is read in full, never split wrong or met with a traceback."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from ledger_tools import seed

OPENER, CLOSER = '\n  "transactions": [\n', "\n  ]\n}\n"


def _relay_line(path, index: int, layout) -> None:  # type: ignore[no-untyped-def]
    """Rewrite one history line as ``layout`` gives it and recompute ``history_sha256``, as a forger can."""
    text = path.read_text()
    head, rest = text.split(OPENER, 1)
    lines = rest[: -len(CLOSER)].split(",\n")
    lines[index] = "    " + layout(json.loads(lines[index]))
    history = ",\n".join(lines)
    digest = hashlib.sha256(history.encode()).hexdigest()
    head = re.sub(r'"history_sha256": "[0-9a-f]{64}"', f'"history_sha256": "{digest}"', head)
    path.write_text(head + OPENER + history + CLOSER)


LAYOUTS = {
    "kind first": lambda tx: json.dumps({"kind": tx["kind"], **{k: v for k, v in tx.items() if k != "kind"}}),
    "compact": lambda tx: json.dumps(tx, separators=(",", ":")),
}


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_a_line_in_another_layout_is_read_in_full_by_a_write(json_cli, layout) -> None:
    seed(json_cli)
    _relay_line(json_cli.ledger, 2, layout)  # tx-3, the same transaction: the chain still holds
    assert json_cli("verify").exit_code == 0
    retry = json_cli("buy", "bob", "17500", "--id", "tx-3", "--json")  # tx-3's own request: a replay
    assert retry.exit_code == 0, retry.output
    write = json_cli("buy", "bob", "700", "--json")
    assert write.exit_code == 0, write.output
    report = json_cli.json("verify")
    assert report["ok"] and report["transactions"] == 9  # the retry added nothing, the buy one transaction
    assert [tx["id"] for tx in json_cli.json("history")["transactions"]].count("tx-3") == 1


def test_a_line_that_is_not_json_is_refused_cleanly_by_a_write(json_cli) -> None:
    seed(json_cli)
    _relay_line(json_cli.ledger, 7, lambda tx: json.dumps(tx)[:-1] + ', "x"}')  # the head line, broken
    before = json_cli.ledger.read_bytes()
    result = json_cli("buy", "bob", "700")
    assert result.exit_code == 3
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1
    assert json_cli.ledger.read_bytes() == before


OPENINGS = {
    "an id key before the id": '{"id": "tx-99", "id": "custom", ',
    "an id key spaced otherwise": '{"id": "tx-99", "id":"custom", ',
    "the id escaped": '{"id": "\\u0063ustom", ',
}


@pytest.mark.parametrize("opening", OPENINGS.values(), ids=OPENINGS.keys())
def test_a_retry_finds_its_transaction_however_the_line_spells_its_id(json_cli, opening) -> None:
    seed(json_cli)
    gift = ("gift", "alice", "mia", "rose", "--id", "custom")
    assert json_cli(*gift).exit_code == 0
    assert json_cli("buy", "bob", "700").exit_code == 0
    _relay_line(json_cli.ledger, 8, lambda tx: json.dumps(tx).replace('{"id": "custom", ', opening, 1))
    assert json_cli("verify").exit_code == 0  # the same transaction, parsed: the chain holds
    retry = json_cli(*gift)
    assert retry.exit_code == 0, retry.output
    report = json_cli.json("verify")
    assert report["ok"] and report["transactions"] == 10  # the retry was a replay


@pytest.mark.xfail(
    strict=True,
    reason="the JSON reader takes a key given twice as its last value, and a write keeps an unchanged account's "
    "line as read: other JSON readers may take the first value; refusing duplicate keys needs an object_pairs_hook "
    "on every read (or a check of each kept line), not yet done",
)
def test_an_account_line_giving_a_key_twice_does_not_outlive_a_write_unnoticed(json_cli) -> None:
    seed(json_cli)
    text = json_cli.ledger.read_text()
    line = next(line for line in text.splitlines() if line.startswith('    "alice": {"coins": '))
    json_cli.ledger.write_text(text.replace(line, line.replace('{"coins": ', '{"coins": 99999, "coins": ', 1), 1))
    written = json_cli("buy", "bob", "700")
    kept = '"coins": 99999' in json_cli.ledger.read_text()
    assert written.exit_code == 3 or not kept or json_cli("verify").exit_code == 3
