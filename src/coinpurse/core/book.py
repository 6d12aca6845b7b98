"""The book: what the rules need to read from a ledger, and how a change is recorded.

``Book`` is the interface the storage back ends implement. ``MemoryBook`` keeps
everything in memory (the JSON and TOML files load into one); the SQLite store
answers the same questions with queries, so no operation walks the history.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Container, Iterable, Iterator, Mapping
from itertools import islice
from typing import TYPE_CHECKING, Any, NamedTuple

from coinpurse.core.chain import HISTORY_TRUSTED
from coinpurse.core.model import (
    GENESIS_HASH,
    AccountState,
    BalanceAfter,
    DamagedRecord,
    Transaction,
    transaction_from_dict,
)
from coinpurse.core.money import ZERO
from coinpurse.core.names import is_platform_account, is_user_account
from coinpurse.core.rates import Rates

if TYPE_CHECKING:
    from decimal import Decimal

    from coinpurse.core.chain import AccountTree, HeadGuard


class Head(NamedTuple):  # a NamedTuple: cheaper to define at startup than a dataclass
    length: int = 0  # how many transactions
    at: str = ""
    hash: str = GENESIS_HASH


class Book(ABC):
    currency: str
    rates: Rates
    history_check = HISTORY_TRUSTED  # how much of the stored history a write checks first (see core.chain)
    tree_from_stored_accounts = False  # the account tree is made from every stored account (not kept beside them)
    guard: HeadGuard | None = None  # during a write: checks each stored account before the rules read it

    @abstractmethod
    def account(self, name: str) -> AccountState:
        """The account's state; a fresh zero state if it was never seen.

        During a write (after ``begin_write``) the stored state is first checked
        against the one the chain last recorded for it.
        """

    @abstractmethod
    def stored_account(self, name: str) -> AccountState | None:
        """The account's state as stored, unchecked; None if none is stored."""

    @abstractmethod
    def transaction_at(self, position: int) -> Transaction:
        """The transaction at ``position``, counted from 1."""

    @abstractmethod
    def last_state_record(self, name: str, within: int) -> int | None:
        """The position of the last of the first ``within`` transactions whose ``state`` records the account."""

    def begin_write(self) -> None:
        """Before a write's first change: check the history and head as core.chain says (once per book)."""
        if self.guard is None:
            from coinpurse.core.chain import begin_write

            self.guard = begin_write(self)

    _tree: AccountTree | None = None

    def account_tree(self) -> AccountTree:
        """Every account's state digest as the store keeps it, and their root (see core.chain); made once per book."""
        if self._tree is None:
            self._tree = self.stored_account_tree()
        return self._tree

    @abstractmethod
    def stored_account_tree(self) -> AccountTree: ...

    def new_account_tree(self) -> AccountTree:
        """An empty tree in place of the stored one, for a checkpoint to record every account into."""
        from coinpurse.core.chain import AccountTree

        self._tree = AccountTree.of({})
        return self._tree

    def trust(self, states: Mapping[str, AccountState]) -> None:
        """States this write made itself: the chain records them, so they need no check."""
        if self.guard is not None:
            self.guard.trusted.update(states)

    @abstractmethod
    def has_account(self, name: str) -> bool: ...

    @abstractmethod
    def user_accounts(self) -> list[str]:
        """Every user handle, sorted."""

    @abstractmethod
    def platform_accounts(self) -> dict[str, AccountState]: ...

    @abstractmethod
    def all_accounts(self) -> dict[str, AccountState]:
        """Every stored account state, users' and the platform's, by name."""

    @abstractmethod
    def find(self, tx_id: str) -> Transaction | None: ...

    def stored_balances(self) -> dict[str, AccountState]:
        """Every stored account's coins, diamonds and cash by name; a store may leave out the lots and payouts."""
        return self.all_accounts()

    def coin_costs(self) -> dict[str, Decimal]:
        """What each stored account's unspent coins cost (its lots' costs summed), by name; those without lots may be
        left out. A store may sum them without making the lots (``balance`` shows the sum, not the lots)."""
        return {name: sum((lot.cost for lot in state.lots), ZERO) for name, state in self.all_accounts().items()}

    @abstractmethod
    def iter_transactions(self) -> Iterator[Transaction]:
        """The whole history, oldest first (only checks and exports walk it)."""

    @abstractmethod
    def head(self) -> Head: ...

    @abstractmethod
    def transactions(
        self, account: str | None = None, kind: str | None = None, limit: int | None = None
    ) -> list[Transaction]:
        """Matching transactions, oldest first; with ``limit`` the newest that many."""

    @abstractmethod
    def append(self, tx: Transaction, states: Mapping[str, AccountState], rates: Rates | None = None) -> None:
        """Record a transaction, the accounts' new states and, for a rates change, the new rates."""

    def clock_now(self, local: str) -> str:
        """The time a write made now is stamped with, given the local clock's (or COINPURSE_NOW's): that one,
        unless the store keeps a clock of its own (a database server's)."""
        return local

    def next_auto_id(self) -> str:
        number = self.head().length + 1
        while self.find(f"tx-{number}") is not None:
            number += 1
        return f"tx-{number}"

    def derived_data_problems(self, start: int = 0) -> Iterator[tuple[str, str, int | None]]:
        """(code, message, position) for what the store derives from the stored transactions but disagrees
        with them (SQLite's columns and indexes), for ``verify``; a store that derives nothing has none."""
        return iter(())

    def account_tree_problems(self) -> Iterator[tuple[str, str, int | None]]:
        """The same, for the tree of account digests a store keeps beside the accounts (see core.chain)."""
        return iter(())

    # The past: times never go backwards along the history, so a moment is a position found by halving.

    def time_at(self, position: int) -> str:
        """The stored time of the transaction at ``position`` (from 1)."""
        return self.transaction_at(position).at

    def count_until(self, moment: str, *, inclusive: bool = True) -> int:
        """How many transactions are stamped at or before ``moment`` (before it, without ``inclusive``)."""
        low, high = 0, self.head().length
        while low < high:
            middle = (low + high + 1) // 2
            stamped = self.time_at(middle)
            if stamped < moment or (inclusive and stamped == moment):
                low = middle
            else:
                high = middle - 1
        return low

    def balance_within(self, name: str, within: int) -> BalanceAfter | None:
        """The account's coins and diamonds after the last of the first ``within`` transactions that gives them."""
        for position in self.positions_touching(name, within):
            found = self.transaction_at(position).balance_after(name)
            if found is not None:
                return found
        return None

    # The same by time, for a store that can find a moment without counting positions (a JSON file
    # read from its end): a statement, a balance at a moment. ``moment`` None is after the newest.

    def stamped_within(self, since: str | None, until: str | None, account: str | None = None) -> list[Transaction]:
        """The transactions stamped from ``since`` to ``until`` (inclusive; None: open), oldest first,
        those touching ``account`` when given."""
        low = 1 if since is None else self.count_until(since, inclusive=False) + 1
        high = self.head().length if until is None else self.count_until(until)
        return self.transactions_within(low, high, account) if low <= high else []

    def last_stamped(self, moment: str | None, inclusive: bool = True) -> Transaction | None:
        """The last transaction stamped at or before ``moment`` (before it, without ``inclusive``)."""
        within = self.head().length if moment is None else self.count_until(moment, inclusive=inclusive)
        return self.transaction_at(within) if within else None

    def balance_stamped(
        self, name: str, moment: str | None, inclusive: bool = True
    ) -> tuple[Transaction | None, BalanceAfter | None]:
        """The last transaction stamped at or before ``moment`` (before it, without ``inclusive``), and the
        account's coins and diamonds after the last of those that gives them (None: none does)."""
        within = self.head().length if moment is None else self.count_until(moment, inclusive=inclusive)
        if not within:
            return None, None
        return self.transaction_at(within), self.balance_within(name, within)

    def stream_stamped(
        self, stream: str, since: str | None, until: str | None, account: str | None = None
    ) -> list[Transaction]:
        """As ``stream_within``, of the transactions stamped from ``since`` to ``until`` (inclusive; None: open)."""
        low = 1 if since is None else self.count_until(since, inclusive=False) + 1
        high = self.head().length if until is None else self.count_until(until)
        return self.stream_within(stream, low, high, account) if low <= high else []

    def stamped_tail(self, since: str) -> list[Transaction] | None:
        """The transactions stamped at or after ``since`` to the newest, each checked whole: for a store that
        reads them from its end without counting positions (a JSON file); None for the others."""
        return None

    def positions_touching(self, name: str, within: int) -> Iterable[int]:
        """Newest first, the positions up to ``within`` that may give the account a balance after (a store
        with an index of the accounts each transaction touches names only those)."""
        return range(within, 0, -1)

    def transactions_within(
        self, low: int, high: int, account: str | None = None, kind: str | None = None, limit: int | None = None
    ) -> list[Transaction]:
        """As ``transactions``, of the transactions at positions ``low`` to ``high`` (inclusive) only."""
        found: list[Transaction] = []
        for position in range(high, low - 1, -1):
            if limit is not None and len(found) >= limit:
                break
            tx = self.transaction_at(position)
            if (kind is None or tx.kind == kind) and (account is None or _touches(tx, account)):
                found.append(tx)
        return found[::-1]

    def records_from(self, since: str | None = None) -> Iterator[tuple[int, Any]]:
        """(position, record) of each transaction stamped at or after ``since`` (all without it), oldest first,
        read one at a time where the store allows and kept by no one: a report's pass holds only its totals.

        A record is its stored form (a dict with its ``hash``, unchecked: the reader checks the parts it reads)
        or a ``Transaction``.
        """
        low = 1 if since is None else self.count_until(since, inclusive=False) + 1
        for position in range(low, self.head().length + 1):
            yield position, self.transaction_at(position)

    def stream_within(
        self,
        stream: str,
        low: int = 1,
        high: int | None = None,
        account: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
    ) -> list[Transaction]:
        """As ``transactions_within``, of one live stream's transactions: the gifts tagged ``stream`` and the
        reversals of such gifts (a reversal undoes one gift, so it belongs to that gift's stream). A refund
        undoes a purchase, whose coins may have gone to any stream or none: it belongs to no stream.
        ``high`` None is the newest."""
        if kind not in (None, "gift", "reversal"):
            return []
        if high is None:
            high = self.head().length
        found: list[Transaction] = []
        for position in range(high, low - 1, -1):
            if limit is not None and len(found) >= limit:
                break
            tx = self.transaction_at(position)
            if (
                (kind is None or tx.kind == kind)
                and self._of_stream(tx, stream)
                and (account is None or _touches(tx, account))
            ):
                found.append(tx)
        return found[::-1]

    def _of_stream(self, tx: Transaction, stream: str) -> bool:
        if tx.kind == "gift":
            return tx.details.get("stream") == stream
        if tx.kind == "reversal":
            original = tx.details.get("original")
            gift = self.find(original) if isinstance(original, str) else None
            return gift is not None and gift.kind == "gift" and gift.details.get("stream") == stream
        return False

    # What ``verify`` reads: one pass over the history, in constant memory where the store allows.

    def iter_accounts(self) -> Iterator[tuple[str, AccountState]]:
        """Every stored account in name order, read one at a time where the store allows."""
        return iter(self.all_accounts().items())

    def account_count(self) -> int:
        return len(self.all_accounts())

    ids_unique_in_store = False  # the store itself refuses a second transaction with an id (SQLite's index)

    def verify_records(self, start: int = 0) -> Iterator[tuple[int, Any, Any]]:
        """The history after its first ``start`` transactions, oldest first, read one at a time.

        Each is ``(number, record, hash)``: the number that names it in messages, and
        either its stored form without the hash (a dict, not yet checked: ``verify``
        reads it) with the stored hash (``MISSING`` when there is none), or a
        ``Transaction`` (its hash is its own). A record that can't be read at all is a
        ``DamagedRecord``, which ends the history. A store that derives data from the
        stored transactions checks it on the way and reports it through
        ``derived_data_problems(start)``.
        """
        for position, tx in enumerate(islice(self.iter_transactions(), start, None), start=start + 1):
            yield position, tx, tx.hash

    def history_count(self) -> int:
        """How many transactions there are, read cheaply (for a progress bar)."""
        return self.head().length

    def first_of_kind(self, kind: str, after: int = 0) -> tuple[int, Transaction] | None:
        """The first transaction of ``kind`` after the first ``after``, with its position; None when none can be read."""
        try:
            for position, (number, record, tx_hash) in enumerate(self.verify_records(after), start=after + 1):
                tx = record_transaction(number, record, tx_hash)
                if tx.kind == kind:
                    return position, tx
        except DamagedRecord:
            pass
        return None

    def position_of_hash(self, tx_hash: str) -> int | None:
        """The position of the transaction stored with this hash (the newest such), read from the newest back."""
        for position in range(self.head().length, 0, -1):
            if self.transaction_at(position).hash == tx_hash:
                return position
        return None

    def hash_at(self, position: int) -> str:
        """The hash stored with the transaction at ``position``."""
        return self.transaction_at(position).hash

    def history_backwards(self, start: int) -> Iterator[Transaction]:
        """The transactions after the first ``start``, newest first."""
        for position in range(self.head().length, start, -1):
            yield self.transaction_at(position)

    def ids_within(self, position: int) -> Container[str]:
        """The ids of the first ``position`` transactions (only asked where the store does not keep them unique)."""
        return {tx.id for tx in islice(self.iter_transactions(), position)}

    def account_redeems(self, name: str, within: int) -> Iterator[Transaction]:
        """The redeems by ``name`` among the first ``within`` transactions, newest first (a store's index may answer)."""
        for position in range(within, 0, -1):
            tx = self.transaction_at(position)
            if tx.kind == "redeem" and tx.request.get("account") == name:
                yield tx


_SEARCHES_BEFORE_INDEX = 16


class MemoryBook(Book):
    """A whole ledger held in memory; stored transactions stay raw until asked for."""

    tree_from_stored_accounts = True

    def __init__(
        self,
        currency: str,
        rates: Rates,
        accounts: dict[str, AccountState],
        transactions: list[Any],
    ) -> None:
        self.currency = currency
        self.rates = rates
        self.accounts = accounts
        self.records: list[Any] = transactions  # raw dicts as read, or Transaction objects
        self._index: dict[str, int] | None = None
        self._head_cache: Head | None = None
        self._state_index: dict[str, int] | None = None  # account -> its last state record (see last_state_record)
        self._state_searches = 0

    def _id_index(self) -> dict[str, int]:
        if self._index is None:
            self._index = {}
            for position, record in enumerate(self.records):
                tx_id = record.id if isinstance(record, Transaction) else record.get("id")
                if isinstance(tx_id, str):
                    self._index.setdefault(tx_id, position)
        return self._index

    def record(self, position: int) -> Transaction:
        raw = self.records[position]
        if isinstance(raw, Transaction):
            return raw
        tx = transaction_from_dict(raw, f"transaction {position + 1}")
        self.records[position] = tx
        return tx

    def account(self, name: str) -> AccountState:
        guard = self.guard
        if guard is not None and name not in guard.trusted:
            guard.check(name)
        return self.accounts.get(name) or AccountState()

    def stored_account(self, name: str) -> AccountState | None:
        return self.accounts.get(name)

    def has_account(self, name: str) -> bool:
        return name in self.accounts

    def transaction_at(self, position: int) -> Transaction:
        return self.record(position - 1)

    def last_state_record(self, name: str, within: int) -> int | None:
        """A search from the newest back for the first few accounts; then one pass indexes them all.

        Most writes check a few accounts, recorded by recent transactions; a bulk
        apply may check thousands, new ones among them, which no search would find.
        """
        if self._state_index is None and self._state_searches < _SEARCHES_BEFORE_INDEX:
            self._state_searches += 1
            return self.search_state_record(name, within)
        if self._state_index is None:
            self._state_index = {}
            for index in range(within - 1, -1, -1):
                accounts = self.recorded_accounts(index)
                if accounts is None:
                    break  # recorded before states were: nothing older records one either
                for recorded in accounts:
                    self._state_index.setdefault(recorded, index + 1)
        return self._state_index.get(name)

    def search_state_record(self, name: str, within: int) -> int | None:
        for index in range(within - 1, -1, -1):
            accounts = self.recorded_accounts(index)
            if accounts is None:
                return None
            if name in accounts:
                return index + 1
        return None

    def recorded_accounts(self, index: int) -> Mapping[str, str] | None:
        """The accounts whose state the transaction at ``index`` records, with their digests; None before states were."""
        state = self.record(index).state
        return None if state is None else state.accounts

    def user_accounts(self) -> list[str]:
        return sorted(name for name in self.accounts if is_user_account(name))

    def stored_account_tree(self) -> AccountTree:
        from coinpurse.core.chain import AccountTree, state_digest

        return AccountTree.of({name: state_digest(state, seen_again=False) for name, state in self.accounts.items()})

    def platform_accounts(self) -> dict[str, AccountState]:
        return {name: state for name, state in sorted(self.accounts.items()) if is_platform_account(name)}

    def find(self, tx_id: str) -> Transaction | None:
        position = self._id_index().get(tx_id)
        return None if position is None else self.record(position)

    def head(self) -> Head:
        if self._head_cache is None:
            if not self.records:
                self._head_cache = Head()
            else:
                last = self.record(len(self.records) - 1)
                self._head_cache = Head(len(self.records), last.at, last.hash)
        return self._head_cache

    def all_accounts(self) -> dict[str, AccountState]:
        return dict(sorted(self.accounts.items()))

    def iter_transactions(self) -> Iterator[Transaction]:
        for position in range(len(self.records)):
            yield self.record(position)

    def iter_accounts(self) -> Iterator[tuple[str, AccountState]]:
        return iter(sorted(self.accounts.items()))

    def account_count(self) -> int:
        return len(self.accounts)

    def verify_records(self, start: int = 0) -> Iterator[tuple[int, Any, Any]]:
        for index in range(start, len(self.records)):
            record = self.records[index]
            if isinstance(record, dict):
                content = {key: value for key, value in record.items() if key != "hash"}
                yield index + 1, content, record.get("hash", MISSING)
            else:
                tx = self.record(index)
                yield index + 1, tx, tx.hash

    def records_from(self, since: str | None = None) -> Iterator[tuple[int, Any]]:
        """The records as held: dicts as read (none parsed for the pass, nor kept parsed), or transactions."""
        records = self.records
        low = 0 if since is None else self.count_until(since, inclusive=False)
        for index in range(low, len(records)):
            raw = records[index]
            yield index + 1, raw if isinstance(raw, (dict, Transaction)) else self.record(index)

    def account_redeems(self, name: str, within: int) -> Iterator[Transaction]:
        for index in range(within - 1, -1, -1):
            raw = self.records[index]
            if isinstance(raw, dict):  # only a redeem by the account is read
                request = raw.get("request")
                if raw.get("kind") != "redeem" or not isinstance(request, dict) or request.get("account") != name:
                    continue
            tx = self.record(index)
            if tx.kind == "redeem" and tx.request.get("account") == name:
                yield tx

    def ids_within(self, position: int) -> Container[str]:
        """Read from the stored records without parsing them (a damaged one among them is not looked at)."""
        found: set[str] = set()
        for record in self.records[:position]:
            tx_id = (
                record.id if isinstance(record, Transaction) else record.get("id") if isinstance(record, dict) else None
            )
            if isinstance(tx_id, str):
                found.add(tx_id)
        return found

    def transactions(
        self, account: str | None = None, kind: str | None = None, limit: int | None = None
    ) -> list[Transaction]:
        found = [
            tx
            for tx in self.iter_transactions()
            if (kind is None or tx.kind == kind) and (account is None or _touches(tx, account))
        ]
        return found[-limit:] if limit is not None else found

    def append(self, tx: Transaction, states: Mapping[str, AccountState], rates: Rates | None = None) -> None:
        self.records.append(tx)
        self._id_index()[tx.id] = len(self.records) - 1
        self._head_cache = Head(len(self.records), tx.at, tx.hash)
        self.accounts.update(states)
        if rates is not None:
            self.rates = rates


def touched_accounts(posted: Iterable[object], after: Iterable[object], recorded: Iterable[object]) -> set[str]:
    """The accounts a transaction shows up under in history: those it posts to, gives a balance
    after, or records the state of. A name that is not text (in a damaged record) counts for none."""
    return {name for names in (posted, after, recorded) for name in names if isinstance(name, str)}


def _touches(tx: Transaction, account: str) -> bool:
    """The transaction moves money through the account, or records its balance or state."""
    recorded = tx.state.accounts if tx.state is not None else ()
    return account in touched_accounts((p.account for p in tx.postings), (b.account for b in tx.after), recorded)


MISSING: Any = object()  # a stored record with no hash (see Book.verify_records)


def record_transaction(number: int, record: Any, tx_hash: Any) -> Transaction:
    """The transaction of a record from ``Book.verify_records``, checked; ``DamagedRecord`` says what is wrong."""
    if isinstance(record, Transaction):
        return record
    data = record if tx_hash is MISSING or not isinstance(record, dict) else {**record, "hash": tx_hash}
    return transaction_from_dict(data, f"transaction {number}")
