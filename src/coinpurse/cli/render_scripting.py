"""Rich output for scenarios, rate changes, new ledgers and the demo. Imported only when drawing."""

from __future__ import annotations

from typing import Any

from coinpurse.cli.output import console
from coinpurse.core.safetext import terminal_text
from coinpurse.scripting import ApplyReport, DemoResult, InitResult, RatesChangeResult


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


class ProgressBar:
    """A rich progress bar on stderr, started on the first report so short files never draw one."""

    def __init__(self, label: str, minimum: int = 2000) -> None:
        self.label = label
        self.minimum = minimum
        self.progress: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if total < self.minimum:
            return
        if self.progress is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=console(stderr=True), transient=True,
            )  # fmt: skip
            self.progress.start()
            # A column's text is not drawn through the console's strings: the label holds a file name.
            self.task = self.progress.add_task(terminal_text(self.label), total=total)
        self.progress.update(self.task, completed=done)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
