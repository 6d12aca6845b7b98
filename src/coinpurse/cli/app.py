"""The Typer app: global options, and one module per command under ``commands/``."""

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from coinpurse import __version__
from coinpurse.cli.commands import (
    apply,
    balance,
    buy,
    convert,
    demo,
    export,
    gift,
    gifters,
    history,
    init,
    rates,
    redeem,
    verify,
)
from coinpurse.errors import ExitCode

app = typer.Typer(
    name="coinpurse",
    help="An exact, open wallet and payout ledger for virtual-gift economies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        sys.stdout.write(f"coinpurse {__version__}\n")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    ledger: Annotated[
        Path | None,
        typer.Option(
            "--ledger",
            help="Ledger file (.json, .toml or .sqlite). Default: $COINPURSE_LEDGER, else ledger.json in the user data folder.",
            dir_okay=True,
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    ctx.obj = ledger


for module in (buy, gift, balance, redeem, rates, history, gifters, verify, apply, init, export, demo, convert):
    module.register(app)


def main() -> None:
    """Console-script entry point: map usage errors to exit 2 and never show a traceback.

    Running out of memory or stack is caught where files are read (exit 3 for a
    ledger, 2 for an input file); what escapes that is exit 3 here.
    """
    from coinpurse.speedups.collector import collector_off_until_exit

    collector_off_until_exit()  # a run is short and its data has no cycles
    args = sys.argv[1:]
    as_json = "--json" in args
    try:
        # Without standalone mode, an exit code raised inside a command comes back as the result.
        result = app(args=args, prog_name="coinpurse", standalone_mode=False)
    except typer.TyperException as error:  # usage errors: unknown option, missing argument, bad value
        from coinpurse.cli.output import report_error
        from coinpurse.errors import BadInput

        message = " ".join(error.format_message().split())
        if not message and not as_json:  # no command at all: the help is the answer
            error.show()  # type: ignore[attr-defined]
            sys.exit(ExitCode.BAD_INPUT)
        if not as_json:  # one line like every other error, with where to look next
            context = getattr(error, "ctx", None)
            command = context.command_path if context is not None else "coinpurse"
            message += f" (see '{command} --help')"
        report_error(BadInput(message, code="usage"), as_json)
        sys.exit(ExitCode.BAD_INPUT)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        sys.stderr.write("coinpurse: aborted\n")
        sys.exit(130)
    except KeyboardInterrupt:
        sys.stderr.write("coinpurse: interrupted\n")
        sys.exit(130)
    except (MemoryError, RecursionError) as error:  # the last resort: where files are read, they are named
        from coinpurse.cli.output import report_error
        from coinpurse.errors import LedgerUnusable

        why = "ran out of memory" if isinstance(error, MemoryError) else "met data nested too deep to handle"
        message = f"{why}; a write is all or nothing, so the ledger is as it was or fully written"
        report_error(LedgerUnusable(message, code="out_of_memory" if isinstance(error, MemoryError) else "too_deep"), as_json)
        sys.exit(ExitCode.LEDGER_UNUSABLE)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(ExitCode.OK)
    sys.exit(result if isinstance(result, int) else ExitCode.OK)
