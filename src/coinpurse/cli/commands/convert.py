"""``coinpurse convert``: copy a ledger into another format (JSON, TOML or SQLite)."""

from pathlib import Path
from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption
from coinpurse.cli.output import handles_errors


@handles_errors
def convert(
    source: Annotated[Path, typer.Argument(metavar="SRC", help="The ledger to copy.", show_default=False)],
    target: Annotated[
        Path, typer.Argument(metavar="DST", help="A new ledger file; its suffix picks the format.", show_default=False)
    ],
    as_json: JsonOption = False,
) -> None:
    """Copy SRC into a new ledger DST, losing nothing: every transaction with its hash, accounts and rates."""
    from coinpurse import api

    done = api.convert(source, target)
    if as_json:
        from coinpurse.cli.output import emit_json

        emit_json(done.to_dict())
    else:
        from coinpurse.cli.output import console

        console().print(
            f"Copied {done.transactions:,} transaction{'' if done.transactions == 1 else 's'} and "
            f"{done.accounts:,} account{'' if done.accounts == 1 else 's'} from {done.source} to {done.target}.",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    app.command("convert")(convert)
