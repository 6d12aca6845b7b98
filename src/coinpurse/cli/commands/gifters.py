"""``coinpurse gifters``: a creator's top gifters."""

from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, SinceOption, StreamOption, UntilOption, ledger_path, time_window
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def gifters(
    ctx: typer.Context,
    account: Annotated[
        str, typer.Argument(metavar="ACCOUNT", help="The creator whose gifters to rank.", show_default=False)
    ],
    limit: Annotated[int, typer.Option("--limit", metavar="N", help="How many to show.", min=1)] = 10,
    as_json: JsonOption = False,
    since: SinceOption = None,
    until: UntilOption = None,
    stream: StreamOption = None,
) -> None:
    """Rank who sent an account the most diamonds, with what their gifts are worth.

    Most diamonds first; ties by name, and equal diamonds share a rank. gifts counts
    gift transactions, items the gifts in them (-n 5 is one gift of 5 items). With
    --stream NAME it is the live leaderboard that stream shows.

    Examples:
      coinpurse gifters mia
      coinpurse gifters mia --limit 3 --json
      coinpurse gifters mia --since 2026-03-01
      coinpurse gifters mia --stream launch --limit 5
    """
    first, last = time_window(since, until)
    from coinpurse.ledger import Ledger

    ranking = Ledger(ledger_path(ctx)).gifters(account, limit, first, last, stream)
    if as_json:
        emit_json(ranking.to_dict())
        return
    from coinpurse.cli.render import show_gifters

    show_gifters(ranking, window=first is not None or last is not None)


def register(app: typer.Typer) -> None:
    app.command("gifters", cls=Command)(gifters)
