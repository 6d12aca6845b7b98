"""``coinpurse reverse``: an operator's correction, undoing a gift."""

from typing import Annotated

import typer

from coinpurse.cli.common import IdOption, JsonOption, ledger_path
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def reverse(
    ctx: typer.Context,
    original: Annotated[str, typer.Argument(metavar="TX_ID", help="The gift to reverse.", show_default=False)],
    reason: Annotated[
        str, typer.Option("--reason", metavar="TEXT", help="Why it is reversed (recorded).", show_default=False)
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the receipt, but write nothing.")] = False,
    tx_id: IdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reverse a gift: the sender's coins go back into the same lots, the recipient gives the diamonds back.

    Only gifts are reversed: a buy is refunded, a redeem is final. A gift is
    reversed once, and only while the recipient still holds its diamonds.

    Examples:
      coinpurse reverse tx-7 --reason "sent to the wrong creator"
      coinpurse reverse tx-7 --reason "duplicate" --dry-run
    """
    from coinpurse.ledger import Ledger

    result = Ledger(ledger_path(ctx)).reverse(original, reason, tx_id, dry_run=dry_run)
    if as_json:
        emit_json(result.to_dict())
        return
    from coinpurse.cli.render import show_reversal

    show_reversal(result)


def register(app: typer.Typer) -> None:
    app.command("reverse", cls=Command)(reverse)
