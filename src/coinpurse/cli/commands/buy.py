"""``coinpurse buy``: a viewer buys coins with cash."""

from typing import Annotated

import typer

from coinpurse.cli.common import IdOption, JsonOption, ledger_path
from coinpurse.cli.output import emit_json


def buy(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="Who buys, e.g. alice or @alice.", show_default=False)],
    coins: Annotated[str, typer.Argument(help="How many coins: a package size, or a custom amount.", show_default=False)],
    channel: Annotated[str, typer.Option("--channel", help="Where they buy: app or web (web is cheaper).")] = "app",
    tx_id: IdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Buy coins: a package price if COINS matches one, else the channel's per-coin price."""
    from coinpurse.ledger import Ledger

    result = Ledger(ledger_path(ctx)).buy(account, coins, channel, tx_id)
    if as_json:
        emit_json(result.to_dict())
        return
    from coinpurse.cli.render import show_receipt

    show_receipt(result)


def register(app: typer.Typer) -> None:
    app.command("buy")(buy)
