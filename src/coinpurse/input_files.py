"""Reading the files a person writes for the library: scenarios and rates, TOML or JSON by suffix.

``-`` is stdin, named ``<stdin>`` in messages. Stdin, and a file with no
``.toml`` or ``.json`` suffix that names an open file (``/dev/stdin``,
``/dev/fd/N`` as ``<(...)`` gives) or is a named pipe, is TOML or JSON as the caller's ``format`` says, else as
its first non-blank character says: ``{`` opens JSON, anything else is TOML
(a TOML document can't start with ``{``).
Floats are refused (cash is written as a string); an error names the file and,
where it can, the line.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import stat
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PosixPath
from typing import Any

from coinpurse.core.rates import Rates, rates_from_dict
from coinpurse.core.scenario import FIELDS
from coinpurse.errors import BadInput, CoinpurseError
from coinpurse.formats.textdata import JSON_DECODER, FloatInText, line_of, loads_json, loads_toml
from coinpurse.formats.textpos import line_for, lines_of, path_in_message

FORMATS = ("json", "toml")
STDIN = "-"


class StdinPath(PosixPath):
    """Stdin where a file is expected: ``-`` on the command line, ``<stdin>`` in every message."""

    def __str__(self) -> str:
        return "<stdin>"


def input_path(file: str | os.PathLike[str]) -> Path:
    """The path of an input file as given; ``-`` is stdin."""
    if isinstance(file, StdinPath) or os.fspath(file) == STDIN:
        return StdinPath(STDIN)
    return Path(file)


_DESCRIPTOR_PATH = re.compile(r"/dev/std(in|out|err)|/dev/fd/\d+|/proc/(self|\d+)/fd/\d+")


def _format_of(file: Path, what: str, format: str | None) -> str | None:
    """``json`` or ``toml`` as the suffix (or ``format``) says; None when the text must say (stdin, a pipe)."""
    if format is not None:
        if format not in FORMATS:
            raise BadInput(f"unknown {what} file format {format!r}; use json or toml", code="unknown_format")
        return format
    if isinstance(file, StdinPath):
        return None
    suffix = file.suffix.lower()
    if suffix in (".toml", ".json"):
        return suffix[1:]
    if _DESCRIPTOR_PATH.fullmatch(os.fspath(file)):
        return None  # /dev/stdin, /dev/fd/3, /proc/self/fd/0: whatever is behind it is sniffed
    try:
        regular = stat.S_ISREG(os.stat(file).st_mode)
    except (OSError, ValueError):  # ValueError: a NUL in the name
        regular = True  # reading it says what is wrong
    if regular:
        raise BadInput(
            f"{file}: a {what} file is .toml or .json, not {suffix or '(no suffix)'!r} (give --format for another name)",
            code="unknown_suffix",
        )
    return None  # a named pipe: sniffed


def _sniffed(text: str) -> str:
    return "json" if text.lstrip(" \t\r\n\ufeff").startswith("{") else "toml"


def _read_stdin(refuse: Any) -> bytes:
    """Stdin's bytes, read to its end, refused once past COINPURSE_MAX_FILE_MB like a file."""
    import sys

    from coinpurse.storage.limits import MAX_FILE_VARIABLE, _megabytes, max_file_bytes

    limit = max_file_bytes()
    stream = sys.stdin.buffer
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(1 << 20, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    raise refuse(
        f"<stdin>: it holds more than the {_megabytes(limit)} that coinpurse reads whole ({MAX_FILE_VARIABLE}); "
        "it was read no further"
    )


def read_input(
    file: Path, what: str, *, one_list: str | None = None, format: str | None = None
) -> tuple[Any, str, bool]:
    """The parsed document, its text, and whether it is TOML.

    With ``one_list``, a JSON file that is just ``{"<one_list>": [...]}`` keeps
    that list as its text, and each iteration decodes its items one at a time.
    ``format`` (``json`` or ``toml``) overrides the suffix; see the module for stdin.
    """
    from coinpurse.storage.limits import read_bounded

    file = input_path(file)
    if "\0" in os.fspath(file):
        raise BadInput(f"{os.fspath(file)!r}: a file name can't hold a NUL character", code="file_not_found")
    chosen = _format_of(file, what, format)
    try:
        data = _read_stdin(_input_too_big) if isinstance(file, StdinPath) else read_bounded(file, _input_too_big)
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise BadInput(f"{file}: no such {what} file", code="file_not_found") from None
    except UnicodeDecodeError as error:
        raise BadInput(f"{file}: not UTF-8 text (byte {error.start})", code="invalid_file") from None
    except OSError as error:
        raise BadInput(f"{file}: can't read it: {error.strerror}", code="file_not_found") from None
    except MemoryError:
        raise BadInput(f"{file}: too big to read into memory", code="file_too_big") from None
    is_toml = (chosen or _sniffed(text)) == "toml"
    try:
        if is_toml:
            import tomllib

            try:
                return loads_toml(text), text, True
            except tomllib.TOMLDecodeError as error:
                raise BadInput(f"{file}: not valid TOML: {error}", code="invalid_file") from None
        if one_list is not None:
            items = JsonListItems.of(text, one_list)
            if items is not None:
                return {one_list: items}, text, False
        try:
            return loads_json(text), text, False
        except json.JSONDecodeError as error:
            raise BadInput(f"{file}:{error.lineno}: not valid JSON: {error.msg}", code="invalid_file") from None
    except FloatInText as error:
        line = line_of(text, error.literal)
        where = f"{file}:{line}" if line is not None else str(file)
        raise BadInput(
            f'{where}: {error.literal} is a float; write cash as a string such as "0.99" and counts as whole numbers',
            code="invalid_file",
        ) from None
    except (ValueError, RecursionError):  # an integer of thousands of digits, or absurd nesting
        raise BadInput(
            f"{file}: not a usable {what} file: a number is too long or it nests too deep", code="invalid_file"
        ) from None
    except MemoryError:
        raise BadInput(f"{file}: too big to parse in memory", code="file_too_big") from None
    except BadInput as error:
        if error.message.startswith(str(file)):
            raise
        raise BadInput(f"{file}: {error.message}", code="invalid_file") from None


def _input_too_big(message: str) -> BadInput:
    return BadInput(message, code="file_too_big")


_SPACE = re.compile(r"[ \t\n\r]*")
_END_OF_OBJECT = re.compile(r"[ \t\n\r]*\}[ \t\n\r]*\Z")


def _after_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)  # always matches, if only the empty string
    return position if match is None else match.end()


class JsonListItems:
    """The items of the one list in a JSON document ``{"KEY": [...]}``, decoded one at a time.

    A scenario of a million ops then holds its text, not a million dicts at once
    (which took 0.6 GB more). Only a document of exactly that shape qualifies, so
    what it yields is what ``json.loads`` would give.
    """

    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.start = start  # just after the list's "["

    @classmethod
    def of(cls, text: str, key: str) -> JsonListItems | None:
        """The list's items, or None when the text is not that shape or not valid JSON (a full parse says why)."""
        opening = re.compile(rf'[ \t\n\r]*\{{[ \t\n\r]*"{re.escape(key)}"[ \t\n\r]*:[ \t\n\r]*\[').match(text)
        if opening is None:
            return None
        items = cls(text, opening.end())
        try:
            last = deque(items._walk(), maxlen=1)  # every item decodes; only the last is kept
        except (ValueError, RecursionError):
            return None
        return items if last and _END_OF_OBJECT.match(text, last[0][1]) else None

    def _walk(self) -> Iterator[tuple[Any, int]]:
        """Each item with the position after it; the last position is just past the closing "]"."""
        text, decode = self.text, JSON_DECODER.raw_decode
        position = _after_space(text, self.start)
        if text.startswith("]", position):
            return  # an empty list: the full parse takes it
        while True:
            item, position = decode(text, position)
            position = _after_space(text, position)
            if text.startswith("]", position):
                yield item, position + 1
                return
            if not text.startswith(",", position):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, position)
            yield item, position
            position = _after_space(text, position + 1)

    def __iter__(self) -> Iterator[Any]:
        for item, _ in self._walk():
            yield item


def located(error: CoinpurseError, file: Path | None, line: int | None, prefix: str = "") -> CoinpurseError:
    """The same error (class, code, exit code) with the file and line, if any, in front of its message."""
    where = "" if file is None else f"{file}:{line}: " if line is not None else f"{file}: "
    return type(error)(f"{where}{prefix}{error.message}", code=error.code)


def read_rates_file(file: Path, format: str | None = None) -> Rates:
    """Rates from a TOML or JSON file (``-``: stdin); invalid rates are BadInput naming file:line and the reason."""
    file = input_path(file)
    document, text, is_toml = read_input(file, "rates", format=format)
    try:
        return rates_from_dict(document)
    except BadInput as error:
        line = line_for(lines_of(text, is_toml), path_in_message(error.message))
        raise located(error, file, line) from None


def op_line(file: Path, text: str, is_toml: bool, index: int) -> int | None:
    # Only the op's own line: a nearby one (such as `ops = [` of an inline array) would mislead.
    return lines_of(text, is_toml).get(("ops", index - 1))


def op_kind(raw_ops: Iterable[Any], index: int) -> str:
    raw = next(itertools.islice(raw_ops, index - 1, None), None)
    kind = raw.get("kind") if isinstance(raw, Mapping) else None
    return kind if isinstance(kind, str) and kind in FIELDS else "op"
