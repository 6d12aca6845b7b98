"""``coinpurse rates``: packages, gifts, conversion, payout rules and who keeps what."""

import typer

from coinpurse.cli.common import JsonOption, ledger_path
from coinpurse.cli.output import handles_errors


@handles_errors
def rates(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the rates in force: packages per channel, the gift catalog, conversion and payouts."""
    from coinpurse import api

    view = api.rates(ledger_path(ctx))
    if as_json:
        from coinpurse.cli.output import emit_json

        emit_json(view.to_dict())
    else:
        from coinpurse.cli.render import show_rates

        show_rates(view)


def register(app: typer.Typer) -> None:
    app.command("rates")(rates)
