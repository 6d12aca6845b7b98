"""``coinpurse info``: which ledger is in use, where that came from, and what it holds."""

import typer

from coinpurse.cli.common import JsonOption, ledger_path, ledger_source
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def info(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the ledger file in use and why (--ledger, $COINPURSE_LEDGER or the default), its format, schema, size, counts and head hash.

    Reads no history and creates nothing; a missing ledger is reported, exit 0.

    Examples:
      coinpurse info
      coinpurse info --ledger economy.sqlite --json
    """
    from coinpurse.ledger import Ledger

    found = Ledger(ledger_path(ctx)).info(ledger_source(ctx))
    if as_json:
        emit_json(found.to_dict())
        return
    from coinpurse.cli.render_summaries import show_info

    show_info(found)


def register(app: typer.Typer) -> None:
    app.command("info", cls=Command)(info)
