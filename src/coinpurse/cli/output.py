"""Where results and errors go: JSON on stdout for machines, plain lines or rich for people.

rich is imported only inside the functions that draw, so ``--json`` and tab
completion never load it. Errors are written only by the entry point
(``coinpurse.cli.app``), through ``report_error``.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from coinpurse.errors import CoinpurseError


_quiet = [False]  # -q/--quiet of the run under way (the entry point resets it for each run)


def set_quiet(value: bool) -> None:
    _quiet[0] = value


def quiet() -> bool:
    """Whether this run prints nothing on stdout when it succeeds (``-q/--quiet``)."""
    return _quiet[0]


def for_a_terminal() -> bool:
    """Whether stdout is a terminal a person reads (not a pipe or a file), for what is shown only to people."""
    return sys.stdout.isatty()


def emit_json(data: Any) -> None:
    """Indented for a person at a terminal; one compact line for a pipe or a file.

    Python's encoder runs in C only without indentation, which matters for the
    100,000 results of a big ``apply``.
    """
    from coinpurse.core.safetext import json_dumps

    if quiet():
        return
    if sys.stdout.isatty():
        sys.stdout.write(json_dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(json_dumps(data, separators=(",", ":")) + "\n")


def say(line: str, *, stderr: bool = False) -> None:
    """One plain line for people, without rich: control characters in it are shown escaped."""
    from coinpurse.core.safetext import terminal_text

    if quiet() and not stderr:
        return
    (sys.stderr if stderr else sys.stdout).write(terminal_text(line) + "\n")


def emit_json_chunks(chunks: Callable[[bool], Iterable[str]]) -> None:
    """A big result's JSON written as it is made (``chunks(indented)``): the text emit_json would write."""
    from coinpurse.core.safetext import json_text

    if quiet():
        for _ in chunks(False):  # made all the same, as the result's own checks may run as it is written
            pass
        return
    for chunk in chunks(sys.stdout.isatty()):
        sys.stdout.write(json_text(chunk))  # escaping chunk by chunk is exact: it maps single characters


def console(stderr: bool = False) -> Console:
    """The console that draws on stdout (or stderr); under ``--quiet``, stdout's draws nothing."""
    return _console(stderr, quiet() and not stderr)


@functools.cache
def _console(stderr: bool, silent: bool) -> Console:
    from coinpurse.cli.terminal import PlainTextConsole

    # Handles, gift and stream names are data: never markup, emoji codes or terminal controls.
    return PlainTextConsole(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")) or None, quiet=silent)


def report_error(error: CoinpurseError, as_json: bool) -> None:
    """An error on stderr: its JSON object, or one line for people and an indented line per note under it."""
    if as_json:
        from coinpurse.core.safetext import json_dumps

        sys.stderr.write(json_dumps(error.to_dict()) + "\n")
        return
    say(f"coinpurse: error: {error.message}", stderr=True)
    for note in getattr(error, "__notes__", ()):
        say(f"  {note}", stderr=True)
