"""``coinpurse gifters``: a creator's top gifters."""

from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, ledger_path
from coinpurse.cli.output import handles_errors, show


@handles_errors
def gifters(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="The creator whose gifters to rank.", show_default=False)],
    limit: Annotated[int, typer.Option("--limit", help="How many to show.", min=1)] = 10,
    as_json: JsonOption = False,
) -> None:
    """Rank who sent an account the most diamonds, with what their gifts are worth."""
    from coinpurse import api

    show(api.gifters(ledger_path(ctx), account, limit), as_json, "show_gifters")


def register(app: typer.Typer) -> None:
    app.command("gifters")(gifters)
