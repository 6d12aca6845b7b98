"""Checks shared by the command tests: an error leaves the ledger exactly as it was.

Imported by test modules as ``from cli_checks import ...`` (pytest puts tests/ on
the path, since tests/ is not a package).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BUY_700 = ("buy", "alice", "700")


def snapshot(path: Path) -> bytes | None:
    """The ledger's bytes, or None when there is no file."""
    return path.read_bytes() if path.is_file() else None


def _with_json(args: tuple[str, ...]) -> tuple[str, ...]:
    # Right after the command name, so it stays an option even after a "--".
    return (args[0], "--json", *args[1:])


def flat(text: str) -> str:
    """Text with every run of whitespace (and rich's line wrapping) made one space."""
    return " ".join(text.split())


def expect_error(cli: Any, *args: str, exit_code: int, code: str, says: str) -> dict[str, str]:
    """Run ``args`` for people and with --json: both fail alike and change no byte.

    Returns the JSON error object for further checks.
    """
    before = snapshot(cli.ledger)

    plain = cli(*args)
    assert plain.exit_code == exit_code, (plain.exit_code, plain.stdout, plain.stderr)
    assert plain.stdout == ""
    assert says in flat(plain.stderr), plain.stderr
    assert "Traceback" not in plain.stderr
    assert snapshot(cli.ledger) == before

    machine = cli(*_with_json(args))
    assert machine.exit_code == exit_code, (machine.exit_code, machine.stdout, machine.stderr)
    assert machine.stdout == ""
    error = json.loads(machine.stderr)
    assert set(error) == {"error"}
    assert set(error["error"]) == {"code", "message"}
    assert error["error"]["code"] == code
    assert says in error["error"]["message"]
    assert snapshot(cli.ledger) == before
    return error["error"]


def expect_usage_error(cli: Any, *args: str, says: str) -> None:
    """A usage error Typer itself reports (exit 2), with the ledger untouched."""
    before = snapshot(cli.ledger)
    result = cli(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert says in flat(result.stderr), result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(cli.ledger) == before
