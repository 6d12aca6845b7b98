"""The library for scripting a ledger: scenarios, rate changes, new ledgers, exports and the demo.

Like ``coinpurse.api``, every function here is one operation on one ledger
path and returns a result whose ``to_dict()`` is the documented JSON shape.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from coinpurse.api import Balances, OperationResult, balances
from coinpurse.core import clock
from coinpurse.core.book import Book
from coinpurse.core.rates import Rates, default_rates, rates_from_dict
from coinpurse.core.rates_edit import RatesChange
from coinpurse.core.scenario import (
    FIELDS,
    Op,
    OpFailed,
    OpResult,
    Progress,
    change_rates,
    check_ops,
    parse_ops,
    run,
    scenario_ops,
)
from coinpurse.errors import BadInput, CoinpurseError, LedgerUnusable, Refused
from coinpurse.formats.textdata import JSON_DECODER, FloatInText, line_of, loads_json, loads_toml
from coinpurse.formats.textpos import line_for, lines_of, path_in_message
from coinpurse.speedups.collector import CollectorPaused
from coinpurse.storage import write_book

# Reading input files (scenarios and rates): TOML or JSON by suffix, floats refused.


def read_input(file: Path, what: str, *, one_list: str | None = None) -> tuple[Any, str, bool]:
    """The parsed document, its text, and whether it is TOML.

    With ``one_list``, a JSON file that is just ``{"<one_list>": [...]}`` keeps
    that list as its text, and each iteration decodes its items one at a time.
    """
    from coinpurse.storage.limits import read_bounded

    suffix = file.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise BadInput(f"{file}: a {what} file is .toml or .json, not {suffix or '(no suffix)'!r}", code="unknown_suffix")
    try:
        text = read_bounded(file, _input_too_big).decode("utf-8")
    except FileNotFoundError:
        raise BadInput(f"{file}: no such {what} file", code="file_not_found") from None
    except UnicodeDecodeError as error:
        raise BadInput(f"{file}: not UTF-8 text (byte {error.start})", code="invalid_file") from None
    except OSError as error:
        raise BadInput(f"{file}: can't read it: {error.strerror}", code="file_not_found") from None
    except MemoryError:
        raise BadInput(f"{file}: too big to read into memory", code="file_too_big") from None
    is_toml = suffix == ".toml"
    try:
        if is_toml:
            import tomllib

            try:
                return loads_toml(text), text, True
            except tomllib.TOMLDecodeError as error:
                raise BadInput(f"{file}: not valid TOML: {error}", code="invalid_file") from None
        if one_list is not None:
            items = JsonListItems.of(text, one_list)
            if items is not None:
                return {one_list: items}, text, False
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
    except MemoryError:
        raise BadInput(f"{file}: too big to parse in memory", code="file_too_big") from None
    except BadInput as error:
        if error.message.startswith(str(file)):
            raise
        raise BadInput(f"{file}: {error.message}", code="invalid_file") from None


def _input_too_big(message: str) -> BadInput:
    return BadInput(message, code="file_too_big")


_SPACE = re.compile(r"[ \t\n\r]*")
_END_OF_OBJECT = re.compile(r"[ \t\n\r]*\}[ \t\n\r]*\Z")


def _after_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)  # always matches, if only the empty string
    return position if match is None else match.end()


class JsonListItems:
    """The items of the one list in a JSON document ``{"KEY": [...]}``, decoded one at a time.

    A scenario of a million ops then holds its text, not a million dicts at once
    (which took 0.6 GB more). Only a document of exactly that shape qualifies, so
    what it yields is what ``json.loads`` would give.
    """

    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.start = start  # just after the list's "["

    @classmethod
    def of(cls, text: str, key: str) -> JsonListItems | None:
        """The list's items, or None when the text is not that shape or not valid JSON (a full parse says why)."""
        opening = re.compile(rf'[ \t\n\r]*\{{[ \t\n\r]*"{re.escape(key)}"[ \t\n\r]*:[ \t\n\r]*\[').match(text)
        if opening is None:
            return None
        items = cls(text, opening.end())
        try:
            last = deque(items._walk(), maxlen=1)  # every item decodes; only the last is kept
        except (ValueError, RecursionError):
            return None
        return items if last and _END_OF_OBJECT.match(text, last[0][1]) else None

    def _walk(self) -> Iterator[tuple[Any, int]]:
        """Each item with the position after it; the last position is just past the closing "]"."""
        text, decode = self.text, JSON_DECODER.raw_decode
        position = _after_space(text, self.start)
        if text.startswith("]", position):
            return  # an empty list: the full parse takes it
        while True:
            item, position = decode(text, position)
            position = _after_space(text, position)
            if text.startswith("]", position):
                yield item, position + 1
                return
            if not text.startswith(",", position):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, position)
            yield item, position
            position = _after_space(text, position + 1)

    def __iter__(self) -> Iterator[Any]:
        for item, _ in self._walk():
            yield item


def _located(error: CoinpurseError, file: Path, line: int | None, prefix: str = "") -> CoinpurseError:
    """The same error (class, code, exit code) with the file and line in front of its message."""
    where = f"{file}:{line}" if line is not None else str(file)
    located = type(error)(f"{where}: {prefix}{error.message}", code=error.code)
    return located


# apply


class OpLog:
    """What a scenario's ops did, kept lean for a million of them.

    Counts by status and kind and, when the details are wanted, each op's JSON
    on one line of a temp file (in memory while small): holding every result's
    transaction took gigabytes, and each is already written to the ledger.
    """

    def __init__(self, currency: str, details: bool) -> None:
        self.currency = currency
        self.count = 0
        self.statuses = {"recorded": 0, "replayed": 0, "unchanged": 0}
        self.kinds: dict[str, int] = {}
        self._details: IO[bytes] | None = None
        if details:
            import tempfile
            import weakref

            # Closed by the finalizer below, not a with block: the file lives as long as the report.
            self._details = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115
            weakref.finalize(self, self._details.close)

    def add(self, result: OpResult) -> None:
        self.count += 1
        self.statuses[op_status(result)] += 1
        self.kinds[result.kind] = self.kinds.get(result.kind, 0) + 1
        if self._details is not None:
            line = _COMPACT.encode(op_to_dict(self.count, result, self.currency))
            try:
                self._details.write(line.encode() + b"\n")  # compact JSON never holds a raw newline
            except OSError as error:
                raise LedgerUnusable(
                    f"can't keep the report of op {self.count}: {error.strerror}; nothing was written", code="write_failed"
                ) from None

    def lines(self) -> Iterator[str]:
        """Each op's JSON, compact, in order."""
        if self._details is None:
            raise ValueError("this report was made without the ops' details")
        self._details.seek(0)
        for line in self._details:
            yield line[:-1].decode()


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class ApplyReport:
    """What a scenario did, op by op."""

    file: Path
    ledger: Path
    log: OpLog
    dry_run: bool

    @property
    def count(self) -> int:
        return self.log.count

    def counts(self) -> dict[str, int]:
        return dict(self.log.statuses)

    @property
    def written(self) -> bool:
        return not self.dry_run and self.log.statuses["recorded"] > 0

    def by_kind(self) -> dict[str, int]:
        return dict(self.log.kinds)

    def summary(self) -> dict[str, Any]:
        """Everything but the ops."""
        return {
            "file": str(self.file),
            "ledger": str(self.ledger),
            "dry_run": self.dry_run,
            "written": self.written,
            "count": self.count,
            **self.counts(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "ops": [json.loads(line) for line in self.log.lines()]}

    def json_chunks(self, indented: bool) -> Iterator[str]:
        """The text of ``to_dict()`` as JSON (indented or compact), one op at a time."""
        if indented:
            head = json.dumps(self.summary(), ensure_ascii=False, indent=2)
            yield head[: -len("\n}")] + ',\n  "ops": ['
            separator = "\n    "
            for line in self.log.lines():
                yield separator + json.dumps(json.loads(line), ensure_ascii=False, indent=2).replace("\n", "\n    ")
                separator = ",\n    "
            yield ("]" if separator == "\n    " else "\n  ]") + "\n}\n"
            return
        head = _COMPACT.encode(self.summary())
        yield head[:-1] + ',"ops":['
        separator = ""
        for line in self.log.lines():
            yield separator + line
            separator = ","
        yield "]}\n"


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


def _kind_of(raw_ops: Iterable[Any], index: int) -> str:
    raw = next(itertools.islice(raw_ops, index - 1, None), None)
    kind = raw.get("kind") if isinstance(raw, Mapping) else None
    return kind if isinstance(kind, str) and kind in FIELDS else "op"


def apply(
    path: Path,
    file: Path,
    *,
    dry_run: bool = False,
    now: str | None = None,
    on_progress: Progress | None = None,
    details: bool = True,
) -> ApplyReport:
    """Apply every op in a scenario file in one locked load and one save, or none of them.

    ``details=False`` keeps only the counts (what a person is shown), not each op's result.
    """
    document, text, is_toml = read_input(file, "scenario", one_list="ops")
    try:
        raw_ops = scenario_ops(document)
        total = check_ops(raw_ops)
    except OpFailed as failed:
        line = _op_line(file, text, is_toml, failed.index)
        raise _located(failed.error, file, line, f"op {failed.index} ({_kind_of(raw_ops, failed.index)}): ") from None
    except BadInput as error:
        raise _located(error, file, None) from None
    moment = now or clock.now()
    with CollectorPaused(), write_book(path, dry_run=dry_run) as book:  # many objects per op, no cycles
        log = OpLog(book.currency, details)
        try:
            for result in run(book, parse_ops(raw_ops), moment, on_progress, total=total):
                log.add(result)
        except OpFailed as failed:
            line = _op_line(file, text, is_toml, failed.index)
            kind = _kind_of(raw_ops, failed.index)
            raise _located(failed.error, file, line, f"op {failed.index} ({kind}): nothing was applied: ") from None
    return ApplyReport(file, path, log, dry_run)


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
    from coinpurse.formats.rates_toml import rates_to_toml
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
            "count": self.report.count,
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
    from coinpurse.formats.demo import DEMO_OPS

    ops = list(parse_ops(DEMO_OPS))
    with write_book(path) as book:
        if book.user_accounts() and not force and not _holds_the_demo(book, ops):
            raise Refused(
                f"{path} already has accounts; the demo only fills an empty ledger (use --force to add it anyway)",
                code="ledger_not_empty",
            )
        log = OpLog(book.currency, details=False)
        try:
            for result in run(book, ops, now or clock.now()):
                log.add(result)
        except OpFailed as failed:
            raise _located(failed.error, path, None, f"demo op {failed.index}: nothing was applied: ") from None
    report = ApplyReport(Path("demo"), path, log, False)
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
    from coinpurse.formats import export as formats
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
