"""``coinpurse report`` for people: its figures in tables, with bars of block characters. Imported only to draw."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from coinpurse.cli.output import console
from coinpurse.cli.render import _cash, _n, _plural, aligned
from coinpurse.results import Report

CREATORS_SHOWN = 10  # the creators with most diamonds; --json lists them all
_EIGHTHS = " ▏▎▍▌▋▊▉"  # a bar's last cell, in eighths of a cell
_FULL = "█"
_GIVEN_BACK = "░"  # the part of a period's cash in paid out or refunded


def bar(value: Decimal | int, most: Decimal | int, width: int) -> str:
    """``value`` as a bar of up to ``width`` cells, the longest (``most``) filling them all, to an eighth."""
    if most <= 0 or value <= 0:
        return ""
    eighths = int((Decimal(value) * width * 8 / Decimal(most)).to_integral_value(rounding=ROUND_HALF_UP))
    whole, part = divmod(max(eighths, 1), 8)
    return _FULL * whole + (_EIGHTHS[part] if part else "")


def split_bar(kept: Decimal, cash_in: Decimal, most: Decimal, width: int) -> str:
    """A period's cash in as a bar: what the platform kept solid, what it gave back (paid out, refunded) shaded."""
    if most <= 0 or cash_in <= 0:
        return ""
    cells = int((cash_in * width / most).to_integral_value(rounding=ROUND_HALF_UP)) or 1
    solid = int((max(kept, Decimal(0)) * cells / cash_in).to_integral_value(rounding=ROUND_HALF_UP))
    return _FULL * min(solid, cells) + _GIVEN_BACK * (cells - min(solid, cells))


def _bar_width(used: int) -> int:
    """Cells for a bar beside ``used`` characters of other columns, so a table fits the console (80 columns too)."""
    return max(8, min(30, console().width - used - 2))


def _percent(value: str | None) -> str:
    return "–" if value is None else f"{value}%"


def _window(data: dict[str, Any]) -> str:
    since, until = data["since"], data["until"]
    if since is None and until is None:
        return "all of the history"
    if since is None:
        return f"up to {until}"
    if until is None:
        return f"from {since}"
    return f"{since} to {until}"


def show_report(result: Report) -> None:
    data = result.to_dict()
    if data["stream"] is not None:
        _show_stream_report(data)
        return
    out = console()
    totals = data["totals"]
    out.print(Text(f"Platform report, {_window(data)}, by {data['by']}"), soft_wrap=True)
    if not data["periods"]:
        out.print("No transactions in that time.")
    else:
        _show_money(totals, data["currency"])
        _show_periods(data["periods"])
        _show_channels(data["channels"])
        _show_creators(data["creators"])
        _show_sponsors(data["sponsors"], data["currency"])
    _show_liabilities(data["liabilities"], data["currency"])


def _show_money(totals: dict[str, Any], currency: str) -> None:
    rows = [
        (
            "viewer cash in",
            _cash(totals["cash_in"]),
            f"{_plural(totals['coins_sold'], 'coin')} in {_plural(totals['buys'], 'buy')}",
        ),
        ("refunded", _cash(-Decimal(totals["refunded"])), _plural(totals["refunds"], "refund")),
        ("paid out to creators", _cash(-Decimal(totals["paid_out"])), _plural(totals["payouts"], "payout")),
        ("platform kept", _cash(totals["kept"]), _percent(totals["kept_percent"]) + " of cash in"),
    ]
    rows += _store_fee_rows(totals)
    console().print(_cash_table(rows, currency))
    diamonds = f"Diamonds issued: {_n(totals['diamonds_issued'])} by {_plural(totals['gifts'], 'gift')}"
    taken = [
        f"{_n(totals[key])} {what}"
        for key, what in (("diamonds_reversed", "reversed"), ("diamonds_clawed_back", "clawed back"))
        if totals[key]
    ]
    if taken:
        diamonds += f", less {' and '.join(taken)}: {_n(totals['diamonds_net'])} net"
    fees = Decimal(totals["payout_fees"])
    redeemed = f"; {_n(totals['diamonds_redeemed'])} redeemed for {_cash(totals['payout_cash'])}"
    if fees:
        redeemed += f", of which the platform kept {_cash(fees)} in fees"
    console().print(Text(diamonds + redeemed + "."))


def _store_fee_rows(totals: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What app stores took (reckoned from each buy's recorded fee, not booked) and what the platform kept after."""
    unrecorded = totals["store_fee_unrecorded_buys"]
    if not Decimal(totals["store_fees"]) and not unrecorded:
        return []  # no store fee on the buys' channels (web only): "platform kept" is the whole story
    note = "at the fees the buys recorded"
    if unrecorded:
        note += f"; {_plural(unrecorded, 'buy')} recorded none"
    return [
        ("app-store fees", _cash(-Decimal(totals["store_fees"])), note),
        (
            "kept after store fees",
            _cash(totals["kept_after_store_fees"]),
            _percent(totals["kept_after_store_fees_percent"]) + " of cash in",
        ),
    ]


def _show_periods(periods: list[dict[str, Any]]) -> None:
    cash = aligned([_cash(p["cash_in"]) for p in periods], "cash in")
    kept = aligned([_cash(p["kept"]) for p in periods], "kept")
    used = max(len(p["period"]) for p in periods) + len(cash[0]) + len(kept[0]) + 3 * 3
    width = _bar_width(used)
    most = max(Decimal(p["cash_in"]) for p in periods)
    table = Table(
        title=f"Viewer cash in by period ({_FULL} kept, {_GIVEN_BACK} paid out or refunded)",
        box=box.SIMPLE_HEAVY, show_edge=False, title_justify="left",
    )  # fmt: skip
    table.add_column("period", no_wrap=True)
    table.add_column("cash in".rjust(len(cash[0])), justify="left", no_wrap=True)
    table.add_column("kept".rjust(len(kept[0])), justify="left", no_wrap=True)
    table.add_column("", no_wrap=True, max_width=width)
    for period, cash_in, kept_cell in zip(periods, cash, kept, strict=True):
        drawn = split_bar(Decimal(period["kept"]), Decimal(period["cash_in"]), most, width)
        table.add_row(period["period"], cash_in, kept_cell, drawn)
    console().print()
    console().print(table)


def _show_channels(channels: list[dict[str, Any]]) -> None:
    if not channels:
        return
    cash = aligned([_cash(c["cash_in"]) for c in channels], "cash in")
    refunded = aligned([_cash(c["refunded"]) for c in channels], "refunded")
    store = aligned([_cash(c["store_fees"]) for c in channels], "store fees")
    coins = [_n(c["coins_sold"]) for c in channels]
    used = (
        max(len("channel"), *(len(c["channel"]) for c in channels))
        + max(len("coins sold"), *map(len, coins))
        + len(cash[0])
        + len(refunded[0])
        + len(store[0])
        + 5 * 3
    )
    width = _bar_width(used)
    most = max(Decimal(c["cash_in"]) for c in channels)
    table = Table(title="Sales by channel", box=box.SIMPLE_HEAVY, show_edge=False, title_justify="left")
    table.add_column("channel", no_wrap=True)
    table.add_column("coins sold", justify="right", no_wrap=True)
    table.add_column("cash in".rjust(len(cash[0])), justify="left", no_wrap=True)
    table.add_column("refunded".rjust(len(refunded[0])), justify="left", no_wrap=True)
    table.add_column("store fees".rjust(len(store[0])), justify="left", no_wrap=True)  # what app stores took
    table.add_column("", no_wrap=True, max_width=width)
    for channel, sold, cash_in, back, fees in zip(channels, coins, cash, refunded, store, strict=True):
        table.add_row(channel["channel"], sold, cash_in, back, fees, bar(Decimal(channel["cash_in"]), most, width))
    console().print()
    console().print(table)


def _show_creators(creators: list[dict[str, Any]]) -> None:
    if not creators:
        return
    shown = creators[:CREATORS_SHOWN]
    paid = aligned([_cash(c["paid_out"]) for c in shown], "paid out")
    share = [_percent(c["share_of_viewer_cash"]) for c in shown]
    diamonds = [_n(c["diamonds"]) for c in shown]
    used = (
        max(len("creator"), *(len(c["account"]) for c in shown)) + max(len("diamonds"), *map(len, diamonds))
        + len(paid[0]) + max(len("share"), *map(len, share)) + 4 * 3
    )  # fmt: skip
    width = _bar_width(used)
    most = max(c["diamonds"] for c in shown)
    title = "Creators' earnings (share: of viewer cash in)"
    if len(creators) > len(shown):
        title += f", the top {len(shown)} of {_n(len(creators))}"
    table = Table(title=title, box=box.SIMPLE_HEAVY, show_edge=False, title_justify="left")
    table.add_column("creator", no_wrap=True)
    table.add_column("diamonds", justify="right", no_wrap=True)
    table.add_column("paid out".rjust(len(paid[0])), justify="left", no_wrap=True)
    table.add_column("share", justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, max_width=width)
    for creator, count, paid_cell, share_cell in zip(shown, diamonds, paid, share, strict=True):
        table.add_row(creator["account"], count, paid_cell, share_cell, bar(creator["diamonds"], most, width))
    console().print()
    console().print(table)


def _show_sponsors(sponsors: list[dict[str, Any]], currency: str) -> None:
    if not sponsors:
        return
    table = Table(
        title=f"Sponsors ({currency}): the bonuses their budgets paid, and what came back", box=box.SIMPLE_HEAVY, show_edge=False,
        title_justify="left",
    )  # fmt: skip
    # gifts: those whose bonus the budget paid; back: bonus cash reversals and clawbacks gave back
    for name in ("sponsor", "funded", "spent", "back", "withdrawn", "gifts", "diamonds", "creators"):
        table.add_column(name, justify="left" if name == "sponsor" else "right", no_wrap=True)
    for b in sponsors:
        table.add_row(
            b["sponsor"], _cash(b["funded"]), _cash(b["spent"]), _cash(b["returned"]), _cash(b["withdrawn"]),
            _n(b["bonuses"]), _n(b["bonus_diamonds"]), _n(b["creators"]),
        )  # fmt: skip
    console().print()
    console().print(table)


def _show_liabilities(owed: dict[str, Any], currency: str) -> None:
    pending = owed["pending_payouts"]
    diamonds = f"{_n(owed['diamonds'])} unredeemed diamonds at ${owed['cash_per_diamond']}"
    rows = [
        (f"{_n(owed['coins'])} unspent coins, at their cost", _cash(owed["coin_cost"])),
        (diamonds, _cash(owed["diamond_value"])),
        (f"{_n(pending['payouts'])} pending payouts", _cash(pending["cash"])),
        ("total", _cash(owed["total"])),
    ]
    amounts = aligned([amount for _, amount in rows], currency)
    when = "now" if owed["as_of"] is None else f"at {owed['as_of']}"
    table = Table(title=f"What the platform owes {when}", box=box.SIMPLE_HEAVY, show_edge=False, title_justify="left")
    table.add_column("owed")
    table.add_column(currency.rjust(len(amounts[0])), justify="left", no_wrap=True)
    for (what, _), amount in zip(rows, amounts, strict=True):
        table.add_row(what, amount, end_section=what.endswith("payouts"))
    console().print()
    console().print(table)
    if owed["diamonds_owed"]:
        console().print(Text(f"Creators also owe {_n(owed['diamonds_owed'])} diamonds clawed back by refunds."))


def _show_stream_report(data: dict[str, Any]) -> None:
    """One live stream's report: its gifts' figures, the creators they reached and the sponsors' bonuses."""
    stream, currency = data["stream"], data["currency"]
    out = console()
    out.print(Text(f"Live stream {stream['stream']}: report, {_window(data)}, by {data['by']}"))
    from coinpurse.formats.report_html import STREAM_LEFT_OUT

    out.print(Text(f"Only {STREAM_LEFT_OUT}"))
    if not stream["gifts"] and not stream["diamonds_taken_back"]:
        out.print("No gifts of this stream in that time.")
        return
    rows = [
        (
            "viewers paid",
            _cash(stream["paid"]),
            f"for {_plural(stream['coins'], 'coin')} in {_plural(stream['gifts'], 'gift')}",
        ),
        ("given back", _cash(-Decimal(stream["paid_back"])), "by reversals and refunds' clawbacks"),
        ("diamonds' worth", _cash(-Decimal(stream["value_net"])), f"{_n(stream['diamonds_net'])} diamonds net"),
        (
            "platform take",
            _cash(stream["platform_take"]),
            _percent(stream["platform_take_percent"]) + " of what stands",
        ),
    ]
    out.print(_cash_table(rows, currency))
    diamonds = (
        f"Diamonds: {_n(stream['diamonds'])} by the gifts, less {_n(stream['diamonds_taken_back'])} taken back: "
        f"{_n(stream['diamonds_net'])} net, to {_plural(stream['creators'], 'creator')}"
    )
    if stream["bonus_diamonds"]:
        diamonds += f"; sponsors' bonuses added {_n(stream['bonus_diamonds'])}"
    out.print(Text(diamonds + "."))
    _show_stream_creators(data["creators"])
    _show_sponsors(data["sponsors"], currency)


def _show_stream_creators(creators: list[dict[str, Any]]) -> None:
    """The creators a stream's gifts reached: diamonds received, taken back and what stands (no payouts)."""
    if not creators:
        return
    shown = creators[:CREATORS_SHOWN]
    cells = [(_n(c["diamonds_received"]), _n(c["diamonds_taken_back"]), _n(c["diamonds"])) for c in shown]
    used = (
        max(len("creator"), *(len(c["account"]) for c in shown))
        + sum(
            max(len(header), *(len(row[index]) for row in cells))
            for index, header in enumerate(("received", "back", "diamonds"))
        )
        + 4 * 3
    )
    width = _bar_width(used)
    most = max(c["diamonds"] for c in shown)
    title = "Creators the stream's gifts reached"
    if len(creators) > len(shown):
        title += f", the top {len(shown)} of {_n(len(creators))}"
    table = Table(title=title, box=box.SIMPLE_HEAVY, show_edge=False, title_justify="left")
    table.add_column("creator", no_wrap=True)
    for header in ("received", "back", "diamonds"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("", no_wrap=True, max_width=width)
    for creator, row in zip(shown, cells, strict=True):
        table.add_row(creator["account"], *row, bar(creator["diamonds"], most, width))
    console().print()
    console().print(table)


def _cash_table(rows: list[tuple[str, str, str]], currency: str) -> Table:
    """A cash summary: what, the amount aligned on its decimal point under the currency, and a note."""
    amounts = aligned([amount for _, amount, _ in rows], currency)
    table = Table(box=box.SIMPLE_HEAVY, show_edge=False)
    table.add_column("cash")
    table.add_column(currency.rjust(len(amounts[0])), justify="left", no_wrap=True)
    table.add_column("")
    for (what, _, note), amount in zip(rows, amounts, strict=True):
        table.add_row(what, amount, note)
    return table
