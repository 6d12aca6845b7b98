"""Errors are caught once, where a run ends: each maps to its exit code, in the mode the command was given.

Commands only parse, call the library and hand the result to a renderer; the
root command's ``main`` turns whatever ends a run into a message and a code.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from coinpurse.cli import app
from coinpurse.cli.app import json_mode
from coinpurse.errors import BadInput, CoinpurseError, ExitCode, Interrupted, LedgerUnusable, Refused

COMMANDS = Path(__file__).resolve().parent.parent / "src" / "coinpurse" / "cli" / "commands"

# Each command with arguments that parse; None marks where --json goes (right after the command's name).
COMMAND_LINES: dict[str, tuple[str, ...]] = {
    "buy": ("buy", "alice", "700"),
    "gift": ("gift", "alice", "mia", "rose"),
    "redeem": ("redeem", "mia", "100"),
    "balance": ("balance", "alice"),
    "rates": ("rates",),
    "rates set": ("rates", "set", "gift.Rose.coins", "2"),
    "rates import": ("rates", "import", "rates.toml"),
    "rates export": ("rates", "export", "rates.toml"),
    "history": ("history",),
    "gifters": ("gifters", "mia"),
    "verify": ("verify",),
    "apply": ("apply", "scenario.json"),
    "init": ("init",),
    "export": ("export", "-o", "out.csv"),
    "demo": ("demo",),
    "convert": ("convert", "a.json", "b.toml"),
    "info": ("info",),
    "refund": ("refund", "tx-1"),
}
COMMAND_LINES["reverse"] = ("reverse", "tx-4", "--reason", "wrong creator")
COMMAND_LINES["explain"] = ("explain", "tx-1")
COMMAND_LINES["report"] = ("report", "--by", "week")
COMMAND_LINES["sponsor"] = ("sponsor",)
COMMAND_LINES["sponsor fund"] = ("sponsor", "fund", "acme", "250.00")
COMMAND_LINES["sponsor withdraw"] = ("sponsor", "withdraw", "acme", "50.00")
COMMAND_LINES["sponsor list"] = ("sponsor", "list")
COMMAND_LINES["statement"] = ("statement", "mia", "--month", "2026-03")
COMMAND_LINES["payout"] = ("payout",)
COMMAND_LINES["payout list"] = ("payout", "list", "mia", "--state", "pending")
COMMAND_LINES["payout approve"] = ("payout", "approve", "tx-6")
COMMAND_LINES["payout reject"] = ("payout", "reject", "tx-6", "--reason", "failed checks")
COMMAND_LINES["payout return"] = ("payout", "return", "tx-6", "--reason", "bank sent it back")
COMMAND_LINES["payout expire"] = ("payout", "expire")

ERRORS = [
    Refused("alice has 0 coins; Rose costs 1", code="insufficient_coins"),
    BadInput("unknown gift 'rosee'", code="unknown_gift"),
    LedgerUnusable("ledger.json: not a coinpurse ledger", code="not_a_ledger"),
]


def _leaf_commands() -> set[str]:
    found: set[str] = set()

    def walk(prefix: str, command: object) -> None:
        found.add(prefix)
        for name, sub in getattr(command, "commands", {}).items():
            walk(f"{prefix} {name}", sub)

    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        walk(name, command)
    return found


def _with_json(line: tuple[str, ...]) -> tuple[str, ...]:
    words = 2 if line[0] in ("rates", "payout") and len(line) > 1 else 1
    return (*line[:words], "--json", *line[words:])


def _raise_inside_commands(monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    """Every command fails with ``error`` when it asks for its ledger (convert, when it copies)."""

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("coinpurse.storage.resolve_ledger_path", fail)
    monkeypatch.setattr("coinpurse.ledger.Ledger.convert", fail)


def _run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_the_table_covers_every_command() -> None:
    assert set(COMMAND_LINES) == _leaf_commands()


@pytest.mark.parametrize("error", ERRORS, ids=lambda error: error.code)
@pytest.mark.parametrize("name", sorted(COMMAND_LINES))
def test_an_error_inside_any_command_is_its_exit_code_and_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, error: CoinpurseError
) -> None:
    monkeypatch.chdir(tmp_path)
    _raise_inside_commands(monkeypatch, error)
    line = COMMAND_LINES[name]

    plain = _run(*line)
    assert plain.exit_code == error.exit_code, plain.output
    assert plain.stdout == ""
    assert plain.stderr == f"coinpurse: error: {error.message}\n"

    machine = _run(*_with_json(line))
    assert machine.exit_code == error.exit_code, machine.output
    assert machine.stdout == ""
    assert json.loads(machine.stderr) == {"error": {"code": error.code, "message": error.message}}


@pytest.mark.parametrize(("raised", "code"), [(MemoryError(), "out_of_memory"), (RecursionError(), "too_deep")])
def test_running_out_of_memory_or_stack_in_a_command_is_exit_3(
    monkeypatch: pytest.MonkeyPatch, raised: BaseException, code: str
) -> None:
    _raise_inside_commands(monkeypatch, raised)
    plain = _run("balance")
    assert plain.exit_code == ExitCode.LEDGER_UNUSABLE
    assert plain.stderr.startswith("coinpurse: error: ") and plain.stderr.count("\n") == 1
    machine = _run("balance", "--json")
    assert machine.exit_code == ExitCode.LEDGER_UNUSABLE
    assert json.loads(machine.stderr)["error"]["code"] == code


# ----- interruption ----------------------------------------------------------------


def test_interrupted_is_the_documented_130() -> None:
    assert ExitCode.INTERRUPTED == 130
    assert Interrupted("interrupted").exit_code is ExitCode.INTERRUPTED


@pytest.mark.parametrize("raised", [KeyboardInterrupt(), typer.Abort()], ids=["ctrl-c", "abort"])
def test_an_interruption_is_exit_130_and_one_line(monkeypatch: pytest.MonkeyPatch, raised: BaseException) -> None:
    _raise_inside_commands(monkeypatch, raised)
    plain = _run("buy", "alice", "700")
    assert plain.exit_code == ExitCode.INTERRUPTED
    assert plain.stdout == ""
    assert plain.stderr.startswith("coinpurse: error: interrupted") and plain.stderr.count("\n") == 1
    machine = _run("buy", "alice", "700", "--json")
    assert machine.exit_code == ExitCode.INTERRUPTED
    assert json.loads(machine.stderr)["error"]["code"] == "interrupted"


# SIGINT delivered to the process while a command runs, as Ctrl-C does.
SIGINT_IN_A_COMMAND = """
import os, signal, sys

import coinpurse.storage
from coinpurse.cli import main

def interrupted(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)
    signal.pause()

coinpurse.storage.resolve_ledger_path = interrupted
sys.argv = ["coinpurse", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize("as_json", [False, True])
def test_ctrl_c_in_a_real_process_is_exit_130_and_one_line(as_json: bool) -> None:
    args = ["balance", *(["--json"] if as_json else [])]
    done = subprocess.run(
        [sys.executable, "-c", SIGINT_IN_A_COMMAND, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 130, done.stderr
    assert done.stdout == "" and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    if as_json:
        assert json.loads(done.stderr)["error"]["code"] == "interrupted"
    else:
        assert done.stderr.startswith("coinpurse: error: interrupted")


# ----- JSON mode is the parsed option ------------------------------------------------


def _is_json(stderr: str) -> bool:
    return stderr.startswith("{")


def test_every_json_option_records_its_value_on_the_run_state() -> None:
    from coinpurse.cli.common import record_json_mode

    group = typer.main.get_command(app)
    for name in _leaf_commands():
        command = group
        for word in name.split():
            command = command.commands[word]  # type: ignore[attr-defined]
        [option] = [param for param in command.params if param.name == "as_json"]
        assert option.callback is record_json_mode and option.is_eager, name


def test_a_stream_named_json_does_not_make_the_error_json(json_cli) -> None:  # type: ignore[no-untyped-def]
    refused = json_cli("gift", "alice", "mia", "rose", "--stream", "--json")
    assert refused.exit_code == ExitCode.REFUSED
    assert refused.stderr.startswith("coinpurse: error: alice has 0 coins"), refused.stderr


def test_an_argument_json_after_the_end_of_options_does_not_make_the_error_json(json_cli) -> None:  # type: ignore[no-untyped-def]
    bad = json_cli("balance", "--", "--json")
    assert bad.exit_code == ExitCode.BAD_INPUT
    assert bad.stderr.startswith("coinpurse: error: invalid account name '--json'"), bad.stderr
    machine = json_cli("balance", "--json", "--", "--json")
    assert machine.exit_code == ExitCode.BAD_INPUT
    assert json.loads(machine.stderr)["error"]["code"] == "invalid_name"


@pytest.mark.parametrize(
    ("args", "as_json"),
    [
        # Parsed: the command's own --json decides, wherever the word appears.
        (("balance", "--", "--json", "extra"), False),
        (("gift", "alice", "mia", "--stream", "--json"), False),  # the stream's value; GIFT is missing
        (("buy", "--json"), True),  # read before the missing argument, since --json is eager
        (("history", "--limit", "0", "--json"), True),  # and before a bad value that comes first
        (("rates", "--json", "frobnicate"), True),  # the group's own --json, read before its command was looked up
        # Parsing stopped before --json was read: the word counts only before "--".
        (("buy", "alice", "700", "--bogus", "--json"), True),
        (("frobnicate", "--json"), True),
        (("frobnicate", "--", "--json"), False),
        (("buy", "alice", "700", "--bogus", "--", "--json"), False),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, tuple) else ("json" if value else "human"),
)
def test_a_usage_error_takes_json_mode_from_the_parsed_option(
    json_cli,
    args: tuple[str, ...],
    as_json: bool,  # type: ignore[no-untyped-def]
) -> None:
    result = json_cli(*args)
    assert result.exit_code == ExitCode.BAD_INPUT, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    if as_json:
        assert json.loads(result.stderr)["error"]["code"] == "usage"
    else:
        assert result.stderr.startswith("coinpurse: error: ") and "--help')" in result.stderr


@pytest.mark.parametrize(
    ("parsed", "args", "expected"),
    [
        (True, [], True),
        (False, ["buy", "--json"], False),
        (None, ["buy", "--json"], True),
        (None, ["buy", "--", "--json"], False),
        (None, ["buy", "x"], False),
    ],
)
def test_the_fallback_is_used_only_when_the_option_was_not_read(
    parsed: bool | None, args: list[str], expected: bool
) -> None:
    assert json_mode(parsed, args) is expected


# ----- commands only parse, call and render --------------------------------------------

# What a command module must not do itself: catch errors, end the run, or draw.
NOT_IN_COMMANDS = {"console", "say", "report_error", "stdout", "stderr", "print", "Exit", "importlib", "handles_errors"}


@pytest.mark.parametrize("path", sorted(COMMANDS.glob("*.py")), ids=lambda path: path.name)
def test_a_command_neither_catches_errors_nor_draws(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    used |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    used |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
    assert not used & NOT_IN_COMMANDS, used & NOT_IN_COMMANDS
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.Try) and node.handlers], (
        "a command catches nothing"
    )
    renderers = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("coinpurse.cli.render")
    }
    assert renderers <= {"coinpurse.cli.render", "coinpurse.cli.render_summaries", "coinpurse.cli.render_report"}


def test_a_line_naming_one_plain_command_builds_only_it_and_runs_as_the_whole_app_does(tmp_path: Path) -> None:
    from coinpurse.cli.app import one_command_app

    ledger = str(tmp_path / "l.json")
    runner = CliRunner()
    runner.invoke(app, ["--ledger", ledger, "buy", "alice", "700"], catch_exceptions=False)
    plain = [info.name for info in app.registered_commands]
    assert "balance" in plain and "payout" not in plain  # a group gets the whole app
    for name in plain:
        assert name is not None
        for line in (
            ["--ledger", ledger, name, "--help"],
            [f"--ledger={ledger}", name, "--json", "--no-such-option"],
        ):
            trimmed = one_command_app(line)
            assert [info.name for info in trimmed.registered_commands] == [name]
            alone, whole = (runner.invoke(cli, line, catch_exceptions=False) for cli in (trimmed, app))
            assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output), name
    for line in (["balance", "alice", "--json"], ["--ledger", ledger, "balance", "alice", "--json"]):
        alone = runner.invoke(one_command_app(line), line, catch_exceptions=False, env={"COINPURSE_LEDGER": ledger})
        assert json.loads(alone.output)["coins"] == 700
    for whole in ([], ["--version"], ["--help"], ["payout", "list"], ["balanse"], ["--ledger"], ["-V", "balance"]):
        assert one_command_app(whole) is app
