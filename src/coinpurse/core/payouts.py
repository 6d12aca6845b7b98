"""Held payouts: where a hold stands, and the expiries a write records first.

A hold (``payout-hold``) is pending until one approval, rejection or expiry names it
(``payout-approve``, ``payout-reject``, ``payout-expire``); a paid one may later be
returned (``payout-return``). Its state is read from the transactions that post to the
creator's pending account and from the few returns: on SQLite both are indexed, so
no look-up walks the whole history. A pending hold whose review time has passed reads
as expired, its diamonds as available, before any transaction says so; the next write
that touches its account records the release first (``release_due``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from coinpurse.core import requests as rq
from coinpurse.core.book import Book
from coinpurse.core.kinds import SETTLEMENT_KINDS, PayoutHoldRecord
from coinpurse.core.model import Transaction
from coinpurse.core.names import is_platform_account, pending_account
from coinpurse.errors import BadInput, Refused

STATES = ("pending", "paid", "rejected", "expired", "returned")
_SETTLED_AS = {"payout-approve": "paid", "payout-reject": "rejected", "payout-expire": "expired"}
_VERBS = {
    "payout-approve": "approved",
    "payout-reject": "rejected",
    "payout-return": "returned",
    "payout-expire": "expired",
}


class PayoutStatus(NamedTuple):
    hold: Transaction
    record: PayoutHoldRecord
    state: str  # one of STATES
    settled_by: Transaction | None  # the approval, rejection or expiry
    returned_by: Transaction | None
    expired_unrecorded: bool  # expired by the clock, its release not yet recorded

    @property
    def facts(self) -> rq.HoldFacts:
        d = self.record.details
        approval = (
            self.settled_by.id if self.settled_by is not None and self.settled_by.kind == "payout-approve" else None
        )
        return rq.HoldFacts(
            self.hold.id, self.record.request.account, d.diamonds, d.cash, d.fee, d.net, d.rounding, d.day, d.expires,
            approval,
        )  # fmt: skip


def find_hold(book: Book, hold_id: str) -> tuple[Transaction, PayoutHoldRecord]:
    """The hold with this id; bad input when there is none, or the id is another kind's."""
    tx = book.find(hold_id)
    if tx is None:
        raise BadInput(
            f"no payout {hold_id!r} in this ledger; 'coinpurse payout list' lists them", code="unknown_payout"
        )
    if not isinstance(tx.payload, PayoutHoldRecord):
        raise BadInput(
            f"{hold_id} is a {tx.kind}, not a held payout; 'coinpurse payout list' lists the payouts",
            code="not_a_payout",
        )
    return tx, tx.payload


def _hold_of(tx: Transaction) -> str | None:
    hold = tx.request.get("hold")
    return hold if isinstance(hold, str) else None


def status_of(
    book: Book, tx: Transaction, record: PayoutHoldRecord, now: str,
    settlements: dict[str, Transaction] | None = None, returns: dict[str, Transaction] | None = None,
) -> PayoutStatus:  # fmt: skip
    """Where one hold stands at ``now``; ``settlements`` and ``returns`` by hold id when the caller read them already."""
    if settlements is None:
        settlements = {}
        for other in book.transactions(account=pending_account(record.request.account)):
            hold = _hold_of(other) if other.kind in SETTLEMENT_KINDS else None
            if hold == tx.id:
                settlements.setdefault(hold, other)
    settled = settlements.get(tx.id)
    if settled is None:
        if now >= record.details.expires:
            return PayoutStatus(tx, record, "expired", None, None, True)
        return PayoutStatus(tx, record, "pending", None, None, False)
    state = _SETTLED_AS[settled.kind]
    if state != "paid":
        return PayoutStatus(tx, record, state, settled, None, False)
    if returns is None:
        returns = {}
        for other in book.transactions(kind="payout-return"):
            hold = _hold_of(other)
            if hold == tx.id:
                returns.setdefault(hold, other)
    returned = returns.get(tx.id)
    return PayoutStatus(tx, record, "returned" if returned else "paid", settled, returned, False)


def every_status(book: Book, now: str, account: str | None = None) -> list[PayoutStatus]:
    """Every hold (one account's, or all), oldest first, with where it stands at ``now``."""
    holds = book.transactions(account=account, kind="payout-hold")
    if account is not None:
        holds = [tx for tx in holds if tx.request.get("account") == account]
    if not holds:
        return []
    settlements: dict[str, Transaction] = {}
    if account is not None:  # the settlements of its holds all post to its pending account
        for other in book.transactions(account=pending_account(account)):
            hold = _hold_of(other) if other.kind in SETTLEMENT_KINDS else None
            if hold is not None:
                settlements.setdefault(hold, other)
    else:
        for kind in SETTLEMENT_KINDS:
            for other in book.transactions(kind=kind):
                hold = _hold_of(other)
                if hold is not None:
                    settlements.setdefault(hold, other)
    returns: dict[str, Transaction] = {}
    for other in book.transactions(kind="payout-return"):
        hold = _hold_of(other)
        if hold is not None:
            returns.setdefault(hold, other)
    found: list[PayoutStatus] = []
    for tx in holds:
        if isinstance(tx.payload, PayoutHoldRecord):
            found.append(status_of(book, tx, tx.payload, now, settlements, returns))
    return found


def hold_facts_for(book: Book, hold_id: str, at: str, wanted: str, kind: str) -> rq.HoldFacts:
    """What a settlement of ``kind`` needs of the hold, once it is sure the hold is in the ``wanted`` state;
    a refusal that says where it stands otherwise."""
    tx, record = find_hold(book, hold_id)
    status = status_of(book, tx, record, at)
    if status.state == wanted and not (wanted == "expired" and not status.expired_unrecorded):
        return status.facts
    raise Refused(_why_not(status, kind), code="payout_settled" if status.state != "pending" else "payout_pending")


def _why_not(status: PayoutStatus, kind: str) -> str:
    hold = status.hold.id
    verb = {"payout-approve": "approved", "payout-reject": "rejected", "payout-return": "returned"}.get(
        kind, "released"
    )
    if status.state == "pending":
        if kind == "payout-return":
            return f"payout {hold} is still pending, not paid; only a paid payout can be returned"
        return f"payout {hold} is pending until {status.record.details.expires}; it is not expired"
    if status.expired_unrecorded:
        return (
            f"payout {hold} expired at {status.record.details.expires}, untouched past its review; it can't be {verb}"
        )
    by = status.returned_by or status.settled_by
    assert by is not None
    return f"payout {hold} was already {_VERBS[by.kind]} by {by.id} at {by.at}; it can't be {verb}"


# ----- expiries recorded by the next write that touches the account ---------------------


def due_holds(book: Book, account: str, at: str) -> list[rq.HoldFacts]:
    """The account's pending holds whose review time has passed by ``at``, oldest first."""
    if is_platform_account(account):
        return []
    pending = book.stored_account(pending_account(account))
    if pending is None or pending.diamonds <= 0:  # nothing held: the common case costs one look-up
        return []
    due = []
    for status in every_status(book, at, account):
        if status.expired_unrecorded:
            due.append(status.facts)
    return due


def accounts_named(book: Book, request: Any) -> list[str]:
    """The user accounts a request will touch, as far as it says before the rules run."""
    names: list[str] = []
    for field in ("account", "sender", "recipient"):
        value = getattr(request, field, None)
        if isinstance(value, str):
            names.append(value)
    hold = getattr(request, "hold", None)
    if isinstance(hold, str):
        found = book.find(hold)
        if found is not None and isinstance(found.payload, PayoutHoldRecord):
            names.append(found.payload.request.account)
    original = getattr(request, "original", None) or getattr(request, "buy", None)
    if isinstance(original, str):  # a reversal's gift, a refund's buy
        found = book.find(original)
        if found is not None:
            for field in ("sender", "recipient", "account"):
                value = found.request.get(field)
                if isinstance(value, str):
                    names.append(value)
    return names


def release_due(book: Book, accounts: Iterable[str], at: str, record: Any) -> set[str]:
    """Record, through ``record(request)``, the release of every due hold of these accounts; the accounts released."""
    released: set[str] = set()
    for name in dict.fromkeys(accounts):
        for facts in due_holds(book, name, at):
            record(rq.ExpirePayout(facts.hold, None, facts))
            released.add(name)
    return released
