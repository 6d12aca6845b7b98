"""The library for scripting a ledger: scenarios, rate changes, new ledgers, exports and the demo.

Like ``coinpurse.api``, every function here is one operation on one ledger
path and returns a result whose ``to_dict()`` is the documented JSON shape.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coinpurse.api import Balances, OperationResult, balances
from coinpurse.core import clock
from coinpurse.core.book import Book
from coinpurse.core.rates import Rates, default_rates, rates_from_dict
from coinpurse.core.rates_edit import RatesChange
from coinpurse.core.scenario import FIELDS, Op, OpFailed, OpResult, Progress, change_rates, parse_ops, run
from coinpurse.core.textdata import FloatInText, line_of, loads_json, loads_toml
from coinpurse.core.textpos import line_for, lines_of, path_in_message
from coinpurse.errors import BadInput, CoinpurseError, Refused
from coinpurse.storage import write_book

# Reading input files (scenarios and rates): TOML or JSON by suffix, floats refused.


def read_input(file: Path, what: str) -> tuple[Any, str, bool]:
    """The parsed document, its text, and whether it is TOML."""
    suffix = file.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise BadInput(f"{file}: a {what} file is .toml or .json, not {suffix or '(no suffix)'!r}", code="unknown_suffix")
    try:
        text = file.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise BadInput(f"{file}: no such {what} file", code="file_not_found") from None
    except UnicodeDecodeError as error:
        raise BadInput(f"{file}: not UTF-8 text (byte {error.start})", code="invalid_file") from None
    except OSError as error:
        raise BadInput(f"{file}: can't read it: {error.strerror}", code="file_not_found") from None
    is_toml = suffix == ".toml"
    try:
        if is_toml:
            import tomllib

            try:
                return loads_toml(text), text, True
            except tomllib.TOMLDecodeError as error:
                raise BadInput(f"{file}: not valid TOML: {error}", code="invalid_file") from None
        try:
            return loads_json(text), text, False
        except json.JSONDecodeError as error:
            raise BadInput(f"{file}:{error.lineno}: not valid JSON: {error.msg}", code="invalid_file") from None
    except FloatInText as error:
        line = line_of(text, error.literal)
        where = f"{file}:{line}" if line is not None else str(file)
        raise BadInput(
            f"{where}: {error.literal} is a float; write cash as a string such as \"0.99\" and counts as whole numbers",
            code="invalid_file",
        ) from None
    except (ValueError, RecursionError):  # an integer of thousands of digits, or absurd nesting
        raise BadInput(f"{file}: not a usable {what} file: a number is too long or it nests too deep", code="invalid_file") from None
    except BadInput as error:
        if error.message.startswith(str(file)):
            raise
        raise BadInput(f"{file}: {error.message}", code="invalid_file") from None


def _located(error: CoinpurseError, file: Path, line: int | None, prefix: str = "") -> CoinpurseError:
    """The same error (class, code, exit code) with the file and line in front of its message."""
    where = f"{file}:{line}" if line is not None else str(file)
    located = type(error)(f"{where}: {prefix}{error.message}", code=error.code)
    return located


# apply


@dataclass(frozen=True)
class ApplyReport:
    """What a scenario did, op by op."""

    file: Path
    ledger: Path
    results: Sequence[OpResult]
    currency: str
    dry_run: bool

    def counts(self) -> dict[str, int]:
        recorded = sum(1 for r in self.results if r.transaction is not None and not r.replayed)
        replayed = sum(1 for r in self.results if r.replayed)
        return {"recorded": recorded, "replayed": replayed, "unchanged": len(self.results) - recorded - replayed}

    @property
    def written(self) -> bool:
        return not self.dry_run and self.counts()["recorded"] > 0

    def by_kind(self) -> dict[str, int]:
        kinds: dict[str, int] = {}
        for result in self.results:
            kinds[result.kind] = kinds.get(result.kind, 0) + 1
        return kinds

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "ledger": str(self.ledger),
            "dry_run": self.dry_run,
            "written": self.written,
            "count": len(self.results),
            **self.counts(),
            "ops": [op_to_dict(index, result, self.currency) for index, result in enumerate(self.results, start=1)],
        }


def op_status(result: OpResult) -> str:
    if result.replayed:
        return "replayed"
    return "recorded" if result.transaction is not None else "unchanged"


def op_to_dict(index: int, result: OpResult, currency: str) -> dict[str, Any]:
    if result.kind == "rates":
        body = RatesChangeResult(result).to_dict()
    else:
        assert result.transaction is not None
        body = OperationResult(result.transaction, currency, result.replayed).to_dict()
    return {"index": index, "kind": result.kind, "status": op_status(result), "result": body}


def _op_line(file: Path, text: str, is_toml: bool, index: int) -> int | None:
    # Only the op's own line: a nearby one (such as `ops = [` of an inline array) would mislead.
    return lines_of(text, is_toml).get(("ops", index - 1))


def _kind_of(document: Any, index: int) -> str:
    try:
        kind = document["ops"][index - 1]["kind"]
    except (KeyError, IndexError, TypeError):
        return "op"
    return kind if isinstance(kind, str) and kind in FIELDS else "op"


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk apply.

    A scenario allocates several small objects per op and frees almost none until
    the end, so each full collection walks everything made so far: with it on,
    100,000 ops took about twice as long. Nothing here makes reference cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            # Everything made meanwhile is still in the youngest generation, so the first
            # collection after enabling would walk it all (half a second at 100,000 ops).
            # freeze + unfreeze moves it to the oldest generation without walking it.
            gc.freeze()
            gc.enable()
            gc.unfreeze()


def apply(
    path: Path,
    file: Path,
    *,
    dry_run: bool = False,
    now: str | None = None,
    on_progress: Progress | None = None,
) -> ApplyReport:
    """Apply every op in a scenario file in one locked load and one save, or none of them."""
    document, text, is_toml = read_input(file, "scenario")
    try:
        ops: list[Op] = parse_ops(document)
    except OpFailed as failed:
        line = _op_line(file, text, is_toml, failed.index)
        raise _located(failed.error, file, line, f"op {failed.index} ({_kind_of(document, failed.index)}): ") from None
    except BadInput as error:
        raise _located(error, file, None) from None
    moment = now or clock.now()
    with _collector_paused(), write_book(path, dry_run=dry_run) as book:
        try:
            results = run(book, ops, moment, on_progress)
        except OpFailed as failed:
            line = _op_line(file, text, is_toml, failed.index)
            kind = ops[failed.index - 1].kind
            raise _located(failed.error, file, line, f"op {failed.index} ({kind}): nothing was applied: ") from None
        currency = book.currency
    return ApplyReport(file, path, results, currency, dry_run)


# rates


@dataclass(frozen=True)
class RatesChangeResult:
    """A rates change: recorded, replayed (same id), or unchanged (it set what was already in force)."""

    outcome: OpResult

    def to_dict(self) -> dict[str, Any]:
        tx = self.outcome.transaction
        return {
            "id": None if tx is None else tx.id,
            "kind": "rates",
            "at": None if tx is None else tx.at,
            "source": self.outcome.source,
            "changed": tx is not None,
            "changes": [{"key": c["key"], "from": c.get("from"), "to": c.get("to")} for c in self.outcome.changes],
            "replayed": self.outcome.replayed,
        }


def _change(path: Path, change: RatesChange, now: str | None) -> RatesChangeResult:
    with write_book(path) as book:
        return RatesChangeResult(change_rates(book, change, now or clock.now()))


def rates_set(
    path: Path, sets: Mapping[str, object], removes: Sequence[str] = (), id: str | None = None, now: str | None = None
) -> RatesChangeResult:
    """Set and remove rate keys (``gift.Rose.coins``, ``payout.minimum`` ...) in one recorded change."""
    return _change(path, RatesChange.make(sets, list(removes), id), now)


def read_rates_file(file: Path) -> Rates:
    """Rates from a TOML or JSON file; invalid rates are BadInput naming file:line and the reason."""
    document, text, is_toml = read_input(file, "rates")
    try:
        return rates_from_dict(document)
    except BadInput as error:
        line = line_for(lines_of(text, is_toml), path_in_message(error.message))
        raise _located(error, file, line) from None


def rates_import(path: Path, file: Path, id: str | None = None, now: str | None = None) -> RatesChangeResult:
    """Replace the rates in force with a file's, recorded as one change."""
    return _change(path, RatesChange.replace_all(read_rates_file(file), "import", id), now)


@dataclass(frozen=True)
class RatesExport:
    file: Path
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.file), "bytes": len(self.text.encode())}


def rates_export(path: Path, file: Path) -> RatesExport:
    from coinpurse.core.rates_toml import rates_to_toml
    from coinpurse.storage import reading
    from coinpurse.storage.atomic import write_atomic
    from coinpurse.storage.outputs import refuse_ledger_files

    refuse_ledger_files(file, path)
    suffix = file.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise BadInput(f"{file}: rates are exported as .toml (commented) or .json, not {suffix or '(no suffix)'!r}", code="unknown_suffix")
    with reading(path) as book:
        rates = book.rates
    if suffix == ".toml":
        text = rates_to_toml(rates, source=path.name)
    else:
        text = json.dumps(rates.to_dict(), ensure_ascii=False, indent=2) + "\n"
    write_atomic(file, text.encode(), output=True)
    return RatesExport(file, text)


# init


@dataclass(frozen=True)
class InitResult:
    ledger: Path
    rates_file: Path | None
    change: RatesChangeResult

    def to_dict(self) -> dict[str, Any]:
        return {
            "ledger": str(self.ledger),
            "rates_file": None if self.rates_file is None else str(self.rates_file),
            "rates": self.change.to_dict(),
        }


def init(path: Path, rates_file: Path | None = None, now: str | None = None) -> InitResult:
    """Start a new ledger with the default rates or a file's; refuses if the ledger exists."""
    rates = read_rates_file(rates_file) if rates_file is not None else default_rates()
    with write_book(path) as book:
        if path.exists():
            raise Refused(f"{path}: the ledger already exists; init only starts new ones", code="ledger_exists")
        outcome = change_rates(book, RatesChange.replace_all(rates, "init"), now or clock.now())
    return InitResult(path, rates_file, RatesChangeResult(outcome))


# demo


@dataclass(frozen=True)
class DemoResult:
    report: ApplyReport
    balances: Balances

    def to_dict(self) -> dict[str, Any]:
        counts = self.report.counts()
        return {
            "ledger": str(self.report.ledger),
            "count": len(self.report.results),
            "recorded": counts["recorded"],
            "replayed": counts["replayed"],
            "kinds": self.report.by_kind(),
            "balances": self.balances.to_dict(),
        }


def _holds_the_demo(book: Book, ops: Sequence[Op]) -> bool:
    """The demo ran here before: a second run replays every op and writes nothing."""
    last = ops[-1]
    if last.id is None:
        return False
    stored = book.find(last.id)
    return stored is not None and dict(stored.request) == last.key()


def demo(path: Path, force: bool = False, now: str | None = None) -> DemoResult:
    """A small, realistic, deterministic economy; refuses a ledger with accounts unless ``force``."""
    from coinpurse.core.demo import DEMO_OPS

    ops = parse_ops({"ops": [dict(op) for op in DEMO_OPS]})
    with write_book(path) as book:
        if book.user_accounts() and not force and not _holds_the_demo(book, ops):
            raise Refused(
                f"{path} already has accounts; the demo only fills an empty ledger (use --force to add it anyway)",
                code="ledger_not_empty",
            )
        try:
            results = run(book, ops, now or clock.now())
        except OpFailed as failed:
            raise _located(failed.error, path, None, f"demo op {failed.index}: nothing was applied: ") from None
        currency = book.currency
    report = ApplyReport(Path("demo"), path, results, currency, False)
    return DemoResult(report, balances(path))


# export


@dataclass(frozen=True)
class ExportResult:
    format: str
    text: str
    file: Path | None
    transactions: int
    postings: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "file": None if self.file is None else str(self.file),
            "transactions": self.transactions,
            "postings": self.postings,
            "bytes": len(self.text.encode()),
        }


def export(path: Path, format: str = "journal", output: Path | None = None) -> ExportResult:
    """The whole history as CSV, an hledger/ledger-cli journal, or JSON; written to ``output`` if given."""
    from coinpurse.core import export as formats
    from coinpurse.storage import reading

    if format not in formats.FORMATS:
        raise BadInput(f"unknown export format {format!r}; the formats are {', '.join(formats.FORMATS)}", code="unknown_format")
    if output is not None:
        from coinpurse.storage.outputs import refuse_ledger_files

        refuse_ledger_files(output, path)
    with reading(path) as book:
        transactions = list(book.iter_transactions())
        currency = book.currency
    if format == "csv":
        text = formats.to_csv(transactions)
    elif format == "journal":
        text = formats.to_journal(transactions, path.name)
    else:
        text = formats.to_json(transactions, currency)
    if output is not None:
        from coinpurse.storage.atomic import write_atomic

        write_atomic(output, text.encode(), output=True)
    postings = sum(len(tx.postings) for tx in transactions)
    return ExportResult(format, text, output, len(transactions), postings)
