"""Options every command shares, and what one run's options asked for."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from typer._click import Command, Context, Parameter  # the Click that Typer carries

    from coinpurse.results import OperationResult


class RunState:
    """What the command line asked for, recorded as its options are parsed.

    The entry point creates one per run and reads it when a run fails, so an
    error is reported in the mode the command was actually given.
    """

    __slots__ = ("as_json", "json_given", "ledger", "quiet")

    def __init__(self) -> None:
        self.ledger: Path | None = None
        self.as_json: bool | None = None  # None until a command's --json option has been read
        self.json_given = False  # a --json anywhere on the line: before the command, after it, or both
        self.quiet = False


# Eager, so it is read before any other parameter of the command can fail to parse.
# record_json_options attaches the callback that records it.
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.", is_eager=True)]
SinceOption = Annotated[
    str | None,
    typer.Option(
        "--since", metavar="TIME", help="Only from then on: a date (its start, UTC), an ISO time, today or yesterday."
    ),
]
UntilOption = Annotated[
    str | None,
    typer.Option(
        "--until", metavar="TIME", help="Only up to then: a date (its end, UTC), an ISO time, today or yesterday."
    ),
]


def time_window(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """``--since`` and ``--until`` as stored times: a date is its first second as a start, its last as an end."""
    from coinpurse.core.clock import moment

    first = None if since is None else moment(since, end_of_day=False, what="--since")
    last = None if until is None else moment(until, end_of_day=True, what="--until")
    return first, last


# The format of an input file read from stdin (or of one whose name has another suffix); else sniffed.
InputFormatOption = Annotated[
    str | None,
    typer.Option(
        "--format",
        metavar="json|toml",
        help="The file's format, for stdin (-) or a name without .json or .toml; without it, stdin's first character says ({ is JSON).",
        show_default=False,
    ),
]
IdOption = Annotated[
    str | None,
    typer.Option(
        "--id", metavar="ID", help="Your id for this transaction; a retry with the same id and request is a no-op."
    ),
]


def record_json_mode(ctx: Context, param: Parameter, value: bool) -> bool:
    """Click's callback on every --json option: the parsed value goes on the run's state.

    A --json given earlier on the line (before the command, or to ``rates``
    before ``set``) holds for the command too.
    """
    state = ctx.ensure_object(RunState)
    value = bool(value) or state.json_given
    state.json_given = value
    if value or not hasattr(ctx.command, "commands"):
        state.as_json = value  # a group's "no --json" is not the last word: its command's is
    return value


def _record_ledger(ctx: Context, param: Parameter, value: str | None) -> None:
    if value is not None:
        record_ledger_option(ctx, value)


def _record_quiet(ctx: Context, param: Parameter, value: bool) -> None:
    if value:
        from coinpurse.cli.output import set_quiet

        ctx.ensure_object(RunState).quiet = True
        set_quiet(True)


LEDGER_HELP = (
    "Ledger file (.json, .toml or .sqlite). Default: $COINPURSE_LEDGER, else ledger.json in the user data folder."
)
QUIET_HELP = "Print nothing on stdout when the command succeeds; errors still go to stderr."


def _global_options(command: Command) -> list[Parameter]:
    """The options a command line takes before or after the command: the ones ``command`` lacks."""
    from typer.core import TyperOption

    names = {param.name for param in command.params}
    options: list[Parameter] = []
    if "ledger" not in names:
        options.append(
            TyperOption(
                param_decls=["--ledger"], metavar="PATH", expose_value=False, callback=_record_ledger, help=LEDGER_HELP
            )
        )
    if "as_json" not in names:
        options.append(
            TyperOption(
                param_decls=["--json", "as_json"], is_flag=True, expose_value=False, is_eager=True,
                callback=record_json_mode, help="Print the result as JSON on stdout.",
            )
        )  # fmt: skip
    if "quiet" not in names:
        options.append(
            TyperOption(
                param_decls=["--quiet", "-q"], is_flag=True, expose_value=False, callback=_record_quiet, help=QUIET_HELP
            )
        )
    return options


def record_json_options(command: Command) -> None:
    """Attach record_json_mode to the --json option of every command under ``command``, and give each the global options.

    ``--ledger``, ``--json`` and ``-q/--quiet`` are then read wherever they
    appear: before the command, after it, or after a subcommand such as
    ``rates set``. The callback is set on the built Click options rather than
    given to typer.Option, since Typer reads a callback's signature for every
    command it builds, and it builds them all on every run.
    """
    pending = [command]
    while pending:
        current = pending.pop()
        pending.extend(getattr(current, "commands", {}).values())
        for param in current.params:
            if param.name == "as_json":
                param.callback = record_json_mode
        current.params.extend(_global_options(current))


def record_ledger_option(ctx: Context, ledger: str | Path | None) -> None:
    """The run's --ledger, wherever it was given; a name no file can have is bad usage (exit 2)."""
    if ledger is not None and "\0" in str(ledger):
        from coinpurse.errors import BadInput

        raise BadInput(f"--ledger {str(ledger)!r}: a path can't hold a NUL character", code="usage")
    from coinpurse.storage.urls import ledger_path as named_ledger

    ctx.ensure_object(RunState).ledger = None if ledger is None else named_ledger(ledger)


def ledger_path(ctx: typer.Context) -> Path:
    from coinpurse.storage import resolve_ledger_path

    return resolve_ledger_path(ctx.ensure_object(RunState).ledger)


def ledger_source(ctx: typer.Context) -> str:
    """How the run's ledger path was chosen: ``flag`` (--ledger), ``env`` (COINPURSE_LEDGER) or ``default``."""
    import os

    from coinpurse.storage import LEDGER_VARIABLE

    if ctx.ensure_object(RunState).ledger not in (None, Path("")):
        return "flag"
    return "env" if os.environ.get(LEDGER_VARIABLE) else "default"


def stdout_unless_given(file: Path | None, option: Path | None, as_json: bool) -> Path:
    """An output given as FILE or -o FILE (not both), ``-`` (stdout) when neither; --json needs a file to report on."""
    from coinpurse.errors import BadInput

    if file is not None and option is not None and file != option:
        raise BadInput(f"give the output once: {file} or -o {option}")
    from coinpurse.storage.outputs import STDOUT, is_stdout

    chosen = file if file is not None else option if option is not None else Path(STDOUT)
    if as_json and is_stdout(chosen):
        raise BadInput("--json reports on the file written: give a FILE, not stdout")
    return chosen


StreamOption = Annotated[
    str | None,
    typer.Option("--stream", metavar="NAME", help="Only that live stream's gifts (as gift --stream NAME tagged them)."),
]


def check_page_target(html: Path | None, as_json: bool, ledger: Path) -> None:
    """Before anything is read: a page for stdout can't share it with --json, nor be written over the ledger."""
    if html is None:
        return
    from coinpurse.errors import BadInput
    from coinpurse.storage.outputs import is_stdout, refuse_ledger_files

    if is_stdout(html):
        if as_json:
            raise BadInput("--json and --html - would both write to stdout: give --html a FILE", code="usage")
        return
    refuse_ledger_files(html, ledger)


def deliver_page(html: Path, page: str) -> bool:
    """The page to its file (atomically, as exports are written), or to stdout; True when it went to stdout."""
    from coinpurse.storage.outputs import is_stdout

    if is_stdout(html):
        from coinpurse.cli.render_summaries import show_page

        show_page(page)
        return True
    from coinpurse.storage.outputs import write_output

    write_output(html, [page])
    return False


def show_written(result: OperationResult, as_json: bool, dry_run: bool) -> None:
    """A write's result: its JSON with ``dry_run``, or its receipt (a dry run says nothing was written)."""
    if as_json:
        from coinpurse.cli.output import emit_json

        emit_json({**result.to_dict(), "dry_run": dry_run})
        return
    from coinpurse.cli.render import show_write_receipt

    show_write_receipt(result, dry_run)
