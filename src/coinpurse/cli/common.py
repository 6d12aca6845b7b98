"""Options every command shares, and the ledger path from the global option."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
IdOption = Annotated[
    str | None,
    typer.Option("--id", help="Your id for this transaction; a retry with the same id and request is a no-op."),
]


def ledger_path(ctx: typer.Context) -> Path:
    from coinpurse.storage import resolve_ledger_path

    root = ctx.find_root()
    return resolve_ledger_path(root.obj)
