"""Rich tables and receipts for people. Imported only when something is drawn."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from coinpurse.cli.output import console
from coinpurse.core.model import Transaction
from coinpurse.core.money import money_str, percent_str
from coinpurse.results import AccountBalance, Balances, Gifters, History, OperationResult, RatesView, ReversalResult


def _n(value: int) -> str:
    return f"{value:,}"


def _cash(value: str | Decimal) -> str:
    """Cash as people read it, grouped in thousands like coins: -$11,249.75, $0.025."""
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    whole, point, fraction = money_str(abs(amount)).partition(".")
    return f"{sign}${int(whole):,}{point}{fraction}"


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
    balances = ", ".join(
        f"{b.account}: {_plural(b.coins, 'coin')}, {_plural(b.diamonds, 'diamond')}" for b in tx.after
    )
    out.print(f"Now {balances}.  [{tx.at}]")


def show_balance(balance: AccountBalance) -> None:
    """One account, drawn like the table of every account: a row per fact, the amounts aligned."""
    out = console()
    table = Table(box=box.SIMPLE_HEAVY, show_edge=False)
    rows = [
        ("coins", _n(balance.state.coins)),
        ("diamonds (owed: clawed back by a refund)" if balance.state.diamonds < 0 else "diamonds", _n(balance.state.diamonds)),
        (f"diamonds are worth ({balance.currency})", _cash(balance.diamond_value)),
    ]
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
    table = Table(box=box.SIMPLE_HEAVY, show_edge=False, show_footer=True)
    totals = balances.totals()
    worth_header = f"worth ({balances.currency})"
    worth = aligned([*(_cash(a.diamond_value) for a in balances.accounts), _cash(totals["diamond_value"])], worth_header)
    table.add_column("account", footer="total")
    table.add_column("coins", justify="right", footer=_n(totals["coins"]))
    table.add_column("diamonds", justify="right", footer=_n(totals["diamonds"]))
    _money_column(table, worth_header.rjust(len(worth[0])), footer=worth[-1])
    for account, value in zip(balances.accounts, worth, strict=False):
        owed = " (owed)" if account.state.diamonds < 0 else ""
        table.add_row(account.account + owed, _n(account.state.coins), _n(account.state.diamonds), value)
    out.print(table)


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
    for column in ("channel", "per coin", "from", "to", "creator's share"):
        custom.add_column(column, justify="left" if column == "channel" else "right")
    for channel in data["channels"]:
        custom.add_row(
            channel["name"],
            f"${channel['coin_price']}",
            _n(channel["custom_min"]),
            _n(channel["custom_max"]),
            percent_str(Decimal(channel["creator_share"])),
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
    payout = data["payout"]
    rules = Table(title="Conversion and payouts", box=box.SIMPLE_HEAVY, show_edge=False, show_header=False, title_justify="left")
    rules.add_column("rule")
    rules.add_column("value", justify="right")
    rules.add_row("diamonds per coin of gift value", data["conversion"]["diamonds_per_coin"])
    rules.add_row("cash per diamond", f"${payout['cash_per_diamond']}")
    rules.add_row("payout minimum", _cash(payout["minimum"]))
    rules.add_row("payout daily maximum (UTC day)", _cash(payout["daily_maximum"]))
    rules.add_row("payout fee", f"{payout['fee_percent']}%")
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
    return receipt_line(tx)


def show_history(history: History, more: bool = False) -> None:
    """One line per transaction (a terminal's long one may fold); ``more``: older ones were left out."""
    out = console()
    if not history.transactions:
        out.print("No transactions.")
        return
    table = Table(box=box.SIMPLE_HEAVY, show_edge=False)  # a row fits 80 columns: the time to the minute (--json has it to the second)
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
            out.print(Text(f"No one sent {ranking.account} a gift{on_stream}{' in that time' if window else ''}."), soft_wrap=True)
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


def show_refund(result: OperationResult, dry_run: bool) -> None:
    """A refund's receipt; a dry run says nothing was written."""
    show_receipt(result)
    if dry_run:
        console().print("Dry run: nothing was written.")
