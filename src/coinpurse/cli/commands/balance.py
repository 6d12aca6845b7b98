"""``coinpurse balance``: one account's coins and diamonds, or everyone's."""

from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, ledger_path
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def balance(
    ctx: typer.Context,
    account: Annotated[
        str | None,
        typer.Argument(metavar="ACCOUNT", help="An account; without one, every account.", show_default=False),
    ] = None,
    as_json: JsonOption = False,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", metavar="TIME", help="As it was then: a date (its end, UTC), an ISO time, today or yesterday."
        ),
    ] = None,
) -> None:
    """Show coins, diamonds and what the diamonds are worth in cash.

    Without ACCOUNT, a table of every user with totals.

    Examples:
      coinpurse balance mia
      coinpurse balance --json
      coinpurse balance mia --at 2026-03-01      # as at the end of that day
    """
    from coinpurse.ledger import Ledger

    path = ledger_path(ctx)
    if at is not None:
        from coinpurse.core.clock import moment

        then = Ledger(path).balances_at(moment(at, end_of_day=True, what="--at"), account)
        if as_json:
            emit_json(then.to_dict())
            return
        from coinpurse.cli.render import show_balances_at

        show_balances_at(then)
        return
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
