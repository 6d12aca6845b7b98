"""The rich console every drawing goes through: stored text is shown as itself. Imported only when drawing."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from coinpurse.core.safetext import terminal_text


class PlainTextConsole(Console):
    """A console that never lets a string it is given act on the terminal.

    Every string rich draws (printed text, table cells, titles, captions) is
    turned into text here, so this is the one place to escape it: control
    characters are shown escaped rather than sent raw (rich would pass ESC and
    the bidi controls through, and drop BEL and CR without a word), and neither
    markup (``[red]``) nor emoji codes (``:smile:``) are read from it.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **options)

    def render_str(self, text: str, **options: Any) -> Text:
        options.update(markup=False, emoji=False)
        return super().render_str(terminal_text(text), **options)
