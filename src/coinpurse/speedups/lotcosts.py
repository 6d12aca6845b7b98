"""What a stored account's coin lots cost, read from their JSON text without building a lot.

An account's lots are stored as compact JSON, ``[["source", coins, "cost"], ...]``: a
viewer's can be thousands, and a ledger of a million transactions holds about 250,000.
``balance`` of every account shows each one's coin cost and nothing else of its lots, so
it splits the text at its quotes (in C) and counts the costs instead of parsing it into
lists and Lot tuples: about a quarter of the time. tests/test_speedups.py checks that it
agrees with a full parse, and that text in any other layout is left to that parse.
"""

from __future__ import annotations

import re
from collections import Counter

_SEPARATOR = "],["  # between two lots, once split at the quotes
_PLAIN_INT = r"-?(?:0|[1-9][0-9]{0,%d})"  # how the writer spells an int of at most that many digits


def coin_pattern(digits: int) -> re.Pattern[str]:
    """A lot's coins as the text between its source and its cost: ``,700,``."""
    return re.compile(f",{_PLAIN_INT % (digits - 1)},")


def lot_cost_counts(text: str, coins: re.Pattern[str]) -> Counter[str] | None:
    """How many lots have each cost (the cost's text as stored), or None if ``text`` is not
    lots in the writer's compact layout, with coins as ``coins`` matches them.

    Without a backslash, every quote in the text opens or closes a string, so lots of
    [string, int, string] split into exactly four pieces each. The sources are not read, so
    a control character in one (which JSON forbids) goes unseen; one in a cost does not.
    """
    if text == "[]":
        return Counter()
    if "\\" in text:
        return None
    pieces = text.split('"')
    if len(pieces) % 4 != 1 or pieces[0] != "[[" or pieces[-1] != "]]":
        return None
    if not set(pieces[4:-1:4]) <= {_SEPARATOR}:
        return None
    if not all(coins.fullmatch(between) for between in set(pieces[2::4])):
        return None
    counts = Counter(pieces[3::4])
    if not all(map(str.isprintable, counts)):
        return None
    return counts
