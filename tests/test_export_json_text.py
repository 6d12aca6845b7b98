"""formats.export.transaction_json writes a transaction as indented_json writes its output(), for every layout."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coinpurse import Ledger
from coinpurse.core.model import transaction_from_dict
from coinpurse.formats.export import transaction_json
from coinpurse.speedups.indentjson import indented_json
from conftest import examples

GOLDEN = Path(__file__).parent / "golden" / "ledger-json.json"


def written_as_output(tx: Any) -> bool:
    return transaction_json(tx) == indented_json(tx.output(), level=2)


def test_every_kind_of_the_golden_ledger_is_written_as_its_output(tmp_path: Path) -> None:
    ledger = tmp_path / "l.json"
    shutil.copyfile(GOLDEN, ledger)
    history = Ledger.open(ledger).history().transactions
    assert {tx.kind for tx in history} == {"buy", "gift", "rates", "redeem"}
    assert all(written_as_output(tx) for tx in history)


def test_transactions_made_in_memory_are_written_as_their_output() -> None:
    ledger = Ledger.memory()
    ledger.buy("alice", 700, now="2026-03-01T12:00:00Z")
    ledger.gift("alice", "mia", "rose", count=5, now="2026-03-01T12:01:00Z")
    history = ledger.history().transactions
    assert len(history) == 2 and all(written_as_output(tx) for tx in history)


def a_stored_record() -> dict[str, Any]:
    document = json.loads(GOLDEN.read_text())
    record: dict[str, Any] = document["transactions"][14]  # a payout: diamonds and cash to the cent and below
    assert record["kind"] == "redeem" and record["after"]
    return record


ODD_LAYOUTS = [
    ("no state", lambda r: r.pop("state")),
    ("a state without its root", lambda r: r["state"].pop("root")),
    ("a state of no accounts", lambda r: r["state"].update(accounts={})),
    ("balances after with an extra key", lambda r: next(iter(r["after"].values())).update(extra=[1, {"a": None}])),
    (
        "balances after in the other order",
        lambda r: r["after"].update(
            {k: {"diamonds": v["diamonds"], "coins": v["coins"]} for k, v in r["after"].items()}
        ),
    ),
    ("no balances after", lambda r: r.update(after={})),
    ("no postings", lambda r: r.update(postings=[])),
    ("cash spelled otherwise", lambda r: r["postings"].append({"account": "x", "commodity": "USD", "amount": "1E+2"})),
    ("names that need escapes", lambda r: r["postings"][0].update(account='a "q" \\ é\u2028\x7f')),
]


@pytest.mark.parametrize(("name", "change"), ODD_LAYOUTS, ids=[name for name, _ in ODD_LAYOUTS])
def test_a_record_in_another_layout_is_written_as_its_output(name: str, change: Any) -> None:
    record = a_stored_record()
    change(record)
    assert written_as_output(transaction_from_dict(record))


@settings(max_examples=examples(100), deadline=None)
@given(
    names=st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=3),
    amounts=st.lists(st.integers(-(10**9), 10**9) | st.decimals(-(10**9), 10**9, places=4)),
)
def test_any_names_and_amounts_are_written_as_their_output(names: list[str], amounts: list[Any]) -> None:
    record = copy.deepcopy(a_stored_record())
    record["after"] = {name: {"coins": i, "diamonds": -i} for i, name in enumerate(names)}
    record["postings"] = [
        {"account": names[i % len(names)], "commodity": "COIN" if isinstance(amount, int) else "USD",
         "amount": amount if isinstance(amount, int) else str(amount)}
        for i, amount in enumerate(amounts)
    ]  # fmt: skip
    tx = transaction_from_dict(record)
    assert written_as_output(tx)
