"""JSON and TOML text as coinpurse reads it: whole numbers and strings, never floats.

Ledgers, scenarios and rates files all go through here; each caller words the
refusal for its own kind of file (a damaged ledger, or bad input).
"""

from __future__ import annotations

import json
import re
from typing import Any, NoReturn


class FloatInText(ValueError):
    """A number with a fraction (or NaN, Infinity) where only whole numbers and strings belong."""

    def __init__(self, literal: str) -> None:
        super().__init__(literal)
        self.literal = literal


def refuse_float(literal: str) -> NoReturn:
    raise FloatInText(literal)


JSON_DECODER = json.JSONDecoder(
    parse_float=refuse_float, parse_constant=refuse_float
)  # shared: json.loads would build one per call


def loads_json(text: str | bytes) -> Any:
    return JSON_DECODER.decode(text.decode("utf-8") if isinstance(text, bytes) else text)


def loads_toml(text: str) -> Any:
    import tomllib

    return tomllib.loads(text, parse_float=refuse_float)


def line_of(text: str, literal: str) -> int | None:
    """The line where ``literal`` first stands as a value of its own, for messages."""
    match = re.search(rf"(?<![\w.\"]){re.escape(literal)}(?![\w.\"])", text)
    return None if match is None else text.count("\n", 0, match.start()) + 1
