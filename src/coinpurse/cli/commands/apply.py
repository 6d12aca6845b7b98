"""``coinpurse apply``: a scenario file of operations, all or nothing, in one load and one save."""

from pathlib import Path
from typing import Annotated

import typer

from coinpurse.cli.common import InputFormatOption, JsonOption, ledger_path
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json_chunks


def apply(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help='A scenario: .toml with [[ops]] tables, or .json with {"ops": [...]}.',
            show_default=False,
        ),
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every op and report, but write nothing.")] = False,
    format: InputFormatOption = None,
    as_json: JsonOption = False,
) -> None:
    """Apply a scenario's ops in order; if any is refused or invalid, none is applied.

    Each op has a kind (buy, gift, redeem or rates) and the command's fields;
    ops with an id replay on a re-run instead of applying twice.

    Examples:
      coinpurse apply scenario.toml --dry-run    # check every op, write nothing
      coinpurse apply scenario.json --json       # one result per op
    """
    from coinpurse.ledger import Ledger

    progress = None
    if not as_json:
        from coinpurse.cli.render_summaries import progress_bar

        progress = progress_bar(f"applying {'stdin' if str(file) == '-' else file.name}")
    try:
        report = Ledger(ledger_path(ctx)).apply(
            file, dry_run=dry_run, on_progress=progress, details=as_json, format=format
        )
    finally:
        if progress is not None:
            progress.close()
    if as_json:
        emit_json_chunks(report.json_chunks)  # a million ops' results are never held at once
        return
    from coinpurse.cli.render_summaries import show_apply

    show_apply(report)


def register(app: typer.Typer) -> None:
    app.command("apply", cls=Command)(apply)
