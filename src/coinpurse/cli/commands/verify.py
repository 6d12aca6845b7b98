"""``coinpurse verify``: rebuild every balance from the history and check the hash chain."""

from typing import Annotated

import typer

from coinpurse.cli.common import JsonOption, ledger_path
from coinpurse.cli.output import handles_errors, say
from coinpurse.errors import ExitCode, LedgerUnusable

SHOWN_PROBLEMS = 10


@handles_errors
def verify(
    ctx: typer.Context,
    anchors: Annotated[
        list[str] | None,
        typer.Option(
            "--anchor",
            metavar="HASH",
            help="A transaction hash noted earlier (repeatable): pass only if the chain still holds it.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check the whole ledger: balances rebuilt from history, the rules, ids, times and the hash chain.

    Exit 0 with a one-line summary and the head hash when everything holds;
    exit 3 naming the first transaction (or account) that is wrong. With
    --anchor, a hash noted earlier must still be in the chain.
    """
    from coinpurse import api

    path = ledger_path(ctx)
    report = api.verify(path, anchors or ())
    if as_json:
        from coinpurse.cli.output import emit_json

        emit_json(report.to_dict())
    if report.ok:
        if not as_json:
            say(report.summary())
        return
    error = LedgerUnusable(f"{path}: {report.summary()}", code=f"verify_{report.problems[0].code}")
    if as_json:
        raise error
    from coinpurse.cli.output import report_error

    report_error(error, False)
    for problem in report.problems[1:SHOWN_PROBLEMS]:
        say(f"  also: {problem.where()}: {problem.message}", stderr=True)
    raise typer.Exit(int(ExitCode.LEDGER_UNUSABLE))


def register(app: typer.Typer) -> None:
    app.command("verify")(verify)
