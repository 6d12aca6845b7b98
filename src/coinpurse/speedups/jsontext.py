"""Compact and canonical JSON text, from C encoders built once instead of on every call.

``json.JSONEncoder.encode`` builds a new C encoder on every call; for a small
transaction that is about a tenth of the encoding (docs/performance.md). The
encoders here give the very text ``json.JSONEncoder`` gives with the same
settings (tests/test_speedups.py checks it on generated values). They skip the
circular-reference check: what coinpurse encodes are trees.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as stdlib
from typing import Any


def reusable_encoder(encoder: json.JSONEncoder) -> Callable[[Any], str]:
    """``encoder.encode`` for trees of dicts, lists, strings and numbers, its C encoder made once.

    Falls back to ``encoder.encode`` where that can't be done the same (no C
    encoder, an indent, a custom ``default``, another Python's C signature).
    """
    fallback: Callable[[Any], str] = encoder.encode
    make = getattr(stdlib, "c_make_encoder", None)
    default = getattr(encoder.default, "__func__", None)
    if make is None or encoder.indent is not None or default is not stdlib.JSONEncoder.default:
        return fallback
    basestring = stdlib.encode_basestring_ascii if encoder.ensure_ascii else stdlib.encode_basestring
    try:
        iterencode = make(
            None, encoder.default, basestring, None, encoder.key_separator, encoder.item_separator,
            encoder.sort_keys, encoder.skipkeys, encoder.allow_nan,
        )  # fmt: skip
    except TypeError:  # another Python's C encoder
        return fallback

    def encode_tree(value: Any) -> str:
        return "".join(iterencode(value, 0))

    sample = {"b": [1, -2, "é\n"], "a": {"z": True, "y": None}}
    return encode_tree if encode_tree(sample) == fallback(sample) else fallback


# The layouts coinpurse writes, each with the settings that define it.
CANONICAL_SETTINGS: dict[str, Any] = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}
COMPACT_SETTINGS: dict[str, Any] = {"separators": (",", ":"), "ensure_ascii": False}
LINE_SETTINGS: dict[str, Any] = {"separators": (", ", ": "), "ensure_ascii": False}

canonical_json = reusable_encoder(json.JSONEncoder(**CANONICAL_SETTINGS))
"""Sorted keys, no spaces: the text a transaction's hash is taken over."""

compact_json = reusable_encoder(json.JSONEncoder(**COMPACT_SETTINGS))
"""Keys in their order, no spaces: SQLite bodies and columns, the rates digest."""

line_json = reusable_encoder(json.JSONEncoder(**LINE_SETTINGS))
"""Keys in their order, a space after ',' and ':': one line of a JSON ledger."""
