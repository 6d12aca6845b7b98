"""``coinpurse buy``: a viewer buys coins with cash."""

from typing import Annotated

import typer

from coinpurse.cli.common import IdOption, JsonOption, ledger_path
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def buy(
    ctx: typer.Context,
    account: Annotated[
        str, typer.Argument(metavar="ACCOUNT", help="Who buys, e.g. alice or @alice.", show_default=False)
    ],
    coins: Annotated[
        str,
        typer.Argument(metavar="COINS", help="How many coins: a package size, or a custom amount.", show_default=False),
    ],
    channel: Annotated[
        str, typer.Option("--channel", metavar="CHANNEL", help="Where they buy: app or web (web is cheaper).")
    ] = "app",
    tx_id: IdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Buy coins: a package price if COINS matches one, else the channel's per-coin price.

    COINS is a whole number (17500, 17,500 or 17_500); `coinpurse rates` lists
    the packages and the bounds of custom amounts.

    Examples:
      coinpurse buy alice 700                    # the 700-coin package, $9.99 in the app
      coinpurse buy @bob 3500 --channel web      # the web price, 25% less
      coinpurse buy alice 1000 --id order-17     # a custom amount; a retry with the same id is a no-op
    """
    from coinpurse.ledger import Ledger

    result = Ledger(ledger_path(ctx)).buy(account, coins, channel, tx_id)
    if as_json:
        emit_json(result.to_dict())
        return
    from coinpurse.cli.render import show_receipt

    show_receipt(result)


def register(app: typer.Typer) -> None:
    app.command("buy", cls=Command)(buy)
