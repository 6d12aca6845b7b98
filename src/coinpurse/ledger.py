"""The library: a handle on one ledger, with a method for every operation.

    from coinpurse import Ledger

    with Ledger.open("ledger.json") as ledger:
        ledger.buy("alice", 700)
        ledger.gift("alice", "mia", "Rose", count=5)
        print(ledger.balance("mia").to_dict())

The handle holds no lock and no open file: each method locks (if it writes),
reads one consistent snapshot, and lets go, so two handles on one path (or two
programs) can both write. ``batch()`` runs many operations under one lock with
one load and one save, all or nothing, as ``apply`` does. ``Ledger.memory()``
is a ledger held in memory, built quickly and written once with ``save_as``.

Every method returns one kind of result whose ``to_dict()`` is the documented
JSON shape. Storage and the rules load inside the methods, so importing this
module stays cheap.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from coinpurse.errors import BadInput, CoinpurseError, LedgerUnusable, Refused
from coinpurse.results import (
    AccountBalance,
    Balances,
    Conversion,
    Gifter,
    Gifters,
    History,
    LedgerInfo,
    OperationResult,
    RatesView,
    ReversalResult,
    Sponsors,
)

if TYPE_CHECKING:
    from coinpurse.results import PayoutExpiry, PayoutList
from coinpurse.speedups.collector import CollectorPaused

if TYPE_CHECKING:
    from decimal import Decimal

    from coinpurse.core import requests as rq
    from coinpurse.core.book import Book, MemoryBook
    from coinpurse.core.model import AccountState
    from coinpurse.core.rates_edit import RatesChange
    from coinpurse.core.scenario import Op, OpFailed, Progress
    from coinpurse.core.statement import Statement
    from coinpurse.core.verify import VerifyReport
    from coinpurse.reports import ApplyReport, DemoResult, ExportResult, InitResult, RatesChangeResult, RatesExport
    from coinpurse.results import BalancesAt, Explained
    from coinpurse.results import Report as PlatformReportResult

EXPORT_FORMATS_BY_SUFFIX = ("csv", "json")  # any other output suffix (or none) exports a journal
MEMORY = Path(":memory:")  # what a ledger held in memory is called in results

PathLike = str | os.PathLike[str]
RateSets = Mapping[str, object] | Sequence[tuple[str, object]]  # rate keys and values (see rates_set)


class Ledger:
    """One ledger: a JSON, TOML or SQLite file (by suffix), a PostgreSQL database (by URL), or one held in memory."""

    def __init__(self, path: PathLike) -> None:
        from coinpurse.storage.urls import ledger_path

        self.path: Path = ledger_path(path)
        self._memory: MemoryBook | None = None

    @classmethod
    def open(cls, path: PathLike) -> Ledger:
        """A handle on the ledger at ``path``; nothing is read or created until a method needs it."""
        return cls(path)

    @classmethod
    def memory(cls) -> Ledger:
        """A new, empty ledger in memory (default rates, no history); ``save_as`` writes it to a file."""
        from coinpurse.storage.document import new_book

        ledger = cls(MEMORY)
        ledger._memory = new_book()
        return ledger

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None  # nothing is held between calls

    def __repr__(self) -> str:
        return "Ledger.memory()" if self._memory is not None else f"Ledger.open({str(self.path)!r})"

    # How every method reaches the book.

    @contextmanager
    def _reading(self) -> Iterator[Book]:
        if self._memory is not None:
            yield self._memory
            return
        from coinpurse.storage import reading

        with reading(self.path) as book:
            yield book

    @contextmanager
    def _writing(self, *, dry_run: bool = False, all_or_nothing: bool = False) -> Iterator[Book]:
        """The book under the lock, saved when the block ends without error.

        A file is saved only then anyway. In memory, one operation changes nothing
        when refused, but several (``all_or_nothing``) work on a copy kept only on success.
        """
        book = self._memory
        if book is None:
            from coinpurse.storage import write_book

            with write_book(self.path, dry_run=dry_run) as stored:
                yield stored
            return
        if not (dry_run or all_or_nothing):
            yield book
            return
        from coinpurse.core.book import MemoryBook

        copy = MemoryBook(book.currency, book.rates, dict(book.accounts), list(book.records))
        yield copy
        if not dry_run:
            self._memory = copy

    # Writes

    def buy(
        self, account: str, coins: object, channel: str = "app", id: str | None = None, now: str | None = None
    ) -> OperationResult:
        from coinpurse.core import requests as rq

        return self._record(rq.Buy.make(account, coins, channel, id), now)

    def gift(
        self,
        sender: str,
        recipient: str,
        gift_name: str,
        count: object = 1,
        stream: str | None = None,
        id: str | None = None,
        now: str | None = None,
        *,
        new_account: bool = False,
    ) -> OperationResult:
        """``new_account``: the sender or recipient is meant to be new, even one typo from an account (core.new_accounts)."""
        from coinpurse.core import requests as rq

        return self._record(rq.Gift.make(sender, recipient, gift_name, count, stream, id, new_account), now)

    def redeem(
        self,
        account: str,
        diamonds: object = None,
        all: bool = False,
        id: str | None = None,
        now: str | None = None,
        *,
        new_account: bool = False,
        hold: bool = False,
    ) -> OperationResult:
        """``hold``: reserve the diamonds as a pending payout (approved, rejected or expired later) instead."""

        return self._record(_redeem_request(account, diamonds, all, id, new_account, hold), now)

    def reverse(
        self, tx_id: str, reason: str, id: str | None = None, now: str | None = None, *, dry_run: bool = False
    ) -> ReversalResult:
        """Undo a gift, as an operator's correction: the coins back into the sender's lots, the diamonds back.

        Only gifts are reversed (a buy is refunded; a redeem is final). ``dry_run`` shows the
        receipt and writes nothing.
        """
        from coinpurse.core import clock
        from coinpurse.core import requests as rq
        from coinpurse.results import ReversalResult

        request = rq.Reverse.make(tx_id, reason, id)
        with self._writing(dry_run=dry_run) as book:
            return ReversalResult(_recorded(book, request, _stamp(book, now, clock.now())), dry_run)

    def _record(self, request: rq.Request, now: str | None) -> OperationResult:
        from coinpurse.core import clock  # the rules load only for writes, so reads start faster

        moment = now or clock.now()
        for attempt in range(1, _WRITE_ATTEMPTS + 1):
            try:
                with self._writing() as book:
                    return _recorded(book, request, _stamp(book, now, moment))
            except LedgerUnusable as error:  # a database's serialization failure or deadlock: nothing was written
                if error.code != "serialization_failure" or attempt == _WRITE_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    def rates_set(
        self, sets: RateSets, removes: Sequence[str] = (), id: str | None = None, now: str | None = None
    ) -> RatesChangeResult:
        """Set and remove rate keys (``gift.Rose.coins``, ``payout.minimum`` ...) in one recorded change.

        ``sets`` is a mapping of keys to values, or (key, value) pairs; a key given twice is refused.
        """
        from coinpurse.core.rates_edit import RatesChange

        return self._change(RatesChange.make(sets, list(removes), id), now)

    def rates_import(
        self, file: PathLike, id: str | None = None, now: str | None = None, format: str | None = None
    ) -> RatesChangeResult:
        """Replace the rates in force with a TOML or JSON file's (``-``: stdin), recorded as one change.

        ``format`` (``json`` or ``toml``) overrides the file's suffix; stdin without it is sniffed.
        """
        from coinpurse.core.rates_edit import RatesChange
        from coinpurse.input_files import input_path, read_rates_file

        return self._change(RatesChange.replace_all(read_rates_file(input_path(file), format), "import", id), now)

    def _change(self, change: RatesChange, now: str | None) -> RatesChangeResult:
        from coinpurse.core import clock
        from coinpurse.core.scenario import change_rates
        from coinpurse.reports import RatesChangeResult

        with self._writing() as book:
            return RatesChangeResult(change_rates(book, change, _stamp(book, now, clock.now())))

    def init(self, rates_file: PathLike | None = None, now: str | None = None) -> InitResult:
        """Start a new ledger with the default rates or a file's; refuses if the ledger exists."""
        from coinpurse.core import clock
        from coinpurse.core.rates import default_rates
        from coinpurse.core.rates_edit import RatesChange
        from coinpurse.core.scenario import change_rates
        from coinpurse.input_files import input_path, read_rates_file
        from coinpurse.reports import InitResult, RatesChangeResult

        rates_path = None if rates_file is None else input_path(rates_file)
        rates = read_rates_file(rates_path) if rates_path is not None else default_rates()
        with self._writing() as book:
            if self.path.exists() if self._memory is None else book.head().length:
                raise Refused(
                    f"{self.path}: the ledger already exists; init only starts new ones", code="ledger_exists"
                )
            outcome = change_rates(book, RatesChange.replace_all(rates, "init"), _stamp(book, now, clock.now()))
        return InitResult(self.path, rates_path, RatesChangeResult(outcome))

    def demo(self, force: bool = False, now: str | None = None) -> DemoResult:
        """A small, realistic, deterministic economy; refuses a ledger with accounts unless ``force``."""
        from coinpurse.core import clock
        from coinpurse.core.scenario import OpFailed, parse_ops, run
        from coinpurse.formats.demo import DEMO_OPS
        from coinpurse.input_files import located
        from coinpurse.reports import ApplyReport, DemoResult, OpLog

        ops = list(parse_ops(DEMO_OPS))
        with self._writing(all_or_nothing=True) as book:
            if book.user_accounts() and not force and not _holds_the_demo(book, ops):
                raise Refused(
                    f"{self.path} already has accounts; the demo only fills an empty ledger (use --force to add it anyway)",
                    code="ledger_not_empty",
                )
            log = OpLog(book.currency, details=False)
            try:
                for result in run(book, ops, _stamp(book, now, clock.now())):
                    log.add(result)
            except OpFailed as failed:
                raise located(failed.error, self.path, None, f"demo op {failed.index}: nothing was applied: ") from None
        report = ApplyReport(Path("demo"), self.path, log, False)
        return DemoResult(report, self.balances())

    def apply(
        self,
        ops: PathLike | Iterable[Mapping[str, Any] | Op],
        *,
        dry_run: bool = False,
        now: str | None = None,
        on_progress: Progress | None = None,
        details: bool = True,
        format: str | None = None,
    ) -> ApplyReport:
        """Apply every op in one locked load and one save, or none of them.

        ``ops`` is a scenario file (.toml or .json, or ``format``; ``-`` is stdin), or the ops themselves: dicts
        shaped like a scenario's (``{"kind": "buy", "account": ..., "coins": ...}``)
        or request objects (``coinpurse.core.requests.Buy`` ..., ``RatesChange``).
        Every op is checked before any runs. ``details=False`` keeps only the
        counts (what a person is shown), not each op's result.
        """
        if isinstance(ops, (str, os.PathLike)):
            from coinpurse.input_files import input_path

            return self._apply_file(input_path(ops), dry_run, now, on_progress, details, format)
        return self._apply_ops(ops, dry_run, now, on_progress, details)

    def _apply_file(
        self,
        file: Path,
        dry_run: bool,
        now: str | None,
        on_progress: Progress | None,
        details: bool,
        format: str | None,
    ) -> ApplyReport:
        from coinpurse.core.scenario import OpFailed, check_ops, parse_ops, scenario_ops
        from coinpurse.input_files import located, op_kind, op_line, read_input

        document, text, is_toml = read_input(file, "scenario", one_list="ops", format=format)

        def named(failed: OpFailed, outcome: str = "") -> CoinpurseError:
            line = op_line(file, text, is_toml, failed.index)
            return located(failed.error, file, line, f"op {failed.index} ({op_kind(raw_ops, failed.index)}): {outcome}")

        try:
            raw_ops = scenario_ops(document)
            total = check_ops(raw_ops)
        except OpFailed as failed:
            raise named(failed) from None
        except BadInput as error:
            raise located(error, file, None) from None
        return self._run_checked(parse_ops(raw_ops), total, named, file, dry_run, now, on_progress, details)

    def _apply_ops(
        self,
        ops: Iterable[Mapping[str, Any] | Op],
        dry_run: bool,
        now: str | None,
        on_progress: Progress | None,
        details: bool,
    ) -> ApplyReport:
        from coinpurse.core.scenario import OpFailed
        from coinpurse.input_files import located

        items = ops if isinstance(ops, Sequence) else list(ops)  # checked first, then run: read twice

        def named(failed: OpFailed, outcome: str = "") -> CoinpurseError:
            return located(failed.error, None, None, f"op {failed.index} ({_kind(items[failed.index - 1])}): {outcome}")

        try:
            total = _check_each(items)
        except OpFailed as failed:
            raise named(failed) from None
        return self._run_checked(_parsed(items), total, named, None, dry_run, now, on_progress, details)

    def _run_checked(
        self,
        ops: Iterable[Op],
        total: int,
        named: Callable[[OpFailed, str], CoinpurseError],
        file: Path | None,
        dry_run: bool,
        now: str | None,
        on_progress: Progress | None,
        details: bool,
    ) -> ApplyReport:
        """Run ops already checked, in one locked load and one save; ``named`` words a refusal for where they came from."""
        from coinpurse.core import clock
        from coinpurse.core.scenario import OpFailed, run
        from coinpurse.reports import ApplyReport, OpLog

        moment = now or clock.now()
        with CollectorPaused(), self._writing(dry_run=dry_run, all_or_nothing=True) as book:
            moment = _stamp(book, now, moment)
            log = OpLog(book.currency, details)
            try:
                for result in run(book, ops, moment, on_progress, total=total):
                    log.add(result)
            except OpFailed as failed:
                raise named(failed, "nothing was applied: ") from None
        return ApplyReport(file, self.path, log, dry_run)

    @contextmanager
    def batch(self, *, dry_run: bool = False, now: str | None = None) -> Iterator[Batch]:
        """Many operations under one lock, one load and one save, as ``apply`` does.

        The ledger is saved when the block ends; an exception leaving the block
        writes nothing (a refused operation caught inside it changes nothing and
        the others still count). ``now`` is every operation's time unless one
        gives its own. The cyclic garbage collector is paused meanwhile, as for
        ``apply``: a long batch should not build reference cycles.
        """
        from coinpurse.core import clock

        moment = now or clock.now()
        with CollectorPaused(), self._writing(dry_run=dry_run, all_or_nothing=True) as book:
            batch = Batch(book, _stamp(book, now, moment), dry_run)
            try:
                yield batch
            finally:
                batch._end()

    # Reads: each one consistent snapshot of the ledger.

    def balance(self, account: str, now: str | None = None) -> AccountBalance:
        """Available, pending and total diamonds at ``now``: a hold expired by then counts as available."""
        from coinpurse.core import clock

        with self._reading() as book:
            return _balance(book, account, now or clock.now())

    def balances(self, now: str | None = None) -> Balances:
        from coinpurse.core import clock

        with self._reading() as book:
            return _stored_balances(book, now or clock.now())

    def balances_at(self, at: str, account: str | None = None) -> BalancesAt:
        """Users' coins and diamonds right after the last transaction at or before ``at`` (a stored time,
        see core.clock.moment): each account's is what its last transaction by then recorded."""
        from coinpurse.core.model import BalanceAfter
        from coinpurse.results import BalancesAt

        with self._reading() as book:
            name = None if account is None else _known_account(book, account)
            if name is not None:  # by time: a JSON file is read from its end back to the account's last line
                as_of, found = book.balance_stamped(name, at)
                return BalancesAt(at, as_of, [found or BalanceAfter(name, 0, 0)], name)
            within = book.count_until(at)
            as_of = book.transaction_at(within) if within else None
            rows = []
            if within:
                for user in book.user_accounts():
                    found = book.balance_within(user, within)
                    if found is not None:
                        rows.append(found)
            return BalancesAt(at, as_of, rows)

    def rates(self) -> RatesView:
        with self._reading() as book:
            return RatesView(book.rates, book.currency, book.platform_accounts())

    def history(
        self,
        account: str | None = None,
        kind: str | None = None,
        limit: int | None = None,
        since: str | None = None,
        until: str | None = None,
        stream: str | None = None,
    ) -> History:
        """Transactions oldest first, optionally one account's or one kind's; with ``limit`` the newest that many.

        ``since`` and ``until`` are stored times (see core.clock.moment), inclusive bounds. ``stream``
        keeps one live stream's: the gifts tagged with it and the reversals of those gifts.
        """
        if limit is not None and limit < 1:
            raise BadInput(f"--limit must be a positive whole number, not {limit}")
        if kind is not None:
            kind = kind.strip().casefold()  # --kind BUY means buy
        from coinpurse.core.kinds import RECORDS

        if kind is not None and kind not in RECORDS:
            raise BadInput(f"unknown kind {kind!r}: the kinds are {', '.join(RECORDS)}", code="unknown_kind")
        stream = _stream_name(stream)
        with self._reading() as book:
            name = None if account is None else _known_account(book, account)
            found = _transactions_in(book, since, until, name, kind, limit, stream)
            return History(found, book.currency, _reversals_of(book, found))

    def gifters(
        self,
        account: str,
        limit: int | None = 10,
        since: str | None = None,
        until: str | None = None,
        stream: str | None = None,
    ) -> Gifters:
        """Who sent ``account`` the most diamonds, most first; ties by name, and tied diamonds share a rank.

        Diamond value is at the payout rate each gift recorded, so a rates change
        does not rewrite what earlier gifts were worth. ``stream`` counts only the
        gifts tagged with that live stream: the leaderboard the stream shows.

        The board shows what stands at the span's end (``until``, else now): a gift reversed by then
        drops out, and a refund's clawback by then takes the clawed coins, diamonds and their worth off
        the gift (one clawed back whole drops out too). Both are few, read by kind.
        """
        from coinpurse.core.money import ZERO

        if limit is not None and limit < 1:
            raise BadInput(f"--limit must be a positive whole number, not {limit}")
        stream = _stream_name(stream)
        totals: dict[str, list[Any]] = {}
        with self._reading() as book:
            name = _known_account(book, account)
            gifts = _transactions_in(book, since, until, name, "gift", stream=stream)
            standing = _standing_gifts(book, [tx for tx in gifts if _received_by(tx, name)], until)
            for gift, coins, diamonds, value in standing:
                row = totals.setdefault(gift.request.sender, [0, 0, 0, 0, ZERO])
                row[0] += 1
                row[1] += gift.details.count
                row[2] += coins
                row[3] += diamonds
                row[4] += value
            currency = book.currency
        ranked = sorted(
            (Gifter(sender, *row) for sender, row in totals.items()), key=lambda g: (-g.diamonds, g.account)
        )
        shown = ranked[:limit] if limit is not None else ranked
        return Gifters(name, shown, currency, _ranks([g.diamonds for g in shown]), stream)

    def statement(
        self, account: str, since: str | None = None, until: str | None = None, top: int = 10, stream: str | None = None
    ) -> Statement:
        """``account``'s statement from ``since`` to ``until`` (stored times, inclusive; see core.clock.moment):
        balances at both edges, gifts received by gift, stream and gifter, diamonds taken back, payouts,
        and the share of the viewers' cash that reached the creator (see ``coinpurse.core.statement``).

        Only what the span needs is read: the account's transactions in it and its balances at its edges.
        ``stream`` keeps one live stream's gifts and what was taken back of them; its balances stay whole.
        """
        from coinpurse.core.statement import make_statement

        if top < 1:
            raise BadInput(f"--top must be a positive whole number, not {top}")
        stream = _stream_name(stream)
        with self._reading() as book:
            return make_statement(book, _known_account(book, account), since, until, top, stream)

    def info(self, source: str = "given") -> LedgerInfo:
        """Where the ledger is and what it holds, read cheaply: its format, schema, size, counts and head hash.

        Nothing is parsed of the history and nothing is created or locked; a
        missing ledger is reported as such (``exists`` false). ``source`` says how
        the path was chosen, for the caller's own report.
        """
        from coinpurse.storage.document import SCHEMA_VERSION

        if self._memory is not None:
            book = self._memory
            head = book.head()
            hash_ = head.hash if head.length else None
            return LedgerInfo(
                self.path, "memory", "memory", True, SCHEMA_VERSION, None, head.length, len(book.user_accounts()),
                hash_, head.at if head.length else None, False, None,
            )  # fmt: skip
        from coinpurse.storage import damaged_records_named, is_postgres
        from coinpurse.storage.info import file_facts, lock_state

        path = self.path
        with damaged_records_named(path):
            facts = file_facts(path)
        lock = lock_state(path)
        kind = "postgresql" if is_postgres(path) else path.suffix.lower().lstrip(".")
        if facts is None:
            return LedgerInfo(path, source, kind, False, None, None, 0, 0, None, None, lock.locked, lock.holder)
        return LedgerInfo(path, source, kind, True, *facts, lock.locked, lock.holder)

    def verify(
        self, anchors: Sequence[str] = (), after: str | None = None, on_progress: Progress | None = None
    ) -> VerifyReport:
        """Walk the whole history and check it (see ``coinpurse.core.verify``); a missing ledger is unusable.

        ``anchors`` are transaction hashes noted earlier; each must still be in the chain.
        ``after`` is the hash of a transaction an earlier verify checked (its ``head_hash``):
        the history up to it is trusted and only what came after it is checked.
        ``on_progress(done, total)`` is called as the walk goes, every thousand transactions.
        """
        from coinpurse.core.patterns import HASH_FORMAT
        from coinpurse.core.verify import verify_book
        from coinpurse.errors import LedgerUnusable

        wanted = tuple(anchor.strip().lower() for anchor in anchors)
        for anchor in wanted:
            if not HASH_FORMAT.fullmatch(anchor):
                raise BadInput(
                    f"--anchor {anchor[:80]!r} is not a transaction hash (64 hex digits)", code="invalid_anchor"
                )
        trusted = None if after is None else after.strip().lower()
        if trusted is not None:
            if not HASH_FORMAT.fullmatch(trusted):
                raise BadInput(
                    f"--after {trusted[:80]!r} is not a transaction hash (64 hex digits)", code="invalid_after"
                )
            if wanted:
                raise BadInput(
                    "--after and --anchor can't be used together: --anchor checks the whole chain, --after trusts part of it",
                    code="invalid_after",
                )
        path = self.path
        if self._memory is None and not path.exists() and not path.is_symlink():
            raise LedgerUnusable(f"{path}: there is no ledger here to verify", code="ledger_missing")
        with self._reading() as book:
            return verify_book(book, wanted, trusted, on_progress)

    def export(
        self,
        format: str | None = None,
        output: PathLike | None = None,
        *,
        stream: TextIO | None = None,
        on_progress: Progress | None = None,
        since: str | None = None,
        until: str | None = None,
        live_stream: str | None = None,
    ) -> ExportResult:
        """The whole history as CSV, an hledger/ledger-cli journal, or JSON; written to ``output`` if given.

        Without ``format``, the output's suffix chooses (.csv, .json), else a journal.
        The text is written as the history is read, one transaction at a time: into
        a temp file that replaces ``output`` once complete, or to ``stream`` (an open
        text file such as stdout). With neither, it is returned as the result's ``text``.
        ``on_progress(done, total)`` is called every few hundred transactions.

        ``since`` and ``until`` (stored times, inclusive) export the transactions stamped
        between; a journal from ``since`` opens with every account's balances at that
        moment, so its balance assertions hold. ``live_stream`` exports one live stream's
        gifts and their reversals (as ``history --stream``); its journal has no balance
        assertions and no opening balances, since other transactions moved those balances.
        """
        from coinpurse.formats import export as formats
        from coinpurse.reports import ExportResult
        from coinpurse.storage.outputs import is_stdout

        target = None if output is None or is_stdout(output) else Path(output)  # "-" is stdout, as no output is
        chosen = export_format_of(target) if format is None else format
        if chosen not in formats.FORMATS:
            raise BadInput(
                f"unknown export format {chosen!r}; the formats are {', '.join(formats.FORMATS)}", code="unknown_format"
            )
        if target is not None and self._memory is None:
            from coinpurse.storage.outputs import refuse_ledger_files

            refuse_ledger_files(target, self.path)
        live_stream = _stream_name(live_stream)
        with self._reading() as book:
            tail = book.stamped_tail(since) if since is not None and live_stream is None else None
            if tail is not None:  # read from the end (a JSON file): the records from since on, none before
                history, total = _exported_tail(tail, until)
            else:
                low, high = _positions_in(book, since, until)
                history, total = _exported(book, chosen, low, high, live_stream)
            counted = _Counted(history, total, on_progress)
            if chosen == "csv":
                chunks = formats.csv_chunks(counted)
            elif chosen == "journal":
                names = [*book.platform_accounts(), *book.user_accounts()]  # names only: states can hold many lots
                opening = None
                if since is not None and tail is not None:
                    opening = formats.Opening(since, _balances_before_tail(book, tail))
                elif since is not None and live_stream is None:
                    opening = formats.Opening(since, _balances_before(book, min(low - 1, book.head().length)))
                heading = _export_heading(since, until, live_stream)
                chunks = formats.journal_chunks(
                    counted,
                    self.path.name,
                    names,
                    book.currency,
                    opening,
                    assertions=live_stream is None,
                    heading=heading,
                )
            else:
                chunks = formats.json_chunks(counted, book.currency)
            text = None
            if target is not None:
                from coinpurse.storage.outputs import write_output

                size = write_output(target, chunks)
            elif stream is not None:
                from coinpurse.storage.outputs import write_stream

                size = write_stream(stream, chunks)
            else:
                text = "".join(chunks)
                size = len(text.encode())
        return ExportResult(chosen, text, target, counted.count, counted.postings, size)

    def rates_export(self, file: PathLike) -> RatesExport:
        """The rates in force written to ``file``: commented TOML, or JSON, by suffix.

        ``-`` writes no file: the result's text (TOML) is for the caller to print.
        """
        import json

        from coinpurse.formats.rates_toml import rates_to_toml
        from coinpurse.reports import RatesExport
        from coinpurse.storage.atomic import write_atomic
        from coinpurse.storage.outputs import is_stdout

        target = Path(file)
        if is_stdout(file):
            with self._reading() as book:
                return RatesExport(target, rates_to_toml(book.rates, source=self.path.name))
        if self._memory is None:
            from coinpurse.storage.outputs import refuse_ledger_files

            refuse_ledger_files(target, self.path)
        suffix = target.suffix.lower()
        if suffix not in (".toml", ".json"):
            raise BadInput(
                f"{target}: rates are exported as .toml (commented) or .json, not {suffix or '(no suffix)'!r}",
                code="unknown_suffix",
            )
        with self._reading() as book:
            rates = book.rates
        if suffix == ".toml":
            text = rates_to_toml(rates, source=self.path.name)
        else:
            text = json.dumps(rates.to_dict(), ensure_ascii=False, indent=2) + "\n"
        write_atomic(target, text.encode(), output=True)
        return RatesExport(target, text)

    def convert(self, target: PathLike, *, on_progress: Progress | None = None) -> Conversion:
        """Copy this ledger into a new file of another (or the same) format, losing nothing.

        Every transaction keeps its id, time, content and hash; accounts and rates
        come across as they are. The target must not exist yet. The history is
        copied as it is read (a TOML target is made whole); ``on_progress(done,
        total)`` is called every few hundred transactions.
        """
        from coinpurse.storage import check_suffix
        from coinpurse.storage.convert import save_new
        from coinpurse.storage.outputs import refuse_ledger_files
        from coinpurse.storage.urls import ledger_path

        source, new = self.path, ledger_path(target)
        if self._memory is None:
            check_suffix(source)
            refuse_ledger_files(new, source)
        check_suffix(new)
        if self._memory is None and not source.exists():
            raise BadInput(f"no ledger at {source}", code="no_ledger")
        if new.exists() or new.is_symlink():
            raise Refused(f"{new} already exists; convert writes only new ledgers", code="target_exists")
        with self._reading() as book:
            written = save_new(new, book, on_progress)
            return Conversion(source, new, written, len(book.all_accounts()))

    def save_as(self, target: PathLike) -> Conversion:
        """Write this ledger (one built in memory, say) as a new file at ``target``; the same as ``convert``."""
        return self.convert(target)

    def refund(
        self,
        buy_id: str,
        clawback: bool = False,
        id: str | None = None,
        now: str | None = None,
        *,
        dry_run: bool = False,
    ) -> OperationResult:
        """The app store gave a coin purchase back: its cash to the viewer, its lot's coins removed.

        Coins of it already spent refuse the refund unless ``clawback``, which takes back the
        diamonds they became from each creator (a creator who redeemed them is left owing).
        ``dry_run`` makes the whole receipt and writes nothing.
        """
        from coinpurse.core import clock
        from coinpurse.core import requests as rq

        request = rq.Refund.make(buy_id, clawback, id)
        moment = now or clock.now()
        with self._writing(dry_run=dry_run) as book:
            return _recorded(book, request, _stamp(book, now, moment))

    def explain(self, tx_id: str) -> Explained:
        """One transaction's path of value, step by step, with checks that its figures add up.

        Reads the transaction by its id and the few records it names (the buys whose lots a
        gift drew, the buy a refund gives back, the gift a reversal undoes), never the history.
        An id not in the ledger is ``unknown_transaction`` (exit 2).
        """
        from coinpurse.core.explain import explain
        from coinpurse.core.names import unknown_transaction
        from coinpurse.results import Explained

        with self._reading() as book:
            tx = book.find(tx_id)
            if tx is None:
                raise unknown_transaction(tx_id)
            return Explained(explain(tx, book.find), book.currency)

    def report(
        self, since: str | None = None, until: str | None = None, by: str = "month", stream: str | None = None
    ) -> PlatformReportResult:
        """The platform's figures from ``since`` to ``until`` (stored times, inclusive; see core.clock.moment),
        in total and per ``by`` (day, week or month), per channel and per creator, with what it owes at the end.

        One pass over the transactions from ``since`` on (those after ``until`` only take the
        liabilities back to then); the liabilities come from the accounts' states. See core.report.
        Its ``anchor`` is the ledger's last transaction at or before ``until``, as a statement's.
        ``stream`` reports one live stream's gifts only (see core.report.stream_report).
        """
        from coinpurse.core.report import build_report, check_period, pending_payouts
        from coinpurse.core.statement import Anchor
        from coinpurse.results import Report

        period = check_period(by)
        if since is not None and until is not None and since > until:
            raise BadInput(f"--since {since} is after --until {until}: the window is empty", code="bad_time")
        stream = _stream_name(stream)
        with self._reading() as book:
            if stream is not None:
                from coinpurse.core.report import stream_report

                last = book.last_stamped(until)
                anchor = Anchor.of(last) if last is not None else None
                return Report(stream_report(book, stream, since, until, period, anchor))

            def channel_of(buy_id: str) -> str | None:  # refunds are few: each finds its buy by id
                buy = book.find(buy_id)
                channel = None if buy is None else buy.rates.get("channel")
                return channel if isinstance(channel, str) else None

            made = build_report(
                book.records_from(since), book.iter_accounts(), since=since, until=until, by=period,
                currency=book.currency, cash_per_diamond=book.rates.payout.cash_per_diamond, channel_of=channel_of,
                pending=pending_payouts(book, until),
            )  # fmt: skip
            if made.anchor is None and since is not None:  # nothing from since to until: the last before since
                before = book.count_until(since, inclusive=False)
                if before:
                    made = made._replace(anchor=Anchor.of(book.transaction_at(before)))
        return Report(made)

    def sponsor_fund(
        self, sponsor: str, cash: object, id: str | None = None, now: str | None = None, *, dry_run: bool = False
    ) -> OperationResult:
        """A sponsor pays ``cash`` into its budget (the account ``sponsor:NAME``), which pays its gifts' bonuses.

        ``dry_run`` makes the receipt and writes nothing.
        """
        from coinpurse.core import clock
        from coinpurse.core import requests as rq

        request = rq.SponsorFund.make(sponsor, cash, id)
        moment = now or clock.now()
        with self._writing(dry_run=dry_run) as book:
            return _recorded(book, request, moment)

    def sponsor_withdraw(
        self, sponsor: str, cash: object, id: str | None = None, now: str | None = None, *, dry_run: bool = False
    ) -> OperationResult:
        """A sponsor takes ``cash`` of its unused budget back; refused beyond what the budget holds."""
        from coinpurse.core import clock
        from coinpurse.core import requests as rq

        request = rq.SponsorWithdraw.make(sponsor, cash, id)
        moment = now or clock.now()
        with self._writing(dry_run=dry_run) as book:
            return _recorded(book, request, moment)

    def sponsors(self) -> Sponsors:
        """Each sponsor's budget: funded, spent on bonuses (and on which gifts, for which creators), withdrawn, left."""
        from coinpurse.results import Sponsors

        with self._reading() as book:
            return Sponsors(_sponsor_budgets(book), book.currency)

    # Held payouts (redeem(..., hold=True) asks for one)

    def payout_approve(
        self, hold_id: str, id: str | None = None, now: str | None = None, *, dry_run: bool = False
    ) -> OperationResult:
        """Pay a pending hold exactly the cash it fixed when asked for; refused once it is settled or expired."""
        from coinpurse.core import requests as rq

        return self._settle(rq.ApprovePayout.make(hold_id, id), now, dry_run)

    def payout_reject(
        self, hold_id: str, reason: str, id: str | None = None, now: str | None = None, *, dry_run: bool = False
    ) -> OperationResult:
        """Refuse a pending hold: its diamonds go back to the creator, its room in its day's maximum is freed."""
        from coinpurse.core import requests as rq

        return self._settle(rq.RejectPayout.make(hold_id, reason, id), now, dry_run)

    def payout_return(
        self, hold_id: str, reason: str, id: str | None = None, now: str | None = None, *, dry_run: bool = False
    ) -> OperationResult:
        """A paid payout the bank sent back: its cash back to the platform, its diamonds back to the creator."""
        from coinpurse.core import requests as rq

        return self._settle(rq.ReturnPayout.make(hold_id, reason, id), now, dry_run)

    def _settle(self, request: rq.Request, now: str | None, dry_run: bool) -> OperationResult:
        from coinpurse.core import clock

        moment = now or clock.now()
        with self._writing(dry_run=dry_run) as book:
            return _recorded(book, request, moment)

    def payout_expire(
        self, account: str | None = None, now: str | None = None, *, dry_run: bool = False
    ) -> PayoutExpiry:
        """Record the release of every hold (one account's, or all) that expired untouched, each its own transaction."""
        from coinpurse.core import clock

        moment = now or clock.now()
        with self._writing(dry_run=dry_run) as book:
            return _expire_due(book, account, moment, dry_run)

    def payouts(self, account: str | None = None, state: str | None = None, now: str | None = None) -> PayoutList:
        """Every held payout (one account's), oldest first, with its state at ``now``; reads write nothing."""
        from coinpurse.core import clock

        with self._reading() as book:
            return _payouts(book, account, state, now or clock.now())


class Batch:
    """Operations on one locked, loaded ledger, inside ``Ledger.batch()``; each returns what the Ledger method does."""

    def __init__(self, book: Book, now: str, dry_run: bool = False) -> None:
        self._open: Book | None = book
        self.now = now
        self.dry_run = dry_run

    @property
    def _book(self) -> Book:
        book = self._open
        if book is None:
            raise ValueError("this batch has ended; start another with ledger.batch()")
        return book

    def _end(self) -> None:
        self._open = None

    def buy(
        self, account: str, coins: object, channel: str = "app", id: str | None = None, now: str | None = None
    ) -> OperationResult:
        from coinpurse.core import requests as rq

        return _recorded(self._book, rq.Buy.make(account, coins, channel, id), now or self.now)

    def gift(
        self,
        sender: str,
        recipient: str,
        gift_name: str,
        count: object = 1,
        stream: str | None = None,
        id: str | None = None,
        now: str | None = None,
        *,
        new_account: bool = False,
    ) -> OperationResult:
        from coinpurse.core import requests as rq

        request = rq.Gift.make(sender, recipient, gift_name, count, stream, id, new_account)
        return _recorded(self._book, request, now or self.now)

    def redeem(
        self,
        account: str,
        diamonds: object = None,
        all: bool = False,
        id: str | None = None,
        now: str | None = None,
        *,
        new_account: bool = False,
        hold: bool = False,
    ) -> OperationResult:
        return _recorded(self._book, _redeem_request(account, diamonds, all, id, new_account, hold), now or self.now)

    def rates_set(
        self, sets: RateSets, removes: Sequence[str] = (), id: str | None = None, now: str | None = None
    ) -> RatesChangeResult:
        from coinpurse.core.rates_edit import RatesChange
        from coinpurse.core.scenario import change_rates
        from coinpurse.reports import RatesChangeResult

        return RatesChangeResult(change_rates(self._book, RatesChange.make(sets, list(removes), id), now or self.now))

    def rates_import(self, file: PathLike, id: str | None = None, now: str | None = None) -> RatesChangeResult:
        from coinpurse.core.rates_edit import RatesChange
        from coinpurse.core.scenario import change_rates
        from coinpurse.input_files import read_rates_file
        from coinpurse.reports import RatesChangeResult

        change = RatesChange.replace_all(read_rates_file(Path(file)), "import", id)
        return RatesChangeResult(change_rates(self._book, change, now or self.now))

    def refund(
        self, buy_id: str, clawback: bool = False, id: str | None = None, now: str | None = None
    ) -> OperationResult:
        """As ``Ledger.refund``; the buy and the gifts that spent its coins may be earlier in this batch."""
        from coinpurse.core import requests as rq

        book = self._book
        return _recorded(book, rq.Refund.make(buy_id, clawback, id), now or self.now)

    def reverse(self, tx_id: str, reason: str, id: str | None = None, now: str | None = None) -> ReversalResult:
        """As ``Ledger.reverse``; the gift may be earlier in this batch."""
        from coinpurse.core import requests as rq
        from coinpurse.results import ReversalResult

        return ReversalResult(_recorded(self._book, rq.Reverse.make(tx_id, reason, id), now or self.now), self.dry_run)

    def sponsor_fund(
        self, sponsor: str, cash: object, id: str | None = None, now: str | None = None
    ) -> OperationResult:
        """As ``Ledger.sponsor_fund``."""
        from coinpurse.core import requests as rq

        return _recorded(self._book, rq.SponsorFund.make(sponsor, cash, id), now or self.now)

    def sponsor_withdraw(
        self, sponsor: str, cash: object, id: str | None = None, now: str | None = None
    ) -> OperationResult:
        """As ``Ledger.sponsor_withdraw``; the budget may be funded earlier in this batch."""
        from coinpurse.core import requests as rq

        return _recorded(self._book, rq.SponsorWithdraw.make(sponsor, cash, id), now or self.now)

    def balance(self, account: str) -> AccountBalance:
        """As the batch has left it so far."""
        return _balance(self._book, account, self.now)

    def state(self, account: str) -> AccountState:
        """The account's coins, diamonds, cash and lots as the batch has left them; all zero if never seen."""
        from coinpurse.core.names import normalize_handle

        return self._book.account(normalize_handle(account))

    def balances(self) -> Balances:
        return _balances(self._book, self.now)

    def payout_approve(self, hold_id: str, id: str | None = None, now: str | None = None) -> OperationResult:
        """As ``Ledger.payout_approve``; the hold may be earlier in this batch."""
        from coinpurse.core import requests as rq

        return _recorded(self._book, rq.ApprovePayout.make(hold_id, id), now or self.now)

    def payout_reject(
        self, hold_id: str, reason: str, id: str | None = None, now: str | None = None
    ) -> OperationResult:
        from coinpurse.core import requests as rq

        return _recorded(self._book, rq.RejectPayout.make(hold_id, reason, id), now or self.now)

    def payout_return(
        self, hold_id: str, reason: str, id: str | None = None, now: str | None = None
    ) -> OperationResult:
        from coinpurse.core import requests as rq

        return _recorded(self._book, rq.ReturnPayout.make(hold_id, reason, id), now or self.now)

    def payout_expire(self, account: str | None = None, now: str | None = None) -> PayoutExpiry:
        return _expire_due(self._book, account, now or self.now, self.dry_run)

    def payouts(self, account: str | None = None, state: str | None = None) -> PayoutList:
        """As the batch has left them so far."""
        return _payouts(self._book, account, state, self.now)


def _recorded(book: Book, request: rq.Request, moment: str) -> OperationResult:
    from coinpurse.core.rules import execute

    outcome = execute(book, request, moment)
    return OperationResult(outcome.transaction, book.currency, outcome.replayed)


def _transactions_in(
    book: Book,
    since: str | None,
    until: str | None,
    account: str | None,
    kind: str | None,
    limit: int | None = None,
    stream: str | None = None,
) -> list[Any]:
    """As ``book.transactions``, of those stamped from ``since`` to ``until`` (inclusive) when either is given,
    and of one live stream's (``book.stream_within``: its gifts and their reversals) when ``stream`` is."""
    if since is None and until is None:
        if stream is not None:
            return book.stream_within(stream, account=account, kind=kind, limit=limit)
        return book.transactions(account, kind, limit)
    low, high = _positions_in(book, since, until)
    if low > high:
        return []
    if stream is not None:
        return book.stream_within(stream, low, high, account, kind, limit)
    return book.transactions_within(low, high, account, kind, limit)


def _exported(book: Book, chosen: str, low: int, high: int, live_stream: str | None) -> tuple[Iterable[Any], int]:
    """What an export of ``chosen`` format writes, read as it goes, and how many: the transactions at
    positions ``low`` to ``high``, or that live stream's among them (a list: the stream's index finds them)."""
    from coinpurse.formats import export as formats

    if live_stream is not None:
        found = book.stream_within(live_stream, low, high) if low <= high else []
        return found, len(found)
    total = max(high - low + 1, 0)
    if low > high:
        return [], 0
    if chosen == "json":  # whole records, each checked as the history reads it
        if low == 1 and high == book.head().length:
            return book.iter_transactions(), total
        return _checked(book, low, high), total
    from coinpurse.storage.convert import stored_records  # only the parts these formats write, each checked as read

    return formats.stored_views(stored_records(book, low, high), start=low), total


def _exported_tail(found: list[Any], until: str | None) -> tuple[Iterable[Any], int]:
    """As ``_exported``, of the transactions from ``since`` on (``Book.stamped_tail``, each checked whole):
    those stamped up to ``until`` (times never go back along the history, so a first part of them)."""
    shown = found if until is None else [tx for tx in found if tx.at <= until]
    return shown, len(shown)


def _balances_before_tail(book: Book, found: list[Any]) -> dict[tuple[str, str], Any]:
    """Every account's balance per commodity right before the first of ``found`` (the transactions from a
    moment to the newest): the stored balances less what those transactions posted."""
    from coinpurse.core.money import COIN, DIAMOND
    from coinpurse.formats.export import stored_views

    balances: dict[tuple[str, str], Any] = {}
    for name, state in book.stored_balances().items():
        balances[name, COIN], balances[name, DIAMOND], balances[name, book.currency] = (
            state.coins,
            state.diamonds,
            state.cash,
        )
    for tx in stored_views(found):
        for account, commodity, amount in tx.postings:
            balances[account, commodity] = balances.get((account, commodity), 0) - amount
    return balances


def _checked(book: Book, low: int, high: int) -> Iterator[Any]:
    """The transactions at positions ``low`` to ``high``, each checked whole as the history reads it."""
    from coinpurse.core.model import Transaction, transaction_from_dict
    from coinpurse.storage.convert import stored_records

    for position, record in enumerate(stored_records(book, low, high), start=low):
        yield record if isinstance(record, Transaction) else transaction_from_dict(record, f"transaction {position}")


def _balances_before(book: Book, position: int) -> dict[tuple[str, str], Any]:
    """Every account's balance per commodity right after the first ``position`` transactions.

    A transaction records users' coins and diamonds after it, but not cash nor the platform's
    accounts, so the postings are summed: those up to ``position`` from zero, or those after it
    taken from the stored balances (which are the sums of every posting), whichever are fewer.
    From ``export --since`` alone the ones after it are what the export writes anyway.
    """
    from coinpurse.core.money import COIN, DIAMOND
    from coinpurse.formats.export import stored_views
    from coinpurse.storage.convert import stored_records

    length = book.head().length
    balances: dict[tuple[str, str], Any] = {}
    if position <= length - position:
        for tx in stored_views(stored_records(book, 1, position)):
            for account, commodity, amount in tx.postings:
                balances[account, commodity] = balances.get((account, commodity), 0) + amount
        return balances
    for name, state in book.stored_balances().items():
        balances[name, COIN], balances[name, DIAMOND], balances[name, book.currency] = (
            state.coins,
            state.diamonds,
            state.cash,
        )
    for tx in stored_views(stored_records(book, position + 1, length), start=position + 1):
        for account, commodity, amount in tx.postings:
            balances[account, commodity] = balances.get((account, commodity), 0) - amount
    return balances


def _export_heading(since: str | None, until: str | None, live_stream: str | None) -> str:
    """The journal's comment line saying which part of the history it holds ("" for all of it)."""
    parts = []
    if live_stream is not None:
        parts.append(f"only the gifts of live stream {live_stream} and their reversals")
    if since is not None:
        parts.append(f"from {since}")
    if until is not None:
        parts.append(f"up to {until}")
    if since is not None and live_stream is None:
        parts.append("the first entry holds each account's balances at that moment")
    return ", ".join(parts)


def _ranks(diamonds: Sequence[int]) -> tuple[int, ...]:
    """Leaderboard ranks of totals sorted most first: equal totals share a rank, the next one skips (1, 2, 2, 4)."""
    ranks: list[int] = []
    for place, total in enumerate(diamonds, start=1):
        ranks.append(ranks[-1] if ranks and diamonds[place - 2] == total else place)
    return tuple(ranks)


def _positions_in(book: Book, since: str | None, until: str | None) -> tuple[int, int]:
    """The first and last positions stamped from ``since`` to ``until`` (inclusive); low > high when none are."""
    low = 1 if since is None else book.count_until(since, inclusive=False) + 1
    high = book.head().length if until is None else book.count_until(until)
    return low, high


def _stream_name(stream: str | None) -> str | None:
    """``--stream NAME`` as a gift records it (stripped); bad input when no gift could carry it."""
    if stream is None:
        return None
    name = stream.strip()
    if not name or not name.isprintable() or len(name) > 80:
        raise BadInput(
            "--stream must be printable text of 1 to 80 characters, as a gift's stream is", code="invalid_stream"
        )
    return name


def _received_by(tx: Any, name: str) -> bool:
    from coinpurse.core.kinds import GiftRecord

    gift = tx.payload
    return isinstance(gift, GiftRecord) and gift.request.recipient == name


def _standing_gifts(book: Book, gifts: Sequence[Any], until: str | None) -> list[tuple[Any, int, int, Any]]:
    """Of ``gifts`` (transactions), what stands by ``until`` (None: now): (gift record, coins, diamonds, their
    worth), the gifts reversed by then left out and what refunds' clawbacks took back by then taken off;
    a gift clawed back whole is left out too."""
    from coinpurse.core.statement import clawbacks_of

    if not gifts:
        return []
    ids = {tx.id for tx in gifts}
    reversed_ids = {
        original
        for reversal in book.transactions(kind="reversal")
        if (until is None or reversal.at <= until) and (original := reversal.details.get("original")) in ids
    }
    clawed: dict[str, list[Any]] = {}  # gift id -> [coins, diamonds, worth] taken back
    for _, claw in clawbacks_of(book, None, until, creator=gifts[0].payload.request.recipient):
        if claw.gift in ids:
            row = clawed.setdefault(claw.gift, [0, 0, 0])
            row[0] += claw.coins
            row[1] += claw.diamonds
            row[2] += claw.value
    standing = []
    for tx in gifts:
        if tx.id in reversed_ids:
            continue
        d = tx.payload.details
        back = clawed.get(tx.id, [0, 0, 0])
        if back[0] >= d.coins:
            continue
        standing.append((tx.payload, d.coins - back[0], d.diamonds - back[1], d.diamond_value - back[2]))
    return standing


def _reversals_of(book: Book, found: Sequence[Any]) -> dict[str, str]:
    """Which of the gifts ``found`` were reversed, and by which reversal (reversals are few: read by kind)."""
    if not any(tx.kind == "gift" for tx in found):
        return {}
    links: dict[str, str] = {}
    for reversal in book.transactions(kind="reversal"):
        original = reversal.details.get("original")
        if isinstance(original, str):
            links.setdefault(original, reversal.id)
    return links


def _sponsor_budgets(book: Book) -> list[Any]:
    """Each sponsor's budget from the transactions that move it (a bonus not paid moves nothing, so is not counted)."""
    from coinpurse.core.kinds import GiftRecord, RefundRecord, ReversalRecord, SponsorFundRecord, SponsorWithdrawRecord
    from coinpurse.core.names import SPONSOR_PREFIX
    from coinpurse.results import SponsorBudget

    budgets = []
    for account, state in book.all_accounts().items():
        if not account.startswith(SPONSOR_PREFIX):
            continue
        name = account[len(SPONSOR_PREFIX) :]
        budget = SponsorBudget(name, state.cash)
        for tx in book.transactions(account=account):
            record = tx.payload
            if isinstance(record, SponsorWithdrawRecord):
                budget.withdrawn += record.details.cash
            elif isinstance(record, SponsorFundRecord):
                budget.funded += record.details.cash
            elif isinstance(record, GiftRecord) and record.details.bonus is not None and record.details.bonus.paid:
                budget.paid(record.details.gift, record.request.recipient, record.details.bonus)
            elif isinstance(record, ReversalRecord) and record.details.bonus is not None:
                budget.returned += record.details.bonus.cash
            elif isinstance(record, RefundRecord):
                for clawback in record.details.clawbacks:
                    if clawback.sponsor == name:
                        budget.returned += clawback.bonus_cash
        budgets.append(budget)
    return budgets


def _known_account(book: Book, raw: str) -> str:
    from coinpurse.core.names import SPONSOR_PREFIX, did_you_mean, normalize_handle, normalize_sponsor, sponsor_account

    if isinstance(raw, str) and raw.strip().lower().startswith(SPONSOR_PREFIX):  # a sponsor's budget: sponsor:NAME
        account = sponsor_account(normalize_sponsor(raw))
        if not book.has_account(account):
            raise BadInput(
                f"no sponsor {account!r} in this ledger; 'coinpurse sponsor list' lists them", code="unknown_sponsor"
            )
        return account

    name = normalize_handle(raw)
    if not book.has_account(name) and book.user_accounts():  # an empty economy (no ledger yet) knows every name
        hint = did_you_mean(name, book.user_accounts())
        raise BadInput(f"no account {name!r} in this ledger{hint}", code="unknown_account")
    return name


def _balance(book: Book, account: str, now: str) -> AccountBalance:
    from coinpurse.core.names import pending_account

    name = _known_account(book, account)
    held = book.stored_account(pending_account(name))
    return _with_holds(book, name, book.account(name), held.diamonds if held else 0, now)


def _with_holds(
    book: Book, name: str, state: AccountState, held: int, now: str, cost: Decimal | None = None
) -> AccountBalance:
    """The balance with its held diamonds split into those still pending and those of holds expired by ``now``."""
    released = 0
    if held > 0:
        from coinpurse.core.payouts import every_status

        released = sum(s.record.details.diamonds for s in every_status(book, now, name) if s.expired_unrecorded)
    return AccountBalance(name, state, book.rates, book.currency, held - released, released, cost)


def _balances(book: Book, now: str) -> Balances:
    from coinpurse.core.names import pending_account

    rows = []
    for name in book.user_accounts():
        held = book.stored_account(pending_account(name))
        rows.append(_with_holds(book, name, book.account(name), held.diamonds if held else 0, now))
    return Balances(rows, book.currency)


def _stored_balances(book: Book, now: str) -> Balances:
    """Every user's balance as stored, read at once (two queries on SQLite); a read has no write's checks to make.

    The lots are not made: the balance shows only what they cost (``Book.coin_costs``).
    """
    from coinpurse.core.money import ZERO
    from coinpurse.core.names import PENDING_PREFIX, is_user_account

    states = book.stored_balances()
    costs = book.coin_costs()
    rows = []
    for name, state in states.items():
        if is_user_account(name):
            held = states.get(PENDING_PREFIX + name)
            rows.append(_with_holds(book, name, state, held.diamonds if held else 0, now, costs.get(name, ZERO)))
    return Balances(rows, book.currency)


def _payouts(book: Book, account: str | None, state: str | None, now: str) -> PayoutList:
    from coinpurse.core.payouts import STATES, every_status
    from coinpurse.results import PayoutList, PayoutRow

    if state is not None and state not in STATES:
        raise BadInput(f"unknown payout state {state!r}: the states are {', '.join(STATES)}", code="unknown_state")
    name = None if account is None else _known_account(book, account)
    rows = [PayoutRow(s, book.currency) for s in every_status(book, now, name) if state is None or s.state == state]
    return PayoutList(rows, book.currency, name, state, now)


def _expire_due(book: Book, account: str | None, now: str, dry_run: bool) -> PayoutExpiry:
    from coinpurse.core import requests as rq
    from coinpurse.core.payouts import every_status
    from coinpurse.results import PayoutExpiry

    name = None if account is None else _known_account(book, account)
    due = [s.facts for s in every_status(book, now, name) if s.expired_unrecorded]
    released = [_recorded(book, rq.ExpirePayout(facts.hold, None, facts), now) for facts in due]
    return PayoutExpiry(released, dry_run)


def _redeem_request(
    account: str, diamonds: object, all: bool, id: str | None, new_account: bool, hold: object
) -> rq.Redeem | rq.Hold:
    from coinpurse.core import requests as rq

    if not isinstance(hold, bool):
        raise BadInput(f"hold must be true or false, not {type(hold).__name__}", code="invalid_op")
    made = rq.Hold.make if hold else rq.Redeem.make
    return made(account, diamonds, all, id, new_account)


_WRITE_ATTEMPTS = 5  # a single operation is tried again this often after a database's serialization failure


def _stamp(book: Book, now: str | None, moment: str) -> str:
    """The time a write is stamped with: the one given, else the clock's (a PostgreSQL ledger's is its server's)."""
    return now if now else book.clock_now(moment)


def export_format_of(output: Path | None) -> str:
    """The export format an output file's suffix asks for: csv or json, else a journal."""
    suffix = output.suffix.lower().lstrip(".") if output is not None else ""
    return suffix if suffix in EXPORT_FORMATS_BY_SUFFIX else "journal"


def _holds_the_demo(book: Book, ops: Sequence[Op]) -> bool:
    """The demo ran here before: a second run replays every op and writes nothing."""
    last = ops[-1]
    if last.id is None:
        return False
    stored = book.find(last.id)
    return stored is not None and dict(stored.request) == last.key()


def _request_types() -> tuple[type, ...]:
    from coinpurse.core import requests as rq
    from coinpurse.core.rates_edit import RatesChange

    return (
        rq.Buy,
        rq.Gift,
        rq.Redeem,
        RatesChange,
        rq.Refund,
        rq.Reverse,
        rq.Hold,
        rq.ApprovePayout,
        rq.RejectPayout,
        rq.ReturnPayout,
        rq.ExpirePayout,
        rq.SponsorFund,  # a withdraw is one by type
    )


def _check_each(items: Iterable[object]) -> int:
    """Check every op (dicts parsed, request objects taken as made); OpFailed names the first bad one."""
    from coinpurse.core.scenario import OpFailed, parse_op
    from coinpurse.errors import CoinpurseError

    requests = _request_types()
    count = 0
    for count, item in enumerate(items, start=1):
        if isinstance(item, requests):
            continue
        try:
            parse_op(item)
        except CoinpurseError as error:
            raise OpFailed(count, error) from None
    return count


def _parsed(items: Iterable[object]) -> Iterator[Op]:
    from coinpurse.core.scenario import parse_op

    requests = _request_types()
    for item in items:
        yield item if isinstance(item, requests) else parse_op(item)  # type: ignore[misc]


def _kind(item: object) -> str:
    from coinpurse.core.scenario import FIELDS

    kind = item.get("kind") if isinstance(item, Mapping) else getattr(item, "kind", None)
    if kind == "reversal" and not isinstance(item, Mapping):
        kind = "reverse"  # a Reverse request's kind is its transaction's; its op is named as the command
    if kind == "payout-hold" and not isinstance(item, Mapping):
        kind = "redeem"  # a hold is a redeem op with hold = true
    return kind if isinstance(kind, str) and kind in FIELDS else "op"


class _Counted:
    """Transactions passed on as they come, counted (and their postings), with progress every ``every``."""

    def __init__(self, items: Iterable[Any], total: int, on_progress: Progress | None, every: int = 500) -> None:
        self.items = items
        self.total = total
        self.on_progress = on_progress
        self.every = every
        self.count = 0
        self.postings = 0

    def __iter__(self) -> Iterator[Any]:
        report, every, total = self.on_progress, self.every, self.total
        count = postings = 0
        try:
            for item in self.items:
                count += 1
                postings += len(item.postings)
                yield item
                if report is not None and count % every == 0:
                    report(count, max(total, count))
        finally:
            self.count, self.postings = count, postings
        if report is not None and count % every:
            report(count, max(total, count))
