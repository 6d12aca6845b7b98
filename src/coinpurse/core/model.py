"""Small immutable types: postings, transactions, lots and account states.

Each type converts to and from the plain dict stored in the ledger file, where
cash is a string and coins and diamonds are integers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any, NamedTuple

from coinpurse.core.money import COIN, DIAMOND, ZERO, decimal_str

GENESIS_HASH = "0" * 64
Amount = int | Decimal


class Posting(NamedTuple):
    account: str
    commodity: str  # COIN, DIAMOND, or the currency code
    amount: Amount

    def to_dict(self) -> dict[str, Any]:
        amount = self.amount if isinstance(self.amount, int) else decimal_str(self.amount)
        return {"account": self.account, "commodity": self.commodity, "amount": amount}


class Lot(NamedTuple):  # a NamedTuple: cheaper to define at startup than a dataclass
    """Coins bought together, spent first in, first out, with what they cost."""

    source: str  # id of the buy that brought them
    coins: int
    cost: Decimal

    def to_list(self) -> list[Any]:
        return [self.source, self.coins, decimal_str(self.cost)]


class AccountState(NamedTuple):  # a NamedTuple: made several times per op, and three times cheaper to make
    coins: int = 0
    diamonds: int = 0
    cash: Decimal = ZERO  # net cash of the account: paid in is negative, paid out positive
    lots: tuple[Lot, ...] = ()
    payout_day: str = ""  # UTC day of the last payout, for the daily maximum
    paid_that_day: Decimal = ZERO

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"coins": self.coins, "diamonds": self.diamonds, "cash": decimal_str(self.cash)}
        if self.lots:
            data["lots"] = [lot.to_list() for lot in self.lots]
        if self.payout_day:
            data["payouts"] = {"day": self.payout_day, "total": decimal_str(self.paid_that_day)}
        return data

    def paid_on(self, day: str) -> Decimal:
        return self.paid_that_day if self.payout_day == day else ZERO

    def posted(self, postings: Iterable[Posting], name: str) -> AccountState:
        """This state after the postings to ``name`` (lots are the rules' business)."""
        coins, diamonds, cash = self.coins, self.diamonds, self.cash
        for p in postings:
            if p.account != name:
                continue
            if p.commodity == COIN:
                coins += int(p.amount)
            elif p.commodity == DIAMOND:
                diamonds += int(p.amount)
            else:
                cash += Decimal(p.amount)
        # Built directly: dataclasses.replace costs several times more, and this runs per posting in bulk applies.
        return AccountState(coins, diamonds, cash, self.lots, self.payout_day, self.paid_that_day)


@dataclass(frozen=True)
class Transaction:
    id: str
    kind: str
    at: str  # ISO 8601, UTC, seconds: 2026-03-01T12:00:00Z
    request: Mapping[str, Any]  # the normalized request, for idempotent retries
    rates: Mapping[str, Any]  # the rates it was made at
    postings: tuple[Posting, ...]
    details: Mapping[str, Any] = field(default_factory=dict)  # receipt facts: lots drawn, fees, rounding
    after: Mapping[str, Any] = field(default_factory=dict)  # users' balances right after it
    hash: str = ""
    # What it leaves behind: digests of the rates in force and of each changed account's
    # stored state (see core.chain); None in transactions recorded before states were.
    state: Mapping[str, Any] | None = None
    # The stored form, kept by seal() so a new transaction is turned into a dict once.
    _record: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def content(self) -> dict[str, Any]:
        """Everything but the hash, as stored."""
        content = {
            "id": self.id,
            "kind": self.kind,
            "at": self.at,
            "request": dict(self.request),
            "rates": dict(self.rates),
            "postings": [p.to_dict() for p in self.postings],
            "details": dict(self.details),
            "after": dict(self.after),
        }
        if self.state is not None:
            content["state"] = dict(self.state)
        return content

    def to_dict(self) -> dict[str, Any]:
        """The stored form (shared when sealed: read it, don't change it)."""
        if self._record is not None:
            return self._record
        data = self.content()
        data["hash"] = self.hash
        return data

    def output(self) -> dict[str, Any]:
        """The stored form as history and export show it: ``state`` is null where it was not recorded."""
        data = self.to_dict()
        if self.state is None:
            data = {**data, "state": None}
            data["hash"] = data.pop("hash")  # last, as in the stored form
        return data

    def seal(self, previous: str) -> Transaction:
        """This transaction with its hash linked to ``previous``, its stored form built once."""
        content = self.content()
        digest = chain_hash(previous, content)
        content["hash"] = digest
        return Transaction(
            self.id, self.kind, self.at, self.request, self.rates, self.postings, self.details, self.after,
            digest, self.state, content,
        )  # fmt: skip

    @classmethod
    def sealed(
        cls, id: str, kind: str, at: str, request: dict[str, Any], rates: dict[str, Any], postings: tuple[Posting, ...],
        details: dict[str, Any], after: dict[str, Any], previous: str, state: dict[str, Any] | None = None,
    ) -> Transaction:  # fmt: skip
        """A new transaction, hashed and linked to ``previous``, from dicts it takes over (the caller drops them).

        The same result as building it and calling seal(), without copying each
        part into the stored form first: this runs once per op of a bulk apply.
        """
        content = {
            "id": id,
            "kind": kind,
            "at": at,
            "request": request,
            "rates": rates,
            "postings": [
                {"account": a, "commodity": c, "amount": m if isinstance(m, int) else decimal_str(m)} for a, c, m in postings
            ],
            "details": details,
            "after": after,
        }
        if state is not None:
            content["state"] = state
        digest = chain_hash(previous, content)
        content["hash"] = digest
        return cls(id, kind, at, request, rates, postings, details, after, digest, state, content)


def chain_hash(previous: str, content: Mapping[str, Any]) -> str:
    """Hash of a transaction's content linked to the one before it."""
    encode, sha256 = _HASHING or _hashing()
    digest: str = sha256(f"{previous}\n{encode(content)}".encode()).hexdigest()
    return digest


# The canonical encoder and sha256, made on first use: writers and checks only, reads never hash.
_HASHING: tuple[Any, Any] | None = None


def _hashing() -> tuple[Any, Any]:
    """The canonical encoder (coinpurse.speedups.jsontext) and sha256."""
    global _HASHING
    import hashlib

    from coinpurse.speedups.jsontext import canonical_json

    _HASHING = (canonical_json, hashlib.sha256)
    return _HASHING


def sums_by_commodity(postings: Iterable[Posting]) -> dict[str, Amount]:
    totals: dict[str, Amount] = {}
    for p in postings:
        totals[p.commodity] = totals.get(p.commodity, 0) + p.amount
    return totals


def is_balanced(postings: Iterable[Posting]) -> bool:
    totals: dict[str, Amount] = {}
    for _, commodity, amount in postings:
        totals[commodity] = totals.get(commodity, 0) + amount
    return not any(totals.values())


# Reading stored records back. Anything malformed is a DamagedRecord, which the
# storage layer reports as an unusable ledger naming the file.


class DamagedRecord(ValueError):
    pass


def _expect(data: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if (isinstance(data, bool) and kind is not bool) or not isinstance(data, kind):
        raise DamagedRecord(f"{what} has the wrong type ({type(data).__name__})")
    return data


def _int(data: Any, what: str) -> int:
    value = _expect(data, int, what)
    if abs(value) >= 10**15:
        raise DamagedRecord(f"{what} is out of range")
    return int(value)


def _dec(data: Any, what: str) -> Decimal:
    text = _expect(data, str, what)
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise DamagedRecord(f"{what} is not a decimal: {text!r}") from None
    if not value.is_finite() or abs(value) >= 10**15:
        raise DamagedRecord(f"{what} is out of range: {text!r}")
    return value


_UNITS_LIMIT = 10**15


def _plain_posting(data: Any) -> Posting | None:
    """The common case, checked in a few steps (every stored transaction read has several postings); None otherwise."""
    if data.__class__ is dict and len(data) == 3:
        account, commodity, amount = data.get("account"), data.get("commodity"), data.get("amount")
        if account.__class__ is str and commodity.__class__ is str:
            if commodity in (COIN, DIAMOND):
                if amount.__class__ is int and -_UNITS_LIMIT < amount < _UNITS_LIMIT:
                    return Posting(account, commodity, amount)
            elif amount.__class__ is str:
                try:
                    value = Decimal(amount)
                except ArithmeticError:
                    return None
                if value.is_finite() and abs(value) < _UNITS_LIMIT:
                    return Posting(account, commodity, value)
    return None


def posting_from_dict(data: Any, what: str) -> Posting:
    plain = _plain_posting(data)
    if plain is not None:
        return plain
    _expect(data, dict, what)
    if set(data) != {"account", "commodity", "amount"}:
        raise DamagedRecord(f"{what} must have exactly account, commodity and amount")
    commodity = _expect(data["commodity"], str, f"{what}.commodity")
    amount: Amount
    if commodity in (COIN, DIAMOND):
        amount = _int(data["amount"], f"{what}.amount")
    else:
        amount = _dec(data["amount"], f"{what}.amount")
    return Posting(_expect(data["account"], str, f"{what}.account"), commodity, amount)


_TX_KEYS = {"id", "kind", "at", "request", "rates", "postings", "details", "after", "hash"}
_TX_KEYS_WITH_STATE = _TX_KEYS | {"state"}  # transactions recorded before states were have no "state"


def transaction_from_dict(data: Any, what: str = "transaction") -> Transaction:
    _expect(data, dict, what)
    keys = data.keys()
    if keys != _TX_KEYS_WITH_STATE and keys != _TX_KEYS:
        expected = _TX_KEYS_WITH_STATE if "state" in keys else _TX_KEYS
        odd = sorted(set(keys) ^ expected)[0]
        raise DamagedRecord(f"{what}: {'unknown' if odd in keys else 'missing'} key {odd!r}")
    from coinpurse.core.shapes import shape_problem

    tx_id, kind, at, request, rates, postings, details, after, tx_hash = _TX_PARTS(data)
    state = data.get("state")
    if (
        tx_id.__class__ is str and kind.__class__ is str and at.__class__ is str and tx_hash.__class__ is str
        and request.__class__ is dict and rates.__class__ is dict and details.__class__ is dict
        and after.__class__ is dict and postings.__class__ is list
    ):  # fmt: skip
        # The common case, without naming each part up front (names are only for what is wrong).
        tx = Transaction(
            tx_id, kind, at, request, rates,
            tuple(_plain_posting(p) or posting_from_dict(p, f"{what}.postings[{i}]") for i, p in enumerate(postings)),
            details, after, tx_hash, state,
        )  # fmt: skip
    else:
        tx = _checked_transaction(data, what)
    # Readers use the request, rates, details and balances-after by key: check their shape once here.
    problem = shape_problem(tx.kind, tx.id, tx.at, tx.hash, data)
    if problem is not None:
        raise DamagedRecord(f"{what} ({tx.id!r}): {problem}")
    return tx


_TX_PARTS = itemgetter("id", "kind", "at", "request", "rates", "postings", "details", "after", "hash")


def _checked_transaction(data: dict[str, Any], what: str) -> Transaction:
    tx_id = _expect(data["id"], str, f"{what}.id")
    postings = _expect(data["postings"], list, f"{what}.postings")
    return Transaction(
        id=tx_id,
        kind=_expect(data["kind"], str, f"{what}.kind"),
        at=_expect(data["at"], str, f"{what}.at"),
        request=_expect(data["request"], dict, f"{what}.request"),
        rates=_expect(data["rates"], dict, f"{what}.rates"),
        postings=tuple(posting_from_dict(p, f"{what}.postings[{i}]") for i, p in enumerate(postings)),
        details=_expect(data["details"], dict, f"{what}.details"),
        after=_expect(data["after"], dict, f"{what}.after"),
        hash=_expect(data["hash"], str, f"{what}.hash"),
        state=data.get("state"),
    )


def account_from_dict(data: Any, what: str) -> AccountState:
    _expect(data, dict, what)
    unknown = set(data) - {"coins", "diamonds", "cash", "lots", "payouts"}
    if unknown:
        raise DamagedRecord(f"{what}: unknown key {sorted(unknown)[0]!r}")
    for key in ("coins", "diamonds", "cash"):
        if key not in data:
            raise DamagedRecord(f"{what}: missing key {key!r}")
    lots = []
    for i, raw in enumerate(_expect(data.get("lots", []), list, f"{what}.lots")):
        _expect(raw, list, f"{what}.lots[{i}]")
        if len(raw) != 3:
            raise DamagedRecord(f"{what}.lots[{i}] must be [source, coins, cost]")
        lots.append(
            Lot(
                _expect(raw[0], str, f"{what}.lots[{i}][0]"),
                _int(raw[1], f"{what}.lots[{i}][1]"),
                _dec(raw[2], f"{what}.lots[{i}][2]"),
            )
        )
    payout_day, paid = "", ZERO
    if "payouts" in data:
        payouts = _expect(data["payouts"], dict, f"{what}.payouts")
        if set(payouts) != {"day", "total"}:
            raise DamagedRecord(f"{what}.payouts must have day and total")
        payout_day = _expect(payouts["day"], str, f"{what}.payouts.day")
        paid = _dec(payouts["total"], f"{what}.payouts.total")
    return AccountState(
        coins=_int(data["coins"], f"{what}.coins"),
        diamonds=_int(data["diamonds"], f"{what}.diamonds"),
        cash=_dec(data["cash"], f"{what}.cash"),
        lots=tuple(lots),
        payout_day=payout_day,
        paid_that_day=paid,
    )
