"""Scenarios, rate changes, new ledgers, exports and the demo as one function per call, each taking the ledger's path.

Kept for scripts written against it: each function is one line over
``coinpurse.ledger.Ledger``; the results live in ``coinpurse.reports`` and the
reading of scenario and rates files in ``coinpurse.input_files``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from coinpurse.reports import ApplyReport, DemoResult, ExportResult, InitResult, RatesChangeResult, RatesExport

if TYPE_CHECKING:
    from coinpurse.core.scenario import Progress

__all__ = [
    "ApplyReport",
    "DemoResult",
    "ExportResult",
    "InitResult",
    "RatesChangeResult",
    "RatesExport",
    "apply",
    "demo",
    "export",
    "init",
    "rates_export",
    "rates_import",
    "rates_set",
]


def apply(
    path: Path,
    file: Path,
    *,
    dry_run: bool = False,
    now: str | None = None,
    on_progress: Progress | None = None,
    details: bool = True,
) -> ApplyReport:
    from coinpurse.ledger import Ledger

    return Ledger(path).apply(file, dry_run=dry_run, now=now, on_progress=on_progress, details=details)


def rates_set(
    path: Path, sets: Mapping[str, object], removes: Sequence[str] = (), id: str | None = None, now: str | None = None
) -> RatesChangeResult:
    from coinpurse.ledger import Ledger

    return Ledger(path).rates_set(sets, removes, id, now)


def rates_import(path: Path, file: Path, id: str | None = None, now: str | None = None) -> RatesChangeResult:
    from coinpurse.ledger import Ledger

    return Ledger(path).rates_import(file, id, now)


def rates_export(path: Path, file: Path) -> RatesExport:
    from coinpurse.ledger import Ledger

    return Ledger(path).rates_export(file)


def init(path: Path, rates_file: Path | None = None, now: str | None = None) -> InitResult:
    from coinpurse.ledger import Ledger

    return Ledger(path).init(rates_file, now)


def demo(path: Path, force: bool = False, now: str | None = None) -> DemoResult:
    from coinpurse.ledger import Ledger

    return Ledger(path).demo(force, now)


def export(path: Path, format: str = "journal", output: Path | None = None) -> ExportResult:
    from coinpurse.ledger import Ledger

    return Ledger(path).export(format, output)
