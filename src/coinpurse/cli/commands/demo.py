"""``coinpurse demo``: a small realistic economy, then everyone's balances."""

from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, ledger_path
from coinpurse.cli.output import handles_errors, show


@handles_errors
def demo(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option("--force", help="Add the demo to a ledger that already has accounts.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Fill an empty ledger with viewers, creators, a live stream of gifts and a payout."""
    from coinpurse import scripting

    result = scripting.demo(ledger_path(ctx), force)
    show(result, as_json, "show_demo", "coinpurse.cli.render_scripting")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
