"""What the bulk and file operations report: scenarios applied, rates changes, new ledgers, the demo, exports.

Dataclasses, imported only by the operations that make them, so a read starts
without defining them. Each ``to_dict()`` is the documented JSON shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from coinpurse.core.scenario import OpResult
from coinpurse.errors import LedgerUnusable
from coinpurse.results import Balances, OperationResult
from coinpurse.speedups.jsontext import compact_json as _compact_json


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
        self._pending: list[str] = []  # lines not yet written to the file

    def add(self, result: OpResult) -> None:
        self.count += 1
        status = op_status(result)
        self.statuses[status] += 1
        kind = result.kind
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if self._details is not None:
            self._pending.append(_compact_json(op_to_dict(self.count, result, self.currency, status)))
            if len(self._pending) >= _LINES_PER_WRITE:
                self._write_pending()

    def _write_pending(self) -> None:
        """The lines kept since the last write, written at once (compact JSON never holds a raw newline)."""
        assert self._details is not None
        text = "\n".join(self._pending) + "\n"
        self._pending = []
        try:
            self._details.write(text.encode())
        except OSError as error:
            raise LedgerUnusable(
                f"can't keep the report of op {self.count}: {error.strerror}; nothing was written", code="write_failed"
            ) from None

    def lines(self) -> Iterator[str]:
        """Each op's JSON, compact, in order."""
        for block in self._blocks():
            yield from block.split("\n")

    def _blocks(self) -> Iterator[str]:
        """The ops' lines, many at a time: each block a whole number of lines joined by newlines."""
        if self._details is None:
            raise ValueError("this report was made without the ops' details")
        if self._pending:
            self._write_pending()
        self._details.seek(0)
        rest = b""
        while True:
            data = self._details.read(_BLOCK_BYTES)
            if not data:
                break
            data = rest + data
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            rest = data[cut + 1 :]
            if cut:
                yield data[:cut].decode()
        if rest:
            yield rest.decode()


_LINES_PER_WRITE = 1000  # lines of the report written to its file at once
_BLOCK_BYTES = 1 << 20  # and read back a megabyte at a time


_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class ApplyReport:
    """What a scenario did, op by op."""

    file: Path | None  # None for ops given as objects, not read from a file
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
            "file": None if self.file is None else str(self.file),
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
        for block in self.log._blocks():  # a block of lines at a time: a million ops print hundreds of megabytes
            yield separator + block.replace("\n", ",")
            separator = ","
        yield "]}\n"


def op_status(result: OpResult) -> str:
    if result.replayed:
        return "replayed"
    return "recorded" if result.transaction is not None else "unchanged"


def op_to_dict(index: int, result: OpResult, currency: str, status: str | None = None) -> dict[str, Any]:
    if result.kind == "rates":
        body = RatesChangeResult(result).to_dict()
    else:
        assert result.transaction is not None
        body = OperationResult(result.transaction, currency, result.replayed).to_dict()
    return {"index": index, "kind": result.kind, "status": status or op_status(result), "result": body}


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


@dataclass(frozen=True)
class RatesExport:
    file: Path
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.file), "bytes": len(self.text.encode())}


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


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote. ``text`` is the export itself only when it was made in memory
    (no output file and no stream given); written to a file or a stream, it is None."""

    format: str
    text: str | None
    file: Path | None
    transactions: int
    postings: int
    size: int  # bytes of UTF-8 text

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "file": None if self.file is None else str(self.file),
            "transactions": self.transactions,
            "postings": self.postings,
            "bytes": self.size,
        }
