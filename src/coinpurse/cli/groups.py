"""The command classes: help shown as written, and a group that suggests commands and knows the economy on a TAB.

Help texts are plain text: brackets in them (``[[ops]]``, ``[KEY VALUE]``) are
shown as they are, never read as rich markup. Required arguments show in the
usage line as ``ACCOUNT``, as the README writes them, not Typer's ``{ACCOUNT}``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

from typer.core import TyperCommand, TyperGroup


@contextmanager
def _help_as_written(command: Any) -> Iterator[None]:
    """The command's help, its parameters' and its subcommands' escaped for rich for the block, then restored."""
    from rich.markup import escape  # only when help is shown, which rich draws anyway

    holders = [command, *command.params, *getattr(command, "commands", {}).values()]
    saved = [(holder, getattr(holder, "help", None), getattr(holder, "short_help", None)) for holder in holders]
    try:
        for holder, text, short in saved:
            if text:
                holder.help = escape(text)
            if short:
                holder.short_help = escape(short)
        yield
    finally:
        for holder, text, short in saved:
            if text:
                holder.help = text
            if short:
                holder.short_help = short


def _plain_usage(pieces: list[str]) -> list[str]:
    return [piece[1:-1] if piece.startswith("{") and piece.endswith("}") else piece for piece in pieces]


class Command(TyperCommand):
    """A command whose help shows its text as written."""

    def format_help(self, ctx: Any, formatter: Any) -> Any:
        with _help_as_written(self):
            return super().format_help(ctx, formatter)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return _plain_usage(super().collect_usage_pieces(ctx))


class SuggestingGroup(TyperGroup):
    """A group whose "No such command" names the likely commands, by the one matcher (core.suggest).

    As the root, on a TAB it first gives the parameters that name accounts, gifts,
    channels, kinds and rate keys their completers (coinpurse.cli.completion).
    """

    def format_help(self, ctx: Any, formatter: Any) -> Any:
        with _help_as_written(self):
            return super().format_help(ctx, formatter)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return _plain_usage(super().collect_usage_pieces(ctx))

    def _main_shell_completion(
        self, ctx_args: MutableMapping[str, Any], prog_name: str, complete_var: str | None = None
    ) -> None:
        variable = complete_var or f"_{prog_name}_COMPLETE".replace("-", "_").upper()
        if os.environ.get(variable):
            from coinpurse.cli.completion import attach

            attach(self)
        super()._main_shell_completion(ctx_args, prog_name, complete_var)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        from typer._click.exceptions import UsageError

        try:
            return self._click_resolve_command(ctx, args)
        except UsageError as error:
            if args and error.message.startswith("No such command"):
                from coinpurse.core.suggest import either, suggestions

                visible = [name for name, command in self.commands.items() if not command.hidden]
                found = suggestions(args[0], visible)
                if found:
                    error.message = f"No such command {args[0]!r}; did you mean {either(found)}?"
            raise
