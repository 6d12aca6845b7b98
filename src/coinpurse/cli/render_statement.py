"""``statement`` for people: a creator's period on a terminal, in tables that fit 80 columns. Imported only to draw."""

from __future__ import annotations

from collections.abc import Sequence

from rich import box
from rich.table import Table
from rich.text import Text

from coinpurse.cli.output import console
from coinpurse.cli.render import _cash, _money_column, _n, aligned
from coinpurse.core.statement import GiftTotal, Statement
from coinpurse.formats.statement_html import NO_STREAM, period_text, share_text


def _table(title: str) -> Table:
    return Table(title=title, box=box.SIMPLE_HEAVY, show_edge=False, title_justify="left", pad_edge=False)


def show_statement(statement: Statement) -> None:
    s = statement
    out = console()
    out.print(Text(f"Statement for @{s.account}: {period_text(s)} (UTC)"), soft_wrap=True)
    if s.anchor is None:
        out.print("No transaction in the ledger by the end of the period.")
    else:
        out.print(Text(f"Last transaction in the period: {s.anchor.id} at {s.anchor.at}"), soft_wrap=True)
        out.print(Text(f"  {s.anchor.hash}"), soft_wrap=True)
    out.print()
    balances = _table("Balances")
    balances.add_column("")
    balances.add_column("opening", justify="right")
    balances.add_column("closing", justify="right")
    balances.add_row("coins", _n(s.opening.coins), _n(s.closing.coins))
    balances.add_row("diamonds", _n(s.opening.diamonds), _n(s.closing.diamonds))
    out.print(balances)
    out.print()
    summary = _table("Summary")
    summary.add_column("")
    summary.add_column("diamonds", justify="right")
    worth_header = f"worth ({s.currency})"
    worth = aligned([_cash(s.gifts.diamond_value), _cash(s.taken_back_value), _cash(s.earned_value)], worth_header)
    _money_column(summary, worth_header.rjust(len(worth[0])))
    summary.add_row("received", _n(s.gifts.diamonds), worth[0])
    summary.add_row("taken back", _n(-s.taken_back_diamonds) if s.taken_back_diamonds else "0", worth[1])
    summary.add_row("earned", _n(s.diamonds_earned), worth[2])
    out.print(summary)
    for rows, title, what in (
        (s.by_gift, "By gift", "gift"),
        (s.by_stream, "By stream", "stream"),
        (
            s.top_gifters,
            "Top gifters" + (f" ({len(s.top_gifters)} of {s.gifters})" if s.gifters > len(s.top_gifters) else ""),
            "gifter",
        ),
    ):
        if rows:
            out.print()
            out.print(_gift_table(rows, title, what, s.currency))
    if s.taken_back:
        out.print()
        out.print(_taken_back_table(s))
    out.print()
    if s.payouts:
        out.print(_payout_table(s))
    else:
        out.print("No payouts in this period.")
    out.print()
    share = s.share
    if share.ratio is None:
        out.print("Share of viewers' cash: no gifts paid for with cash in this period.")
    else:
        out.print(
            Text(
                f"Share of viewers' cash that reached @{s.account}: {share_text(share.ratio)} "
                f"({_cash(share.diamond_value)} of diamonds for {_cash(share.paid)} the viewers paid)"
            ),
        )


def _gift_table(rows: Sequence[GiftTotal], title: str, what: str, currency: str) -> Table:
    table = _table(title)
    table.add_column(what, overflow="fold", max_width=24)
    for column in ("gifts", "items", "diamonds"):
        table.add_column(column, justify="right")
    worth_header, paid_header = f"worth ({currency})", f"paid ({currency})"
    worth = aligned([_cash(row.diamond_value) for row in rows], worth_header)
    paid = aligned([_cash(row.paid) for row in rows], paid_header)
    _money_column(table, worth_header.rjust(len(worth[0])))
    _money_column(table, paid_header.rjust(len(paid[0])))
    for row, shown_worth, shown_paid in zip(rows, worth, paid, strict=True):
        table.add_row(
            NO_STREAM if row.name is None else row.name,
            _n(row.gifts),
            _n(row.items),
            _n(row.diamonds),
            shown_worth,
            shown_paid,
        )
    return table


def _taken_back_table(s: Statement) -> Table:
    table = _table("Taken back")
    table.add_column("transaction", overflow="fold")
    table.add_column("kind")
    table.add_column("viewer", overflow="fold")
    table.add_column("gifts", overflow="fold", max_width=20)
    table.add_column("diamonds", justify="right")
    worth_header = f"worth ({s.currency})"
    worth = aligned([_cash(row.diamond_value) for row in s.taken_back], worth_header)
    _money_column(table, worth_header.rjust(len(worth[0])))
    for row, shown in zip(s.taken_back, worth, strict=True):
        table.add_row(row.id, row.kind, row.viewer, ", ".join(row.gifts), _n(row.diamonds), shown)
    return table


def _payout_table(s: Statement) -> Table:
    table = _table("Payouts")
    table.add_column("id", overflow="fold")
    table.add_column("at")
    table.add_column("status")
    table.add_column("diamonds", justify="right")
    cash = aligned([_cash(row.cash) for row in s.payouts], "cash")
    fee = aligned([_cash(row.fee) for row in s.payouts], "fee")
    net = aligned([_cash(row.net) for row in s.payouts], "net")
    for header, cells in (("cash", cash), ("fee", fee), ("net", net)):
        _money_column(table, header.rjust(len(cells[0])))
    for row, shown_cash, shown_fee, shown_net in zip(s.payouts, cash, fee, net, strict=True):
        table.add_row(row.id, row.at, row.status, _n(row.diamonds), shown_cash, shown_fee, shown_net)
    return table
