"""Where results and errors go: JSON on stdout for machines, rich for people.

rich is imported only inside the functions that draw, so ``--json`` and tab
completion never load it.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer

from coinpurse.errors import CoinpurseError

if TYPE_CHECKING:
    from rich.console import Console

P = ParamSpec("P")
R = TypeVar("R")


def show(result: Any, as_json: bool, drawer: str, module: str = "coinpurse.cli.render") -> None:
    """A command's result: its documented JSON for machines, or the named rich drawer for people.

    The drawer is named rather than imported so that rich loads only when drawing.
    """
    if as_json:
        emit_json(result.to_dict())
        return
    import importlib

    getattr(importlib.import_module(module), drawer)(result)


def emit_json(data: Any) -> None:
    """Indented for a person at a terminal; one compact line for a pipe or a file.

    Python's encoder runs in C only without indentation, which matters for the
    100,000 results of a big ``apply``.
    """
    if sys.stdout.isatty():
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")


def emit_json_chunks(chunks: Callable[[bool], Iterable[str]]) -> None:
    """A big result's JSON written as it is made (``chunks(indented)``): the text emit_json would write."""
    for chunk in chunks(sys.stdout.isatty()):
        sys.stdout.write(chunk)


@functools.cache
def console(stderr: bool = False) -> Console:
    from rich.console import Console

    # markup=False: handles, gift and stream names are data, never rich markup.
    return Console(stderr=stderr, highlight=False, markup=False, no_color=bool(os.environ.get("NO_COLOR")) or None)


def report_error(error: CoinpurseError, as_json: bool) -> None:
    if as_json:
        sys.stderr.write(json.dumps(error.to_dict(), ensure_ascii=False) + "\n")
    else:
        sys.stderr.write(f"coinpurse: error: {error.message}\n")


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a domain error into its message and exit code, in one place for every command."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CoinpurseError as error:
            report_error(error, bool(kwargs.get("as_json")))
            raise typer.Exit(int(error.exit_code)) from None

    return wrapper
