"""Global options anywhere on the line, -q/--quiet, and `coinpurse info`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coinpurse.cli import app


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env=env, input=input, catch_exceptions=False)


# ----- global options before or after the command -----


@pytest.mark.parametrize(
    "args",
    [
        ("--ledger", "{l}", "--json", "balance", "alice"),
        ("--json", "--ledger", "{l}", "balance", "alice"),
        ("balance", "alice", "--ledger", "{l}", "--json"),
        ("balance", "--json", "alice", "--ledger={l}"),
        ("--json", "balance", "alice", "--ledger", "{l}"),
    ],
)
def test_ledger_and_json_go_before_or_after_the_command(tmp_path: Path, args: tuple[str, ...]) -> None:
    ledger = tmp_path / "d.json"
    assert run("--ledger", str(ledger), "buy", "alice", "700").exit_code == 0
    result = run(*(a.replace("{l}", str(ledger)) for a in args))
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["coins"] == 700


def test_a_subcommand_takes_the_global_options_too(tmp_path: Path) -> None:
    ledger = tmp_path / "d.json"
    result = run("rates", "set", "gift.Rose.coins", "2", "--ledger", str(ledger), "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["changes"][0]["to"] == 2
    again = run("rates", "--json", "set", "gift.Rose.coins", "3", "--ledger", str(ledger))
    assert json.loads(again.stdout)["changes"][0]["from"] == 2
    shown = run("--json", "rates", "--ledger", str(ledger))
    assert {g["name"]: g["coins"] for g in json.loads(shown.stdout)["gifts"]}["Rose"] == 3


def test_the_ledger_after_the_command_wins_over_the_one_before(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert run("--ledger", str(first), "buy", "alice", "700", "--ledger", str(second)).exit_code == 0
    assert second.exists() and not first.exists()


def test_json_anywhere_makes_errors_json(tmp_path: Path) -> None:
    ledger = str(tmp_path / "d.json")
    for args in (
        ("--json", "redeem", "mia", "10", "--ledger", ledger),
        ("redeem", "mia", "10", "--ledger", ledger, "--json"),
    ):
        result = run(*args)
        assert result.exit_code == 1
        assert result.stdout == ""
        assert json.loads(result.stderr)["error"]["code"] == "insufficient_diamonds"
    bad = run("--json", "balance", "--bogus", "--ledger", ledger)
    assert bad.exit_code == 2
    assert json.loads(bad.stderr)["error"]["code"] == "usage"


def test_an_option_after_double_dash_is_an_argument(tmp_path: Path) -> None:
    ledger = str(tmp_path / "d.json")
    result = run("--ledger", ledger, "balance", "--", "--json")
    assert result.exit_code == 2  # "--json" taken as an account name, not the option
    assert not result.stderr.startswith("{")


# ----- -q/--quiet -----


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("as_json", [False, True])
def test_quiet_prints_nothing_on_success(tmp_path: Path, where: str, as_json: bool) -> None:
    ledger = tmp_path / "d.json"
    tail = ["--json"] if as_json else []
    for command in (
        ["buy", "alice", "700"],
        ["gift", "alice", "mia", "rose"],
        ["balance"],
        ["history"],
        ["rates"],
        ["verify"],
        ["info"],
    ):
        args = (
            ["-q", "--ledger", str(ledger), *command, *tail]
            if where == "before"
            else [*command, *tail, "--quiet", "--ledger", str(ledger)]
        )
        result = run(*args)
        assert result.exit_code == 0, (command, result.stderr)
        assert result.stdout == "" and result.stderr == "", command
    assert run("--ledger", str(ledger), "--json", "balance", "mia").stdout.count('"diamonds":1') == 1


def test_quiet_still_reports_errors_on_stderr(tmp_path: Path) -> None:
    ledger = str(tmp_path / "d.json")
    plain = run("-q", "--ledger", ledger, "redeem", "mia", "10")
    assert plain.exit_code == 1 and plain.stdout == ""
    assert plain.stderr.startswith("coinpurse: error: ")
    as_json = run("-q", "--ledger", ledger, "redeem", "mia", "10", "--json")
    assert as_json.exit_code == 1 and as_json.stdout == ""
    assert json.loads(as_json.stderr)["error"]["code"] == "insufficient_diamonds"


def test_quiet_lasts_one_run_only(tmp_path: Path) -> None:
    ledger = str(tmp_path / "d.json")
    assert run("-q", "--ledger", ledger, "buy", "alice", "700").stdout == ""
    assert "alice" in run("--ledger", ledger, "balance").stdout


def test_quiet_draws_no_progress_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    from coinpurse.cli import output, render_summaries

    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    output.set_quiet(True)
    try:
        assert render_summaries.progress_bar("applying x") is None
    finally:
        output.set_quiet(False)


# ----- info -----


def test_info_on_a_missing_ledger_says_so_and_creates_nothing(tmp_path: Path) -> None:
    ledger = tmp_path / "none" / "d.json"
    result = run("--ledger", str(ledger), "info")
    assert result.exit_code == 0
    assert "there is no ledger at this path" in result.stdout
    data = json.loads(run("info", "--json", "--ledger", str(ledger)).stdout)
    assert data == {
        "ledger": str(ledger), "source": "flag", "format": "json", "exists": False, "schema": None, "size": None,
        "transactions": 0, "accounts": 0, "head_hash": None, "last_at": None, "locked": False, "lock_holder": None,
    }  # fmt: skip
    assert not ledger.parent.exists()


@pytest.mark.parametrize("suffix", [".json", ".toml", ".sqlite"])
def test_info_counts_and_the_head_hash_agree_with_verify(tmp_path: Path, suffix: str) -> None:
    ledger = str(tmp_path / f"d{suffix}")
    for command in (("buy", "alice", "700"), ("buy", "bob", "70"), ("gift", "alice", "mia", "rose", "-n", "3")):
        assert run("--ledger", ledger, "-q", *command).exit_code == 0
    info = json.loads(run("--ledger", ledger, "info", "--json").stdout)
    verified = json.loads(run("--ledger", ledger, "verify", "--json").stdout)
    assert info["exists"] and info["schema"] == 5 and info["format"] == suffix[1:]
    assert info["transactions"] == verified["transactions"] == 3
    assert info["accounts"] == 3  # alice, bob, mia
    assert info["head_hash"] == verified["head_hash"]
    assert info["last_at"] == "2026-03-01T12:00:00Z"
    assert info["size"] == os.path.getsize(ledger)
    assert info["locked"] is False
    shown = run("--ledger", ledger, "info").stdout
    assert f"head hash:     {info['head_hash']}" in shown and "transactions:  3" in shown


def test_info_names_where_the_path_came_from(tmp_path: Path) -> None:
    ledger = str(tmp_path / "env.json")
    assert json.loads(run("info", "--json", env={"COINPURSE_LEDGER": ledger}).stdout)["source"] == "env"
    default = json.loads(run("info", "--json", env={"COINPURSE_LEDGER": ""}).stdout)
    assert default["source"] == "default" and default["ledger"].endswith("ledger.json")
    assert "(from $COINPURSE_LEDGER)" in run("info", env={"COINPURSE_LEDGER": ledger}).stdout


def test_info_sees_a_held_lock(tmp_path: Path) -> None:
    from coinpurse.storage.lock import locked

    ledger = tmp_path / "d.json"
    assert run("--ledger", str(ledger), "-q", "buy", "alice", "700").exit_code == 0
    with locked(ledger):
        data = json.loads(run("--ledger", str(ledger), "info", "--json").stdout)
    assert data["locked"] is True and data["lock_holder"] == os.getpid()
    assert json.loads(run("--ledger", str(ledger), "info", "--json").stdout)["locked"] is False


def test_info_on_a_json_ledger_out_of_the_writers_layout_reads_it_whole(tmp_path: Path) -> None:
    ledger = tmp_path / "d.json"
    assert run("--ledger", str(ledger), "-q", "buy", "alice", "700").exit_code == 0
    head = json.loads(run("--ledger", str(ledger), "info", "--json").stdout)
    ledger.write_text(json.dumps(json.loads(ledger.read_text())))  # one line: not the layout
    again = json.loads(run("--ledger", str(ledger), "info", "--json").stdout)
    assert again["head_hash"] == head["head_hash"] and again["transactions"] == 1


@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_info_counts_a_json_history_read_in_chunks_of_any_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    from coinpurse import Ledger
    from coinpurse.storage import info as facts

    ledger = tmp_path / "d.json"
    ops = [{"kind": "buy", "account": f"user{i % 7}", "coins": 70 + i} for i in range(40)]
    ops += [{"kind": "gift", "sender": "user1", "recipient": "mia", "gift": "Rose", "count": 2}]
    Ledger.open(ledger).apply(ops, now="2026-03-01T12:00:00Z")
    monkeypatch.setattr(facts, "_CHUNK", chunk)
    found = Ledger.open(ledger).info()
    verified = Ledger.open(ledger).verify()
    assert (found.transactions, found.head_hash) == (41, verified.to_dict()["head_hash"])
    assert found.accounts == 8


@pytest.mark.parametrize(
    "args",
    [
        ("--ledger", "\x00", "balance"),
        ("balance", "--ledger", "a\x00.json"),
        ("--ledger", "{l}", "apply", "ops\x00.json"),
        ("--ledger", "{l}", "apply", "ops\x00"),
        ("--ledger", "{l}", "convert", "{l}", "b\x00.toml"),
    ],
)
def test_a_nul_in_a_path_is_bad_usage_not_a_crash(tmp_path: Path, args: tuple[str, ...]) -> None:
    ledger = str(tmp_path / "d.json")
    line = [a.replace("{l}", ledger) for a in args]
    plain = CliRunner().invoke(app, line)
    assert plain.exit_code == 2 and isinstance(plain.exception, SystemExit), plain.exception
    assert "NUL character" in plain.stderr
    as_json = CliRunner().invoke(app, [*line, "--json"])
    assert json.loads(as_json.stderr)["error"]["message"].endswith("can't hold a NUL character")
    assert list(tmp_path.iterdir()) == []
