"""``coinpurse refund``: the app store gave a coin purchase back."""

from typing import Annotated

import typer

from coinpurse.cli.common import IdOption, JsonOption, ledger_path, show_written
from coinpurse.cli.groups import Command


def refund(
    ctx: typer.Context,
    buy_id: Annotated[str, typer.Argument(metavar="BUY_ID", help="The id of the buy given back.", show_default=False)],
    clawback: Annotated[
        bool, typer.Option("--clawback", help="Take back the diamonds the purchase's spent coins became.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the whole receipt; write nothing.")] = False,
    tx_id: IdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Refund a coin purchase: its cash back to the viewer, its lot's unspent coins removed.

    When some of its coins were already spent, the refund is refused unless
    --clawback, which takes the diamonds those coins became back from each
    creator, in proportion; a creator who already redeemed them owes them.

    Examples:
      coinpurse refund tx-1
      coinpurse refund tx-1 --clawback --dry-run
    """
    from coinpurse.ledger import Ledger

    show_written(Ledger(ledger_path(ctx)).refund(buy_id, clawback, tx_id, dry_run=dry_run), as_json, dry_run)


def register(app: typer.Typer) -> None:
    app.command("refund", cls=Command)(refund)
