"""The Typer app: global options, one module per command under ``commands/``, and the one place a run ends.

Commands parse their options, call one library function and hand its result to
a renderer; they never catch an error. Whatever ends a run (a result, a
``CoinpurseError``, a usage error, Ctrl-C, running out of memory) is turned
into a message and an exit code in ``CoinpurseGroup.main``, for the console
script and the test runner alike.
"""

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

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
from coinpurse.cli.common import RunState, record_ledger_option
from coinpurse.errors import CoinpurseError, ExitCode


class CoinpurseGroup(TyperGroup):
    """The root command: runs one command line and maps whatever ends it to a documented exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        arguments = list(sys.argv[1:] if args is None else args)
        name = prog_name or "coinpurse"
        self._main_shell_completion(extra, name, complete_var)  # a TAB exits here, before any command runs
        code = run_command_line(self, arguments, name, extra)
        if standalone_mode:
            sys.exit(code)
        return code


def run_command_line(group: TyperGroup, args: list[str], prog_name: str, extra: dict[str, Any]) -> int:
    """Run one command line; every error is reported here, once, and becomes its exit code."""
    state = RunState()
    try:
        with group.make_context(prog_name, list(args), obj=state, **extra) as ctx:  # parsing uses up its list
            group.invoke(ctx)
        sys.stdout.flush()  # so a reader that went away is noticed here, not in the interpreter's exit
        return ExitCode.OK
    except typer.Exit as done:  # --help, --version
        return done.exit_code
    except CoinpurseError as error:
        failure = error
        as_json = json_mode(state.as_json, args)
    except typer.TyperException as error:  # usage errors: unknown option, missing argument, bad value
        context = getattr(error, "ctx", None)
        # A usage error's own command may have failed to parse before its --json was read.
        as_json = json_mode(context.params.get("as_json") if context is not None else None, args)
        usage = usage_error(error, as_json)
        if usage is None:  # no command at all: the help is the answer
            error.show()  # type: ignore[attr-defined]
            return ExitCode.BAD_INPUT
        failure = usage
    except (KeyboardInterrupt, typer.Abort):
        from coinpurse.errors import Interrupted

        failure = Interrupted("interrupted; a write is all or nothing, so the ledger is as it was or fully written")
        as_json = json_mode(state.as_json, args)
    except (MemoryError, RecursionError) as error:  # the last resort: where files are read, they are named
        failure = out_of_resources(error)
        as_json = json_mode(state.as_json, args)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitCode.OK
    from coinpurse.cli.output import report_error

    report_error(failure, as_json)
    return failure.exit_code


def json_mode(parsed: bool | None, args: list[str]) -> bool:
    """The run's --json as its command parsed it.

    When the command line failed to parse before that option was read, a
    ``--json`` word before the ``--`` that ends options is taken for it.
    """
    if parsed is not None:
        return parsed
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options


def usage_error(error: typer.TyperException, as_json: bool) -> CoinpurseError | None:
    """A usage error as one line like every other error, with where to look next; None when there is no command."""
    from coinpurse.errors import BadInput

    message = " ".join(error.format_message().split())
    if not message and not as_json:
        return None
    if not as_json:
        context = getattr(error, "ctx", None)
        command = context.command_path if context is not None else "coinpurse"
        message += f" (see '{command} --help')"
    return BadInput(message, code="usage")


def out_of_resources(error: MemoryError | RecursionError) -> CoinpurseError:
    from coinpurse.errors import LedgerUnusable

    memory = isinstance(error, MemoryError)
    why = "ran out of memory" if memory else "met data nested too deep to handle"
    message = f"{why}; a write is all or nothing, so the ledger is as it was or fully written"
    return LedgerUnusable(message, code="out_of_memory" if memory else "too_deep")


app = typer.Typer(
    name="coinpurse",
    help="An exact, open wallet and payout ledger for virtual-gift economies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=CoinpurseGroup,
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
    record_ledger_option(ctx, ledger)


for module in (buy, gift, balance, redeem, rates, history, gifters, verify, apply, init, export, demo, convert):
    module.register(app)


def main() -> None:
    """Console-script entry point: run the command line and exit with its documented code, never a traceback."""
    import atexit
    import gc

    gc.disable()  # a run is short and its data has no cycles; see coinpurse.cli
    # Python's exit ends with a collection over every live object (~8 ms here);
    # frozen objects are skipped, and the process is going away anyway.
    atexit.register(gc.freeze)
    app(args=sys.argv[1:], prog_name="coinpurse")
