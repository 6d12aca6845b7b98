"""``coinpurse report``: what the platform took in, paid out and kept over a window, and what it owes."""

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


def report(
    ctx: typer.Context,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            metavar="PERIOD",
            help="The period of each row of the series: day, week (ISO, Monday first) or month, in UTC.",
        ),
    ] = "month",
    as_json: JsonOption = False,
    since: SinceOption = None,
    until: UntilOption = None,
    html: Annotated[
        Path | None,
        typer.Option(
            "--html",
            metavar="FILE",
            help="Also write the report as one self-contained HTML page (-: stdout).",
            show_default=False,
        ),
    ] = None,
    stream: StreamOption = None,
) -> None:
    """Show what the platform took in, paid out and kept, and what it owes.

    Viewer cash in by channel, refunds, diamonds issued, payouts and, per
    creator, diamonds and cash paid out. Kept is cash in minus paid out minus
    refunded, also as a percentage of cash in. What it owes is as at the
    window's end (--until, else now): unspent coins at what they cost and
    unredeemed diamonds at the payout rate in force. Weeks are ISO weeks
    (Monday first, UTC), named like 2026-W09. The report names the last
    transaction by the window's end and its hash, which 'coinpurse verify
    --anchor HASH' checks later; the same ledger and window always give the
    same report (and the same --html bytes).

    --stream NAME reports that live stream's gifts: what the viewers paid for
    their coins, the diamonds and their worth, the platform's take and the
    creators reached, net of what reversals and refunds' clawbacks took back of
    them. Buys, payouts, refunded cash and what the platform owes belong to no
    stream and are left out.

    Examples:
      coinpurse report
      coinpurse report --by week --since 2026-03-01 --until 2026-03-31
      coinpurse report --by day --since yesterday --json
      coinpurse report --by week --since 2026-03-01 --until 2026-03-31 --html report-2026-03.html
      coinpurse report --stream launch --since 2026-03-01 --json
    """
    first, last = time_window(since, until)
    from coinpurse.ledger import Ledger

    path = ledger_path(ctx)
    check_page_target(html, as_json, path)
    made = Ledger(path).report(first, last, by, stream)
    if html is not None:
        from coinpurse.formats.report_html import report_page

        if deliver_page(html, report_page(made.report)):
            return
    if as_json:
        emit_json(made.to_dict())
        return
    if html is not None:  # as statement --html: a line naming the file, with the hash the page shows
        from coinpurse.cli.render_summaries import show_report_written

        show_report_written(made, html)
        return
    from coinpurse.cli.render_report import show_report

    show_report(made)


def register(app: typer.Typer) -> None:
    app.command("report", cls=Command)(report)
