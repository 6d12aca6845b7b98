"""``coinpurse rates``: show the rates in force, and change, export or import them."""

from pathlib import Path
from typing import Annotated

import typer

from coinpurse.cli.common import IdOption, InputFormatOption, JsonOption, ledger_path, stdout_unless_given
from coinpurse.cli.groups import Command, SuggestingGroup
from coinpurse.cli.output import emit_json

rates_app = typer.Typer(
    name="rates",  # its help is the callback's docstring
    invoke_without_command=True,
    no_args_is_help=False,
    cls=SuggestingGroup,
)


@rates_app.callback()
def rates(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Show the rates in force: packages per channel, the gift catalog, conversion and payouts.

    With a subcommand, change them (set), or write them to a file to edit and
    read them back (export, import).

    Examples:
      coinpurse rates
      coinpurse rates set gift.Rose.coins 2
      coinpurse rates export rates.toml
    """
    if ctx.invoked_subcommand is not None:
        return
    from coinpurse.ledger import Ledger

    view = Ledger(ledger_path(ctx)).rates()
    if as_json:
        emit_json(view.to_dict())
        return
    from coinpurse.cli.render import show_rates

    show_rates(view)


@rates_app.command("set", cls=Command)
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
        typer.Option(
            "--remove",
            metavar="KEY",
            help="Remove a gift, package or channel, e.g. gift.Rose (repeatable).",
            show_default=False,
        ),
    ] = None,
    tx_id: IdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change rates in one recorded transaction; a new gift or package key adds it.

    Each key once: a key given twice, or both set and removed, is refused. Put
    -- before a negative value. The keys: gift.NAME.coins,
    channel.CHANNEL.package.COINS, channel.CHANNEL.coin_price, .custom_min,
    .custom_max, conversion.diamonds_per_coin, payout.cash_per_diamond,
    .minimum, .daily_maximum and .fee_percent, channel.CHANNEL.store_fee_percent
    (what an app store keeps of each price; --remove to unset).

    Examples:
      coinpurse rates set gift.Rose.coins 2                 # a new price
      coinpurse rates set gift.Comet.coins 250              # a new gift
      coinpurse rates set --remove gift.Lion                # retire a gift
      coinpurse rates set payout.minimum 50.00 payout.fee_percent 2 --id fees-1
      coinpurse rates set channel.app.store_fee_percent 30  # the store's share of app prices
    """
    from coinpurse.errors import BadInput
    from coinpurse.ledger import Ledger

    values = pairs or []
    if len(values) % 2:
        raise BadInput(f"give a VALUE for {values[-1]!r} (or use --remove {values[-1]} to remove it)")
    sets = list(zip(values[::2], values[1::2], strict=True))  # in order: a key given twice is refused, not dropped
    changed = Ledger(ledger_path(ctx)).rates_set(sets, remove or [], tx_id)
    if as_json:
        emit_json(changed.to_dict())
        return
    from coinpurse.cli.render_summaries import show_rates_change

    show_rates_change(changed)


@rates_app.command("import", cls=Command)
def rates_import(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="A rates file (.toml as `rates export` writes, or .json); - for stdin.",
            show_default=False,
        ),
    ],
    tx_id: IdOption = None,
    format: InputFormatOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a rates file and put it in force, recording what changed.

    Importing what is already in force records nothing.

    Examples:
      coinpurse rates import rates.toml
      coinpurse rates import rates.json --id rates-2026-04
    """
    from coinpurse.ledger import Ledger

    imported = Ledger(ledger_path(ctx)).rates_import(file, tx_id, format=format)
    if as_json:
        emit_json(imported.to_dict())
        return
    from coinpurse.cli.render_summaries import show_rates_change

    show_rates_change(imported)


@rates_app.command("export", cls=Command)
def rates_export(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="FILE",
            help="Where to write the rates (.toml, commented, or .json); - or none for stdout.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="FILE", help="The same as FILE.", show_default=False)
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Write the rates in force as a commented TOML file (or JSON) to edit and import.

    The file must not be one of the ledger's own.

    Examples:
      coinpurse rates export rates.toml          # edit it, then: coinpurse rates import rates.toml
      coinpurse rates export                     # print them
    """
    from coinpurse.ledger import Ledger

    result = Ledger(ledger_path(ctx)).rates_export(stdout_unless_given(file, output, as_json))
    if as_json:
        emit_json(result.to_dict())
        return
    from coinpurse.cli.render_summaries import show_rates_export

    show_rates_export(result)


def register(app: typer.Typer) -> None:
    app.add_typer(rates_app)
