"""``coinpurse export``: the history as CSV, a journal hledger and ledger-cli read, or JSON."""

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, SinceOption, StreamOption, UntilOption, ledger_path, time_window
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json


class Format(StrEnum):
    csv = "csv"
    journal = "journal"
    json = "json"


def export(
    ctx: typer.Context,
    format: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="csv (a row per posting), journal (hledger, ledger-cli) or json. Default: from -o's suffix, else journal.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout.", show_default=False),
    ] = None,
    as_json: JsonOption = False,
    since: SinceOption = None,
    until: UntilOption = None,
    stream: StreamOption = None,
) -> None:
    """Export every transaction for other tools; balances per account and commodity match coinpurse's.

    To stdout, or with -o to a file written whole or not at all. --since and --until
    export the transactions stamped between (both included); a journal from --since
    opens with each account's balances at that moment, so its balance assertions
    still hold. --stream NAME exports that live stream's gifts and their reversals
    only; its journal has no balance assertions and no opening balances, since other
    transactions moved those balances too.

    Examples:
      coinpurse export -o economy.journal        # then: hledger -f economy.journal bal
      coinpurse export --format csv > postings.csv
      coinpurse export -o history.json --json    # report what was written
      coinpurse export --since 2026-03-01 -o march.journal
      coinpurse export --stream launch --format csv
    """
    first, last = time_window(since, until)
    from coinpurse.errors import BadInput
    from coinpurse.ledger import Ledger
    from coinpurse.storage.outputs import is_stdout

    if as_json and (output is None or is_stdout(output)):
        raise BadInput("--json reports on the file written: give -o FILE, or use --format json for the data itself")
    from coinpurse.cli.render_summaries import export_stream

    path = ledger_path(ctx)
    progress = None
    if not as_json:
        from coinpurse.cli.render_summaries import progress_bar

        progress = progress_bar(f"exporting {path.name}")  # on stderr: stdout may be the export itself
    try:
        result = Ledger(path).export(
            format.value if format is not None else None, output,
            stream=export_stream() if output is None else None, on_progress=progress,
            since=first, until=last, live_stream=stream,
        )  # fmt: skip
    finally:
        if progress is not None:
            progress.close()
    if output is None:
        return  # the export itself went to stdout as it was made
    if as_json:
        emit_json(result.to_dict())
        return
    from coinpurse.cli.render_summaries import show_export

    show_export(result)


def register(app: typer.Typer) -> None:
    app.command("export", cls=Command)(export)
