"""Options every command shares, and what one run's options asked for."""

from pathlib import Path
from typing import Annotated

import typer


class RunState:
    """What the command line asked for, recorded as its options are parsed.

    The entry point creates one per run and reads it when a run fails, so an
    error is reported in the mode the command was actually given.
    """

    __slots__ = ("as_json", "ledger")

    def __init__(self) -> None:
        self.ledger: Path | None = None
        self.as_json: bool | None = None  # None until a command's --json option has been read


def _record_json_mode(ctx: typer.Context, value: bool) -> bool:
    ctx.ensure_object(RunState).as_json = value
    return value


# Eager, so it is read before any other parameter of the command can fail to parse.
JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON on stdout.", is_eager=True, callback=_record_json_mode)
]
IdOption = Annotated[
    str | None,
    typer.Option("--id", help="Your id for this transaction; a retry with the same id and request is a no-op."),
]


def record_ledger_option(ctx: typer.Context, ledger: Path | None) -> None:
    ctx.ensure_object(RunState).ledger = ledger


def ledger_path(ctx: typer.Context) -> Path:
    from coinpurse.storage import resolve_ledger_path

    return resolve_ledger_path(ctx.ensure_object(RunState).ledger)
