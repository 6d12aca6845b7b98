"""The rich console every drawing goes through: stored text is shown as itself. Imported only when drawing."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleDimensions
from rich.segment import Segment
from rich.text import Text

from coinpurse.core.safetext import terminal_text

# How wide output is drawn when it goes to a pipe or a file: never wrapped (grep and diff see one line
# where a person saw one row), unless COLUMNS asks for a width.
UNWRAPPED = 10_000


class PlainTextConsole(Console):
    """A console that never lets a string it is given act on the terminal.

    Every string rich draws (printed text, table cells, titles, captions) is
    turned into text here, so this is the one place to escape it: control
    characters are shown escaped rather than sent raw (rich would pass ESC and
    the bidi controls through, and drop BEL and CR without a word), and neither
    markup (``[red]``) nor emoji codes (``:smile:``) are read from it.

    Output that is not going to a terminal is not hard-wrapped (rich would wrap
    it at the terminal's width, or 80 columns) unless ``COLUMNS`` is set, and
    its lines carry no trailing spaces.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **options)
        # rich reads COLUMNS and LINES once, here; they are read at each drawing instead (see size),
        # since one console serves every run in a process (the tests' runner).
        if options.get("width") is None:
            self._width = None
        if options.get("height") is None:
            self._height = None

    def render_str(self, text: str, **options: Any) -> Text:
        options.update(markup=False, emoji=False)
        return super().render_str(terminal_text(text), **options)

    @property
    def size(self) -> ConsoleDimensions:
        drawn = super().size
        if self._width is not None:
            return drawn  # a width given to the console itself
        columns = os.environ.get("COLUMNS", "").strip()
        if columns.isdigit() and int(columns) > 0:
            return ConsoleDimensions(int(columns), drawn.height)
        return drawn if self.is_terminal else ConsoleDimensions(UNWRAPPED, drawn.height)

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        text = super()._render_buffer(buffer)
        if self.is_terminal:
            return text
        return "\n".join(line.rstrip(" ") for line in text.split("\n"))
