"""``coinpurse redeem``: a creator cashes out diamonds."""

from typing import Annotated

import typer

from coinpurse.cli.common import IdOption, JsonOption, ledger_path
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def redeem(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(metavar="ACCOUNT", help="Whose diamonds.", show_default=False)],
    diamonds: Annotated[
        str | None, typer.Argument(metavar="DIAMONDS", help="How many diamonds to redeem.", show_default=False)
    ] = None,
    redeem_all: Annotated[bool, typer.Option("--all", help="Redeem every diamond the account holds.")] = False,
    tx_id: IdOption = None,
    new_account: Annotated[
        bool, typer.Option("--new-account", help="ACCOUNT is meant to be new, even one typo from an account.")
    ] = False,
    as_json: JsonOption = False,
    hold: Annotated[
        bool,
        typer.Option("--hold", help="Hold the diamonds as a pending payout to approve or reject (coinpurse payout)."),
    ] = False,
) -> None:
    """Redeem diamonds for cash at the payout rate, rounded down to the cent.

    Give DIAMONDS or --all; the payout minimum and daily maximum apply. With
    --hold the diamonds wait as a pending payout, its cash fixed now, until
    'coinpurse payout approve' pays it or it is rejected or expires.

    Examples:
      coinpurse redeem mia 20000
      coinpurse redeem mia --all --id payout-2026-03
      coinpurse redeem mia 20000 --hold --id hold-1
    """
    from coinpurse.ledger import Ledger

    result = Ledger(ledger_path(ctx)).redeem(account, diamonds, redeem_all, tx_id, new_account=new_account, hold=hold)
    if as_json:
        emit_json(result.to_dict())
        return
    from coinpurse.cli.render import show_receipt

    show_receipt(result)


def register(app: typer.Typer) -> None:
    app.command("redeem", cls=Command)(redeem)
