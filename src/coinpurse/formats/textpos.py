"""Where a value sits in a TOML or JSON text: key paths mapped to line numbers.

Parsers give plain data without positions, so after a parsed file turns out to
hold something invalid, these scanners find the line to name in the message.
They run only on that error path, never on the fast path.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Sequence
from json.decoder import scanstring  # type: ignore[attr-defined]  # exists; missing from the stubs

PathKey = tuple[str | int, ...]

_KEY_PART = re.compile(r"""\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*""")
_HEADER = re.compile(r"^\s*(\[\[?)(.*?)\]\]?\s*(?:#.*)?$")


def _split_key(text: str) -> list[str] | None:
    """Split a dotted TOML key (bare or quoted parts); None if it is not one."""
    parts: list[str] = []
    position = 0
    while True:
        match = _KEY_PART.match(text, position)
        if match is None:
            return None
        quoted, literal, bare = match.groups()
        parts.append(json.loads(f'"{quoted}"') if quoted is not None else literal if literal is not None else bare)
        position = match.end()
        if position == len(text):
            return parts
        if text[position] != ".":
            return None
        position += 1


def _key_of_line(line: str) -> list[str] | None:
    """The key of a ``key = value`` line, or None."""
    stripped = line.lstrip()
    if not stripped or stripped[0] in "#[":
        return None
    # The key ends at the first '=' outside quotes.
    quote = ""
    for index, char in enumerate(stripped):
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "=":
            return _split_key(stripped[:index])
    return None


def toml_lines(text: str) -> dict[PathKey, int]:
    """First line of each table, array-of-tables entry and key, by path; ``[[ops]]`` entries as ("ops", n)."""
    found: dict[PathKey, int] = {}
    counters: dict[PathKey, int] = {}
    table: PathKey = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header and not line.lstrip().startswith("#"):
            parts = _split_key(header.group(2))
            if parts is None:
                continue
            resolved: list[str | int] = []
            for part in parts:
                resolved.append(part)
                current = tuple(resolved)
                if current in counters and current != tuple(parts):
                    resolved.append(counters[current])  # inside the latest entry of an array of tables
            path = tuple(resolved)
            if header.group(1) == "[[":
                counters[path] = counters.get(path, -1) + 1
                path = (*path, counters[path])
            table = path
            found.setdefault(table, number)
            continue
        key = _key_of_line(line)
        if key is not None:
            found.setdefault((*table, *key), number)
    return found


def json_lines(text: str) -> dict[PathKey, int]:
    """First line of every value (and of every object key) by path, for a valid JSON text."""
    newlines = [index for index, char in enumerate(text) if char == "\n"]
    decoder = json.JSONDecoder()
    found: dict[PathKey, int] = {}
    space = re.compile(r"[ \t\n\r]*")

    def line_at(position: int) -> int:
        return bisect.bisect_right(newlines, position - 1) + 1

    def skip(position: int) -> int:
        match = space.match(text, position)
        return match.end() if match else position

    def value(position: int, path: PathKey) -> int:
        position = skip(position)
        found.setdefault(path, line_at(position))
        char = text[position]
        if char == "{":
            position = skip(position + 1)
            if text[position] == "}":
                return position + 1
            while True:
                position = skip(position)
                key_at = position
                key, position = scanstring(text, position + 1)
                found.setdefault((*path, key), line_at(key_at))
                position = skip(position) + 1  # past ':'
                position = skip(value(position, (*path, key)))
                if text[position] == ",":
                    position += 1
                    continue
                return position + 1
        if char == "[":
            position = skip(position + 1)
            if text[position] == "]":
                return position + 1
            index = 0
            while True:
                position = skip(value(position, (*path, index)))
                index += 1
                if text[position] == ",":
                    position += 1
                    continue
                return position + 1
        _, end = decoder.raw_decode(text, position)
        return end

    try:
        value(0, ())
    except (ValueError, IndexError):
        pass  # a text that is not valid JSON has no reliable positions; keep what was found
    return found


def lines_of(text: str, toml: bool) -> dict[PathKey, int]:
    return toml_lines(text) if toml else json_lines(text)


def line_for(lines: dict[PathKey, int], path: Sequence[str | int]) -> int | None:
    """The line of the longest known prefix of ``path`` (at least its first part), or None."""
    key = tuple(path)
    while key:
        if key in lines:
            return lines[key]
        key = key[:-1]
    return None


_ERROR_PATH = re.compile(r"^[A-Za-z_]\w*((?:\.[^\s.:\[]+|\[\d+\])*)")
_UNKNOWN_KEY = re.compile(r"unknown key '([^']*)'")


def path_in_message(message: str, prefix: Sequence[str | int] = ()) -> list[str | int]:
    """The key path a validation message starts with, e.g. ``rates.gifts[2].coins`` -> ['gifts', 2, 'coins'].

    An "unknown key 'x'" message points at that key itself.
    """
    match = _ERROR_PATH.match(message)
    path: list[str | int] = list(prefix)
    if match:
        for part in re.findall(r"\.([^\s.:\[]+)|\[(\d+)\]", match.group(1)):
            path.append(part[0] if part[0] else int(part[1]))
    unknown = _UNKNOWN_KEY.search(message)
    if unknown:
        path.append(unknown.group(1))
    return path
