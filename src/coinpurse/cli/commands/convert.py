"""``coinpurse convert``: copy a ledger into another format (JSON, TOML, SQLite or a PostgreSQL database)."""

from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def convert(
    source: Annotated[str, typer.Argument(metavar="SRC", help="The ledger to copy.", show_default=False)],
    target: Annotated[
        str,
        typer.Argument(
            metavar="DST",
            help="A new ledger file (its suffix picks the format) or a postgresql:// URL.",
            show_default=False,
        ),
    ],
    as_json: JsonOption = False,
) -> None:
    """Copy SRC into a new ledger DST, losing nothing: every transaction with its hash, accounts and rates.

    DST must not exist; its suffix (.json, .toml or .sqlite) picks the format, or a
    postgresql:// URL names a database that holds no ledger yet.

    Examples:
      coinpurse convert ledger.json ledger.sqlite
      coinpurse convert ledger.json postgresql://me@db.example/coins
    """
    from coinpurse.ledger import Ledger
    from coinpurse.storage.urls import ledger_path

    progress = None
    if not as_json:
        from coinpurse.cli.render_summaries import progress_bar

        progress = progress_bar(f"converting {ledger_path(source).name}")
    try:
        done = Ledger(source).convert(target, on_progress=progress)
    finally:
        if progress is not None:
            progress.close()
    if as_json:
        emit_json(done.to_dict())
        return
    from coinpurse.cli.render_summaries import show_conversion

    show_conversion(done)


def register(app: typer.Typer) -> None:
    app.command("convert", cls=Command)(convert)
