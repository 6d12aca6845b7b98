"""`coinpurse export`: CSV, JSON, and a journal that the real hledger and ledger-cli balance like coinpurse."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from coinpurse import Ledger
from coinpurse.formats.export import journal_account
from ledger_tools import balances_by_account

TOOLS = [tool for tool in ("hledger", "ledger") if shutil.which(tool)]


def build_economy(cli) -> None:
    """Every kind of posting, including sub-cent cash from a payout rate that does not divide evenly."""
    for args in (
        ("buy", "alice", "700"),
        ("buy", "bob", "17500", "--channel", "web"),
        ("buy", "bob", "1234"),  # a custom amount
        ("gift", "alice", "mia", "rose", "-n", "5", "--stream", "launch; day|1"),
        ("gift", "bob", "mia", "interstellar"),
        ("rates", "set", "payout.cash_per_diamond", "0.0037", "payout.fee_percent", "2.5", "payout.minimum", "1.00"),
        ("gift", "bob", "noah", "galaxy", "-n", "3"),
        ("redeem", "mia", "--all"),
        ("redeem", "noah", "2999"),
    ):
        result = cli(*args)
        assert result.exit_code == 0, (args, result.stderr)


def coinpurse_balances(ledger: Path) -> dict[tuple[str, str], Decimal]:
    """What coinpurse holds per (journal account, commodity), zeros left out as the tools do."""
    handle = Ledger.open(ledger)
    users, rates = handle.balances(), handle.rates()
    found: dict[tuple[str, str], Decimal] = {}
    for name, state in [*((row.account, row.state) for row in users.accounts), *rates.platform.items()]:
        for commodity, amount in (("COIN", state.coins), ("DIAMOND", state.diamonds), (users.currency, state.cash)):
            if amount:
                found[(journal_account(name), commodity)] = Decimal(amount)
    return found


def tool_balances(tool: str, journal: Path) -> dict[tuple[str, str], Decimal]:
    if tool == "hledger":
        command = ["hledger", "-f", str(journal), "bal", "-O", "csv", "--flat", "-N", "--layout=bare"]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        rows = list(csv.reader(io.StringIO(out)))
        assert rows[0] == ["account", "commodity", "balance"]
        return {(a, c): Decimal(b) for a, c, b in rows[1:] if Decimal(b)}
    command = [
        "ledger", "-f", str(journal), "bal", "--flat", "--no-total", "--group-by", "commodity", "--no-titles",
        "--balance-format", "%(account)\t%(commodity(display_total))\t%(quantity(display_total))\n",
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        if line.strip():
            account, commodity, amount = line.split("\t")
            if Decimal(amount):
                found[(account, commodity)] = Decimal(amount)
    return found


def test_the_journal_is_balanced_by_the_real_tools_exactly_as_coinpurse(json_cli, tmp_path) -> None:
    if not TOOLS:
        pytest.skip("neither hledger nor ledger is installed (Debian packages hledger, ledger; .ci/run installs them)")
    build_economy(json_cli)
    journal = tmp_path / "economy.journal"
    assert json_cli("export", "--format", "journal", "-o", str(journal)).exit_code == 0
    expected = coinpurse_balances(json_cli.ledger)
    assert any(commodity == "USD" and amount % Decimal("0.01") for (_, commodity), amount in expected.items())
    assert ("users:alice", "COIN") in expected and ("platform:rounding", "USD") in expected
    for tool in TOOLS:
        assert tool_balances(tool, journal) == expected, tool


def test_the_journal_shape(json_cli) -> None:
    build_economy(json_cli)
    text = json_cli("export").stdout
    blocks = text.split("\n\n")
    assert blocks[0].splitlines()[0] == "; coinpurse journal export of ledger.json"
    assert blocks[1].splitlines() == [
        "account platform:coin-issue", "account platform:diamond-issue", "account platform:payouts",
        "account platform:revenue", "account platform:rounding",
        "account users:alice", "account users:bob", "account users:mia", "account users:noah",
    ]  # fmt: skip
    assert blocks[2:4] == ["commodity COIN\ncommodity DIAMOND\ncommodity USD", "tag id\ntag kind\ntag time"]
    assert blocks[4].splitlines() == [
        "2026-03-01 (tx-1) alice buys 700 coins on app",
        "    ; id: tx-1",
        "    ; kind: buy",
        "    ; time: 2026-03-01T12:00:00Z",
        "    users:alice            700 COIN = 700 COIN",
        "    platform:coin-issue    -700 COIN",
        "    users:alice            -9.99 USD",
        "    platform:revenue       9.99 USD",
    ]
    assert "alice sends 5 x Rose to mia on stream launch, day/1" in text  # ';' and '|' mean something there
    assert "    users:alice               -5 COIN = 695 COIN\n" in text
    assert "    users:mia                 -10003 DIAMOND = 2 DIAMOND\n" in text
    assert "; 2026-03-01 (tx-6) rates set: payout.cash_per_diamond 0.005 to 0.0037" in text
    assert text.endswith(" USD\n") and not text.endswith("\n\n")


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True)


def strict_checks(journal: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    """Each installed tool's strictest reading of the journal, and a plain balance report."""
    runs = {}
    if shutil.which("hledger"):
        runs["hledger check --strict"] = run_tool("hledger", "check", "--strict", "-f", str(journal))
        runs["hledger bal"] = run_tool("hledger", "-f", str(journal), "bal")
    if shutil.which("ledger"):
        runs["ledger --pedantic bal"] = run_tool("ledger", "--pedantic", "-f", str(journal), "bal")
        runs["ledger --strict bal"] = run_tool("ledger", "--strict", "-f", str(journal), "bal")
    return runs


def test_both_tools_accept_the_journal_strictly_and_recheck_every_balance(json_cli, tmp_path) -> None:
    if not TOOLS:
        pytest.skip("neither hledger nor ledger is installed (Debian packages hledger, ledger; .ci/run installs them)")
    build_economy(json_cli)
    journal = tmp_path / "economy.journal"
    assert json_cli("export", "-o", str(journal)).exit_code == 0
    text = journal.read_text()
    assert text.count(" = ") == 11  # every user's COIN and DIAMOND posting: assertions to check
    for name, run in strict_checks(journal).items():
        assert run.returncode == 0 and not run.stderr, (name, run.stderr)

    wrong = tmp_path / "wrong.journal"
    wrong.write_text(text.replace("-5 COIN = 695 COIN", "-5 COIN = 694 COIN"))
    for name, run in strict_checks(wrong).items():
        assert run.returncode != 0, name
        assert "694" in run.stderr and "assertion" in run.stderr.lower(), (name, run.stderr)


def test_the_last_assertion_of_each_user_is_their_balance(json_cli) -> None:
    build_economy(json_cli)
    last: dict[tuple[str, str], int] = {}
    for line in json_cli("export").stdout.splitlines():
        if " = " in line:
            account, _, commodity, _, balance, again = line.split()
            assert commodity == again
            last[(account, commodity)] = int(balance)
    expected = {
        key: int(amount)
        for key, amount in coinpurse_balances(json_cli.ledger).items()
        if key[0].startswith("users:") and key[1] != "USD"
    }
    assert {key: amount for key, amount in last.items() if amount} == expected


def test_an_account_the_declarations_miss_is_declared_before_its_first_entry(json_cli, tmp_path) -> None:
    from coinpurse.formats.export import to_journal

    build_economy(json_cli)
    transactions = Ledger.open(json_cli.ledger).history().transactions
    text = to_journal(transactions, "x", accounts=["alice"], currency="USD")
    assert "account users:alice\n" in text.split("\n\n2026")[0]
    assert "\naccount users:bob\n\n2026-03-01 (tx-2)" in text
    assert text.count("account users:mia") == 1
    journal = tmp_path / "partial.journal"
    journal.write_text(text)
    for name, run in strict_checks(journal).items():
        assert run.returncode == 0 and not run.stderr, (name, run.stderr)


def test_every_journal_entry_balances_per_commodity(json_cli) -> None:
    build_economy(json_cli)
    totals = balances_by_account(Ledger.open(json_cli.ledger).history().transactions)
    by_commodity: dict[str, Decimal] = {}
    for (_, commodity), amount in totals.items():
        by_commodity[commodity] = by_commodity.get(commodity, Decimal(0)) + amount
    assert set(by_commodity.values()) == {0}
    assert {k: Decimal(v) for k, v in totals.items() if v} == coinpurse_balances(json_cli.ledger)


def test_csv_has_a_row_per_posting(cli) -> None:
    build_economy(cli)
    rows = list(csv.DictReader(io.StringIO(cli("export", "--format", "csv").stdout)))
    history = cli.json("history")["transactions"]
    assert len(rows) == sum(len(tx["postings"]) for tx in history)
    assert rows[0] == {
        "id": "tx-1",
        "at": "2026-03-01T12:00:00Z",
        "kind": "buy",
        "account": "alice",
        "commodity": "COIN",
        "amount": "700",
    }
    usd = sum(Decimal(r["amount"]) for r in rows if r["commodity"] == "USD")
    assert usd == 0


def test_json_export_holds_every_transaction(cli, tmp_path) -> None:
    build_economy(cli)
    target = tmp_path / "out.json"
    report = cli.json("export", "--format", "json", "-o", str(target))
    data = json.loads(target.read_text())
    assert report["transactions"] == len(data["transactions"]) == 9
    assert data["transactions"] == cli.json("history")["transactions"]
    assert data["currency"] == "USD"


def test_the_format_follows_the_output_suffix(json_cli, tmp_path) -> None:
    json_cli("buy", "alice", "700")
    assert json_cli.json("export", "-o", str(tmp_path / "x.csv"))["format"] == "csv"
    assert json_cli.json("export", "-o", str(tmp_path / "x.json"))["format"] == "json"
    assert json_cli.json("export", "-o", str(tmp_path / "x.journal"))["format"] == "journal"
    assert json_cli.json("export", "-o", str(tmp_path / "x.txt"), "--format", "csv")["format"] == "csv"
    assert (tmp_path / "x.csv").read_text().startswith("id,at,kind")


def test_export_refusals(cli, tmp_path) -> None:
    cli("buy", "alice", "700")
    before = cli.ledger.read_bytes()
    no_file = cli("export", "--json")
    assert no_file.exit_code == 2 and "give -o FILE" in no_file.stderr
    bad = cli("export", "--format", "xml")
    assert bad.exit_code == 2
    folder = cli("export", "-o", str(tmp_path / "missing" / "x.journal"))
    assert folder.exit_code == 2
    assert cli.ledger.read_bytes() == before


def test_an_empty_ledger_exports_headers_only(json_cli) -> None:
    assert json_cli("export", "--format", "csv").stdout == "id,at,kind,account,commodity,amount\n"
    assert not json_cli.ledger.exists()


def test_exports_never_overwrite_the_ledger(cli) -> None:
    cli("buy", "alice", "700")
    before = cli.ledger.read_bytes()
    for args in (("export", "--format", "json", "-o", str(cli.ledger)), ("rates", "export", str(cli.ledger))):
        result = cli(*args)
        assert result.exit_code == 2
        assert "is the ledger itself" in result.stderr
        assert cli.ledger.read_bytes() == before


def test_an_export_that_cannot_be_written_is_bad_input_naming_the_file(cli, tmp_path) -> None:
    cli("buy", "alice", "700")
    before = cli.ledger.read_bytes()
    target = tmp_path / "no-such-folder" / "out.csv"
    for args in (("export", "-o", str(target)), ("rates", "export", str(target.with_suffix(".toml")))):
        result = cli(*args)
        assert result.exit_code == 2
        assert result.stderr.splitlines() == [
            f"coinpurse: error: can't write {target.with_suffix(target.suffix if args[0] == 'export' else '.toml')}: No such file or directory"
        ]
        assert cli.ledger.read_bytes() == before


class Writes:
    """A text stream that keeps each write."""

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def write(self, text: str) -> int:
        self.pieces.append(text)
        return len(text)


@pytest.mark.parametrize("fmt", ["csv", "journal", "json"])
def test_an_export_is_written_in_pieces_as_it_is_read_and_is_the_same_text(cli, tmp_path, monkeypatch, fmt) -> None:
    from coinpurse.formats import export as formats

    build_economy(cli)
    whole = Ledger.open(cli.ledger).export(fmt)
    monkeypatch.setattr(formats, "CHUNK_CHARS", 1)  # every transaction a piece of its own
    stream = Writes()
    streamed = Ledger.open(cli.ledger).export(fmt, stream=stream)
    assert len(stream.pieces) >= 8 and "".join(stream.pieces) == whole.text
    assert streamed.text is None and streamed.size == whole.size == len(whole.text.encode())
    assert (streamed.transactions, streamed.postings) == (whole.transactions, whole.postings) == (9, 36)
    target = tmp_path / f"out.{fmt}"
    report = cli.json("export", "--format", fmt, "-o", str(target))
    assert target.read_text() == whole.text and report["bytes"] == target.stat().st_size
    assert cli("export", "--format", fmt).stdout == whole.text


def test_the_json_export_is_the_document_json_dumps_writes(json_cli) -> None:
    from coinpurse.core.safetext import json_dumps

    assert json_cli("export", "--format", "json").stdout == '{\n  "currency": "USD",\n  "transactions": []\n}\n'
    build_economy(json_cli)
    history = Ledger.open(json_cli.ledger).history().transactions
    document = {"currency": "USD", "transactions": [tx.output() for tx in history]}
    assert json_cli("export", "--format", "json").stdout == json_dumps(document, indent=2) + "\n"


def test_a_record_found_damaged_midway_leaves_the_output_file_as_it_was(tmp_path, monkeypatch) -> None:
    import sqlite3
    from contextlib import closing

    from coinpurse.formats import export as formats
    from conftest import Cli

    cli = Cli(tmp_path / "l.sqlite")
    build_economy(cli)
    with closing(sqlite3.connect(cli.ledger)) as db, db:
        body = json.loads(db.execute("SELECT body FROM transactions WHERE seq = 9").fetchone()[0])
        body["postings"] = "none"
        db.execute("UPDATE transactions SET body = ? WHERE seq = 9", (json.dumps(body),))
    monkeypatch.setattr(formats, "CHUNK_CHARS", 1)  # the first transactions are written before the damage is found
    out = tmp_path / "out" / "history.csv"
    out.parent.mkdir()
    out.write_text("the last export\n")
    for fmt in ("csv", "journal", "json"):
        result = cli("export", "--format", fmt, "-o", str(out))
        assert result.exit_code == 3 and "transaction 9" in result.stderr, result.stderr
        assert out.read_text() == "the last export\n"
        assert sorted(p.name for p in out.parent.iterdir()) == ["history.csv"]  # no temp file left


def test_export_and_convert_report_progress(cli, tmp_path) -> None:
    build_economy(cli)
    calls: list[tuple[int, int]] = []
    Ledger.open(cli.ledger).export(
        "journal", stream=Writes(), on_progress=lambda done, total: calls.append((done, total))
    )
    assert calls == [(9, 9)]
    calls.clear()
    Ledger.open(cli.ledger).convert(tmp_path / "copy.json", on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(9, 9)]


def test_a_ledger_with_a_reversal_is_balanced_by_the_real_tools_exactly_as_coinpurse(json_cli, tmp_path) -> None:
    if not TOOLS:
        pytest.skip("neither hledger nor ledger is installed (Debian packages hledger, ledger; .ci/run installs them)")
    build_economy(json_cli)
    assert json_cli("gift", "bob", "mia", "rose", "-n", "70").exit_code == 0  # tx-10
    result = json_cli("reverse", "tx-10", "--reason", "sent by mistake")
    assert result.exit_code == 0, result.stderr
    journal = tmp_path / "economy.journal"
    assert json_cli("export", "-o", str(journal)).exit_code == 0
    assert "; kind: reversal" in journal.read_text()
    for tool in TOOLS:
        assert tool_balances(tool, journal) == coinpurse_balances(json_cli.ledger), tool


def test_the_tools_balance_a_ledger_with_a_refund_with_clawback_as_coinpurse(json_cli, tmp_path) -> None:
    if not TOOLS:
        pytest.skip("neither hledger nor ledger is installed (Debian packages hledger, ledger; .ci/run installs them)")
    build_economy(json_cli)
    for args in (("refund", "tx-2", "--clawback"), ("refund", "tx-3", "--clawback")):  # mia already redeemed: she owes
        result = json_cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
    journal = tmp_path / "refunded.journal"
    assert json_cli("export", "-o", str(journal)).exit_code == 0
    assert "refunded buy tx-2 with clawback" in journal.read_text()
    expected = coinpurse_balances(json_cli.ledger)
    assert expected[("users:mia", "DIAMOND")] < 0
    for tool in TOOLS:
        assert tool_balances(tool, journal) == expected, tool
    for name, run in strict_checks(journal).items():
        assert run.returncode == 0 and not run.stderr, (name, run.stderr)


def test_the_tools_balance_a_ledger_with_held_payouts_as_coinpurse(json_cli, tmp_path, monkeypatch) -> None:
    if not TOOLS:
        pytest.skip("neither hledger nor ledger is installed (Debian packages hledger, ledger; .ci/run installs them)")
    build_economy(json_cli)
    assert json_cli("gift", "bob", "mia", "galaxy", "-n", "5").exit_code == 0  # 5,000 diamonds: $18.50
    holds = [json.loads(json_cli("redeem", "mia", "1000", "--hold", "--json").stdout)["id"] for _ in range(4)]
    for args in (
        ("payout", "approve", holds[0]),
        ("payout", "approve", holds[1]),
        ("payout", "return", holds[1], "--reason", "bank sent it back"),
        ("payout", "reject", holds[2], "--reason", "checks"),
    ):
        result = json_cli(*args)
        assert result.exit_code == 0, (args, result.stderr)
    json_cli("redeem", "noah", "1000", "--hold")
    monkeypatch.setenv("COINPURSE_NOW", "2026-04-01T00:00:00Z")
    assert json_cli("payout", "expire").exit_code == 0  # holds[3] and noah's: released
    assert json_cli("redeem", "mia", "1000", "--hold").exit_code == 0  # one still pending
    journal = tmp_path / "held.journal"
    assert json_cli("export", "-o", str(journal)).exit_code == 0
    text = journal.read_text()
    for kind in ("payout-hold", "payout-approve", "payout-return", "payout-reject", "payout-expire"):
        assert f"; kind: {kind}" in text, kind
    expected = coinpurse_balances(json_cli.ledger)
    assert expected[("platform:payouts-pending:mia", "DIAMOND")] == 1000
    for tool in TOOLS:
        assert tool_balances(tool, journal) == expected, tool
    for name, run in strict_checks(journal).items():
        assert run.returncode == 0 and not run.stderr, (name, run.stderr)


def test_a_journal_from_since_opens_with_the_balances_then_and_the_real_tools_recheck_it(
    json_cli, tmp_path, monkeypatch
) -> None:
    if not TOOLS:
        pytest.skip("neither hledger nor ledger is installed (Debian packages hledger, ledger; .ci/run installs them)")
    build_economy(json_cli)  # on 2026-03-01
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-02T12:00:00Z")
    for args in (("gift", "alice", "mia", "rose", "-n", "7"), ("buy", "carol", "70"), ("refund", "tx-3")):
        assert json_cli(*args).exit_code == 0, args
    journal = tmp_path / "since.journal"
    assert json_cli("export", "--since", "2026-03-02", "-o", str(journal)).exit_code == 0
    text = journal.read_text()
    assert "2026-03-02 (opening) balances at 2026-03-02T00:00:00Z" in text
    opening = text.split("(opening)")[1].split("\n\n")[0]
    assert "users:alice 695 COIN = 695 COIN" in " ".join(opening.split())  # her balance then, asserted
    assert "(tx-9)" not in text and "(tx-10)" in text
    for name, run in strict_checks(journal).items():
        assert run.returncode == 0 and not run.stderr, (name, run.stderr)
    for tool in TOOLS:
        assert tool_balances(tool, journal) == coinpurse_balances(json_cli.ledger), tool
