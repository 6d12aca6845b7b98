"""Rich tables and receipts for people. Imported only when something is drawn."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table
from rich.text import Text

from coinpurse.cli.output import console
from coinpurse.core.model import Transaction
from coinpurse.core.money import percent_str
from coinpurse.results import AccountBalance, Balances, Gifters, History, OperationResult, RatesView, ReversalResult

if TYPE_CHECKING:
    from coinpurse.core.statement import GiftTotal, Statement


def _n(value: int) -> str:
    return f"{value:,}"


def _cash(value: str | Decimal) -> str:
    """Cash as people read it, grouped in thousands like coins: -$11,249.75, $0.025 (as receipts show it)."""
    from coinpurse.core.sentences import cash_text

    return cash_text(Decimal(value))


def _places(cell: str) -> int:
    """How many characters a cell has after its decimal point (none for whole numbers)."""
    point = cell.rfind(".")
    return 0 if point < 0 else len(cell) - point - 1


def aligned(cells: list[str], header: str = "") -> list[str]:
    """Amounts padded to one width with their decimal points (or units digits) in one column.

    Cash of 2 and 3 places then reads as one column: the shorter ones get
    spaces after them, and all get spaces before them up to the widest (or the
    header). Whole numbers (coins, diamonds) keep to the right edge. The column must be left-justified, since rich
    strips a right-justified cell's trailing spaces.
    """
    most = max((_places(cell) for cell in cells), default=0)
    padded = [cell + " " * (most - _places(cell)) if "." in cell else cell for cell in cells]
    width = max([len(header), *(len(cell) for cell in padded)])
    return [cell.rjust(width) for cell in padded]


def _money_column(table: Table, header: str, **options: Any) -> None:
    table.add_column(header, justify="left", no_wrap=True, **options)


def _plural(count: int, word: str) -> str:
    return f"{_n(count)} {word}{'' if count == 1 else 's'}"


def receipt_line(tx: Transaction) -> str:
    """One sentence that says where every coin and cent of a transaction went (see core.sentences)."""
    from coinpurse.core.sentences import receipt

    return receipt(tx.payload)


def show_receipt(result: OperationResult) -> None:
    tx = result.transaction
    out = console()
    title = f"{tx.kind} {tx.id}" + ("  (already recorded; nothing changed)" if result.replayed else "")
    table = Table(title=title, box=box.ROUNDED, show_header=True, title_justify="left")
    table.add_column("account")
    table.add_column("commodity")
    _money_column(table, "amount")
    shown = aligned([f"{p.amount:+,}" if isinstance(p.amount, int) else _cash(p.amount) for p in tx.postings], "amount")
    for posting, amount in zip(tx.postings, shown, strict=True):
        style = "green" if posting.amount > 0 else "red"
        table.add_row(posting.account, posting.commodity, Text(amount, style=style))
    out.print(table)
    out.print(receipt_line(tx))
    balances = ", ".join(f"{b.account}: {_plural(b.coins, 'coin')}, {_plural(b.diamonds, 'diamond')}" for b in tx.after)
    out.print(f"Now {balances}.  [{tx.at}]" if balances else f"[{tx.at}]")  # a sponsor's cash moves no one's coins


def show_balance(balance: AccountBalance) -> None:
    """One account, drawn like the table of every account: a row per fact, the amounts aligned."""
    out = console()
    table = Table(box=box.SIMPLE_HEAVY, show_edge=False)
    rows = [
        ("coins", _n(balance.state.coins)),
        ("diamonds (owed: clawed back by a refund)" if balance.available < 0 else "diamonds", _n(balance.available)),
        (f"diamonds are worth ({balance.currency})", _cash(balance.diamond_value)),
    ]
    if balance.pending or balance.released:
        rows[1] = ("diamonds available" + (" (owed)" if balance.available < 0 else ""), _n(balance.available))
        rows.insert(2, ("diamonds pending payout", _n(balance.pending)))
        rows.insert(3, ("diamonds in total", _n(balance.total)))
    if balance.state.coins:
        rows.append(("unspent coins cost", _cash(balance.coin_cost)))
    rows.append(("net cash (paid out − paid in)", _cash(balance.state.cash)))
    values = aligned([value for _, value in rows], balance.account)
    table.add_column("account")
    _money_column(table, balance.account.rjust(len(values[0])))
    for (what, _), value in zip(rows, values, strict=True):
        table.add_row(what, value)
    out.print(table)


def show_balances(balances: Balances) -> None:
    out = console()
    if not balances.accounts:
        out.print("No accounts yet. Start with: coinpurse buy alice 700")
        return
    values = balances.diamond_values()
    totals = balances.totals(values)
    worth_header = f"worth ({balances.currency})"
    worth = aligned([*map(_cash, values), _cash(totals["diamond_value"])], worth_header)
    columns = [("account", "left"), ("coins", "right"), ("diamonds", "right")]
    footer = ["total", _n(totals["coins"]), _n(totals["diamonds"])]
    held = totals["pending_diamonds"] != 0
    if held:  # only a ledger with payouts pending shows them
        columns.append(("pending", "right"))
        footer.append(_n(totals["pending_diamonds"]))
    columns.append((worth_header.rjust(len(worth[0])), "money"))
    footer.append(worth[-1])
    rows = []
    for account, value in zip(balances.accounts, worth, strict=False):
        owed = " (owed)" if account.available < 0 else ""
        pending = [_n(account.pending)] if held else []
        rows.append([account.account + owed, _n(account.state.coins), _n(account.available), *pending, value])
    if len(rows) >= PLAIN_TABLE_ROWS and print_plain_table(out, columns, rows, footer):
        return
    table = Table(box=box.SIMPLE_HEAVY, show_edge=False, show_footer=True)
    for (header, justify), total in zip(columns, footer, strict=True):
        if justify == "money":
            _money_column(table, header, footer=total)
        else:
            table.add_column(header, justify="right" if justify == "right" else "left", footer=total)
    for row in rows:
        table.add_row(*row)
    out.print(table)


# From this many rows a table is laid out here rather than by rich, which measures and renders
# every cell as an object: about 1.5 s for the 5,500 rows of a big ledger's balances.
PLAIN_TABLE_ROWS = 200


def print_plain_table(out: Any, columns: list[tuple[str, str]], rows: list[list[str]], footer: list[str]) -> bool:
    """Draw a table as rich draws ``Table(box=box.SIMPLE_HEAVY, show_edge=False, show_footer=True)`` of
    these columns (header, and "left", "right" or "money": left, unwrapped) when it fits the console: the same text, header and
    footer in their styles. False, drawing nothing, if it is too wide (rich then shrinks or wraps it)."""
    from rich.cells import cell_len
    from rich.text import Text

    from coinpurse.core.safetext import terminal_text

    body = [[terminal_text(cell) for cell in row] for row in rows]
    top = [terminal_text(header) for header, _ in columns]
    bottom = [terminal_text(cell) for cell in footer]
    widths = [max(map(cell_len, cells)) for cells in zip(top, bottom, *body, strict=True)]
    width = sum(widths) + 3 * len(widths) - 1  # a space either side of each cell, and one between cells
    if width > out.width:
        return False
    right = [justify == "right" for _, justify in columns]

    def line(cells: list[str]) -> str:
        fitted = (
            " " * (w - cell_len(c)) + c if r else c + " " * (w - cell_len(c))
            for c, w, r in zip(cells, widths, right, strict=True)
        )
        return " " + "   ".join(fitted) + " "

    rule = "━" * width
    text = Text(no_wrap=True, overflow="ignore", end="\n")
    text.append(line(top), style="table.header")
    text.append("\n" + rule + "\n" + "\n".join(map(line, body)) + "\n" + rule + "\n")
    text.append(line(bottom), style="table.footer")
    out.print(text, soft_wrap=True)
    return True


def show_rates(view: RatesView) -> None:
    out = console()
    data: dict[str, Any] = view.to_dict()
    packages = Table(title="Coin packages", box=box.SIMPLE_HEAVY, show_edge=False, title_justify="left")
    for column in ("channel", "coins", "price", "per coin", "creator's share"):
        packages.add_column(column, justify="left" if column == "channel" else "right")
    for package in data["packages"]:
        per_coin = Decimal(package["price"]) / package["coins"]
        packages.add_row(
            package["channel"],
            _n(package["coins"]),
            _cash(package["price"]),
            f"${per_coin.quantize(Decimal('0.00001'))}",
            percent_str(Decimal(package["creator_share"])),
        )
    out.print(packages)
    custom = Table(title="Custom amounts", box=box.SIMPLE_HEAVY, show_edge=False, title_justify="left")
    for column in ("channel", "per coin", "from", "to", "creator's share", "store fee"):
        custom.add_column(column, justify="left" if column == "channel" else "right")
    for channel in data["channels"]:
        fee = channel["store_fee_percent"]
        custom.add_row(
            channel["name"],
            f"${channel['coin_price']}",
            _n(channel["custom_min"]),
            _n(channel["custom_max"]),
            percent_str(Decimal(channel["creator_share"])),
            "not set" if fee is None else f"{fee}%",  # of every price on the channel, packages too
        )
    out.print(custom)
    gifts = Table(title="Gift catalog (coins)", box=box.SIMPLE_HEAVY, show_edge=False, title_justify="left")
    half = (len(data["gifts"]) + 1) // 2
    for _ in range(2):
        gifts.add_column("gift")
        gifts.add_column("coins", justify="right")
    left, right = data["gifts"][:half], data["gifts"][half:]
    for i, g in enumerate(left):
        row = [g["name"], _n(g["coins"])]
        row += [right[i]["name"], _n(right[i]["coins"])] if i < len(right) else ["", ""]
        gifts.add_row(*row)
    out.print(gifts)
    sponsored = [g for g in data["gifts"] if "sponsor" in g]
    for g in sponsored:  # a sponsor's budget pays a bonus on each one sent
        out.print(
            f"  {g['name']}: sponsor {g['sponsor']} pays the creator {_n(g['bonus_diamonds'])} bonus diamonds each"
        )
    payout = data["payout"]
    rules = Table(
        title="Conversion and payouts", box=box.SIMPLE_HEAVY, show_edge=False, show_header=False, title_justify="left"
    )
    rules.add_column("rule")
    rules.add_column("value", justify="right")
    rules.add_row("diamonds per coin of gift value", data["conversion"]["diamonds_per_coin"])
    rules.add_row("cash per diamond", f"${payout['cash_per_diamond']}")
    rules.add_row("payout minimum", _cash(payout["minimum"]))
    rules.add_row("payout daily maximum (UTC day)", _cash(payout["daily_maximum"]))
    rules.add_row("payout fee", f"{payout['fee_percent']}%")
    rules.add_row("held payout review (days)", str(payout["review_days"]))
    out.print(rules)
    out.print(
        "A viewer's coins become the creator's diamonds; the creator's share is what those diamonds "
        "pay out, over what the viewer paid for the coins. The platform keeps the rest."
    )


HISTORY_SHOWN = 20  # on a terminal, without --limit or --all: the newest this many


def history_amount(tx: Transaction) -> str:
    """The cash a transaction moved: what a buy cost, what a gift's coins cost, what a payout paid."""
    details = getattr(tx.payload, "details", None)
    for field in ("price", "paid", "cash"):
        value = getattr(details, field, None)
        if isinstance(value, Decimal):
            return _cash(value)
    lots = getattr(details, "lots", None) if tx.kind == "reversal" else None
    if lots:  # what the coins given back had cost, as the gift's row shows it
        return _cash(sum((lot.cost for lot in lots), Decimal(0)))
    return ""


def history_line(tx: Transaction) -> str:
    """A transaction in the few words a history row has room for (its receipt says the rest)."""
    from coinpurse.core.kinds import BuyRecord, GiftRecord, RatesRecord, RedeemRecord, ReversalRecord

    record = tx.payload
    if isinstance(record, BuyRecord):
        return f"{record.request.account}: {_plural(record.request.coins, 'coin')} ({record.request.channel})"
    if isinstance(record, GiftRecord):
        d = record.details
        gift = f"{d.count} × {d.gift}" if d.count > 1 else d.gift
        return f"{record.request.sender} → {record.request.recipient}: {gift}"
    if isinstance(record, RedeemRecord):
        return f"{record.request.account}: {_plural(record.details.diamonds, 'diamond')} paid out"
    if isinstance(record, ReversalRecord):
        undone = record.details
        return f"reverses {undone.original}: {_plural(undone.coins, 'coin')} back to {undone.sender} ({undone.reason})"
    if isinstance(record, RatesRecord):
        changes = record.details.changes
        if not changes:
            return f"{record.details.source}: no change"
        first = changes[0]
        more = f" (+{len(changes) - 1} more)" if len(changes) > 1 else ""
        before, after = ("none" if v is None else v for v in (first.before, first.after))
        return f"{record.details.source}: {first.key} {before} → {after}{more}"
    return _payout_line(tx) or receipt_line(tx)


def _payout_line(tx: Transaction) -> str | None:
    """A held payout's row: the hold, or what became of it (its id names the hold)."""
    d = getattr(tx.payload, "details", None)
    if tx.kind == "payout-hold":
        return f"{tx.payload.request.account}: {_plural(d.diamonds, 'diamond')} held for review until {d.expires}"  # type: ignore[union-attr]
    hold, account, reason = getattr(d, "hold", None), getattr(d, "account", None), getattr(d, "reason", None)
    if hold is None:
        return None
    why = f" ({reason})" if reason else ""
    said = {
        "payout-approve": f"pays {hold} to {account}",
        "payout-reject": f"rejects {hold}: {_plural(d.diamonds, 'diamond')} back to {account}{why}",  # type: ignore[union-attr]
        "payout-expire": f"releases {hold}, expired at {getattr(d, 'expires', '')}",
        "payout-return": f"{hold} returned by the bank: back from {account}{why}",
    }
    return said.get(tx.kind)


def show_history(history: History, more: bool = False) -> None:
    """One line per transaction (a terminal's long one may fold); ``more``: older ones were left out."""
    out = console()
    if not history.transactions:
        out.print("No transactions.")
        return
    table = Table(
        box=box.SIMPLE_HEAVY, show_edge=False
    )  # a row fits 80 columns: the time to the minute (--json has it to the second)
    header = "amount"
    amounts = aligned([history_amount(tx) for tx in history.transactions], header)
    table.add_column("id", no_wrap=True)
    table.add_column("at (UTC)", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    _money_column(table, header.rjust(len(amounts[0])))
    table.add_column("what", overflow="fold")
    for tx, amount in zip(history.transactions, amounts, strict=True):
        line = history_line(tx)
        reversal = history.reversed_by.get(tx.id) if tx.kind == "gift" else None
        if reversal is not None:
            line += f" [reversed by {reversal}]"
        table.add_row(tx.id, tx.at.replace("T", " ")[:16], tx.kind, amount, line)
    out.print(table)
    if more:
        shown = len(history.transactions)
        out.print(f"The newest {shown} are shown; see more with --limit N, or all with --all.")


def show_gifters(ranking: Gifters, *, window: bool = False) -> None:
    """The leaderboard: the same ranks and counts as its JSON (gifts are transactions, items the gifts in them)."""
    out = console()
    on_stream = "" if ranking.stream is None else f" on stream {ranking.stream}"
    if not ranking.gifters:
        if not window and ranking.stream is None:
            out.print(f"No one has sent {ranking.account} a gift yet.")
        else:
            out.print(
                Text(f"No one sent {ranking.account} a gift{on_stream}{' in that time' if window else ''}."),
                soft_wrap=True,
            )
        return
    title = Text(f"Top gifters of @{ranking.account}{on_stream}")  # a stream's name is shown as typed, never as markup
    table = Table(title=title, box=box.SIMPLE_HEAVY, show_edge=False, title_justify="left")
    worth_header = f"worth ({ranking.currency})"
    worth = aligned([_cash(gifter.diamond_value) for gifter in ranking.gifters], worth_header)
    for column in ("#", "gifter", "gifts", "items", "coins", "diamonds"):
        table.add_column(column, justify="left" if column == "gifter" else "right")
    _money_column(table, worth_header.rjust(len(worth[0])))
    for index, (gifter, value) in enumerate(zip(ranking.gifters, worth, strict=True)):
        table.add_row(
            str(ranking.rank_of(index)),
            gifter.account,
            _n(gifter.gifts),
            _n(gifter.items),
            _n(gifter.coins),
            _n(gifter.diamonds),
            value,
        )
    out.print(table)


def show_balances_at(then: Any) -> None:
    """``balance --at``: coins and diamonds as they were, the moment (and the last transaction by then) in the title."""
    out = console()
    as_of = "before the first transaction" if then.as_of is None else f"after {then.as_of.id} at {then.as_of.at}"
    if then.account is None and not then.accounts:
        out.print(f"No accounts yet at {then.at}.", soft_wrap=True)
        return
    out.print(Text(f"As at {then.at} ({as_of}):"), soft_wrap=True)
    table = Table(box=box.SIMPLE_HEAVY, show_edge=False, show_footer=then.account is None)
    if then.account is not None:
        one = then.accounts[0]
        table.add_column("account")
        table.add_column(one.account, justify="right")
        table.add_row("coins", _n(one.coins))
        table.add_row("diamonds", _n(one.diamonds))
    else:
        totals = then.totals()
        table.add_column("account", footer="total")
        table.add_column("coins", justify="right", footer=_n(totals["coins"]))
        table.add_column("diamonds", justify="right", footer=_n(totals["diamonds"]))
        for row in then.accounts:
            table.add_row(row.account, _n(row.coins), _n(row.diamonds))
    out.print(table)


def show_reversal(result: ReversalResult) -> None:
    """A reversal's receipt; a dry run says that nothing was written."""
    show_receipt(result.operation)
    if result.dry_run:
        console().print("Dry run: nothing was written.")


def show_write_receipt(result: OperationResult, dry_run: bool) -> None:
    """A write's receipt (refund, payout settlement, sponsor budget); a dry run says nothing was written."""
    show_receipt(result)
    if dry_run:
        console().print("Dry run: nothing was written.")


# ----- explain ---------------------------------------------------------------------

if TYPE_CHECKING:
    from coinpurse.results import Explained

_PER = {"cash per coin": "coin", "cash per diamond": "diamond"}  # core.explain.CASH_PER_COIN, CASH_PER_DIAMOND
_PLAIN = {"cash", "coins", "diamonds"}  # figure names that say no more than their amount does


def figure_text(amount: Any, unit: str) -> str:
    """A figure as people read it: 5 coins, 12 diamonds, $0.071, 64.79%, $0.005/diamond, 1/coin."""
    from coinpurse.core import explain as units
    from coinpurse.core.money import decimal_str

    if unit in (units.COINS, units.DIAMONDS):
        word = unit if amount != 1 and amount != -1 else unit[:-1]
        return f"{amount:,} {word}"
    if unit == units.CASH:
        return _cash(amount)
    if unit in (units.PERCENT, units.RATE_PERCENT):
        return f"{decimal_str(amount)}%"
    if unit in _PER:
        return f"${decimal_str(amount)}/{_PER[unit]}"
    if unit == units.DIAMONDS_PER_COIN:
        return f"{decimal_str(amount)}/coin"
    return decimal_str(amount) if isinstance(amount, Decimal) else str(amount)


def _check_equation(total: Any, parts: tuple[Any, ...], unit: str) -> str:
    shown = figure_text(total, unit) + " ="
    for index, part in enumerate(parts):
        if index == 0:
            shown += f" {figure_text(part, unit)}"
        else:
            shown += f" {'−' if part < 0 else '+'} {figure_text(abs(part), unit)}"
    return shown


def show_explanation(result: Explained) -> None:
    """``explain``: the steps of a transaction's path of value, then the checks that its figures add up."""
    from coinpurse.core.explain import PERCENT, PERCENT_ROUNDING

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
            checks.add_row(mark, check.label, _check_equation(check.total, check.parts, check.unit))
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


# ----- statement: a creator's period, in tables that fit 80 columns ---------------------------------


def _statement_table(title: str) -> Table:
    return Table(title=title, box=box.SIMPLE_HEAVY, show_edge=False, title_justify="left", pad_edge=False)


def show_statement(statement: Statement) -> None:
    from coinpurse.formats.statement_html import period_text, share_text, stream_text

    s = statement
    out = console()
    out.print(Text(f"Statement for @{s.account}: {period_text(s)} (UTC)"), soft_wrap=True)
    if s.stream is not None:
        out.print(Text(stream_text(s)))
    if s.anchor is None:
        out.print("No transaction in the ledger by the end of the period.")
    else:
        out.print(Text(f"Last transaction in the period: {s.anchor.id} at {s.anchor.at}"), soft_wrap=True)
        out.print(Text(f"  {s.anchor.hash}"), soft_wrap=True)
    out.print()
    balances = _statement_table("Balances")
    balances.add_column("")
    balances.add_column("opening", justify="right")
    balances.add_column("closing", justify="right")
    balances.add_row("coins", _n(s.opening.coins), _n(s.closing.coins))
    balances.add_row("diamonds", _n(s.opening.diamonds), _n(s.closing.diamonds))
    out.print(balances)
    out.print()
    summary = _statement_table("Summary")
    summary.add_column("")
    summary.add_column("diamonds", justify="right")
    worth_header = f"worth ({s.currency})"
    worth = aligned([_cash(s.gifts.diamond_value), _cash(-s.taken_back_value), _cash(s.earned_value)], worth_header)
    _money_column(summary, worth_header.rjust(len(worth[0])))
    summary.add_row("received", _n(s.gifts.diamonds), worth[0])
    summary.add_row("taken back", _n(-s.taken_back_diamonds) if s.taken_back_diamonds else "0", worth[1])
    summary.add_row("earned", _n(s.diamonds_earned), worth[2])
    out.print(summary)
    if not s.gifts.gifts:
        out.print()
        out.print("No gifts received in this period.")
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
            out.print(_statement_gifts(rows, title, what, s.currency))
    if s.taken_back:
        out.print()
        out.print(_statement_taken_back(s))
    out.print()
    if s.stream is not None:
        out.print("Payouts: not shown, as they belong to no stream.")
    elif s.payouts:
        out.print(_statement_payouts(s))
        for status, total in s.payout_totals().items():
            out.print(
                f"Total {status}: {_plural(total['count'], 'payout')}, {_plural(total['diamonds'], 'diamond')}, "
                f"net {_cash(total['net'])} (fee {_cash(total['fee'])})"
            )
    else:
        out.print("No payouts in this period.")
    out.print()
    share = s.share
    if share.ratio is None:
        out.print(
            "Share of viewers' cash: none to show, as no cash was paid for this period's gifts (less what was taken back)."
        )
    else:
        out.print(
            Text(
                f"Share of viewers' cash that reached @{s.account}: {share_text(share.ratio)} "
                f"({_cash(share.diamond_value)} of diamonds earned for {_cash(share.paid)} the viewers paid, less what was taken back)"
            ),
        )


def _statement_gifts(rows: Sequence[GiftTotal], title: str, what: str, currency: str) -> Table:
    from coinpurse.formats.statement_html import NO_STREAM

    table = _statement_table(title)
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


def _statement_taken_back(s: Statement) -> Table:
    table = _statement_table("Taken back")
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


def _statement_payouts(s: Statement) -> Table:
    table = _statement_table("Payouts")
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
