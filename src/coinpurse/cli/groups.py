"""The command groups: an unknown command is answered with the commands it may mean, and a TAB knows the economy."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from typing import Any

from typer.core import TyperGroup


class SuggestingGroup(TyperGroup):
    """A group whose "No such command" names the likely commands, by the one matcher (core.suggest).

    As the root, on a TAB it first gives the parameters that name accounts, gifts,
    channels, kinds and rate keys their completers (coinpurse.cli.completion).
    """

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
