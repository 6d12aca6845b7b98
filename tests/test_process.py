"""coinpurse as a real process: python -m, exit codes, JSON errors, no tracebacks, and no rich on --json."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from coinpurse import __version__


def coinpurse(*args: str) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, "-m", "coinpurse", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert "Traceback" not in completed.stderr, completed.stderr
    assert "Traceback" not in completed.stdout, completed.stdout
    return completed


def test_version(tmp_path: Path) -> None:
    done = coinpurse("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"coinpurse {__version__}\n"


def test_a_buy_in_json(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.json"
    done = coinpurse("--ledger", str(ledger), "buy", "alice", "700", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    bought = json.loads(done.stdout)
    assert (bought["coins"], bought["price"], bought["currency"]) == (700, "9.99", "USD")
    assert bought["at"] == "2026-03-01T12:00:00Z"  # COINPURSE_NOW reaches the child
    assert ledger.is_file()


def test_a_buy_for_people(tmp_path: Path) -> None:
    done = coinpurse("--ledger", str(tmp_path / "ledger.toml"), "buy", "alice", "700")
    assert done.returncode == 0, done.stderr
    assert "alice paid $9.99" in " ".join(done.stdout.split())
    assert "\x1b[" not in done.stdout  # no colour when stdout is not a terminal


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("buy", "alice", "700", "--bogus"), "No such option: --bogus"),
        (("buy", "--json"), "Missing argument"),
        (("frobnicate",), "No such command"),
        (("history", "--limit", "0"), "--limit"),
    ],
)
def test_a_usage_error_under_json_is_exit_2_and_a_json_error(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    ledger = tmp_path / "ledger.json"
    done = coinpurse("--ledger", str(ledger), *args, "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    error = json.loads(done.stderr)
    assert error["error"]["code"] == "usage"
    assert says in error["error"]["message"]
    assert not ledger.exists()


def test_a_usage_error_for_people_is_exit_2_with_a_message(tmp_path: Path) -> None:
    done = coinpurse("--ledger", str(tmp_path / "ledger.json"), "buy", "alice", "700", "--bogus")
    assert done.returncode == 2
    assert "No such option" in done.stderr


def test_each_exit_code_from_a_real_process(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.json"
    assert coinpurse("--ledger", str(ledger), "buy", "alice", "700", "--json").returncode == 0
    refused = coinpurse("--ledger", str(ledger), "gift", "alice", "mia", "lion", "--json")
    assert refused.returncode == 1
    assert json.loads(refused.stderr)["error"]["code"] == "insufficient_coins"
    bad = coinpurse("--ledger", str(ledger), "gift", "alice", "mia", "rosee", "--json")
    assert bad.returncode == 2
    assert json.loads(bad.stderr)["error"]["code"] == "unknown_gift"
    damaged = tmp_path / "damaged.json"
    damaged.write_text("{")
    unusable = coinpurse("--ledger", str(damaged), "balance", "--json")
    assert unusable.returncode == 3
    assert str(damaged) in json.loads(unusable.stderr)["error"]["message"]
    assert damaged.read_text() == "{"


# Runs the console entry point in a fresh interpreter, then reports which rich modules it loaded.
_PROBE = textwrap.dedent(
    """
    import json, sys
    from coinpurse.cli import main

    sys.argv = ["coinpurse", *json.loads(sys.argv[1])]
    try:
        main()
    except SystemExit as done:
        code = done.code
    loaded = sorted(name for name in sys.modules if name == "rich" or name.startswith("rich."))
    sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "rich": loaded}) + "\\n")
    """
)


def _probe(args: list[str]) -> tuple[dict[str, object], str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True, timeout=60, check=False
    )
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stderr.rsplit("PROBE ", 1)[1])
    return report, done.stdout


@pytest.mark.slow  # two processes per command; tests/test_scripting_lazy.py checks the same in the quick loop
@pytest.mark.parametrize(
    "command",
    [
        ["balance", "--json"],
        ["balance", "alice", "--json"],
        ["buy", "bob", "70", "--json"],
        ["gift", "alice", "mia", "rose", "--json"],
        ["history", "--json"],
        ["rates", "--json"],
    ],
    ids=" ".join,
)
def test_json_commands_do_not_import_rich(tmp_path: Path, command: list[str]) -> None:
    ledger = tmp_path / "ledger.json"
    assert coinpurse("--ledger", str(ledger), "buy", "alice", "700", "--json").returncode == 0
    report, stdout = _probe(["--ledger", str(ledger), *command])
    assert report["code"] == 0
    json.loads(stdout)
    assert report["rich"] == []


def test_the_probe_sees_rich_when_a_table_is_drawn(tmp_path: Path) -> None:
    # The control for the test above: drawing for people does load rich.
    report, _ = _probe(["--ledger", str(tmp_path / "ledger.json"), "rates"])
    assert report["code"] == 0
    assert "rich" in report["rich"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("export", "--format", "xml"), "Invalid value for '--format'"),
        (("history", "--limit", "0"), "Invalid value for '--limit'"),
        (("buy",), "Missing argument"),
        (("nosuch",), "No such command 'nosuch'"),
    ],
)
def test_a_usage_error_is_one_line_like_every_other_error(tmp_path: Path, args: tuple[str, ...], says: str) -> None:
    done = coinpurse("--ledger", str(tmp_path / "l.json"), *args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("coinpurse: error: ") and says in lines[0], done.stderr
    assert "--help')" in lines[0]
