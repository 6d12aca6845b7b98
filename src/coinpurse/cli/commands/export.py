"""``coinpurse export``: the history as CSV, a journal hledger and ledger-cli read, or JSON."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, ledger_path
from coinpurse.cli.output import handles_errors


class Format(str, Enum):
    csv = "csv"
    journal = "journal"
    json = "json"


@handles_errors
def export(
    ctx: typer.Context,
    format: Annotated[Format, typer.Option("--format", "-f", help="csv (a row per posting), journal (hledger, ledger-cli) or json.")] = Format.journal,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.", show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:
    """Export every transaction for other tools; balances per account and commodity match coinpurse's."""
    from coinpurse import scripting
    from coinpurse.errors import BadInput

    if as_json and output is None:
        raise BadInput("--json reports on the file written: give -o FILE, or use --format json for the data itself")
    result = scripting.export(ledger_path(ctx), format.value, output)
    if as_json:
        from coinpurse.cli.output import emit_json

        emit_json(result.to_dict())
    elif output is None:
        sys.stdout.write(result.text)
    else:
        sys.stdout.write(f"Wrote {result.transactions} transactions ({result.postings} postings) to {output} as {format.value}.\n")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
