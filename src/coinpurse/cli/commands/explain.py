"""``coinpurse explain``: one transaction's path of value, step by step."""

from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, ledger_path
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def explain(
    ctx: typer.Context,
    tx_id: Annotated[str, typer.Argument(metavar="TX_ID", help="The transaction to explain.", show_default=False)],
    as_json: JsonOption = False,
) -> None:
    """Explain a transaction: where its value came from and went, step by step, and checks that it adds up.

    A buy: the cash paid, the channel, the package or per-coin price. A gift:
    the purchases (lots) whose coins paid for it and what they cost, the
    diamonds and their cash value, and the platform's take. A redeem: the
    diamonds, the cash, the fee, the rounding and what stayed in the balance.
    Refunds, reversals and rates changes too; any other kind by its postings.

    Examples:
      coinpurse explain tx-3
      coinpurse explain tx-3 --json
    """
    from coinpurse.ledger import Ledger

    result = Ledger(ledger_path(ctx)).explain(tx_id)
    if as_json:
        emit_json(result.to_dict())
        return
    from coinpurse.cli.render import show_explanation

    show_explanation(result)


def register(app: typer.Typer) -> None:
    app.command("explain", cls=Command)(explain)
