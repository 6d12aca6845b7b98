"""``coinpurse balance``: one account's coins and diamonds, or everyone's."""

from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, ledger_path
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def balance(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Argument(metavar="ACCOUNT", help="An account; without one, every account.", show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:
    """Show coins, diamonds and what the diamonds are worth in cash.

    Without ACCOUNT, a table of every user with totals.

    Examples:
      coinpurse balance mia
      coinpurse balance --json
    """
    from coinpurse.ledger import Ledger

    path = ledger_path(ctx)
    if account is None:
        every = Ledger(path).balances()
        if as_json:
            emit_json(every.to_dict())
            return
        from coinpurse.cli.render import show_balances

        show_balances(every)
        return
    single = Ledger(path).balance(account)
    if as_json:
        emit_json(single.to_dict())
        return
    from coinpurse.cli.render import show_balance

    show_balance(single)


def register(app: typer.Typer) -> None:
    app.command("balance", cls=Command)(balance)
