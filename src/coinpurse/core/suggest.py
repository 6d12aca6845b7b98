"""One matcher for "did you mean": gifts, accounts, commands and rate keys.

A word matches a name, best first, when (case, spaces and a leading ``@``
ignored) it is the name; is one edit from it (a letter changed, added or
dropped, or two adjacent letters swapped); starts it; is one edit from one of
its words or from how a word or the name starts; or, for words of six letters
or more, two edits from it. When some name is the word or one edit from it,
only such names are suggested. ``lino`` finds Lion, ``rse`` Rose, ``icecream`` Ice
Cream Cone, ``hart`` Heart Me, Finger Heart and Hand Hearts.

``one_edit_apart`` is the same test of one edit, used on its own for account
names (see ``core.new_accounts``).
"""

from __future__ import annotations

from collections.abc import Iterable

LIMIT = 3


def folded(text: str) -> str:
    """How names compare here: case-folded, with no spaces and no leading ``@``."""
    return "".join(text.casefold().split()).removeprefix("@")


def one_edit_apart(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter changed, added or dropped, or two adjacent letters swapped."""
    if a == b:
        return False
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    start = 0
    shortest = min(la, lb)
    while start < shortest and a[start] == b[start]:
        start += 1
    if la == lb:
        if a[start + 1 :] == b[start + 1 :]:
            return True  # one letter changed
        return a[start + 2 :] == b[start + 2 :] and a[start : start + 2] == b[start : start + 2][::-1]
    if la > lb:
        return a[start + 1 :] == b[start:]
    return b[start + 1 :] == a[start:]


def edit_distance(a: str, b: str, most: int) -> int:
    """Edits (change, add, drop, swap of neighbours) from ``a`` to ``b``; ``most + 1`` once beyond ``most``."""
    if abs(len(a) - len(b)) > most:
        return most + 1
    before: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i, letter in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, start=1):
            cost = 0 if letter == other else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if before is not None and i > 1 and j > 1 and letter == b[j - 2] and a[i - 2] == other:
                best = min(best, before[j - 2] + 1)
            current[j] = best
        if min(current) > most:
            return most + 1
        before, previous = previous, current
    return min(previous[-1], most + 1)


def _near(word: str, target: str) -> bool:
    return word == target or one_edit_apart(word, target)


def _rank(word: str, name: str) -> int | None:
    """How well ``word`` (folded) matches ``name``: 0 best, None not at all."""
    whole = folded(name)
    if not word or not whole:
        return None
    if word == whole:
        return 0
    if one_edit_apart(word, whole):
        return 1
    if len(word) >= 2 and whole.startswith(word):
        return 2
    parts = [folded(part) for part in name.replace(".", " ").replace("_", " ").split()]
    if len(word) >= 3 and any(_near(word, part) or part.startswith(word) for part in parts):
        return 3
    if len(word) >= 4 and any(
        _near(word, start[: len(word) + step]) for start in (whole, *parts) for step in (-1, 0, 1)
    ):
        return 4
    if len(word) >= 6 and edit_distance(word, whole, 2) <= 2:
        return 5
    return None


def suggestions(word: str, names: Iterable[str], limit: int = LIMIT) -> list[str]:
    """The names ``word`` most likely meant, best first (ties in the names' order); at most ``limit``."""
    wanted = folded(word)
    ranked: list[tuple[int, int, str]] = []
    for order, name in enumerate(dict.fromkeys(names)):
        rank = _rank(wanted, name)
        if rank is not None:
            ranked.append((rank, order, name))
    ranked.sort()
    if ranked and ranked[0][0] <= 1:  # the name itself, or one edit from it: the looser matches are noise
        ranked = [entry for entry in ranked if entry[0] <= 1]
    return [name for _, _, name in ranked[:limit]]


def did_you_mean(word: str, names: Iterable[str]) -> str:
    """`` (did you mean a, b?)`` for the names ``word`` may have meant, else empty."""
    found = suggestions(word, names)
    return f" (did you mean {either(found)}?)" if found else ""


def either(names: list[str]) -> str:
    shown = [f'"{name}"' if " " in name else name for name in names]
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} or {shown[-1]}"
