"""``coinpurse sponsor``: a brand's budget that pays its gifts' bonus diamonds: fund it, list it, take it back."""

from typing import Annotated

import typer

from coinpurse.cli.common import IdOption, JsonOption, ledger_path, show_written
from coinpurse.cli.groups import Command, SuggestingGroup
from coinpurse.cli.output import emit_json

sponsor_app = typer.Typer(
    name="sponsor",  # its help is the callback's docstring
    invoke_without_command=True,
    no_args_is_help=False,
    cls=SuggestingGroup,
)

SponsorArgument = Annotated[
    str,
    typer.Argument(
        metavar="NAME", help="The sponsor's name (its budget is the account sponsor:NAME).", show_default=False
    ),
]
CashArgument = Annotated[
    str, typer.Argument(metavar="CASH", help="An amount in cash, e.g. 250.00.", show_default=False)
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show the receipt; write nothing.")]


@sponsor_app.callback()
def sponsor(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Sponsors' budgets: cash a brand pays in, which pays its gifts' bonus diamonds to creators.

    Without a subcommand, list them (as sponsor list does).

    A catalog gift names its sponsor and bonus with the rates keys
    gift.NAME.sponsor and gift.NAME.bonus_diamonds. Each such gift sent pays
    the creator the bonus, at the payout rate, from the sponsor's budget, or,
    when the budget can't cover it whole, goes through without it.

    Examples:
      coinpurse sponsor fund acme 250.00
      coinpurse rates set gift.Rose.sponsor acme gift.Rose.bonus_diamonds 100
      coinpurse sponsor list
      coinpurse sponsor withdraw acme 50.00
    """
    if ctx.invoked_subcommand is None:
        _list(ctx, as_json)


@sponsor_app.command("fund", cls=Command)
def sponsor_fund(
    ctx: typer.Context,
    name: SponsorArgument,
    cash: CashArgument,
    dry_run: DryRunOption = False,
    tx_id: IdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pay cash into a sponsor's budget; a new name starts a new sponsor.

    The budget, the account sponsor:NAME, pays the bonus diamonds of the
    gifts that name the sponsor in the catalog.

    Examples:
      coinpurse sponsor fund acme 250.00
      coinpurse sponsor fund acme 100 --id acme-march
    """
    from coinpurse.ledger import Ledger

    result = Ledger(ledger_path(ctx)).sponsor_fund(name, cash, tx_id, dry_run=dry_run)
    show_written(result, as_json, dry_run)


@sponsor_app.command("withdraw", cls=Command)
def sponsor_withdraw(
    ctx: typer.Context,
    name: SponsorArgument,
    cash: CashArgument,
    dry_run: DryRunOption = False,
    tx_id: IdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take unused budget back out to the sponsor; refused beyond what its budget has left.

    A sponsor never funded is bad input (exit 2); more than the budget has
    left is refused (exit 1) and changes nothing.

    Examples:
      coinpurse sponsor withdraw acme 50.00
      coinpurse sponsor withdraw acme 10 --dry-run
    """
    from coinpurse.ledger import Ledger

    result = Ledger(ledger_path(ctx)).sponsor_withdraw(name, cash, tx_id, dry_run=dry_run)
    show_written(result, as_json, dry_run)


@sponsor_app.command("list", cls=Command)
def sponsor_list(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Each sponsor's budget: funded, spent on bonuses (on which gifts, for how many creators), withdrawn, left.

    What refunds and reversals gave back is shown as returned; a bonus a
    budget could not cover moved nothing and is not counted.

    Examples:
      coinpurse sponsor list
      coinpurse sponsor list --json
    """
    _list(ctx, as_json)


def _list(ctx: typer.Context, as_json: bool) -> None:
    from coinpurse.ledger import Ledger

    sponsors = Ledger(ledger_path(ctx)).sponsors()
    if as_json:
        emit_json(sponsors.to_dict())
        return
    from coinpurse.cli.render_summaries import show_sponsors

    show_sponsors(sponsors)


def register(app: typer.Typer) -> None:
    app.add_typer(sponsor_app)
