"""``coinpurse statement``: a creator's month (or any span), on the terminal, as JSON, or as one HTML page."""

from pathlib import Path
from typing import Annotated

import typer

from coinpurse.cli.common import (
    JsonOption,
    SinceOption,
    StreamOption,
    UntilOption,
    check_page_target,
    deliver_page,
    ledger_path,
    time_window,
)
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


def statement(
    ctx: typer.Context,
    account: Annotated[
        str, typer.Argument(metavar="CREATOR", help="The creator whose statement to make.", show_default=False)
    ],
    month: Annotated[
        str | None,
        typer.Option("--month", metavar="YYYY-MM", help="That calendar month (UTC), in place of --since/--until."),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
    top: Annotated[int, typer.Option("--top", metavar="N", help="How many top gifters to list.", min=1)] = 10,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="FILE",
            help="Also write the statement as one self-contained HTML page (-: stdout).",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
    stream: StreamOption = None,
) -> None:
    """A creator's statement: balances, gifts by gift, stream and gifter, diamonds taken back, payouts.

    Opening and closing balances are the creator's right before and right after
    the period; the effective share is what the gifts' diamonds are worth at the
    payout rate each recorded, over what the viewers paid for those coins. The
    statement names the last transaction in the period and its hash, which
    'coinpurse verify --anchor HASH' checks later; the same ledger and period
    always give the same statement (and the same --html bytes).

    --stream NAME keeps that live stream's gifts and what reversals and refunds
    took back of them; payouts belong to no stream and are left out, and the
    balances stay the creator's whole balances.

    Examples:
      coinpurse statement mia --month 2026-03
      coinpurse statement mia --since 2026-03-01 --until 2026-03-15 --json
      coinpurse statement mia --month 2026-03 --html mia-2026-03.html
      coinpurse statement mia --month 2026-03 --stream launch
    """
    first, last = _period(month, since, until)
    from coinpurse.ledger import Ledger

    path = ledger_path(ctx)
    check_page_target(html, as_json, path)
    made = Ledger(path).statement(account, first, last, top, stream)
    if html is not None:
        from coinpurse.formats.statement_html import statement_page

        if deliver_page(html, statement_page(made)):
            return
    if as_json:
        emit_json(made.to_dict())
        return
    if html is not None:  # as export -o: a line naming the file, with the hash the page shows
        from coinpurse.cli.render_summaries import show_statement_written

        show_statement_written(made, html)
        return
    from coinpurse.cli.render import show_statement

    show_statement(made)


def _period(month: str | None, since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """--month as its first and last second, or --since/--until; not both ways at once."""
    if month is None:
        return time_window(since, until)
    if since is not None or until is not None:
        from coinpurse.errors import BadInput

        raise BadInput("--month is a period of its own: give it, or --since/--until, not both", code="usage")
    from coinpurse.core.clock import month_span

    return month_span(month)


def register(app: typer.Typer) -> None:
    app.command("statement", cls=Command)(statement)
