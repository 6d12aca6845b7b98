"""The platform report (``coinpurse.core.report``) as one self-contained HTML page.

The sections are made here; the page around them (head, CSS, header with the
anchor hash, footer) is ``coinpurse.formats.html.page``. Each figure carries its
path in the report's JSON (``data-figure``: ``totals.kept``, ``periods.0.cash_in``),
and the bytes depend only on the report, so the same ledger and window make the
same page.
"""

from __future__ import annotations

from decimal import Decimal

from coinpurse.core.report import Figures, PlatformReport
from coinpurse.formats import html
from coinpurse.formats.html import Bar, Cell, money, number, text

CREATORS_CHARTED = 10  # the bars of the creators with most diamonds; the table lists every one
NO_PERCENT = "n/a"  # a percentage of no cash in
STREAM_LEFT_OUT = (
    "its gifts and what reversals and refunds' clawbacks took back of them; buys, payouts, refunded cash and "
    "what the platform owes belong to no stream and are left out."
)
NOTHING_COUNTED = "No buys, gifts, refunds, reversals, payouts or sponsors' transactions in this window."

_PERIOD_WORDS = {"day": "day", "week": "ISO week (Monday first)", "month": "month"}


def percent_text(value: Decimal | None) -> str:
    """A percentage the report rounded already (64.23 as 64.23%); n/a when there was no cash to divide."""
    return NO_PERCENT if value is None else f"{value}%"


def _percent(value: Decimal | None, figure: str) -> Cell:
    return Cell(percent_text(value), figure, True)


def _with_percent(cell: Cell, value: Decimal | None, figure: str) -> Cell:
    """An amount with its percentage on the smaller line under it (a phone has no room for another column)."""
    return cell._replace(sub=percent_text(value), sub_figure=figure)


def _cents(value: Decimal) -> int:
    """A bar's length for cash: whole hundredths, none below zero (integer lengths, as ``html.bar_chart`` takes)."""
    return max(int(value.scaleb(2)), 0)


def _cash_bar(label: str, value: Decimal) -> Bar:
    return Bar(label, _cents(value), html.grouped_money(value))


def _plural(count: int, word: str, words: str | None = None) -> str:
    return f"{html.grouped(count)} {word if count == 1 else words or word + 's'}"


def report_page(report: PlatformReport) -> str:
    r = report
    facts = [
        f"Window: {html.span_text(r.since, r.until)} (UTC), by {_PERIOD_WORDS[r.by]}",
        f"Amounts in {r.currency}. Kept: viewer cash in less what was paid out and refunded; percentages of cash in, "
        "rounded half up to 0.01.",
    ]
    anchor = None
    if r.anchor is not None:
        anchor = html.PageAnchor("Last transaction in the period", r.anchor.id, r.anchor.at, r.anchor.hash)
    footer: list[str | html.Code] = [
        "Every figure is read from the ledger's recorded transactions and the accounts' states; regenerating this "
        "report from the same ledger and window gives the same page, byte for byte.",
    ]
    if r.anchor is not None:
        footer += ["Check later that the ledger still holds the transaction this report was made from:",
                   html.Code(f"coinpurse verify --anchor {r.anchor.hash}")]  # fmt: skip
    if r.stream is not None:  # one live stream's gifts: no buys, payouts nor liabilities to show
        facts[1:] = [
            f"Amounts in {r.currency}; diamonds at the payout rate each gift recorded; percentages rounded half up "
            "to 0.01.",
            f"Only live stream {r.stream.stream}: {STREAM_LEFT_OUT}",
        ]
        sections = [_stream(r), _stream_creators(r), _sponsors(r)]
        return html.page(f"Live stream {r.stream.stream}: report", facts, anchor, sections, footer)
    sections = [_summary(r)]
    if r.periods:
        sections += [_diamonds(r.totals), _periods(r), _channels(r), _creators(r), _sponsors(r)]
    else:
        sections.append(html.section("Activity", html.paragraph(NOTHING_COUNTED)))
    sections.append(_liabilities(r))
    return html.page("Platform report", facts, anchor, sections, footer)


def _summary(r: PlatformReport) -> str:
    t = r.totals
    c = r.currency
    cards = html.figures(
        [
            (f"Viewer cash in ({c})", money(t.cash_in, "totals.cash_in")),
            (f"Refunded ({c})", money(t.refunded, "totals.refunded")),
            (f"Paid out to creators ({c})", money(t.paid_out, "totals.paid_out")),
            (f"Platform kept ({c})", money(t.kept, "totals.kept")),
            ("Kept, of cash in", _percent(t.kept_percent, "totals.kept_percent")),
            (f"Owed at the window's end ({c})", money(r.liabilities.total, "liabilities.total")),
            (f"App-store fees ({c})", money(t.store_fees, "totals.store_fees")),
            (f"Kept after store fees ({c})", money(t.kept_after_store_fees, "totals.kept_after_store_fees")),
        ]
    )
    counts = html.figures(
        [
            ("Coins sold", number(t.coins_sold, "totals.coins_sold")),
            ("Buys", number(t.buys, "totals.buys")),
            ("Refunds", number(t.refunds, "totals.refunds")),
            ("Payouts", number(t.payouts, "totals.payouts")),
        ]
    )
    return html.section("Summary", cards, counts)


def _diamonds(t: Figures) -> str:
    cards = html.figures(
        [
            ("Issued", number(t.diamonds_issued, "totals.diamonds_issued")),
            ("Reversed", number(t.diamonds_reversed, "totals.diamonds_reversed")),
            ("Clawed back", number(t.diamonds_clawed_back, "totals.diamonds_clawed_back")),
            ("Net", number(t.diamonds_net, "totals.diamonds_net")),
            ("Redeemed", number(t.diamonds_redeemed, "totals.diamonds_redeemed")),
            ("Their cash", money(t.payout_cash, "totals.payout_cash")),
            ("Fees kept", money(t.payout_fees, "totals.payout_fees")),
        ]
    )
    note = (
        f"Issued by {_plural(t.gifts, 'gift')} (with any sponsors' bonuses), less those reversals and refunds' "
        "clawbacks took back; redeemed for their cash, of which the platform kept the fees."
    )
    return html.section("Diamonds", cards, note=note)


def _periods(r: PlatformReport) -> str:
    what = {"day": "day", "week": "week", "month": "month"}[r.by]
    chart = html.bar_chart(
        f"Viewer cash in by {what} ({r.currency})", [_cash_bar(p.name, p.figures.cash_in) for p in r.periods]
    )
    headers = [
        text(what), Cell("cash in", number=True), Cell("refunded", number=True), Cell("paid out", number=True),
        Cell("kept", number=True),
    ]  # fmt: skip
    rows = [
        [
            Cell(p.name, f"periods.{index}.period", sub=f"{_plural(p.figures.buys, 'buy')}, {_plural(p.figures.gifts, 'gift')}",
                 unbroken=True),
            money(p.figures.cash_in, f"periods.{index}.cash_in"),
            money(p.figures.refunded, f"periods.{index}.refunded"),
            money(p.figures.paid_out, f"periods.{index}.paid_out"),
            _with_percent(money(p.figures.kept, f"periods.{index}.kept"), p.figures.kept_percent,
                          f"periods.{index}.kept_percent"),
        ]
        for index, p in enumerate(r.periods)
    ]  # fmt: skip
    t = r.totals
    footer = [
        [
            text("total"), money(t.cash_in, "totals.cash_in"), money(t.refunded, "totals.refunded"),
            money(t.paid_out, "totals.paid_out"),
            _with_percent(money(t.kept, "totals.kept"), t.kept_percent, "totals.kept_percent"),
        ]
    ]  # fmt: skip
    note = (
        f"Every {what} from the first with a transaction to the last, quiet ones included ({r.currency}); under "
        "what was kept, that as a percentage of the cash in."
    )
    return html.section(f"By {what}", chart, html.table(headers, rows, footer), note=note)


def _channels(r: PlatformReport) -> str:
    title = "Sales by channel"
    if not r.channels:
        return html.section(title, html.paragraph("No coins were sold in this window."))
    chart = html.bar_chart(
        f"Viewer cash in by channel ({r.currency})", [_cash_bar(c.channel, c.cash_in) for c in r.channels]
    )
    headers = [
        text("channel"), Cell("coins sold", number=True), Cell("cash in", number=True), Cell("refunded", number=True),
        Cell("store fees", number=True),
    ]  # fmt: skip
    rows = [
        [
            Cell(c.channel, f"channels.{index}.channel", sub=f"{_plural(c.buys, 'buy')}, {_plural(c.refunds, 'refund')}",
                 unbroken=True),
            number(c.coins_sold, f"channels.{index}.coins_sold"), money(c.cash_in, f"channels.{index}.cash_in"),
            money(c.refunded, f"channels.{index}.refunded"),
            money(c.store_fees, f"channels.{index}.store_fees"),
        ]
        for index, c in enumerate(r.channels)
    ]  # fmt: skip
    note = (
        f"Refunds count on the channel of the buy they refunded ({r.currency}). Store fees are what app stores "
        "took of the prices, at the fee each buy recorded."
    )
    return html.section(title, chart, html.table(headers, rows), note=note)


def _creators(r: PlatformReport) -> str:
    title = "Creators' earnings"
    if not r.creators:
        return html.section(title, html.paragraph("No creator received a gift or was paid out in this window."))
    charted = r.creators[:CREATORS_CHARTED]
    chart_title = "Diamonds by creator" + (
        f", the top {len(charted)} of {html.grouped(len(r.creators))}" if len(r.creators) > len(charted) else ""
    )
    chart = html.bar_chart(
        chart_title, [Bar(c.account, max(c.diamonds, 0), f"{html.grouped(c.diamonds)} ◆") for c in charted]
    )
    headers = [
        text("creator"), Cell("received", number=True), Cell("back", number=True), Cell("diamonds", number=True),
        Cell("paid out", number=True),
    ]  # fmt: skip
    rows = [
        [
            Cell(c.account, f"creators.{index}.account", sub=f"{_plural(c.gifts, 'gift')}, {_plural(c.payouts, 'payout')}",
                 unbroken=True),
            number(c.diamonds_received, f"creators.{index}.diamonds_received"),
            number(c.diamonds_taken_back, f"creators.{index}.diamonds_taken_back"),
            number(c.diamonds, f"creators.{index}.diamonds"),
            _with_percent(money(c.paid_out, f"creators.{index}.paid_out"), c.share_of_viewer_cash,
                          f"creators.{index}.share_of_viewer_cash"),
        ]
        for index, c in enumerate(r.creators)
    ]  # fmt: skip
    note = (
        "Diamonds: those received, less those reversals and refunds' clawbacks took back. Paid out: the cash after "
        f"the fee ({r.currency}), and under it that as a share of the window's viewer cash in."
    )
    return html.section(title, chart, html.table(headers, rows), note=note)


def _sponsors(r: PlatformReport) -> str:
    if not r.sponsors:
        return ""
    headers = [
        text("sponsor"), Cell("funded", number=True), Cell("spent", number=True), Cell("back", number=True),
        Cell("withdrawn", number=True),
    ]  # fmt: skip
    rows = [
        [
            Cell(b.sponsor, f"sponsors.{index}.sponsor", unbroken=True,
                 sub=f"{_plural(b.bonuses, 'bonus', 'bonuses')}, {_plural(b.bonus_diamonds, 'diamond')}, "
                     f"{_plural(b.creators, 'creator')}"),
            money(b.funded, f"sponsors.{index}.funded"), money(b.spent, f"sponsors.{index}.spent"),
            money(b.returned, f"sponsors.{index}.returned"), money(b.withdrawn, f"sponsors.{index}.withdrawn"),
        ]
        for index, b in enumerate(r.sponsors)
    ]  # fmt: skip
    note = (
        f"What each budget was funded, spent on its gifts' bonus diamonds (at each gift's payout rate), got back "
        f"from reversals and clawbacks, and had withdrawn ({r.currency})."
    )
    return html.section("Sponsors", html.table(headers, rows), note=note)


def _liabilities(r: PlatformReport) -> str:
    owed = r.liabilities
    when = "After the last transaction" if r.until is None else f"At {r.until}"
    headers = [text(""), Cell("count", number=True), Cell(r.currency, number=True)]
    rows = [
        [text("unspent coins, at their cost"), number(owed.coins, "liabilities.coins"),
         money(owed.coin_cost, "liabilities.coin_cost")],
        [text("unredeemed diamonds"), number(owed.diamonds, "liabilities.diamonds"),
         money(owed.diamond_value, "liabilities.diamond_value")],
        [text("pending payouts"), number(owed.pending.payouts, "liabilities.pending_payouts.payouts"),
         money(owed.pending.cash, "liabilities.pending_payouts.cash")],
    ]  # fmt: skip
    footer = [[text("total"), text(""), money(owed.total, "liabilities.total")]]
    note = (
        f"{when}: coins at what they cost (first in, first out), diamonds at the payout rate in force now, "
        f"{owed.cash_per_diamond} {r.currency} each."
    )
    if owed.diamonds_owed:
        note += f" Creators also owe {_plural(owed.diamonds_owed, 'diamond')} clawed back by refunds."
    return html.section("What the platform owes", html.table(headers, rows, footer), note=note)


def _stream(r: PlatformReport) -> str:
    f = r.stream
    assert f is not None
    c = r.currency
    cards = html.figures(
        [
            ("Live stream", text(f.stream, "stream.stream")),
            (f"Viewers paid ({c})", money(f.paid, "stream.paid")),
            (f"Given back ({c})", money(f.paid_back, "stream.paid_back")),
            (f"Diamonds' worth, net ({c})", money(f.value_net, "stream.value_net")),
            (f"Platform take ({c})", money(f.platform_take, "stream.platform_take")),
            ("Take, of what stands", _percent(f.platform_take_percent, "stream.platform_take_percent")),
        ]
    )
    counts = html.figures(
        [
            ("Gifts", number(f.gifts, "stream.gifts")),
            ("Coins", number(f.coins, "stream.coins")),
            ("Diamonds", number(f.diamonds, "stream.diamonds")),
            ("Taken back", number(f.diamonds_taken_back, "stream.diamonds_taken_back")),
            ("Diamonds, net", number(f.diamonds_net, "stream.diamonds_net")),
            ("Creators reached", number(f.creators, "stream.creators")),
        ]
    )
    note = (
        "Viewers paid: what the coins of the stream's gifts cost them; given back: of that, what reversals and "
        "refunds' clawbacks of those gifts returned. The platform's take is what stands of the viewers' cash less "
        "the diamonds' worth at the payout rate each gift recorded."
    )
    return html.section("The stream's gifts", cards, counts, note=note)


def _stream_creators(r: PlatformReport) -> str:
    """The creators a stream's gifts reached: diamonds received, taken back and what stands (no payouts)."""
    title = "Creators the stream's gifts reached"
    if not r.creators:
        return html.section(title, html.paragraph("No creator received a gift of this stream in this window."))
    charted = r.creators[:CREATORS_CHARTED]
    chart = html.bar_chart(
        "Diamonds by creator", [Bar(c.account, max(c.diamonds, 0), f"{html.grouped(c.diamonds)} ◆") for c in charted]
    )
    headers = [text("creator"), Cell("received", number=True), Cell("back", number=True), Cell("diamonds", number=True)]
    rows = [
        [
            Cell(c.account, f"creators.{index}.account", sub=_plural(c.gifts, "gift"), unbroken=True),
            number(c.diamonds_received, f"creators.{index}.diamonds_received"),
            number(c.diamonds_taken_back, f"creators.{index}.diamonds_taken_back"),
            number(c.diamonds, f"creators.{index}.diamonds"),
        ]
        for index, c in enumerate(r.creators)
    ]
    note = "Diamonds: those the stream's gifts gave, less those reversals and refunds' clawbacks of them took back."
    return html.section(title, chart, html.table(headers, rows), note=note)
