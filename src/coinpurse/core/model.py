"""Small immutable types: postings, transactions, lots and account states.

Each type converts to and from the plain dict stored in the ledger file, where
cash is a string and coins and diamonds are integers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from coinpurse.core.money import COIN, DIAMOND, MAX_UNITS, ZERO, decimal_str

if TYPE_CHECKING:
    from coinpurse.core.kinds import Record

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


class BalanceAfter(NamedTuple):
    """A user's coins and diamonds right after a transaction."""

    account: str
    coins: int
    diamonds: int


class RecordedState(NamedTuple):
    """What a transaction records it leaves behind (see core.chain): the digest of the rates in force,
    of each account it changed, and the root over every account's (None before roots were recorded)."""

    rates: str
    accounts: Mapping[str, str]  # read-only
    root: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"rates": self.rates, "accounts": dict(self.accounts)}
        if self.root is not None:
            data["root"] = self.root
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecordedState:
        """From a stored state whose shape was checked (core.shapes)."""
        return cls(data["rates"], MappingProxyType(data["accounts"]), data.get("root"))


@dataclass(frozen=True)
class Transaction:
    id: str
    kind: str
    at: str  # ISO 8601, UTC, seconds: 2026-03-01T12:00:00Z
    payload: Record  # its request, the rates it used and its details, typed by kind (see core.kinds)
    postings: tuple[Posting, ...]
    hash: str
    # What it leaves behind: digests of the rates in force and of each changed account's
    # stored state (see core.chain); None in transactions recorded before states were.
    state: RecordedState | None
    # The stored form: as sealed, or the record it was read from (checked, never changed).
    _stored: dict[str, Any] = field(compare=False, repr=False)
    _sealed: bool = field(default=False, compare=False, repr=False)

    @property
    def request(self) -> Mapping[str, Any]:
        """The stored request, read-only (the typed one is ``payload.request``)."""
        return MappingProxyType(self._stored["request"])

    @property
    def rates(self) -> Mapping[str, Any]:
        """The stored rates it was made at, read-only (typed: ``payload.rates``)."""
        return MappingProxyType(self._stored["rates"])

    @property
    def details(self) -> Mapping[str, Any]:
        """The stored details, read-only (typed: ``payload.details``)."""
        return MappingProxyType(self._stored["details"])

    @property
    def after(self) -> tuple[BalanceAfter, ...]:
        """Users' balances right after it, in name order as stored."""
        return tuple(
            BalanceAfter(name, entry["coins"], entry["diamonds"]) for name, entry in self._stored["after"].items()
        )

    def balance_after(self, name: str) -> BalanceAfter | None:
        entry = self._stored["after"].get(name)
        return None if entry is None else BalanceAfter(name, entry["coins"], entry["diamonds"])

    def content(self) -> dict[str, Any]:
        """Everything but the hash, as stored."""
        stored = self._stored
        if self._sealed:
            return {key: value for key, value in stored.items() if key != "hash"}
        content = {
            "id": self.id,
            "kind": self.kind,
            "at": self.at,
            "request": dict(stored["request"]),
            "rates": dict(stored["rates"]),
            "postings": [p.to_dict() for p in self.postings],
            "details": dict(stored["details"]),
            "after": dict(stored["after"]),
        }
        if self.state is not None:
            content["state"] = self.state.to_dict()
        return content

    def to_dict(self) -> dict[str, Any]:
        """The stored form (shared when sealed: read it, don't change it)."""
        if self._sealed:
            return self._stored
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

    @classmethod
    def sealed(
        cls, id: str, at: str, payload: Record, postings: tuple[Posting, ...], after: dict[str, Any], previous: str,
        state: RecordedState | None = None,
    ) -> Transaction:  # fmt: skip
        """A new transaction, hashed and linked to ``previous``, its stored form built once.

        ``after`` is taken over (the caller drops it); this runs once per op of a bulk apply.
        """
        request, rates, details = payload.to_dicts()
        content = {
            "id": id,
            "kind": payload.kind,
            "at": at,
            "request": request,
            "rates": rates,
            "postings": [
                {"account": a, "commodity": c, "amount": m if isinstance(m, int) else decimal_str(m)}
                for a, c, m in postings
            ],
            "details": details,
            "after": after,
        }
        if state is not None:
            content["state"] = state.to_dict()
        digest = chain_hash(previous, content)
        content["hash"] = digest
        return cls(id, payload.kind, at, payload, postings, digest, state, content, True)


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
    if abs(value) >= MAX_UNITS:
        raise DamagedRecord(f"{what} is out of range")
    return int(value)


def _dec(data: Any, what: str) -> Decimal:
    text = _expect(data, str, what)
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise DamagedRecord(f"{what} is not a decimal: {text!r}") from None
    if not value.is_finite() or abs(value) >= MAX_UNITS:
        raise DamagedRecord(f"{what} is out of range: {text!r}")
    return value


def _plain_posting(data: Any) -> Posting | None:
    """The common case, checked in a few steps (every stored transaction read has several postings); None otherwise."""
    if data.__class__ is dict and len(data) == 3:
        account, commodity, amount = data.get("account"), data.get("commodity"), data.get("amount")
        if account.__class__ is str and commodity.__class__ is str:
            if commodity in (COIN, DIAMOND):
                if amount.__class__ is int and -MAX_UNITS < amount < MAX_UNITS:
                    return Posting(account, commodity, amount)
            elif amount.__class__ is str:
                try:
                    value = Decimal(amount)
                except ArithmeticError:
                    return None
                if value.is_finite() and abs(value) < MAX_UNITS:
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
    """A stored transaction, every part checked once here; ``DamagedRecord`` says what is wrong."""
    _expect(data, dict, what)
    keys = data.keys()
    if keys != _TX_KEYS_WITH_STATE and keys != _TX_KEYS:
        expected = _TX_KEYS_WITH_STATE if "state" in keys else _TX_KEYS
        odd = sorted(set(keys) ^ expected)[0]
        raise DamagedRecord(f"{what}: {'unknown' if odd in keys else 'missing'} key {odd!r}")
    from coinpurse.core.kinds import WrongPart, record_from_dicts
    from coinpurse.core.shapes import record_problem

    tx_id, kind, at, request, rates, postings, details, after, tx_hash = _TX_PARTS(data)
    if not (tx_id.__class__ is str and kind.__class__ is str and at.__class__ is str and tx_hash.__class__ is str):
        for key in ("id", "kind", "at", "hash"):
            _expect(data[key], str, f"{what}.{key}")
    if postings.__class__ is not list:
        _expect(postings, list, f"{what}.postings")
    if after.__class__ is not dict:
        _expect(after, dict, f"{what}.after")
    state = data.get("state")
    problem = record_problem(tx_id, at, tx_hash, after, data)
    if problem is not None:
        raise DamagedRecord(f"{what} ({tx_id!r}): {problem}")
    try:
        payload = record_from_dicts(kind, request, rates, details)
    except WrongPart as wrong:
        value = data[wrong.part]
        if value.__class__ is not dict:
            _expect(value, dict, f"{what}.{wrong.part}")
        raise DamagedRecord(f"{what} ({tx_id!r}): {wrong.part} is not what a {kind} records") from None
    return Transaction(
        tx_id, kind, at, payload,
        tuple(_plain_posting(p) or posting_from_dict(p, f"{what}.postings[{i}]") for i, p in enumerate(postings)),
        tx_hash, None if state is None else RecordedState.from_dict(state), data,
    )  # fmt: skip


_TX_PARTS = itemgetter("id", "kind", "at", "request", "rates", "postings", "details", "after", "hash")


def _plain_lots(raw: Any) -> tuple[Lot, ...] | None:
    """A stored account's lots in the common case, checked column by column in C (a ledger holds
    hundreds of thousands); None otherwise, and the caller says what is wrong."""
    if raw.__class__ is not list:
        return None
    if not raw:
        return ()
    if {lot.__class__ for lot in raw} != {list} or set(map(len, raw)) != {3}:
        return None
    sources, coins, costs = zip(*raw, strict=True)
    if set(map(type, sources)) != {str} or set(map(type, coins)) != {int} or set(map(type, costs)) != {str}:
        return None
    try:
        values = list(map(Decimal, costs))
        if max(map(abs, values)) >= MAX_UNITS:  # an infinity too; a NaN does not compare
            return None
    except ArithmeticError:
        return None
    if max(map(abs, coins)) >= MAX_UNITS:
        return None
    return tuple(map(tuple.__new__, repeat(Lot), zip(sources, coins, values, strict=True)))  # Lot._make, in C


def balance_state(name: str, coins: Any, diamonds: Any, cash: Any) -> AccountState:
    """An account's coins, diamonds and cash without its lots or payouts, checked as ``account_from_dict``
    checks them, in a few steps for the common case (a read of every account's balance makes thousands)."""
    plain = coins.__class__ is int and diamonds.__class__ is int and cash.__class__ is str
    if plain and -MAX_UNITS < coins < MAX_UNITS and -MAX_UNITS < diamonds < MAX_UNITS:
        try:
            value = Decimal(cash)
        except ArithmeticError:
            value = None
        if value is not None and value.is_finite() and abs(value) < MAX_UNITS:
            return AccountState(coins, diamonds, value)
    return account_from_dict({"coins": coins, "diamonds": diamonds, "cash": cash}, f"account {name!r}")


def cost_of_lot(text: Any, what: str) -> Decimal:
    """A lot's stored cost, checked as ``account_from_dict`` checks it; for a read that makes no Lot."""
    return _dec(text, f"{what}: a lot's cost")


def account_from_dict(data: Any, what: str) -> AccountState:
    _expect(data, dict, what)
    unknown = set(data) - {"coins", "diamonds", "cash", "lots", "payouts"}
    if unknown:
        raise DamagedRecord(f"{what}: unknown key {sorted(unknown)[0]!r}")
    for key in ("coins", "diamonds", "cash"):
        if key not in data:
            raise DamagedRecord(f"{what}: missing key {key!r}")
    lots = _plain_lots(data.get("lots", []))
    if lots is None:  # say what is wrong
        checked = []
        for i, raw in enumerate(_expect(data.get("lots", []), list, f"{what}.lots")):
            _expect(raw, list, f"{what}.lots[{i}]")
            if len(raw) != 3:
                raise DamagedRecord(f"{what}.lots[{i}] must be [source, coins, cost]")
            checked.append(
                Lot(
                    _expect(raw[0], str, f"{what}.lots[{i}][0]"),
                    _int(raw[1], f"{what}.lots[{i}][1]"),
                    _dec(raw[2], f"{what}.lots[{i}][2]"),
                )
            )
        lots = tuple(checked)
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
        lots=lots,
        payout_day=payout_day,
        paid_that_day=paid,
    )
