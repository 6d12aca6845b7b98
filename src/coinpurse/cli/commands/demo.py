"""``coinpurse demo``: a small realistic economy, then everyone's balances."""

from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, ledger_path
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def demo(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Add the demo to a ledger that already has accounts.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Fill an empty ledger with viewers, creators, a live stream of gifts and a payout.

    Then everyone's balances; a second run replays and writes nothing.

    Examples:
      coinpurse --ledger demo.json demo
    """
    from coinpurse.ledger import Ledger

    result = Ledger(ledger_path(ctx)).demo(force)
    if as_json:
        emit_json(result.to_dict())
        return
    from coinpurse.cli.render_summaries import show_demo

    show_demo(result)


def register(app: typer.Typer) -> None:
    app.command("demo", cls=Command)(demo)
