"""``coinpurse balance``: one account's coins and diamonds, or everyone's."""

from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, ledger_path
from coinpurse.cli.output import handles_errors, show


@handles_errors
def balance(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Argument(help="An account; without one, every account.", show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:
    """Show coins, diamonds and what the diamonds are worth in cash."""
    from coinpurse import api

    path = ledger_path(ctx)
    if account is not None:
        single = api.balance(path, account)
        show(single, as_json, "show_balance")
        return
    every = api.balances(path)
    show(every, as_json, "show_balances")


def register(app: typer.Typer) -> None:
    app.command("balance")(balance)
