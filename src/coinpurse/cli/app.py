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
    info,
    init,
    rates,
    redeem,
    verify,
)
from coinpurse.cli.commands import explain as explain_command
from coinpurse.cli.commands import payout as payout_command
from coinpurse.cli.commands import refund as refund_command
from coinpurse.cli.commands import report as report_command
from coinpurse.cli.commands import reverse as reverse_command
from coinpurse.cli.commands import sponsor as sponsor_command
from coinpurse.cli.commands import statement as statement_command
from coinpurse.cli.common import RunState, record_json_options, record_ledger_option
from coinpurse.cli.groups import SuggestingGroup
from coinpurse.cli.output import report_error
from coinpurse.errors import BadInput, CoinpurseError, ExitCode, Interrupted, LedgerUnusable


class CoinpurseGroup(SuggestingGroup):
    """The root command: runs one command line and maps whatever ends it to a documented exit code."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        record_json_options(self)

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


# True of every write: a temp file renamed into place, or one SQLite transaction.
ALL_OR_NOTHING = "a write is all or nothing, so the ledger is as it was or fully written"


def run_command_line(group: TyperGroup, args: list[str], prog_name: str, extra: dict[str, Any]) -> int:
    """Run one command line; every error is reported here, once, and becomes its exit code."""
    from coinpurse.cli.output import set_quiet

    state = RunState()
    set_quiet(False)
    try:
        with group.make_context(prog_name, list(args), obj=state, **extra) as ctx:  # parsing uses up its list
            group.invoke(ctx)
        sys.stdout.flush()  # so a reader that went away is noticed here, not in the interpreter's exit
        return ExitCode.OK
    except typer.Exit as done:  # --help, --version
        return done.exit_code
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitCode.OK
    except typer.TyperException as error:  # usage errors: unknown option, missing argument, bad value
        return report_usage_error(error, args)
    except CoinpurseError as error:
        failure = error
    except (KeyboardInterrupt, typer.Abort):
        failure = Interrupted(f"interrupted; {ALL_OR_NOTHING}")
    except (MemoryError, RecursionError) as error:  # the last resort: where files are read, they are named
        failure = out_of_resources(error)
    except ValueError as error:
        if "null byte" not in str(error):
            raise
        # A path argument holding a NUL, met by Click's own checks or the os module: no file has such a name.
        failure = BadInput("a file name can't hold a NUL character", code="usage")
    report_error(failure, json_mode(state.as_json, args))
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


def report_usage_error(error: typer.TyperException, args: list[str]) -> int:
    """One line like every other error, with where to look next; the help when there is no command at all."""
    context = getattr(error, "ctx", None)
    # The --json of the command that failed to parse, if parsing got as far as reading it.
    as_json = json_mode(context.params.get("as_json") if context is not None else None, args)
    message = " ".join(error.format_message().split())
    if not message and not as_json:
        error.show()  # type: ignore[attr-defined]
        return ExitCode.BAD_INPUT
    if not as_json:
        command = context.command_path if context is not None else "coinpurse"
        message += f" (see '{command} --help')"
    report_error(BadInput(message, code="usage"), as_json)
    return ExitCode.BAD_INPUT


def out_of_resources(error: MemoryError | RecursionError) -> CoinpurseError:
    memory = isinstance(error, MemoryError)
    why = "ran out of memory" if memory else "met data nested too deep to handle"
    return LedgerUnusable(f"{why}; {ALL_OR_NOTHING}", code="out_of_memory" if memory else "too_deep")


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
        str | None,
        typer.Option(
            "--ledger",
            metavar="PATH",
            help="Ledger file (.json, .toml or .sqlite) or PostgreSQL URL (postgresql://...). Default: $COINPURSE_LEDGER, else ledger.json in the user data folder.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_show_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    record_ledger_option(ctx, ledger)


for module in (buy, gift, balance, redeem, rates, history, gifters, verify, apply, init, export, demo, convert, info):
    module.register(app)
reverse_command.register(app)
refund_command.register(app)
explain_command.register(app)
report_command.register(app)
sponsor_command.register(app)
statement_command.register(app)
payout_command.register(app)


def one_command_app(args: Sequence[str]) -> typer.Typer:
    """The app with only the command a command line runs, if it names a plain command (not a group) after the
    root's --ledger; otherwise, and for --help, --version or a TAB, the whole app.

    Typer builds the Click object of every command on each run (about 6 ms for all of them) and
    a run uses one; that command is built the same way either way, so it parses, runs and fails alike.
    """
    words = list(args)
    while words and (words[0].startswith("--ledger=") or (words[0] == "--ledger" and len(words) > 1)):
        del words[: 1 if words[0].startswith("--ledger=") else 2]
    if not words or os.environ.get("_COINPURSE_COMPLETE"):
        return app
    found = [info for info in app.registered_commands if info.name == words[0]]
    if len(found) != 1:
        return app
    import copy

    trimmed = copy.copy(app)
    trimmed.registered_commands, trimmed.registered_groups = found, []
    return trimmed


def main() -> None:
    """Console-script entry point: run the command line and exit with its documented code, never a traceback."""
    from coinpurse.speedups.collector import collector_off_until_exit

    collector_off_until_exit()  # a run is short and its data has no cycles
    arguments = sys.argv[1:]
    one_command_app(arguments)(args=arguments, prog_name="coinpurse")
