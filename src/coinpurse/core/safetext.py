"""Control characters: refused in new input, and escaped for each place text goes.

A control character in a name can rewrite a terminal (``ESC]52;`` writes the
clipboard, ``ESC[2J`` clears the screen, CR overwrites a line), reorder what a
reader sees (the bidi overrides), or break a line of a CSV or journal file. New
names, streams, ids, gift names and rate keys can't hold one. Text read from a
ledger or an input file was never checked by this version, so every place it
goes escapes it with the one function for that place:

- ``terminal_text``: people (terminals, messages on stdout and stderr), as Python
  writes the character in a string: ``\\x1b``, ``\\r``, ``\\u202e``;
- ``json_text`` (and ``json_dumps``, which uses it): JSON, as JSON escapes (``\\u001b``, ``\\u202e``);
- ``csv_text``: a CSV text cell, escaped for people and never a spreadsheet formula;
- ``journal_text``: a journal's description, metadata or account name, on one line
  of its own that keeps the journal's syntax;
- ``html_text``: HTML text or an attribute's value, escaped for people and for HTML.
"""

from __future__ import annotations

import json
import re
from typing import Any

from coinpurse.errors import BadInput
from coinpurse.speedups.jsontext import compact_json, line_json

# C0; then DEL and C1, the Arabic letter mark, the left-to-right and right-to-left
# marks, the line and paragraph separators, the bidi embeddings, overrides and isolates.
_C0 = "\x00-\x1f"
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
CONTROL_CHARACTERS = _C0 + _BEYOND_C0
_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
_RAW_IN_JSON = re.compile(f"[{_BEYOND_C0}]")  # Python's JSON escapes C0 in strings; newlines outside them are layout


def _as_python_writes_it(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]


def _as_json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def check_no_control(value: object, what: str) -> None:
    """BadInput showing the first control character, escaped, if the text holds one (other types: the caller's check)."""
    found = _CONTROL.search(value) if isinstance(value, str) else None
    if found is None:
        return
    from coinpurse.core.money import shorten  # only on the way to a refusal

    raise BadInput(
        f"{what} {shorten(value)!r} holds the control character {_as_python_writes_it(found)}; "
        "names, streams, ids and rate keys can't hold control characters",
        code="control_character",
    )


def terminal_text(text: str) -> str:
    """Text for people: every control character shown escaped, never sent raw."""
    return _CONTROL.sub(_as_python_writes_it, text)


def json_dumps(data: Any, *, indent: int | None = None, separators: tuple[str, str] | None = None) -> str:
    """JSON with every control character as a JSON escape."""
    if indent is None and separators in (None, (", ", ": ")):
        return json_text(line_json(data))  # json.dumps's own layout
    if indent is None and separators == (",", ":"):
        return json_text(compact_json(data))
    return json_text(json.dumps(data, ensure_ascii=False, indent=indent, separators=separators))


def json_text(text: str) -> str:
    """Text from a JSON encoder, whole or a piece of it, with every control character as a JSON escape.

    Python's encoder escapes C0 even with ``ensure_ascii=False`` but leaves DEL,
    C1 and the bidi controls raw; those can only stand inside strings, where a
    ``\\uXXXX`` escape means the same character.
    """
    if text.isascii():  # the common case, checked in C: only DEL can be there (a big apply prints megabytes)
        return text.replace("\x7f", "\\u007f")
    return _RAW_IN_JSON.sub(_as_json_escape, text)


# What a spreadsheet takes as the start of a formula (OWASP's list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A CSV text cell: control characters escaped, and a leading ``'`` if it could start a formula."""
    cell = terminal_text(text)
    return f"'{cell}" if text.startswith(_FORMULA_STARTS) else cell


def file_name_text(name: str) -> str:
    """A file name as text any output can hold: bytes that were not UTF-8 (lone surrogates in Python) shown as U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def journal_text(text: str) -> str:
    """Text on a journal line: escaped, with no comment or payee|note mark and no run of spaces.

    In hledger and ledger-cli, ``;`` starts a comment, ``|`` splits payee from
    note, and two spaces or a tab end an account name.
    """
    return " ".join(terminal_text(text).replace(";", ",").replace("|", "/").split())


def html_text(text: str) -> str:
    """Text in an HTML page (an element's text or a quoted attribute): control characters shown
    escaped, as for people, and ``& < > " '`` as character references, so no name is markup."""
    import html

    return html.escape(terminal_text(file_name_text(text)), quote=True)
