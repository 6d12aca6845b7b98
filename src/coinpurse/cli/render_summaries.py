"""Sentences that say what a command did to a ledger or a file, and the progress bar of a long run.

For people only, imported when drawing. rich loads only inside the functions
that use the console, since ``export`` to stdout and ``verify`` draw through
here without it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from coinpurse.cli.output import console, say
from coinpurse.core.safetext import terminal_text

if TYPE_CHECKING:
    from coinpurse.api import Conversion
    from coinpurse.core.statement import Statement
    from coinpurse.core.verify import VerifyReport
    from coinpurse.reports import ApplyReport, DemoResult, ExportResult, InitResult, RatesChangeResult, RatesExport
    from coinpurse.results import LedgerInfo, Report, Sponsors


def _shown(value: Any) -> str:
    return "(none)" if value is None else str(value)


def change_lines(changes: Any) -> list[str]:
    return [f"{c['key']}: {_shown(c.get('from'))} → {_shown(c.get('to'))}" for c in changes]


def show_rates_change(result: RatesChangeResult) -> None:
    out = console()
    data = result.to_dict()
    if data["replayed"]:
        out.print(f"rates change {data['id']} was already recorded; nothing changed.")
    elif not data["changed"]:
        out.print("Those rates are already in force; nothing was recorded.")
        return
    else:
        out.print(f"Recorded rates change {data['id']} at {data['at']}:")
    for line in change_lines(data["changes"]):
        out.print(f"  {line}")


def show_init(result: InitResult) -> None:
    source = f"the rates in {result.rates_file}" if result.rates_file else "the default rates"
    console().print(f"Started {result.ledger} with {source}. Next: coinpurse --ledger {result.ledger} buy alice 700")


def show_apply(report: ApplyReport) -> None:
    counts = report.counts()
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in report.by_kind().items()) or "no ops"
    parts = [f"{counts['recorded']:,} recorded"]
    if counts["replayed"]:
        parts.append(f"{counts['replayed']:,} already recorded")
    if counts["unchanged"]:
        parts.append(f"{counts['unchanged']:,} rates already in force")
    verb = "Checked" if report.dry_run else "Applied"
    console().print(f"{verb} {report.count:,} ops from {report.file} ({kinds}): {', '.join(parts)}.")
    if report.dry_run:
        console().print("Dry run: nothing was written.")
    elif not report.written:
        console().print(f"Nothing new; {report.ledger} was left as it was.")
    else:
        console().print(f"Wrote {report.ledger}.")


def show_demo(result: DemoResult) -> None:
    from coinpurse.cli.render import show_balances

    counts = result.report.counts()
    out = console()
    if counts["recorded"]:
        out.print(f"Built the demo economy in {result.report.ledger}: {counts['recorded']} transactions.")
    else:
        out.print(f"The demo economy was already in {result.report.ledger}; nothing changed.")
    show_balances(result.balances)
    out.print("Try: coinpurse --ledger " + str(result.report.ledger) + " history --limit 5")


def show_conversion(done: Conversion) -> None:
    console().print(
        f"Copied {done.transactions:,} transaction{'' if done.transactions == 1 else 's'} and "
        f"{done.accounts:,} account{'' if done.accounts == 1 else 's'} from {done.source} to {done.target}.",
        markup=False,
    )


def export_stream() -> TextIO:
    """Where an export without ``-o`` is written as it is made: stdout."""
    return sys.stdout


def show_export(result: ExportResult) -> None:
    """The exported text itself on stdout, or a line saying which file it went to."""
    if result.file is None:
        sys.stdout.write(result.text or "")
        return
    say(f"Wrote {result.transactions} transactions ({result.postings} postings) to {result.file} as {result.format}.")


def show_rates_export(result: RatesExport) -> None:
    from coinpurse.storage.outputs import is_stdout

    if is_stdout(result.file):
        sys.stdout.write(result.text)  # the file's text itself, -q or not: it is what was asked for
        return
    say(f"Wrote the rates to {result.file}; edit it, then: coinpurse rates import {result.file}")


def show_verified(report: VerifyReport) -> None:
    """The one-line summary when everything holds; a problem is reported as the command's error."""
    if report.ok:
        say(report.summary())


SOURCES = {"flag": "from --ledger", "env": "from $COINPURSE_LEDGER", "default": "the default", "given": "as given"}


def show_info(found: LedgerInfo) -> None:
    """The ledger in use, one fact a line, for people (``info --json`` for scripts)."""
    say(f"ledger:        {found.path} ({SOURCES.get(found.source, found.source)})")
    if not found.exists:
        say(f"               there is no ledger at this path yet; a write creates it as {found.format}")
        return
    say(f"format:        {found.format}, schema {found.schema}")
    if found.size is not None:
        say(f"size:          {found.size:,} bytes")
    say(f"transactions:  {found.transactions:,}")
    say(f"accounts:      {found.accounts:,}")
    if found.head_hash is not None:
        say(f"head hash:     {found.head_hash}")
        say(f"last at:       {found.last_at}")
    holder = f" by process {found.lock_holder}" if found.lock_holder is not None else ""
    say(f"lock:          {'held' + holder + ' (a write is under way)' if found.locked else 'free'}")


def progress_bar(label: str) -> ProgressBar | None:
    """A progress bar for a long run, or None under --quiet or when stderr is not a terminal to draw it on.

    Every command's bar comes from here (apply, verify, export, convert), so one
    place decides whether bars are drawn at all.
    """
    from coinpurse.cli.output import quiet

    return ProgressBar(label) if sys.stderr.isatty() and not quiet() else None


DELAY_SECONDS = 1  # a run shorter than this never draws a bar


class ProgressBar:
    """A rich progress bar on stderr, called with (done, total); it appears once the run has gone on for
    ``delay`` seconds (from its creation), so a short run never draws one."""

    def __init__(self, label: str, delay: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.label = label
        self.delay = DELAY_SECONDS if delay is None else delay
        self.clock = clock
        self.started = clock()
        self.progress: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.progress is None:
            if self.clock() - self.started < self.delay:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console(stderr=True), transient=True,
            )  # fmt: skip
            self.progress.start()
            # A column's text is not drawn through the console's strings: the label holds a file name.
            self.task = self.progress.add_task(terminal_text(self.label), total=total)
        self.progress.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()


def show_sponsors(sponsors: Sponsors) -> None:
    """``sponsor list`` for people: one row per sponsor's budget, then what its bonuses went to."""
    from rich import box
    from rich.table import Table

    out = console()
    data = sponsors.to_dict()
    if not data["sponsors"]:
        out.print("No sponsors yet. Start one: coinpurse sponsor fund NAME CASH")
        return
    table = Table(
        title=f"Sponsors' budgets ({data['currency']})", box=box.SIMPLE_HEAVY, show_edge=False, title_justify="left"
    )
    for column in ("sponsor", "funded", "spent", "returned", "withdrawn", "left", "gifts", "creators"):
        table.add_column(column, justify="left" if column == "sponsor" else "right")
    for row in data["sponsors"]:
        table.add_row(
            row["sponsor"], row["funded"], row["spent"], row["returned"], row["withdrawn"], row["left"],
            f"{row['gifts']:,}", f"{len(row['creators']):,}",
        )  # fmt: skip
    out.print(table)
    for row in data["sponsors"]:
        for on in row["on"]:
            out.print(
                f"  {row['sponsor']}: {on['gifts']:,} × {on['gift']} paid {on['diamonds']:,} bonus diamonds (${on['cash']})"
            )


def show_page(page: str) -> None:
    """A page asked for on stdout (``statement --html -``): the page itself, as export writes its text."""
    sys.stdout.write(page)


def show_statement_written(statement: Statement, target: object) -> None:
    anchor = (
        "" if statement.anchor is None else f"; last transaction {statement.anchor.id}, hash {statement.anchor.hash}"
    )
    say(f"Wrote the statement of {statement.account} to {target}{anchor}")


# ----- held payouts ----------------------------------------------------------------


def show_payouts(found: Any) -> None:
    """``payout list``: a row per held payout; an expired hold whose release is not recorded yet says so."""
    from rich import box
    from rich.table import Table

    out = console()
    data = found.to_dict()
    if not data["payouts"]:
        out.print("No held payouts" + (f" in state {data['state']}" if data["state"] else "") + ".")
        return
    table = Table(box=box.SIMPLE_HEAVY, show_edge=False)
    for column in ("id", "account", "asked (UTC)", "diamonds", f"net ({data['currency']})", "state", "by"):
        table.add_column(column, justify="right" if column in ("diamonds",) or column.startswith("net") else "left")
    for row in data["payouts"]:
        state = (
            row["state"]
            if row["release_recorded"]
            else f"{row['state']} (at {row['expires']}; release not yet recorded)"
        )
        table.add_row(
            terminal_text(row["id"]), row["account"], f"{row['asked_at'][:10]} {row['asked_at'][11:16]}",
            f"{row['diamonds']:,}", f"${row['net']}",
            state, terminal_text(row["returned_by"] or row["settled_by"] or ""),
        )  # fmt: skip
    out.print(table)


def show_payout_expiry(result: Any) -> None:
    from coinpurse.core.sentences import receipt

    data = result.to_dict()
    if not data["released"]:
        say("No held payout has expired untouched; nothing was recorded.")
        return
    for done in result.released:
        tx = done.transaction
        say(f"{terminal_text(tx.id)}: {terminal_text(receipt(tx.payload))}")
    if result.dry_run:
        say("Dry run: nothing was written.")


def show_report_written(result: Report, target: object) -> None:
    anchor = result.report.anchor
    named = "" if anchor is None else f"; last transaction {anchor.id}, hash {anchor.hash}"
    say(f"Wrote the platform report to {target}{named}")
