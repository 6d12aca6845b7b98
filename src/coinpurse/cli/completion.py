"""TAB completion that knows the economy: accounts, gifts, channels and rate keys of the ledger in use.

Each function here is a Click ``shell_complete`` callback, set on the built
parameters by ``attach`` (by parameter name, see ``COMPLETERS``) only when the
shell asks for completions. Typer's own ``autocompletion=`` keeps only values
that start with the typed text as it is, so it could neither match ``ice`` to
"Ice Cream Cone" nor offer that name in the quotes bash needs. The ledger is the one the command line names (``--ledger``
given before the command, else ``COINPURSE_LEDGER``, else the default), read
without its history: a SQLite ledger's accounts table (by its index, from the
prefix typed), or a JSON ledger's head. A TOML ledger is read whole, so only
when it is small. Reading stops after ``BUDGET_MS``; a missing, damaged or
slow ledger completes nothing, and a TAB never prints an error or a traceback.
Nothing here imports rich or the rules.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coinpurse.core.book import Book

BUDGET_MS = 500  # the most a TAB spends reading the ledger, in milliseconds
MOST = 200  # the most names offered at once
TOML_MOST_BYTES = 4_000_000  # a TOML ledger is parsed whole: only a small one is read for a TAB
KINDS = (
    "buy",
    "gift",
    "redeem",
    "rates",
    "reversal",
    "refund",
    "sponsor-fund",
    "sponsor-withdraw",
    "payout-hold",
    "payout-approve",
    "payout-reject",
    "payout-expire",
    "payout-return",
)  # core.kinds.RECORDS (a test keeps them in step)
COMPLETE_VARIABLE = "_COINPURSE_COMPLETE"


class _OutOfTime(Exception):
    pass


@contextmanager
def _budget(seconds: float) -> Iterator[None]:
    """Raise _OutOfTime in the block once ``seconds`` have passed (where a timer can: the main thread on Unix)."""
    import signal
    import threading

    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def out_of_time(signum: int, frame: object) -> None:
        raise _OutOfTime

    previous = signal.signal(signal.SIGALRM, out_of_time)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _quietly(find: Callable[[], list[str]]) -> list[str]:
    """What ``find`` gives within the budget; nothing on any error, on running out of time, or past the limit."""
    try:
        with _budget(BUDGET_MS / 1000):
            return find()
    except (Exception, _OutOfTime, RecursionError, MemoryError):
        return []


def _ledger_path(ctx: Any) -> Any:
    from coinpurse.storage import resolve_ledger_path

    return resolve_ledger_path(ctx.find_root().params.get("ledger"))


@contextmanager
def _head(ctx: Any) -> Iterator[Book | None]:
    """The ledger in use without its history, or None when there is none to read (or it is too big to read)."""
    path = _ledger_path(ctx)
    if not path.is_file():
        yield None
        return
    suffix = path.suffix.lower()
    if suffix == ".toml" and path.stat().st_size > TOML_MOST_BYTES:
        yield None
        return
    from coinpurse.storage import reading

    with reading(path) as book:  # JSON: the head only; SQLite: one read transaction; no lock either way
        yield book


def _accounts(ctx: Any, incomplete: str) -> list[str]:
    from coinpurse.core.names import is_user_account

    prefix = incomplete.strip().removeprefix("@").lower()
    with _head(ctx) as book:
        if book is None:
            return []
        db = getattr(book, "db", None)
        if db is not None:  # SQLite: the names from the prefix on, by the accounts table's index
            upper = prefix[:-1] + chr(ord(prefix[-1]) + 1) if prefix else "\U0010ffff"
            rows = db.execute(
                "SELECT name FROM accounts WHERE name >= ? AND name < ? AND name NOT LIKE 'platform:%' AND name NOT LIKE 'sponsor:%' ORDER BY name LIMIT ?",
                (prefix, upper, MOST),
            ).fetchall()
            return [name for (name,) in rows]
        names = (name for name in getattr(book, "accounts", {}) if name.startswith(prefix) and is_user_account(name))
        return sorted(names)[:MOST]


def _for_the_shell(values: list[str]) -> list[str]:
    """Bash inserts a completion as it is: a value with spaces goes in quotes. Zsh and fish quote it themselves."""
    if not os.environ.get(COMPLETE_VARIABLE, "").endswith("bash"):
        return values
    return [f'"{value}"' if " " in value else value for value in values]


def _matching(incomplete: str, values: list[str]) -> list[str]:
    """The values that start with what was typed (case and spaces ignored), else those it may mean (core.suggest)."""
    from coinpurse.core.suggest import folded, suggestions

    typed = folded(incomplete.strip().strip("\"'"))
    found = [value for value in values if folded(value).startswith(typed)]
    if not found and typed:
        found = suggestions(typed, values)
    return _for_the_shell(found[:MOST])


def _rates_of(ctx: Any) -> Any:
    with _head(ctx) as book:
        if book is not None:
            return book.rates
    from coinpurse.core.rates import default_rates  # a new ledger starts with these

    return default_rates()


def accounts(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """The ledger's accounts that start with what was typed."""
    return _quietly(lambda: _accounts(ctx, incomplete))


def gifts(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """The catalog's gift names."""
    return _quietly(lambda: _matching(incomplete, [gift.name for gift in _rates_of(ctx).gifts]))


def channels(ctx: Any, param: Any, incomplete: str) -> list[str]:
    return _quietly(lambda: _matching(incomplete, [channel.name for channel in _rates_of(ctx).channels]))


def kinds(ctx: Any, param: Any, incomplete: str) -> list[str]:
    return _quietly(lambda: _matching(incomplete, list(KINDS)))


def rate_keys(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """``rates set``: a key where a key goes, and the key's value in force where its value goes."""

    def find() -> list[str]:
        from coinpurse.core.rates_edit import flatten
        from coinpurse.core.rates_edit import rate_keys as keys_of

        given: list[str] = list(ctx.params.get(param.name) or ())
        rates = _rates_of(ctx)
        if len(given) % 2:  # a VALUE: the one in force for the key before it, if any
            value = flatten(rates).get(given[-1].strip())
            return [] if value is None else _matching(incomplete, [str(value)])
        return _matching(incomplete, keys_of(rates))

    return _quietly(find)


def removable_keys(ctx: Any, param: Any, incomplete: str) -> list[str]:
    """``rates set --remove``: the gifts, packages and channels there are."""

    def find() -> list[str]:
        from coinpurse.core.rates_edit import rate_keys as keys_of

        return _matching(incomplete, keys_of(_rates_of(ctx), remove=True))

    return _quietly(find)


# Parameter name -> its completer, for every command that has such a parameter.
COMPLETERS: dict[str, Callable[[Any, Any, str], list[str]]] = {
    "account": accounts,
    "sender": accounts,
    "recipient": accounts,
    "gift_name": gifts,
    "channel": channels,
    "kind": kinds,
    "pairs": rate_keys,
    "remove": removable_keys,
}

PERIODS = ("day", "week", "month")  # core.report.PERIODS (a test keeps them in step)


def periods(ctx: Any, param: Any, incomplete: str) -> list[str]:
    return _quietly(lambda: _matching(incomplete, list(PERIODS)))


COMPLETERS["by"] = periods  # report --by


def attach(command: Any) -> None:
    """Set the completer of every parameter named in COMPLETERS, in ``command`` and the commands under it."""
    pending = [command]
    while pending:
        current = pending.pop()
        pending.extend(getattr(current, "commands", {}).values())
        for param in current.params:
            found = COMPLETERS.get(param.name or "")
            if found is not None:
                param._custom_shell_complete = found
