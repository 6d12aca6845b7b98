"""A gift or redeem naming a new account one edit from an existing one is refused unless meant.

``gift alice mai rose`` when ``mia`` exists would otherwise create ``mai`` and
send it the diamonds. A name that is not an account yet, and is one edit from
one that is (a letter changed, added or dropped, or two adjacent letters
swapped), is refused as bad input naming both, unless the request says
``new_account``. Names that differ only in digits (``creator0001``,
``creator0002``) never count as close, so numbered accounts can be scripted.
``buy`` creates accounts freely. The check runs only for a name that is not an
account yet, and finds close names without reading every account:

- the first few checks on a book try each handle one edit from the name
  (about 80 per letter) against the book, one lookup each;
- after that (a bulk apply creating many accounts), one pass over the accounts
  builds an index of each name with one letter dropped, and each check looks up
  its own name's few such forms; a book of more than ``INDEX_MOST`` accounts
  is not indexed (it would take about 12 entries a name) and goes on trying. Every request the book records afterwards adds
  its names, so the index always holds every account (and perhaps a name a
  refused request gave, which the book's lookup then rules out).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from coinpurse.core.suggest import one_edit_apart
from coinpurse.errors import BadInput

if TYPE_CHECKING:
    from coinpurse.core.book import Book

# The letters of a handle (core.patterns.HANDLE): what a one-edit neighbour can hold.
_LETTERS = "abcdefghijklmnopqrstuvwxyz_."
_DIGITS = "0123456789"
_HANDLE_LENGTHS = range(2, 25)
TRIES_BEFORE_INDEX = 8  # checks by trying neighbours before a book's names are indexed
INDEX_MOST = 200_000  # more accounts than this are not indexed (about 12 forms a name): trying neighbours goes on

_indexes: weakref.WeakKeyDictionary[Any, _Index] = weakref.WeakKeyDictionary()
_last: tuple[weakref.ref[Any], _Index] | None = None  # the last book's index: a bulk apply asks for one book


def _index_of(book: Book) -> _Index:
    """The book's index (made empty on first use), without making a weak reference per op."""
    global _last
    last = _last
    if last is not None and last[0]() is book:
        return last[1]
    index = _indexes.get(book)
    if index is None:
        index = _indexes[book] = _Index()
    _last = (weakref.ref(book), index)
    return index


def check_new_accounts(book: Book, request: Any) -> None:
    """BadInput when a gift or redeem names a new account one edit from an existing one, unless it is meant.

    Called for every request the book records (buy included), so an index of its names stays whole.
    """
    kind = request.kind
    if kind == "gift":
        names: tuple[str, ...] = (request.sender, request.recipient)
    elif kind == "redeem" or kind == "buy" or kind == "payout-hold":
        names = (request.account,)
    else:
        return
    has_account = book.has_account
    checked = kind != "buy" and not request.new_account
    for name in names:
        if has_account(name):
            continue  # the common case: nothing more to do
        if checked:
            close = near_accounts(book, name)
            if close:
                raise _refusal(name, close)
        _index_of(book).add_all((name,))


def near_accounts(book: Book, name: str) -> list[str]:
    """The accounts of the book one edit from ``name``, not counting differences only of digits; sorted."""
    index = _index_of(book)
    if index.names is None and index.tries >= TRIES_BEFORE_INDEX:
        names = book.user_accounts()
        if len(names) <= INDEX_MOST:
            index.build(names)
        else:
            index.tries = -len(names)  # too many to index; try again only after as many checks
    if index.names is None:
        index.tries += 1
        return sorted(found for found in neighbours(name) if book.has_account(found))
    return sorted(found for found in index.close_to(name) if book.has_account(found))


def not_only_digits(a: str, b: str) -> bool:
    """Whether the names differ in more than digits: ``mia``/``mai`` do, ``creator1``/``creator2`` do not."""
    table = str.maketrans("", "", _DIGITS)
    return a.translate(table) != b.translate(table)


def neighbours(name: str) -> set[str]:
    """Every handle one edit from ``name`` that differs from it in more than digits."""
    found: set[str] = set()
    add = found.add
    length = len(name)
    for i in range(length + 1):
        head, tail = name[:i], name[i:]
        rest = tail[1:]
        for letter in _LETTERS:
            add(head + letter + tail)  # a letter added
            if tail:
                add(head + letter + rest)  # a character changed into a letter
        if tail and tail[0] not in _DIGITS:  # dropping a digit, or changing one into another, is only digits
            add(head + rest)  # a letter dropped
            for digit in _DIGITS:
                add(head + digit + rest)  # a letter changed into a digit
        if len(tail) > 1 and tail[0] not in _DIGITS and tail[1] not in _DIGITS:
            add(head + tail[1] + tail[0] + tail[2:])  # two neighbours swapped
    found.discard(name)
    if length in (_HANDLE_LENGTHS.start, _HANDLE_LENGTHS.stop - 1):
        return {other for other in found if len(other) in _HANDLE_LENGTHS}
    return found


def _drops(name: str) -> set[str]:
    """The name with each one of its letters dropped, and the name itself."""
    return {name, *(name[:i] + name[i + 1 :] for i in range(len(name)))}


class _Index:
    """Names by each form with one letter dropped: two names one edit apart share one such form."""

    __slots__ = ("by_drop", "names", "tries")

    def __init__(self) -> None:
        self.names: set[str] | None = None
        self.by_drop: dict[str, list[str]] = {}
        self.tries = 0

    def build(self, names: list[str]) -> None:
        self.names = set()
        self.add_all(names)

    def add_all(self, names: tuple[str, ...] | list[str]) -> None:
        known = self.names
        if known is None:
            return
        by_drop = self.by_drop
        for name in names:
            if name in known:
                continue
            known.add(name)
            for form in _drops(name):
                by_drop.setdefault(form, []).append(name)

    def close_to(self, name: str) -> set[str]:
        by_drop = self.by_drop
        found: set[str] = set()
        for form in _drops(name):
            found.update(by_drop.get(form, ()))
        return {other for other in found if one_edit_apart(name, other) and not_only_digits(name, other)}


def _refusal(name: str, close: list[str]) -> BadInput:
    others = " or ".join(close[:3])
    return BadInput(
        f"{name} would be a new account, one typo from {others}: did you mean {others}? "
        f"To create {name}, give --new-account (in a scenario op, new_account = true)",
        code="new_account_close",
    )
