"""Docs and layering checked by tests: help text, the README, CI, completions, the core/CLI split, no floats."""

from __future__ import annotations

import importlib.util
import io
import json
import pkgutil
import re
import subprocess
import sys
import tokenize
from pathlib import Path
from typing import Any

import pytest
import typer

from coinpurse.cli import app
from coinpurse.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "coinpurse"
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands() -> dict[str, Any]:
    group = typer.main.get_command(app)
    return dict(group.commands)  # type: ignore[attr-defined]


def _leaf_commands() -> dict[str, Any]:
    """Every runnable command by its full name, e.g. "rates set", groups included."""
    found: dict[str, Any] = {}

    def walk(prefix: str, command: Any) -> None:
        found[prefix] = command
        for name, sub in getattr(command, "commands", {}).items():
            walk(f"{prefix} {name}", sub)

    for name, command in _commands().items():
        walk(name, command)
    return found


def _section(title: str) -> str:
    """The README text from the '## title' heading to the next '## ' heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, flags=re.MULTILINE | re.DOTALL)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def test_the_six_commands_of_the_wallet_are_registered() -> None:
    assert {"balance", "buy", "gift", "history", "rates", "redeem"} <= set(_commands())


@pytest.mark.parametrize("name", sorted(_leaf_commands()))
def test_every_command_and_parameter_has_help_text(name: str) -> None:
    command = _leaf_commands()[name]
    assert (command.help or "").strip(), f"{name} has no help text"
    for parameter in command.params:
        assert (getattr(parameter, "help", None) or "").strip(), f"{name} {parameter.name} has no help text"
    assert any(p.name == "as_json" for p in command.params), f"{name} has no --json"


@pytest.mark.parametrize("name", sorted(_commands()))
def test_every_command_is_in_the_readme(name: str) -> None:
    assert f"`{name} " in _section("Commands") or f"`{name}`" in _section("Commands"), name


def test_the_readme_lists_no_command_that_does_not_exist() -> None:
    listed = re.findall(r"^\| `([a-z]+)[ `]", _section("Commands"), flags=re.MULTILINE)
    assert listed and set(listed) <= set(_commands())


def test_the_readmes_second_setup_command_is_what_ci_runs() -> None:
    blocks = re.findall(r"```sh\n(.*?)\n```", _section("Set up"), flags=re.DOTALL)
    assert len(blocks) == 2, blocks
    test_command = blocks[1].strip()
    assert "\n" not in test_command
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_the_readme_documents_every_exit_code() -> None:
    table = _section("Exit codes")
    for code in ExitCode:
        assert re.search(rf"^\| {int(code)} \| \S", table, flags=re.MULTILINE), code


@pytest.mark.parametrize("variable", ["COINPURSE_LEDGER", "COINPURSE_NOW", "COINPURSE_LOCK_TIMEOUT", "NO_COLOR"])
def test_the_readme_documents_the_environment(variable: str) -> None:
    assert f"`{variable}`" in _section("Environment")


def _load_make_completions():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_completions", ROOT / "scripts" / "make_completions.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_scripts_are_current(shell: str) -> None:
    make = _load_make_completions()
    committed = (ROOT / "completions" / make.FILES[shell]).read_text()
    assert committed == make.generate(shell), (
        f"completions/{make.FILES[shell]} is out of date: run python scripts/make_completions.py"
    )


def test_the_zsh_script_starts_with_compdef_and_calls_its_function() -> None:
    text = (ROOT / "completions" / "_coinpurse").read_text()
    assert text.startswith("#compdef coinpurse")
    assert text.rstrip().endswith('_coinpurse_completion "$@"')


def _core_modules() -> list[str]:
    names = ["coinpurse", "coinpurse.api", "coinpurse.errors"]
    for package in ("coinpurse.core", "coinpurse.formats", "coinpurse.storage"):
        names.append(package)
        path = SRC / package.split(".")[1]
        names += [f"{package}.{info.name}" for info in pkgutil.iter_modules([str(path)])]
    return names


def test_the_core_imports_neither_typer_nor_rich() -> None:
    modules = _core_modules()
    assert "coinpurse.core.rules" in modules and "coinpurse.storage.lock" in modules
    probe = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_the_core_use_of_the_library_works_without_the_cli(tmp_path: Path) -> None:
    probe = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from coinpurse import api\n"
        f"path = Path({str(tmp_path / 'ledger.json')!r})\n"
        "api.buy(path, 'alice', 700)\n"
        "api.gift(path, 'alice', 'mia', 'rose', 5)\n"
        "api.balances(path); api.history(path); api.rates(path)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'rich', 'click'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def _float_uses(source: str) -> list[str]:
    """Calls of float(...) and float literals such as 0.99 or 1e3, found by tokens (strings don't count)."""
    found = []
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    for index, token in enumerate(tokens):
        if token.type == tokenize.NAME and token.string == "float":
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if following is not None and following.string == "(":
                found.append(f"line {token.start[0]}: float(")
        elif token.type == tokenize.NUMBER:
            text = token.string.lower()
            if not text.startswith(("0x", "0o", "0b")) and ("." in text or "e" in text or text.endswith("j")):
                found.append(f"line {token.start[0]}: {token.string}")
    return found


def test_the_float_finder_finds_floats() -> None:
    # The control for the test below.
    assert _float_uses("x = float(y)\nz = 0.99 + 1e3\n") == ["line 1: float(", "line 2: 0.99", "line 2: 1e3"]
    assert _float_uses('x = Decimal("0.99")\nisinstance(v, float)\n') == []


# Floats that are not money, each with its reason.
NOT_MONEY = {
    ("storage/lock.py", "*"),  # seconds of waiting for the lock (timers and sleeps take floats)
}


def test_no_source_file_uses_floats_for_money() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 20
    offenders = {}
    for path in files:
        name = str(path.relative_to(SRC))
        uses = [
            use
            for use in _float_uses(path.read_text(encoding="utf-8"))
            if (name, use.split(": ", 1)[1]) not in NOT_MONEY and (name, "*") not in NOT_MONEY
        ]
        if uses:
            offenders[name] = uses
    assert offenders == {}


def test_the_readmes_python_examples_run(tmp_path, monkeypatch) -> None:
    blocks = re.findall(r"```python\n(.*?)\n```", README, flags=re.DOTALL)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
