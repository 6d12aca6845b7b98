"""``coinpurse history``: the transactions, oldest first."""

from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, ledger_path
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def history(
    ctx: typer.Context,
    account: Annotated[str | None, typer.Argument(metavar="ACCOUNT", help="Only transactions that touch this account.", show_default=False)] = None,
    kind: Annotated[str | None, typer.Option("--kind", metavar="KIND", help="Only this kind: buy, gift, redeem or rates.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", metavar="N", help="Only the newest N.", min=1)] = None,
    as_json: JsonOption = False,
) -> None:
    """List transactions, newest last, with what each one moved.

    KIND is buy, gift, redeem or rates.

    Examples:
      coinpurse history mia --limit 5
      coinpurse history --kind rates             # every rates change
    """
    from coinpurse.ledger import Ledger

    found = Ledger(ledger_path(ctx)).history(account, kind, limit)
    if as_json:
        emit_json(found.to_dict())
        return
    from coinpurse.cli.render import show_history

    show_history(found)


def register(app: typer.Typer) -> None:
    app.command("history", cls=Command)(history)
