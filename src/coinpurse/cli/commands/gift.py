"""``coinpurse gift``: a viewer sends gifts, which become a creator's diamonds."""

from typing import Annotated

import typer

from coinpurse.cli.common import IdOption, JsonOption, ledger_path
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def gift(
    ctx: typer.Context,
    sender: Annotated[str, typer.Argument(metavar="SENDER", help="Who sends and pays coins.", show_default=False)],
    recipient: Annotated[str, typer.Argument(metavar="RECIPIENT", help="Who receives diamonds.", show_default=False)],
    gift_name: Annotated[
        str,
        typer.Argument(
            metavar="GIFT", help='A gift from the catalog, e.g. rose or "Finger Heart".', show_default=False
        ),
    ],
    count: Annotated[str, typer.Option("-n", "--count", metavar="N", help="How many of the gift.")] = "1",
    stream: Annotated[
        str | None, typer.Option("--stream", metavar="NAME", help="Tag the gift with a live stream's name.")
    ] = None,
    tx_id: IdOption = None,
    new_account: Annotated[
        bool,
        typer.Option("--new-account", help="SENDER or RECIPIENT is meant to be new, even one typo from an account."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Send N gifts: the sender pays coins, the recipient gets diamonds, the platform keeps its share.

    A new SENDER or RECIPIENT one typo from an existing account is refused
    unless --new-account says it is meant.

    Examples:
      coinpurse gift alice mia rose -n 5
      coinpurse gift alice mia "Finger Heart" --stream launch
      coinpurse gift bob zoe lion --new-account  # zoe is new, and meant to be
    """
    from coinpurse.ledger import Ledger

    result = Ledger(ledger_path(ctx)).gift(sender, recipient, gift_name, count, stream, tx_id, new_account=new_account)
    if as_json:
        emit_json(result.to_dict())
        return
    from coinpurse.cli.render import show_receipt

    show_receipt(result)


def register(app: typer.Typer) -> None:
    app.command("gift", cls=Command)(gift)
