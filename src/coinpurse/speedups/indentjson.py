"""JSON indented as ``json.dumps(value, ensure_ascii=False, indent=N)`` writes it, without its pure-Python encoder.

Python's C encoder has no indent, so an indented dump runs the standard
library's generators for every value; a JSON export of a long history is
millions of them. ``indented_json`` builds the same text with one recursive
function over the tree (dicts with string keys, lists, strings, whole numbers,
booleans, None) and hands anything else to ``json.dumps``, so its text is
always the standard library's (tests/test_speedups_indent.py).
"""

from __future__ import annotations

import json
from json import encoder as stdlib
from typing import Any

_QUOTE = getattr(stdlib, "c_encode_basestring", None) or stdlib.encode_basestring


class _NotPlain(Exception):
    """A value the fast path does not write (a float, a non-string key, another type)."""


def _write(value: Any, out: list[str], level: str, step: str) -> None:
    kind = value.__class__
    if kind is str:
        out.append(_QUOTE(value))
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = level + step
        separator = "{\n" + inner
        for key, item in value.items():
            if key.__class__ is not str:
                raise _NotPlain
            out.append(separator)
            out.append(_QUOTE(key))
            out.append(": ")
            _write(item, out, inner, step)
            separator = ",\n" + inner
        out.append("\n" + level + "}")
    elif kind is list or kind is tuple:
        if not value:
            out.append("[]")
            return
        inner = level + step
        separator = "[\n" + inner
        for item in value:
            out.append(separator)
            _write(item, out, inner, step)
            separator = ",\n" + inner
        out.append("\n" + level + "]")
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    else:
        raise _NotPlain


def indented_json(value: Any, indent: int = 2, level: int = 0) -> str:
    """``json.dumps(value, ensure_ascii=False, indent=indent)``, as if nested ``level`` indents deep.

    At a ``level`` above 0, every line after the first starts with that many more
    indents, as the value would be written inside a container that deep.
    """
    out: list[str] = []
    step = " " * indent
    try:
        _write(value, out, step * level, step)
    except (_NotPlain, RecursionError):
        text = json.dumps(value, ensure_ascii=False, indent=indent)
        return text.replace("\n", "\n" + step * level) if level else text
    return "".join(out)
