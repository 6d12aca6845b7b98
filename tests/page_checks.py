"""Reading a self-contained page (statement --html, report --html) against its JSON, and Chromium to render it."""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _Figures(HTMLParser):
    """The text of every element that carries ``data-figure``, by its path in the JSON."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, list[str]] = {}
        self._open: list[tuple[str, str | None, list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open.append((tag, dict(attrs).get("data-figure"), []))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            name, figure, parts = self._open.pop()
            if figure is not None:
                self.found.setdefault(figure, []).append("".join(parts).strip())
            if self._open:
                self._open[-1][2].extend(parts)
            if name == tag:
                return

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)


def figures(page: str) -> dict[str, list[str]]:
    parser = _Figures()
    parser.feed(page)
    parser.close()
    return parser.found


def at_path(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions", *args],
        capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": os.environ["HOME"]},
    )  # fmt: skip
