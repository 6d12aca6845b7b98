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
from coinpurse.results import AccountBalance, Balances, Gifters, History, OperationResult, RatesView


def _n(value: int) -> str:
    return f"{value:,}"


def _cash(value: str | Decimal) -> str:
    amount = Decimal(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}${money_str(abs(amount))}"


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
    table.add_column("amount", justify="right")
    for posting in tx.postings:
        amount = posting.amount
        shown = f"{amount:+,}" if isinstance(amount, int) else _cash(amount)
        style = "green" if amount > 0 else "red"
        table.add_row(posting.account, posting.commodity, Text(shown, style=style))
    out.print(table)
    out.print(receipt_line(tx))
    balances = ", ".join(
        f"{b.account}: {_plural(b.coins, 'coin')}, {_plural(b.diamonds, 'diamond')}" for b in tx.after
    )
    out.print(f"Now {balances}.  [{tx.at}]")


def show_balance(balance: AccountBalance) -> None:
    out = console()
    table = Table(title=f"@{balance.account}", box=box.ROUNDED, show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("coins", _n(balance.state.coins))
    table.add_row("diamonds", _n(balance.state.diamonds))
    table.add_row("diamonds are worth", f"{_cash(balance.diamond_value)} {balance.currency}")
    if balance.state.coins:
        table.add_row("unspent coins cost", _cash(balance.coin_cost))
    table.add_row("net cash (paid out − paid in)", _cash(balance.state.cash))
    out.print(table)


def show_balances(balances: Balances) -> None:
    out = console()
    if not balances.accounts:
        out.print("No accounts yet. Start with: coinpurse buy alice 700")
        return
    table = Table(box=box.SIMPLE_HEAVY, show_footer=True)
    totals = balances.totals()
    table.add_column("account", footer="total")
    table.add_column("coins", justify="right", footer=_n(totals["coins"]))
    table.add_column("diamonds", justify="right", footer=_n(totals["diamonds"]))
    table.add_column(f"worth ({balances.currency})", justify="right", footer=_cash(totals["diamond_value"]))
    for account in balances.accounts:
        table.add_row(account.account, _n(account.state.coins), _n(account.state.diamonds), _cash(account.diamond_value))
    out.print(table)


def show_rates(view: RatesView) -> None:
    out = console()
    data: dict[str, Any] = view.to_dict()
    packages = Table(title="Coin packages", box=box.SIMPLE_HEAVY, title_justify="left")
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
    custom = Table(title="Custom amounts", box=box.SIMPLE_HEAVY, title_justify="left")
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
    gifts = Table(title="Gift catalog (coins)", box=box.SIMPLE_HEAVY, title_justify="left")
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
    rules = Table(title="Conversion and payouts", box=box.SIMPLE_HEAVY, show_header=False, title_justify="left")
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


def show_history(history: History) -> None:
    out = console()
    if not history.transactions:
        out.print("No transactions.")
        return
    table = Table(box=box.SIMPLE_HEAVY)
    table.add_column("id")
    table.add_column("at")
    table.add_column("kind")
    table.add_column("what happened", overflow="fold")
    for tx in history.transactions:
        table.add_row(tx.id, tx.at, tx.kind, receipt_line(tx))
    out.print(table)


def show_gifters(ranking: Gifters) -> None:
    out = console()
    if not ranking.gifters:
        out.print(f"No one has sent {ranking.account} a gift yet.")
        return
    table = Table(title=f"Top gifters of @{ranking.account}", box=box.SIMPLE_HEAVY, title_justify="left")
    for column in ("#", "gifter", "gifts", "coins", "diamonds", f"worth ({ranking.currency})"):
        table.add_column(column, justify="left" if column == "gifter" else "right")
    for rank, gifter in enumerate(ranking.gifters, start=1):
        table.add_row(
            str(rank),
            gifter.account,
            _n(gifter.items),
            _n(gifter.coins),
            _n(gifter.diamonds),
            _cash(gifter.diamond_value),
        )
    out.print(table)
