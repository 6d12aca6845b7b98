"""``coinpurse init``: start a new ledger, with the default rates or a rates file."""

from pathlib import Path
from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, ledger_path
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def init(
    ctx: typer.Context,
    rates_file: Annotated[
        Path | None,
        typer.Option(
            "--rates",
            metavar="FILE",
            help="Rates to start with (.toml as `rates export` writes, or .json).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a new ledger; refuses (exit 1) if the ledger file exists.

    With --rates, the ledger starts with that file's rates instead of the defaults.

    Examples:
      coinpurse --ledger new.sqlite init
      coinpurse --ledger new.json init --rates rates.toml
    """
    from coinpurse.ledger import Ledger

    result = Ledger(ledger_path(ctx)).init(rates_file)
    if as_json:
        emit_json(result.to_dict())
        return
    from coinpurse.cli.render_summaries import show_init

    show_init(result)


def register(app: typer.Typer) -> None:
    app.command("init", cls=Command)(init)
