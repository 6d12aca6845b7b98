"""Options every command shares, and what one run's options asked for."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from typer._click import Command, Context, Parameter  # the Click that Typer carries


class RunState:
    """What the command line asked for, recorded as its options are parsed.

    The entry point creates one per run and reads it when a run fails, so an
    error is reported in the mode the command was actually given.
    """

    __slots__ = ("as_json", "ledger")

    def __init__(self) -> None:
        self.ledger: Path | None = None
        self.as_json: bool | None = None  # None until a command's --json option has been read


# Eager, so it is read before any other parameter of the command can fail to parse.
# record_json_options attaches the callback that records it.
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.", is_eager=True)]
IdOption = Annotated[
    str | None,
    typer.Option("--id", metavar="ID", help="Your id for this transaction; a retry with the same id and request is a no-op."),
]


def record_json_mode(ctx: Context, param: Parameter, value: bool) -> bool:
    """Click's callback on every --json option: the parsed value goes on the run's state."""
    ctx.ensure_object(RunState).as_json = value
    return value


def record_json_options(command: Command) -> None:
    """Attach record_json_mode to the --json option of every command under ``command``.

    It is set on the built Click options rather than given to typer.Option,
    since Typer reads a callback's signature for every command it builds, and
    it builds them all on every run.
    """
    pending = [command]
    while pending:
        current = pending.pop()
        pending.extend(getattr(current, "commands", {}).values())
        for param in current.params:
            if param.name == "as_json":
                param.callback = record_json_mode


def record_ledger_option(ctx: typer.Context, ledger: Path | None) -> None:
    ctx.ensure_object(RunState).ledger = ledger


def ledger_path(ctx: typer.Context) -> Path:
    from coinpurse.storage import resolve_ledger_path

    return resolve_ledger_path(ctx.ensure_object(RunState).ledger)
