"""Command groups that answer an unknown command with the commands it may have meant."""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup


class SuggestingGroup(TyperGroup):
    """A group whose "No such command" names the likely commands, by the one matcher (core.suggest)."""

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
