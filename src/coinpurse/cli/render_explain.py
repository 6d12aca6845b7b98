"""``explain``'s receipt: the steps of a transaction's path of value, then the checks. Imported only to draw."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from coinpurse.cli.output import console
from coinpurse.cli.render import _cash
from coinpurse.core.explain import (
    CASH,
    CASH_PER_COIN,
    CASH_PER_DIAMOND,
    COINS,
    DIAMONDS,
    DIAMONDS_PER_COIN,
    PERCENT,
    PERCENT_ROUNDING,
    RATE_PERCENT,
)
from coinpurse.core.money import decimal_str
from coinpurse.results import Explained

_PER = {CASH_PER_COIN: "coin", CASH_PER_DIAMOND: "diamond"}
_PLAIN = {"cash", "coins", "diamonds"}  # figure names that say no more than their amount does


def figure_text(amount: Any, unit: str) -> str:
    """A figure as people read it: 5 coins, 12 diamonds, $0.071, 64.79%, $0.005/diamond, 1/coin."""
    if unit in (COINS, DIAMONDS):
        word = unit if amount != 1 and amount != -1 else unit[:-1]
        return f"{amount:,} {word}"
    if unit == CASH:
        return _cash(amount)
    if unit in (PERCENT, RATE_PERCENT):
        return f"{decimal_str(amount)}%"
    if unit in _PER:
        return f"${decimal_str(amount)}/{_PER[unit]}"
    if unit == DIAMONDS_PER_COIN:
        return f"{decimal_str(amount)}/coin"
    return decimal_str(amount) if isinstance(amount, Decimal) else str(amount)


def _equation(total: Any, parts: tuple[Any, ...], unit: str) -> str:
    shown = figure_text(total, unit) + " ="
    for index, part in enumerate(parts):
        if index == 0:
            shown += f" {figure_text(part, unit)}"
        else:
            shown += f" {'−' if part < 0 else '+'} {figure_text(abs(part), unit)}"
    return shown


def show_explanation(result: Explained) -> None:
    e = result.explanation
    out = console()
    out.print(Text(f"{e.kind} {e.id} at {e.at}", style="bold"))
    out.print(Text(e.summary))
    steps = Table(box=box.SIMPLE_HEAVY, show_edge=False, pad_edge=False)
    steps.add_column("#", justify="right", no_wrap=True)
    steps.add_column("step", overflow="fold", ratio=1)
    steps.add_column("amount", justify="right", no_wrap=True)
    steps.add_column("from", overflow="fold")
    for number, step in enumerate(e.steps, start=1):
        figures = list(step.figures)
        # A lone figure that only names its unit is read on the step's own line; others each get a line.
        first = figures.pop(0) if figures and figures[0].name in _PLAIN else None
        amount = "" if first is None else figure_text(first.amount, first.unit)
        steps.add_row(str(number), step.label, amount, ", ".join(step.draws_on))
        for figure in figures:
            steps.add_row("", f"  {figure.name}", figure_text(figure.amount, figure.unit), "")
    out.print(steps)
    if e.checks:
        checks = Table(
            title="Checks",
            title_justify="left",
            box=box.SIMPLE_HEAVY,
            show_edge=False,
            show_header=False,
            pad_edge=False,
        )
        checks.add_column("", no_wrap=True)
        checks.add_column("check", overflow="fold", ratio=1)
        checks.add_column("figures", overflow="fold", ratio=1)
        for check in e.checks:
            mark = Text("ok", style="green") if check.holds else Text("NO", style="bold red")
            checks.add_row(mark, check.label, _equation(check.total, check.parts, check.unit))
        out.print(checks)
    failed = sum(1 for check in e.checks if not check.holds)
    if failed:
        out.print(
            Text(
                f"{failed} of {len(e.checks)} checks do not add up; 'coinpurse verify' says what is wrong.",
                style="bold red",
            )
        )
    elif e.checks:
        out.print(f"All {len(e.checks)} checks add up exactly.")
    for note in e.notes:
        out.print(Text(note))
    if any(figure.unit == PERCENT for step in e.steps for figure in step.figures):
        out.print(f"Percentages are rounded {PERCENT_ROUNDING}; the checks use the exact amounts.")
