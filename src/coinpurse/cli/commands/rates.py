"""``coinpurse rates``: show the rates in force, and change, export or import them."""

from pathlib import Path
from typing import Annotated

import typer

from coinpurse.cli.common import IdOption, InputFormatOption, JsonOption, ledger_path, stdout_unless_given
from coinpurse.cli.output import emit_json

rates_app = typer.Typer(
    name="rates",
    help="Show the rates in force: packages per channel, the gift catalog, conversion and payouts.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@rates_app.callback()
def rates(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the rates in force: packages per channel, the gift catalog, conversion and payouts."""
    if ctx.invoked_subcommand is not None:
        return
    from coinpurse.ledger import Ledger

    view = Ledger(ledger_path(ctx)).rates()
    if as_json:
        emit_json(view.to_dict())
        return
    from coinpurse.cli.render import show_rates

    show_rates(view)


@rates_app.command("set")
def rates_set(
    ctx: typer.Context,
    pairs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[KEY VALUE]...",
            help="Keys and values, e.g. gift.Rose.coins 2, payout.minimum 50.00, channel.web.package.700 7.49.",
            show_default=False,
        ),
    ] = None,
    remove: Annotated[
        list[str] | None,
        typer.Option("--remove", metavar="KEY", help="Remove a gift, package or channel, e.g. gift.Rose (repeatable).", show_default=False),
    ] = None,
    tx_id: IdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change rates in one recorded transaction; a new gift or package key adds it."""
    from coinpurse.errors import BadInput
    from coinpurse.ledger import Ledger

    values = pairs or []
    if len(values) % 2:
        raise BadInput(f"give a VALUE for {values[-1]!r} (or use --remove {values[-1]} to remove it)")
    sets = dict(zip(values[::2], values[1::2], strict=True))
    changed = Ledger(ledger_path(ctx)).rates_set(sets, remove or [], tx_id)
    if as_json:
        emit_json(changed.to_dict())
        return
    from coinpurse.cli.render_summaries import show_rates_change

    show_rates_change(changed)


@rates_app.command("import")
def rates_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A rates file (.toml as `rates export` writes, or .json); - for stdin.", show_default=False)],
    tx_id: IdOption = None,
    format: InputFormatOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a rates file and put it in force, recording what changed."""
    from coinpurse.ledger import Ledger

    imported = Ledger(ledger_path(ctx)).rates_import(file, tx_id, format=format)
    if as_json:
        emit_json(imported.to_dict())
        return
    from coinpurse.cli.render_summaries import show_rates_change

    show_rates_change(imported)


@rates_app.command("export")
def rates_export(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="Where to write the rates (.toml); - or none for stdout.", show_default=False)] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="The same as FILE.", show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the rates in force as a commented TOML file to edit and import."""
    from coinpurse.ledger import Ledger

    result = Ledger(ledger_path(ctx)).rates_export(stdout_unless_given(file, output, as_json))
    if as_json:
        emit_json(result.to_dict())
        return
    from coinpurse.cli.render_summaries import show_rates_export

    show_rates_export(result)


def register(app: typer.Typer) -> None:
    app.add_typer(rates_app)
