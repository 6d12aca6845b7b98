"""``coinpurse history``: the transactions, oldest first."""

from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, SinceOption, StreamOption, UntilOption, ledger_path, time_window
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def history(
    ctx: typer.Context,
    account: Annotated[
        str | None,
        typer.Argument(metavar="ACCOUNT", help="Only transactions that touch this account.", show_default=False),
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", metavar="KIND", help="Only this kind: buy, gift, redeem, rates or reversal.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", metavar="N", help="Only the newest N.", min=1)] = None,
    show_all: Annotated[
        bool,
        typer.Option("--all", help="Every transaction, also on a terminal (which shows the newest 20 without it)."),
    ] = False,
    as_json: JsonOption = False,
    since: SinceOption = None,
    until: UntilOption = None,
    stream: StreamOption = None,
) -> None:
    """List transactions, newest last, with what each one moved.

    KIND is buy, gift, redeem, rates or reversal. On a terminal the newest 20 are shown
    unless --limit or --all says otherwise. --stream NAME keeps that live stream's gifts
    and the reversals of them (a refund undoes a purchase, so it belongs to no stream).

    Examples:
      coinpurse history mia --limit 5
      coinpurse history --kind rates             # every rates change
      coinpurse history --all | grep gift
      coinpurse history mia --since 2026-03-01 --until 2026-03-31
      coinpurse history --stream launch --limit 20
    """
    first, last = time_window(since, until)
    from coinpurse.cli.output import for_a_terminal
    from coinpurse.ledger import Ledger

    shown: int | None = (
        None  # on a terminal, the newest HISTORY_SHOWN unless asked for more; a pipe or --json gets them all
    )
    if limit is None and not show_all and not as_json and for_a_terminal():
        from coinpurse.cli.render import HISTORY_SHOWN

        shown = HISTORY_SHOWN
    found = Ledger(ledger_path(ctx)).history(account, kind, limit if shown is None else shown + 1, first, last, stream)
    if as_json:
        emit_json(found.to_dict())
        return
    from coinpurse.cli.render import show_history

    more = shown is not None and len(found.transactions) > shown
    show_history(found._replace(transactions=found.transactions[1:]) if more else found, more)


def register(app: typer.Typer) -> None:
    app.command("history", cls=Command)(history)
