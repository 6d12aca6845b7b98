"""``coinpurse verify``: rebuild every balance from the history and check the hash chain."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from coinpurse.cli.common import JsonOption, ledger_path
from coinpurse.cli.groups import Command
from coinpurse.cli.output import emit_json
from coinpurse.errors import LedgerUnusable

if TYPE_CHECKING:
    from coinpurse.core.verify import VerifyReport

SHOWN_PROBLEMS = 10


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
    after: Annotated[
        str | None,
        typer.Option(
            "--after",
            metavar="HASH",
            help="The head hash of an earlier verify: trust the history up to it and check only what came after.",
            show_default=False,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check the whole ledger: balances rebuilt from history, the rules, ids, times and the hash chain.

    Exit 0 with a one-line summary and the head hash when everything holds;
    exit 3 naming the first transaction (or account) that is wrong. With
    --anchor, a hash noted earlier must still be in the chain. With --after,
    the history up to a hash an earlier verify gave is trusted, and only the
    transactions after it are checked.

    Examples:
      coinpurse verify
      coinpurse verify --anchor "$NOTED" --json   # NOTED: a head hash verify printed earlier
      coinpurse verify --after "$VERIFIED"       # VERIFIED: the head hash of an earlier verify
    """
    from coinpurse.cli.render_summaries import progress_bar
    from coinpurse.ledger import Ledger

    path = ledger_path(ctx)
    progress = progress_bar(f"verifying {path.name}")
    try:
        report = Ledger(path).verify(anchors or (), after=after, on_progress=progress)
    finally:
        if progress is not None:
            progress.close()
    if as_json:
        emit_json(report.to_dict())
    else:
        from coinpurse.cli.render_summaries import show_verified

        show_verified(report)
    if not report.ok:
        raise _failure(path, report)


def _failure(path: Path, report: "VerifyReport") -> LedgerUnusable:
    """The first problem as the error (exit 3); the next few, for people, as further lines under it."""
    error = LedgerUnusable(f"{path}: {report.summary()}", code=f"verify_{report.problems[0].code}")
    for problem in report.problems[1:SHOWN_PROBLEMS]:
        error.add_note(f"also: {problem.where()}: {problem.message}")
    return error


def register(app: typer.Typer) -> None:
    app.command("verify", cls=Command)(verify)
