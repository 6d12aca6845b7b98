"""``coinpurse payout``: held payouts (``redeem --hold``): list them, approve, reject, return, expire."""

from typing import Annotated

import typer

from coinpurse.cli.common import IdOption, JsonOption, ledger_path, show_written
from coinpurse.cli.groups import Command, SuggestingGroup
from coinpurse.cli.output import emit_json

payout_app = typer.Typer(name="payout", invoke_without_command=True, no_args_is_help=False, cls=SuggestingGroup)

HoldArgument = Annotated[
    str, typer.Argument(metavar="ID", help="The payout's id: the id of its hold (redeem --hold).", show_default=False)
]
ReasonOption = Annotated[
    str, typer.Option("--reason", metavar="TEXT", help="Why, in 1 to 200 characters.", show_default=False)
]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show the whole receipt; write nothing.")]


@payout_app.callback()
def payout(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Held payouts: a creator's 'redeem --hold' waits here for review.

    Without a subcommand, every payout, as 'payout list' shows them. Approval
    pays exactly the cash fixed when it was asked for; a rejected, expired or
    returned payout gives the diamonds back and frees its room in the daily
    maximum of its day.

    Examples:
      coinpurse payout list --state pending
      coinpurse payout approve tx-12
      coinpurse payout reject tx-12 --reason "failed identity check"
    """
    if ctx.invoked_subcommand is not None:
        return
    _list(ctx, None, None, as_json)


def _list(ctx: typer.Context, account: str | None, state: str | None, as_json: bool) -> None:
    from coinpurse.ledger import Ledger

    found = Ledger(ledger_path(ctx)).payouts(account, state)
    if as_json:
        emit_json(found.to_dict())
        return
    from coinpurse.cli.render_summaries import show_payouts

    show_payouts(found)


@payout_app.command("list", cls=Command)
def payout_list(
    ctx: typer.Context,
    account: Annotated[
        str | None, typer.Argument(metavar="ACCOUNT", help="Only this creator's payouts.", show_default=False)
    ] = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            metavar="STATE",
            help="Only those pending, paid, rejected, expired or returned.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List held payouts, oldest first, with their state now.

    A hold untouched past its review reads as expired (its diamonds as
    available) before the release is recorded; reading writes nothing.

    Examples:
      coinpurse payout list
      coinpurse payout list mia --state pending --json
    """
    _list(ctx, account, state, as_json)


@payout_app.command("approve", cls=Command)
def payout_approve(
    ctx: typer.Context,
    hold: HoldArgument,
    dry_run: DryRunOption = False,
    tx_id: IdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pay a pending payout: exactly the cash fixed when it was asked for.

    Refused (exit 1) once it is approved, rejected, expired or returned.

    Examples:
      coinpurse payout approve tx-12
      coinpurse payout approve tx-12 --id approve-tx-12
    """
    from coinpurse.ledger import Ledger

    show_written(Ledger(ledger_path(ctx)).payout_approve(hold, tx_id, dry_run=dry_run), as_json, dry_run)


@payout_app.command("reject", cls=Command)
def payout_reject(
    ctx: typer.Context,
    hold: HoldArgument,
    reason: ReasonOption,
    dry_run: DryRunOption = False,
    tx_id: IdOption = None,
    as_json: JsonOption = False,
) -> None:
    """Refuse a pending payout: its diamonds go back to the creator.

    Its cash is freed in the daily maximum of the day it was asked for.
    Refused (exit 1) once it is approved, rejected, expired or returned.

    Examples:
      coinpurse payout reject tx-12 --reason "failed identity check"
      coinpurse payout reject tx-12 --reason "duplicate request" --id reject-tx-12
    """
    from coinpurse.ledger import Ledger

    show_written(Ledger(ledger_path(ctx)).payout_reject(hold, reason, tx_id, dry_run=dry_run), as_json, dry_run)


@payout_app.command("return", cls=Command)
def payout_return(
    ctx: typer.Context,
    hold: HoldArgument,
    reason: ReasonOption,
    dry_run: DryRunOption = False,
    tx_id: IdOption = None,
    as_json: JsonOption = False,
) -> None:
    """A paid payout the bank sent back: the cash back to the platform, the diamonds to the creator.

    Only an approved payout is returned, once; its cash is freed in the daily
    maximum of the day it was asked for.

    Examples:
      coinpurse payout return tx-12 --reason "account closed"
      coinpurse payout return tx-12 --reason "wrong IBAN" --dry-run
    """
    from coinpurse.ledger import Ledger

    show_written(Ledger(ledger_path(ctx)).payout_return(hold, reason, tx_id, dry_run=dry_run), as_json, dry_run)


@payout_app.command("expire", cls=Command)
def payout_expire(
    ctx: typer.Context,
    account: Annotated[
        str | None, typer.Argument(metavar="ACCOUNT", help="Only this creator's payouts.", show_default=False)
    ] = None,
    dry_run: DryRunOption = False,
    as_json: JsonOption = False,
) -> None:
    """Record the release of every hold untouched past its review, each as its own transaction.

    The next write that touches a creator's account records theirs anyway;
    this records them all now (say, from a daily job).

    Examples:
      coinpurse payout expire
      coinpurse payout expire mia --dry-run
    """
    from coinpurse.ledger import Ledger

    result = Ledger(ledger_path(ctx)).payout_expire(account, dry_run=dry_run)
    if as_json:
        emit_json(result.to_dict())
        return
    from coinpurse.cli.render_summaries import show_payout_expiry

    show_payout_expiry(result)


def register(app: typer.Typer) -> None:
    app.add_typer(payout_app)
