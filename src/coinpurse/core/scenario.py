"""Scenarios: an ordered list of operations applied to one book, all or nothing.

A scenario is ``{"ops": [{"kind": ..., fields...}, ...]}`` as read from TOML or
JSON. Each op's fields are the command's arguments and options. Every op is
checked before any runs; running stops at the first failure, and the caller
then drops the in-memory book, so nothing of a failed scenario is written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from coinpurse.core import requests as rq
from coinpurse.core.book import Book
from coinpurse.core.model import Transaction
from coinpurse.core.money import shown
from coinpurse.core.rates_edit import RatesChange, changes_a_value, diff, plan_rates
from coinpurse.core.rules import execute
from coinpurse.errors import BadInput, CoinpurseError

# kind -> (required fields, optional fields)
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "buy": (("account", "coins"), ("channel", "id")),
    "gift": (("sender", "recipient", "gift"), ("count", "stream", "id", "new_account")),
    "redeem": (("account",), ("diamonds", "all", "id", "new_account")),
    "rates": ((), ("set", "remove", "id")),
    "refund": (("buy",), ("clawback", "id")),
    "reverse": (("original", "reason"), ("id",)),
    "sponsor-fund": (("sponsor", "cash"), ("id",)),
    "sponsor-withdraw": (("sponsor", "cash"), ("id",)),
}
FIELDS["redeem"] = (("account",), ("diamonds", "all", "id", "new_account", "hold"))  # hold: a pending payout
FIELDS["payout-approve"] = (("hold",), ("id",))
FIELDS["payout-reject"] = (("hold", "reason"), ("id",))
FIELDS["payout-return"] = (("hold", "reason"), ("id",))
FIELDS["payout-expire"] = (("hold",), ("id",))

Op = (
    rq.Buy
    | rq.Gift
    | rq.Redeem
    | RatesChange
    | rq.Refund
    | rq.Reverse
    | rq.SponsorFund
    | rq.SponsorWithdraw
    | rq.Hold
    | rq.Settlement
)

_ALLOWED = {kind: frozenset((*required, *optional)) for kind, (required, optional) in FIELDS.items()}


class OpFailed(Exception):
    """Op number ``index`` (counted from 1) failed with ``error``."""

    def __init__(self, index: int, error: CoinpurseError) -> None:
        super().__init__(index, error)
        self.index = index
        self.error = error


def parse_op(raw: object) -> Op:
    if not isinstance(raw, Mapping):
        raise BadInput(f"an op must be a table with a 'kind', not {type(raw).__name__}", code="invalid_op")
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in FIELDS:
        known = ", ".join(FIELDS)
        raise BadInput(f"unknown kind {shown(kind)}; the kinds are {known}", code="invalid_op")
    required, optional = FIELDS[kind]
    allowed = _ALLOWED[kind]
    fields = dict(raw)
    del fields["kind"]
    if not allowed.issuperset(fields):
        name = next(name for name in fields if name not in allowed)
        known = ", ".join((*required, *optional))
        raise BadInput(f"{kind}: unknown field {name!r}; a {kind} has {known}", code="invalid_op")
    for name in required:
        if name not in fields:
            raise BadInput(f"{kind}: missing field {name!r}", code="invalid_op")
    if kind == "buy":
        return rq.Buy.make(**fields)
    if kind == "gift":
        return rq.Gift.make(**fields)
    if kind == "redeem":
        hold = fields.pop("hold", False)
        if not isinstance(hold, bool):
            raise BadInput(f"redeem: hold must be true or false, not {shown(hold)}", code="invalid_op")
        return rq.Hold.make(**fields) if hold else rq.Redeem.make(**fields)
    if kind == "payout-approve":
        return rq.ApprovePayout.make(**fields)
    if kind == "payout-reject":
        return rq.RejectPayout.make(**fields)
    if kind == "payout-return":
        return rq.ReturnPayout.make(**fields)
    if kind == "payout-expire":
        return rq.ExpirePayout.make(**fields)
    if kind == "refund":
        return rq.Refund.make(**fields)
    if kind == "reverse":
        return rq.Reverse.make(**fields)
    if kind == "sponsor-fund":
        return rq.SponsorFund.make(**fields)
    if kind == "sponsor-withdraw":
        return rq.SponsorWithdraw.make(**fields)
    sets = fields.get("set", {})
    if not isinstance(sets, Mapping):
        raise BadInput("rates: 'set' must be a table of rate keys and values", code="invalid_op")
    return RatesChange.make(sets, fields.get("remove", []), fields.get("id"))


def scenario_ops(document: object) -> Iterable[object]:
    """The raw ops of a scenario document, its shape checked; each op is parsed when used."""
    if not isinstance(document, Mapping) or set(document) != {"ops"}:
        extra = sorted(set(document) - {"ops"}) if isinstance(document, Mapping) else []
        why = f"unknown top-level key {extra[0]!r}" if extra else "no 'ops' list"
        raise BadInput(f"not a scenario: {why}; a scenario holds only an ordered list 'ops'", code="invalid_scenario")
    raw_ops = document["ops"]
    if not isinstance(raw_ops, Iterable) or isinstance(raw_ops, (str, Mapping)):
        raise BadInput("not a scenario: 'ops' must be a list", code="invalid_scenario")
    return raw_ops


def check_ops(raw_ops: Iterable[object]) -> int:
    """Check every op for shape and values before any runs; OpFailed names the first bad one.

    Returns how many there are. The parsed ops are not kept: a scenario of a
    million ops would hold them all at once, so running parses each again.
    """
    count = 0
    for count, raw in enumerate(raw_ops, start=1):
        try:
            parse_op(raw)
        except CoinpurseError as error:
            raise OpFailed(count, error) from None
    return count


def parse_ops(raw_ops: Iterable[object]) -> Iterator[Op]:
    """The ops, parsed one at a time (check them first with ``check_ops``)."""
    for raw in raw_ops:
        yield parse_op(raw)


class OpResult(NamedTuple):  # a NamedTuple: one per op of a bulk apply, and cheaper to make
    """What one op did: its transaction, or none for a rates change that changed nothing."""

    kind: str
    transaction: Transaction | None
    replayed: bool = False
    changes: Sequence[dict[str, Any]] = ()
    source: str = ""


def run_one(book: Book, op: Op, now: str) -> OpResult:
    if not isinstance(op, RatesChange):
        outcome = execute(book, op, now)
        return OpResult(op.kind, outcome.transaction, outcome.replayed)
    return change_rates(book, op, now)


def change_rates(book: Book, change: RatesChange, now: str) -> OpResult:
    """Record a rates change; a change to what is already in force records nothing (except at init).

    Rates compare by value (100 is 100.00). A real change stores the values as
    written, and its list of changes names every key whose text changed.
    """
    if change.id is not None and book.find(change.id) is not None:
        # Replays, or refuses an id used for something else; the planner never runs.
        outcome = execute(book, change, now, planner=_never)  # type: ignore[arg-type]  # a request by shape
        tx = outcome.transaction
        return OpResult("rates", tx, True, tx.details.get("changes", []), change.source)
    new = change.new_rates(book.rates)
    changes = diff(book.rates, new)
    if not changes_a_value(changes) and change.source != "init":
        return OpResult("rates", None, False, [], change.source)
    outcome = execute(book, change, now, planner=lambda b, tx_id, at: plan_rates(b, change, new))  # type: ignore[arg-type]
    return OpResult("rates", outcome.transaction, outcome.replayed, changes, change.source)


def _never(book: Book, tx_id: str, at: str) -> Any:
    raise AssertionError("a replayed rates change is never planned")


Progress = Callable[[int, int], None]


def run(
    book: Book,
    ops: Iterable[Op],
    now: str,
    on_progress: Progress | None = None,
    every: int = 500,
    total: int = 0,
) -> Iterator[OpResult]:
    """Apply the ops in order to ``book``, yielding what each did; OpFailed names the first that fails.

    Yielded, not gathered: the caller keeps what it needs of a million results.
    After a failure the book is spoiled and must not be saved.
    """
    for index, op in enumerate(ops, start=1):
        try:
            result = run_one(book, op, now)
        except CoinpurseError as error:
            raise OpFailed(index, error) from None
        yield result
        if on_progress is not None and (index % every == 0 or index == total):
            on_progress(index, total)
