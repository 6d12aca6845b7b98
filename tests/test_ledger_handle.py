"""The library handle: Ledger.open(path) and Ledger.memory(), a method per operation, batches and parsed ops."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from coinpurse import Ledger
from coinpurse.core import requests as rq
from coinpurse.core.rates_edit import RatesChange
from coinpurse.errors import BadInput, CoinpurseError, Refused
from coinpurse.ledger import export_format_of
from conftest import another_ledger

NOW = "2026-03-01T12:00:00Z"  # the tests' fixed clock (conftest)


def test_each_method_gives_what_its_command_prints_as_json(cli, ledger: Path, tmp_path: Path) -> None:
    twin = Ledger.open(another_ledger(ledger, tmp_path, "twin"))

    def same(result: Any, *args: str) -> None:
        data, printed = result.to_dict(), cli.json(*args)
        if "ledger" in data:
            assert (data["ledger"], printed["ledger"]) == (str(twin.path), str(ledger))
            data["ledger"] = printed["ledger"]
        assert data == printed, args

    same(twin.init(), "init")
    same(twin.buy("alice", 700), "buy", "alice", "700")
    same(
        twin.buy("bob", "35000", channel="web", id="order-1"),
        "buy",
        "bob",
        "35000",
        "--channel",
        "web",
        "--id",
        "order-1",
    )
    same(
        twin.gift("alice", "mia", "Rose", count=5, stream="s1"),
        "gift",
        "alice",
        "mia",
        "Rose",
        "-n",
        "5",
        "--stream",
        "s1",
    )
    same(twin.gift("bob", "mia", "interstellar", count=2), "gift", "bob", "mia", "interstellar", "-n", "2")
    same(twin.redeem("mia", 20000), "redeem", "mia", "20000")
    same(twin.balance("mia"), "balance", "mia")
    same(twin.balances(), "balance")
    same(twin.rates(), "rates")
    same(twin.history(), "history")
    same(twin.history("mia", kind="GIFT", limit=1), "history", "mia", "--kind", "gift", "--limit", "1")
    same(twin.gifters("mia"), "gifters", "mia")
    same(twin.rates_set({"gift.Rose.coins": "2"}), "rates", "set", "gift.Rose.coins", "2")
    twin_rates, cli_rates = tmp_path / "twin-rates.toml", tmp_path / "cli-rates.toml"
    assert twin.rates_export(twin_rates).to_dict()["bytes"] > 0
    assert cli("rates", "export", str(cli_rates)).exit_code == 0
    same(twin.rates_import(cli_rates), "rates", "import", str(cli_rates))
    same(twin.verify(), "verify")
    assert twin.export().text.replace(twin.path.name, "NAME") == cli("export").stdout.replace(ledger.name, "NAME")


def test_apply_init_demo_convert_and_export_report_as_the_commands_do(cli, ledger: Path, tmp_path: Path) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "scenario.json"
    twin = Ledger.open(another_ledger(ledger, tmp_path, "twin"))
    applied = twin.apply(example).to_dict()
    expected = cli.json("apply", str(example))
    assert {**applied, "ledger": "L"} == {**expected, "ledger": "L"}
    demo = twin.demo(force=True).to_dict()
    assert {**demo, "ledger": "L"} == {**cli.json("demo", "--force"), "ledger": "L"}
    copy = tmp_path / "copy.sqlite"
    done = twin.convert(copy).to_dict()
    assert done["transactions"] == len(twin.history().transactions) and done["format"] == "sqlite"
    assert Ledger.open(copy).verify().ok
    with pytest.raises(Refused):
        twin.convert(copy)  # convert writes only new ledgers
    written = twin.export(output=tmp_path / "out.csv").to_dict()
    assert written["format"] == "csv" and (tmp_path / "out.csv").read_text().startswith(twin.export("csv").text[:20])
    with pytest.raises(Refused):
        twin.init()  # the ledger exists


def test_export_takes_its_format_from_the_output_suffix_unless_told() -> None:
    assert export_format_of(Path("out.CSV")) == "csv"
    assert export_format_of(Path("out.json")) == "json"
    assert export_format_of(Path("out.journal")) == "journal"
    assert export_format_of(Path("out.txt")) == "journal"
    assert export_format_of(None) == "journal"


def test_two_handles_on_one_path_can_both_write_while_open(cli, ledger: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINPURSE_LOCK_TIMEOUT", "1")  # a held lock fails fast instead of hanging the test
    with Ledger.open(ledger) as first, Ledger.open(str(ledger)) as second:
        first.buy("alice", 700)
        second.buy("bob", 700)
        first.gift("bob", "mia", "Rose")
        assert cli("buy", "carol", "70").exit_code == 0  # the command too: no handle holds the lock
        second.gift("alice", "mia", "Rose", count=2)
        assert first.balance("mia").state.diamonds == 3
    assert [tx.kind for tx in Ledger.open(ledger).history().transactions] == ["buy", "buy", "gift", "buy", "gift"]


def test_a_batch_is_saved_once_at_the_end(ledger: Path) -> None:
    other = Ledger.open(ledger)
    with Ledger.open(ledger).batch() as batch:
        first = batch.buy("alice", 700)
        batch.gift("alice", "mia", "Rose", count=5)
        assert batch.balance("mia").state.diamonds == 5 and batch.state("Alice").coins == 695
        assert batch.state("nobody").coins == 0
        assert first.to_dict()["at"] == NOW
        assert not ledger.exists() or other.history().transactions == []  # nothing is saved yet
    assert len(other.history().transactions) == 2
    assert other.verify().ok
    with pytest.raises(ValueError, match="batch has ended"):
        batch.buy("late", 70)  # its lock is gone: a kept batch can't write


def test_a_batch_is_all_or_nothing(ledger: Path) -> None:
    handle = Ledger.open(ledger)
    handle.buy("alice", 70)
    with pytest.raises(Refused), handle.batch() as batch:
        batch.buy("bob", 700)
        batch.gift("alice", "mia", "Rose", count=1000)  # more coins than alice has
    with pytest.raises(RuntimeError), handle.batch() as batch:
        batch.buy("bob", 700)
        raise RuntimeError("the script failed midway")
    assert [tx.id for tx in handle.history().transactions] == ["tx-1"]
    with handle.batch() as batch:
        batch.buy("bob", 700)
        with pytest.raises(Refused):
            batch.gift("alice", "mia", "Rose", count=1000)  # caught: it changed nothing, the rest still counts
        batch.gift("bob", "mia", "Rose", count=2, now="2026-03-02T00:00:00Z")
    assert [(tx.kind, tx.at) for tx in handle.history().transactions][1:] == [
        ("buy", NOW),
        ("gift", "2026-03-02T00:00:00Z"),
    ]


def test_a_dry_run_batch_writes_nothing(ledger: Path) -> None:
    handle = Ledger.open(ledger)
    handle.buy("alice", 70)
    with handle.batch(dry_run=True) as batch:
        batch.buy("bob", 700)
        batch.rates_set({"gift.Rose.coins": "3"})
        assert batch.balances().to_dict()["totals"]["coins"] == 770
    assert handle.balances().to_dict()["totals"]["coins"] == 70
    assert {"name": "Rose", "coins": 1} in handle.rates().to_dict()["gifts"]


def test_apply_takes_ops_already_parsed(ledger: Path) -> None:
    handle = Ledger.open(ledger)
    ops: list[Any] = [
        {"kind": "buy", "account": "alice", "coins": 17500, "id": "o-1"},
        rq.Gift.make("alice", "mia", "Interstellar", 1, None, "o-2"),
        {"kind": "rates", "set": {"gift.Rose.coins": "2"}},
        RatesChange.make({"payout.minimum": "10.00"}),
        {"kind": "redeem", "account": "mia", "all": True},
    ]
    report = handle.apply(ops)
    data = report.to_dict()
    assert data["file"] is None and data["count"] == 5 and data["written"]
    assert [op["kind"] for op in data["ops"]] == ["buy", "gift", "rates", "rates", "redeem"]
    again = handle.apply(iter(ops[:2]), details=False)  # any iterable; the same ids replay
    assert again.counts() == {"recorded": 0, "replayed": 2, "unchanged": 0}
    assert handle.rates().to_dict()["payout"]["minimum"] == "10.00"


def test_applied_ops_are_checked_first_and_applied_all_or_nothing(ledger: Path) -> None:
    handle = Ledger.open(ledger)
    with pytest.raises(BadInput, match=r"^op 2 \(gift\): gift: missing field 'recipient'"):
        handle.apply(
            [{"kind": "buy", "account": "alice", "coins": 70}, {"kind": "gift", "sender": "alice", "gift": "Rose"}]
        )
    with pytest.raises(BadInput, match=r"^op 1 \(op\): an op must be a table"):
        handle.apply(["buy alice 70"])
    with pytest.raises(Refused, match=r"^op 2 \(gift\): nothing was applied: "):
        handle.apply(
            [rq.Buy.make("alice", 70), {"kind": "gift", "sender": "alice", "recipient": "mia", "gift": "Galaxy"}]
        )
    assert not ledger.exists() or handle.history().transactions == []
    dry = handle.apply([{"kind": "buy", "account": "alice", "coins": 70}], dry_run=True)
    assert dry.counts()["recorded"] == 1 and not dry.written and handle.history().transactions == []


def test_a_ledger_in_memory_is_built_then_saved_once(tmp_path: Path) -> None:
    built = Ledger.memory()
    with built.batch(now=NOW) as batch:
        batch.buy("alice", 700)
        batch.gift("alice", "mia", "Rose", count=5)
    with pytest.raises(CoinpurseError), built.batch() as batch:
        batch.buy("bob", 700)
        batch.redeem("mia", 99999999)
    built.buy("carol", 70)
    built.apply([{"kind": "buy", "account": "dave", "coins": 70}])
    with pytest.raises(Refused):
        built.apply(
            [{"kind": "buy", "account": "erin", "coins": 70}, {"kind": "redeem", "account": "mia", "all": True}]
        )
    assert [b.account for b in built.balances().accounts] == ["alice", "carol", "dave", "mia"]
    assert built.verify().ok and built.export("json").transactions == 4
    for suffix in ("json", "toml", "sqlite"):
        target = tmp_path / f"built.{suffix}"
        assert built.save_as(target).to_dict()["transactions"] == 4
        on_disk = Ledger.open(target)
        assert on_disk.verify().ok
        assert on_disk.balances().to_dict() == built.balances().to_dict()
        on_disk.buy("alice", 70)  # the saved file takes writes
    assert "memory" in repr(built)


def test_a_new_ledger_in_memory_starts_with_init_or_the_demo() -> None:
    started = Ledger.memory()
    assert started.init().to_dict()["rates"]["changed"]
    with pytest.raises(Refused):
        started.init()
    demo = Ledger.memory().demo().to_dict()
    assert demo["recorded"] == demo["count"] > 0 and demo["balances"]["accounts"]


def test_importing_coinpurse_loads_no_library_until_ledger_is_asked_for() -> None:
    probe = (
        "import json, sys\n"
        "import coinpurse\n"
        "before = sorted(m for m in sys.modules if m.startswith('coinpurse'))\n"
        "import coinpurse.ledger\n"
        "after = sorted(m for m in sys.modules if m.startswith('coinpurse'))\n"
        "print(json.dumps([before, after, coinpurse.Ledger.__module__]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    before, after, module = json.loads(done.stdout)
    assert before == ["coinpurse"] and module == "coinpurse.ledger"
    assert not {"coinpurse.storage", "coinpurse.core.rules", "coinpurse.reports"} & set(after), after
