"""Every command's help has examples, placeholders in one style, and shows its text as written."""

from __future__ import annotations

import re
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from coinpurse.cli import app

BRACKETED = re.compile(r"\[+[^\]\s]*\]+")  # [[ops]], [...], [KEY, [default]


def _commands() -> dict[str, Any]:
    """Every command by its full name, groups included: "buy", "rates", "rates set" ..."""
    found: dict[str, Any] = {}

    def walk(prefix: str, command: Any) -> None:
        found[prefix] = command
        for name, sub in getattr(command, "commands", {}).items():
            walk(f"{prefix} {name}", sub)

    for name, command in typer.main.get_command(app).commands.items():  # type: ignore[attr-defined]
        walk(name, command)
    return found


COMMANDS = _commands()


def _help(name: str) -> str:
    result = CliRunner().invoke(app, [*name.split(), "--help"], env={"COLUMNS": "250"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.replace("│", " ").split())


def test_the_command_tree_is_walked() -> None:
    assert {"buy", "gift", "rates", "rates set", "rates import", "rates export", "apply", "verify"} <= set(COMMANDS)


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_examples(name: str) -> None:
    text = COMMANDS[name].help or ""
    assert "\nExamples:\n" in text, f"{name} has no Examples: block"
    examples = text.split("\nExamples:\n", 1)[1].splitlines()
    runs = [line.strip() for line in examples if line.strip()]
    assert runs and all(line.startswith("coinpurse ") for line in runs), runs
    assert any(f"coinpurse {name}" in line or "coinpurse --ledger" in line for line in runs), runs
    shown = CliRunner().invoke(app, [*name.split(), "--help"], env={"COLUMNS": "250"}).stdout.splitlines()
    header = next(line for line in shown if line.strip() == "Examples:")
    first = next(line for line in shown if line.strip() == runs[0])
    indent = len(header) - len(header.lstrip())
    assert len(first) - len(first.lstrip()) > indent, f"{name}: examples shown without their indent"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_shows_brackets_as_written(name: str) -> None:
    command = COMMANDS[name]
    texts = [command.help or "", *(getattr(param, "help", None) or "" for param in command.params)]
    words = {word for text in texts for word in BRACKETED.findall(text)}
    rendered = _help(name)
    missing = sorted(word for word in words if word not in rendered)
    assert not missing, f"{name} --help lost {missing}"


def test_the_bracket_check_can_fail() -> None:
    # The control: rich markup, as Typer renders help, eats [[ops]] whole but for its outer brackets.
    from rich.text import Text

    assert "[[ops]]" in BRACKETED.findall("a .toml with [[ops]] tables")
    assert "[[ops]]" not in Text.from_markup("a .toml with [[ops]] tables").plain
    assert "[[ops]]" in _help("apply")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_placeholders_are_upper_case_words(name: str) -> None:
    command = COMMANDS[name]
    result = CliRunner().invoke(app, [*name.split(), "--help"], env={"COLUMNS": "250"})
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage, usage
    for param in command.params:
        if param.param_type_name == "argument":
            assert param.metavar and param.metavar.strip("[].").replace(" ", "").isupper(), (
                name,
                param.name,
                param.metavar,
            )
        elif not param.is_flag and param.name != "format":
            assert param.metavar and param.metavar.isupper(), (name, param.name, param.metavar)


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_the_version_has_a_short_flag(flag: str) -> None:
    from coinpurse import __version__

    result = CliRunner().invoke(app, [flag])
    assert result.exit_code == 0 and result.stdout == f"coinpurse {__version__}\n"


def test_an_amount_that_is_not_a_number_keeps_coinpurses_message(cli) -> None:  # type: ignore[no-untyped-def]
    # COINS stays text to coinpurse, which reads 17,500 and 17_500 and says plainly what is wrong.
    result = cli("buy", "alice", "abc")
    assert result.exit_code == 2 and "coins must be a whole number, not 'abc'" in result.stderr
    assert cli("buy", "alice", "17,500").exit_code == 0
