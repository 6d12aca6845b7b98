"""Nothing outside the chain is trusted: head checks on every write, the JSON history checksum,
ledgers from before states were recorded, and anchors against a full rewrite.

The refusals run as real processes (`python -m coinpurse`), as a user or a script would meet them.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXED_NOW, Cli, another_ledger
from ledger_tools import in_tables, load, put_in_place, save, seed

pytestmark = pytest.mark.faults
FIXTURE = Path(__file__).with_name("fixtures") / "ledger-v1.json"
HISTORY_OPENER = '\n  "transactions": [\n'


def run(ledger: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COINPURSE_NOW": FIXED_NOW, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def assert_refused_unchanged(ledger: Path, *args: str, says: str) -> None:
    """The write exits 3 with one line naming the file and what disagrees, and changes no byte."""
    before = ledger.read_bytes()
    result = run(ledger, *args)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"coinpurse: error: {ledger}: ")
    assert says in result.stderr and "coinpurse verify" in result.stderr, result.stderr
    assert ledger.read_bytes() == before


def edit_head_text(ledger: Path, old: str, new: str) -> None:
    """A hand edit of a JSON ledger's head, leaving its history lines (and their checksum) as they are."""
    text = ledger.read_text()
    head, opener, history = text.partition(HISTORY_OPENER)
    assert head.count(old) == 1, old
    ledger.write_text(head.replace(old, new) + opener + history)


def edit_document(ledger: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    document = load(ledger)
    edit(document)
    save(ledger, document)


# ----- rates ---------------------------------------------------------------------------


def test_an_edited_package_price_in_the_head_of_a_ledger_started_by_buy_is_refused(cli) -> None:
    assert cli("buy", "alice", "700").exit_code == 0  # the Quickstart way: no rates transaction
    ledger = cli.ledger
    if ledger.suffix == ".json":
        edit_head_text(
            ledger, '"coins": 17500,\n            "price": "249.99"', '"coins": 17500,\n            "price": "2.49"'
        )
    else:

        def cheaper(document: dict[str, Any]) -> None:
            packages = document["rates"]["channels"]["app"]["packages"]
            next(p for p in packages if p["coins"] == 17500)["price"] = "2.49"

        edit_document(ledger, cheaper)
    assert_refused_unchanged(ledger, "buy", "bob", "17500", says="the rates in force are not the ones")
    verified = run(ledger, "verify")
    assert verified.returncode == 3
    assert "the rates it records are not those in force after it" in verified.stderr


@pytest.mark.parametrize("write", [("buy", "bob", "700"), ("gift", "alice", "mia", "rose")])
def test_an_edited_currency_in_the_head_is_refused_by_every_write(cli, write: tuple[str, ...]) -> None:
    """The currency names what every price is in: a write built on an edited one posted a second currency."""
    assert cli("buy", "alice", "700").exit_code == 0
    ledger = cli.ledger
    if ledger.suffix == ".json":
        edit_head_text(ledger, '"currency": "USD"', '"currency": "EUR"')
    else:
        edit_document(ledger, lambda document: document.update(currency="EUR"))
    assert_refused_unchanged(ledger, *write, says="or the currency EUR is not")
    verified = run(ledger, "verify")
    assert verified.returncode == 3
    assert "the rates it records are not those in force after it" in verified.stderr


def test_the_rates_digest_covers_the_currency_and_keeps_the_digests_of_usd_ledgers() -> None:
    from dataclasses import replace

    from coinpurse.core.chain import rates_digest
    from coinpurse.core.rates import default_rates

    rates = default_rates()
    assert rates_digest(rates, "EUR") != rates_digest(rates, "USD") == rates_digest(rates)
    # Rates that set no store fee digest as before the currency (and the store fee) was covered.
    unset = replace(rates, channels=tuple(c._replace(store_fee_percent=None) for c in rates.channels))
    assert rates_digest(unset) == "a130fb66a975931c7cc79c4a96c38b8f"
    assert rates_digest(rates) != rates_digest(unset)  # the defaults set the app's and the web's store fee


# ----- stored accounts -------------------------------------------------------------------

# name -> (JSON head text, replacement, the same edit on the document, a write that touches the account)
ACCOUNT_EDITS: dict[str, tuple[str, str, Callable[[dict[str, Any]], None], tuple[str, ...]]] = {
    "coins": (
        '"alice": {"coins": 695,', '"alice": {"coins": 69500,',
        lambda d: d["accounts"]["alice"].update(coins=69500),
        ("gift", "alice", "mia", "rose"),
    ),
    "lots": (
        '["tx-1", 695, "9.919"]', '["tx-1", 695, "0.001"]',
        lambda d: d["accounts"]["alice"]["lots"][0].__setitem__(2, "0.001"),
        ("gift", "alice", "mia", "rose"),
    ),
    "payout total": (
        '"total": "100.00"', '"total": "0.00"',
        lambda d: d["accounts"]["mia"]["payouts"].update(total="0.00"),
        ("gift", "bob", "mia", "rose"),
    ),
    "platform cash": (
        '"cash": "297.47"', '"cash": "0.47"',
        lambda d: d["accounts"]["platform:revenue"].update(cash="0.47"),
        ("buy", "carol", "70"),
    ),
    "deleted": (
        '    "mia": {"coins": 0, "diamonds": 5, "cash": "100.00", "payouts": {"day": "2026-03-01", "total": "100.00"}},\n', "",
        lambda d: d["accounts"].pop("mia"),
        ("gift", "bob", "mia", "rose"),
    ),
    "added": (
        '    "bob": {', '    "eve": {"coins": 50000, "diamonds": 0, "cash": "0"},\n    "bob": {',
        lambda d: d["accounts"].update(eve={"coins": 50000, "diamonds": 0, "cash": "0"}),
        ("gift", "eve", "mia", "rose"),
    ),
}  # fmt: skip


def _seeded(cli: Cli) -> None:
    for args in (
        ("buy", "alice", "700"),
        ("gift", "alice", "mia", "rose", "-n", "5"),
        ("buy", "bob", "17500"),
        ("buy", "bob", "3500", "--channel", "web"),
        ("gift", "bob", "mia", "interstellar", "-n", "2"),
        ("redeem", "mia", "20000"),
    ):
        assert cli(*args).exit_code == 0, args


@pytest.mark.parametrize("edit", list(ACCOUNT_EDITS))
def test_an_edited_stored_account_is_refused_by_the_next_write_touching_it(cli, edit: str) -> None:
    _seeded(cli)
    old, new, edit_document_of, write = ACCOUNT_EDITS[edit]
    if cli.ledger.suffix == ".json":
        edit_head_text(cli.ledger, old, new)
    else:
        edit_document(cli.ledger, edit_document_of)
    assert_refused_unchanged(cli.ledger, *write, says="account")


def test_a_write_not_touching_an_edited_account_checks_it_where_it_reads_it_and_verify_still_fails(cli) -> None:
    """A JSON or TOML write reads every account (its root covers them all), so it refuses;
    a SQLite write reads only the rows it touches, and the tree still holds the chain's digest."""
    _seeded(cli)
    old, new, edit, _ = ACCOUNT_EDITS["coins"]
    if cli.ledger.suffix == ".json":
        edit_head_text(cli.ledger, old, new)  # the history as written: its lines are trusted
    else:
        edit_document(cli.ledger, edit)  # on SQLite, the row alone
    if in_tables(cli.ledger):
        assert run(cli.ledger, "buy", "dave", "70").returncode == 0
    else:
        assert_refused_unchanged(cli.ledger, "buy", "dave", "70", says="account 'alice'")
    verified = run(cli.ledger, "verify")
    assert verified.returncode == 3 and "stored coins 69500 but the history gives 695" in verified.stderr


# ----- a JSON history damaged in the middle ------------------------------------------------

HISTORY_DAMAGE: dict[str, Callable[[str], str]] = {
    "postings garbage": lambda line: re.sub(
        r'"postings": \[.*?\], "details"', '"postings": "garbage", "details"', line
    ),
    "missing key": lambda line: re.sub(r', "details": \{.*?\}, "after"', ', "after"', line),
    "bad hash": lambda line: re.sub(r'"hash": "[0-9a-f]{64}"', '"hash": "' + "ab" * 32 + '"', line),
    "edited amount": lambda line: line.replace('"amount": 17500}', '"amount": 175000}', 1),
}


@pytest.mark.parametrize("damage", list(HISTORY_DAMAGE))
def test_a_json_write_never_goes_over_a_damaged_middle_history(json_cli, damage: str) -> None:
    _seeded(json_cli)
    text = json_cli.ledger.read_text()
    head, opener, history = text.partition(HISTORY_OPENER)
    lines = history.split(",\n")
    damaged = HISTORY_DAMAGE[damage](lines[2])  # tx-3, bob's 17500 package
    assert damaged != lines[2]
    json_cli.ledger.write_text(head + opener + ",\n".join([*lines[:2], damaged, *lines[3:]]))
    assert_refused_unchanged(json_cli.ledger, "buy", "carol", "70", says="transaction")


def test_a_json_file_in_another_layout_is_checked_whole_then_written_in_its_own(json_cli) -> None:
    _seeded(json_cli)
    json_cli.ledger.write_text(json.dumps(json.loads(json_cli.ledger.read_text()), indent=4))
    assert run(json_cli.ledger, "buy", "carol", "70").returncode == 0
    assert run(json_cli.ledger, "verify").returncode == 0
    assert json_cli.ledger.read_text().count('{"id": "tx-') == 7  # one transaction a line again


def test_the_history_checksum_covers_the_lines_and_is_kept_up_to_date(json_cli) -> None:
    import hashlib

    for count in ("70", "350"):
        assert run(json_cli.ledger, "buy", "alice", count).returncode == 0
        text = json_cli.ledger.read_text()
        head, _, history = text.partition(HISTORY_OPENER)
        lines = history.removesuffix("\n  ]\n}\n")
        assert json.loads(head + '"transactions": []}')["history_sha256"] == hashlib.sha256(lines.encode()).hexdigest()


def test_toml_writes_check_every_record_and_link(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.toml"
    _seeded(Cli(ledger))
    edit_document(ledger, lambda d: d["transactions"][2].update(hash="ab" * 32))
    assert_refused_unchanged(ledger, "buy", "carol", "70", says="does not match its hash")
    edit_document(ledger, lambda d: d["transactions"][2].update(postings="garbage", hash=d["transactions"][2]["hash"]))
    before = ledger.read_bytes()
    assert run(ledger, "buy", "carol", "70").returncode == 3
    assert ledger.read_bytes() == before


# ----- ledgers written before transactions recorded their state ------------------------------


def _schema_2_document() -> dict[str, Any]:
    """The v1 fixture as version 2 wrote it: hashed, no states."""
    from coinpurse.storage.document import migrate

    document, _ = migrate(json.loads(FIXTURE.read_text()))
    return {**document, "schema": 2}


@pytest.fixture(params=["v1 json", "v2 json", "v2 toml", "v2 sqlite"])
def old_ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    version, fmt = request.param.split()
    ledger = tmp_path / f"old.{fmt}"
    if version == "v1":
        shutil.copyfile(FIXTURE, ledger)
    else:
        if fmt == "sqlite":
            ledger.touch()  # ledger_tools replaces a file
        save(ledger, _schema_2_document())
    return ledger


def test_an_old_ledger_reads_verifies_and_its_first_write_records_a_checkpoint(old_ledger: Path) -> None:
    before = old_ledger.read_bytes()
    assert run(old_ledger, "verify").returncode == 0
    history = run(old_ledger, "history", "--json")
    assert history.returncode == 0
    assert {tx["state"] for tx in json.loads(history.stdout)["transactions"]} == {None}
    assert old_ledger.read_bytes() == before  # reads never write

    bought = run(old_ledger, "buy", "alice", "70", "--json")
    assert bought.returncode == 0, bought.stderr
    assert json.loads(bought.stdout)["id"] == "tx-10"
    document = load(old_ledger)
    assert document["schema"] == 5 or old_ledger.suffix == ".sqlite"  # the SQLite tables keep their own version
    checkpoint, new = document["transactions"][8:]
    assert (checkpoint["kind"], checkpoint["details"]["source"], checkpoint["details"]["changes"]) == (
        "rates",
        "checkpoint",
        [],
    )
    assert checkpoint["at"] == document["transactions"][7]["at"]
    assert set(checkpoint["state"]["accounts"]) == set(load_accounts_before(before, old_ledger))
    assert set(new["state"]["accounts"]) == {"alice", "platform:coin-issue", "platform:revenue"}
    assert run(old_ledger, "verify").returncode == 0
    if old_ledger.suffix != ".sqlite":
        version = 1 if before == FIXTURE.read_bytes() else 2
        assert old_ledger.with_name(f"{old_ledger.name}.v{version}.bak").read_bytes() == before
    # From now on the head is checked against the checkpoint.
    edit_document(old_ledger, lambda d: d["accounts"]["bob"].update(coins=1))
    assert_refused_unchanged(old_ledger, "gift", "bob", "mia", "rose", says="account 'bob'")


def load_accounts_before(data: bytes, ledger: Path) -> dict[str, Any]:
    copy = ledger.with_name("before" + ledger.suffix)
    copy.write_bytes(data)
    return load(copy)["accounts"]


def test_an_old_ledger_that_does_not_verify_is_not_written(old_ledger: Path) -> None:
    edit_document(old_ledger, lambda d: d["rates"]["payout"].update(minimum="5.00"))  # the head only
    if old_ledger.suffix == ".json":
        assert run(old_ledger, "verify").returncode == 3
    before = old_ledger.read_bytes()
    result = run(old_ledger, "redeem", "mia", "--all")
    assert result.returncode == 3, result.stderr
    assert "coinpurse verify" in result.stderr
    assert old_ledger.read_bytes() == before


def test_a_retry_on_an_old_ledger_writes_nothing_not_even_the_checkpoint(tmp_path: Path) -> None:
    ledger = tmp_path / "old.json"
    shutil.copyfile(FIXTURE, ledger)
    first_id = json.loads(FIXTURE.read_text())["transactions"][0]["id"]
    stored = json.loads(FIXTURE.read_text())["transactions"][0]["request"]
    result = run(
        ledger, "buy", stored["account"], str(stored["coins"]), "--channel", stored["channel"], "--id", first_id
    )
    assert result.returncode == 0, result.stderr
    assert ledger.read_bytes() == FIXTURE.read_bytes()


# ----- anchors ------------------------------------------------------------------------------


def test_a_forged_rewrite_passes_plain_verify_but_not_an_anchor(cli, tmp_path: Path) -> None:
    seed(cli)
    head = json.loads(run(cli.ledger, "verify", "--json").stdout)["head_hash"]
    # The forger replays the same requests through the rules with one gift redirected and a payout dropped,
    # so every hash, balance and state is consistent, and puts the result in place of the ledger.
    forged = Cli(another_ledger(cli.ledger, tmp_path, "forged"))
    for args in (
        ("buy", "alice", "700"),
        ("gift", "alice", "zed", "rose", "-n", "5"),
        ("buy", "bob", "17500"),
        ("buy", "bob", "3500", "--channel", "web"),
        ("gift", "bob", "mia", "interstellar", "-n", "2"),
        ("buy", "carol", "1234", "--channel", "web"),
        ("gift", "carol", "mia", "finger heart", "-n", "3"),
    ):
        assert forged(*args).exit_code == 0
    put_in_place(forged.ledger, cli.ledger)

    assert run(cli.ledger, "verify").returncode == 0
    anchored = run(cli.ledger, "verify", "--anchor", head, "--json")
    assert anchored.returncode == 3
    report = json.loads(anchored.stdout)
    assert report["ok"] is False and report["first_problem"]["code"] == "anchor_not_found"
    assert report["anchors"] == [{"hash": head, "transaction": None, "position": None}]
    assert json.loads(anchored.stderr)["error"]["code"] == "verify_anchor_not_found"


def test_an_anchor_in_the_chain_passes_and_a_later_write_keeps_it(cli) -> None:
    seed(cli)
    third = load(cli.ledger)["transactions"][2]["hash"]
    head = load(cli.ledger)["transactions"][-1]["hash"]
    assert run(cli.ledger, "buy", "dave", "70").returncode == 0
    result = run(cli.ledger, "verify", "--anchor", third, "--anchor", head.upper())
    assert result.returncode == 0, result.stderr
    assert f"anchor {third[:12]}… is 'tx-3' (#3)" in result.stdout and "'tx-8' (#8)" in result.stdout


@pytest.mark.parametrize("anchor", ["abc", "g" * 64, ""])
def test_an_anchor_that_is_not_a_hash_is_bad_input(cli, anchor: str) -> None:
    seed(cli)
    result = run(cli.ledger, "verify", "--anchor", anchor)
    assert result.returncode == 2 and "not a transaction hash" in result.stderr
