"""A creator's statement (``coinpurse.core.statement``) as one self-contained HTML page.

The sections are made here; the page around them (head, CSS, header with the
anchor hash, footer) is ``coinpurse.formats.html.page``. Each figure carries its
path in the statement's JSON (``data-figure``), and the bytes depend only on the
statement, so the same ledger and period make the same page.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from coinpurse.core.statement import GiftTotal, Statement
from coinpurse.formats import html
from coinpurse.formats.html import Bar, Cell, money, number, text

NO_STREAM = "(no stream)"


def period_text(statement: Statement) -> str:
    """The span as people read it (``html.span_text``): a month by its name, whole days by their dates."""
    return html.span_text(statement.since, statement.until)


def share_text(ratio: Decimal | None) -> str:
    """A share of 0.3702 as 37.02% (exact: a share has four places)."""
    return "n/a" if ratio is None else f"{ratio * 100:.2f}%"


def stream_text(statement: Statement) -> str:
    """What a statement of one live stream holds and leaves out (said the same on the terminal and the page)."""
    return (
        f"Only live stream {statement.stream}: its gifts and what reversals and refunds took back of them; "
        "payouts belong to no stream and are left out; the balances are the creator's whole balances."
    )


def statement_page(statement: Statement) -> str:
    s = statement
    currency = s.currency
    facts = [
        f"Period: {period_text(s)} (UTC)",
        f"Amounts in {currency}; diamonds valued at the payout rate each transaction recorded.",
    ]
    if s.stream is not None:
        facts.append(stream_text(s))
    anchor = None
    if s.anchor is not None:
        anchor = html.PageAnchor("Last transaction in the period", s.anchor.id, s.anchor.at, s.anchor.hash)
    footer: list[str | html.Code] = [
        "Every figure is read from the ledger's recorded transactions; regenerating this statement from the same "
        "ledger gives the same page, byte for byte.",
    ]
    if s.anchor is not None:
        footer += ["Check later that the ledger still holds the transaction this statement was made from:",
                   html.Code(f"coinpurse verify --anchor {s.anchor.hash}")]  # fmt: skip
    sections = [
        _summary(s),
        _balances(s),
        _gifts(s.by_gift, "Gifts received, by gift", "gift", "by_gift", currency),
        _gifts(s.by_stream, "Gifts received, by stream", "stream", "by_stream", currency),
        _gifts(s.top_gifters, "Top gifters", "gifter", "top_gifters", currency, s.gifters),
        _taken_back(s),
        _payouts(s),
        _share(s),
    ]
    return html.page(f"Statement for @{s.account}", facts, anchor, sections, footer)


def _summary(s: Statement) -> str:
    totals = s.payout_totals()
    paid = totals.get("paid")
    figures = [
        ("Diamonds received", number(s.gifts.diamonds, "gifts.diamonds")),
        ("Taken back", number(s.taken_back_diamonds, "taken_back.diamonds")),
        ("Diamonds earned", number(s.diamonds_earned, "diamonds_earned.diamonds")),
        (f"Earned, worth ({s.currency})", money(s.earned_value, "diamonds_earned.diamond_value")),
        (
            f"Paid out, net ({s.currency})",
            money(Decimal(paid["net"]) if paid else Decimal(0), "payouts.totals.paid.net" if paid else None),
        ),
        ("Share of viewers' cash", text(share_text(s.share.ratio), "share.share")),
    ]
    if s.stream is not None:  # a payout belongs to no stream
        figures = [("Live stream", text(s.stream, "stream")), *figures[:4], figures[5]]
    return html.section("Summary", html.figures(figures))


def _balances(s: Statement) -> str:
    def as_of(edge_name: str) -> str:
        edge = s.opening if edge_name == "opening" else s.closing
        return "before the first transaction" if edge.as_of is None else f"after {edge.as_of.id} at {edge.as_of.at}"

    rows = [
        [text("coins"), number(s.opening.coins, "opening.coins"), number(s.closing.coins, "closing.coins")],
        [
            text("diamonds"),
            number(s.opening.diamonds, "opening.diamonds"),
            number(s.closing.diamonds, "closing.diamonds"),
        ],
    ]
    headers = [text(""), Cell("opening", number=True), Cell("closing", number=True)]
    note = f"Opening: {as_of('opening')}. Closing: {as_of('closing')}."
    return html.section("Balances", html.table(headers, rows), note=note)


def _gifts(rows: Sequence[GiftTotal], title: str, what: str, key: str, currency: str, of: int | None = None) -> str:
    if not rows:
        return html.section(title, html.paragraph("No gifts received in this period."))
    name_key = {"by_gift": "gift", "by_stream": "stream", "top_gifters": "account"}[key]
    chart = html.bar_chart(
        f"Diamonds by {what}", [Bar(_name(row), row.diamonds, f"{html.grouped(row.diamonds)} ◆") for row in rows]
    )
    headers = [
        text(what), Cell("gifts", number=True), Cell("items", number=True), Cell("diamonds", number=True),
        Cell("worth", number=True), Cell("paid", number=True),
    ]  # fmt: skip
    body = [
        [
            text(_name(row), f"{key}.{index}.{name_key}" if row.name is not None else None),
            number(row.gifts, f"{key}.{index}.gifts"),
            number(row.items, f"{key}.{index}.items"),
            number(row.diamonds, f"{key}.{index}.diamonds"),
            money(row.diamond_value, f"{key}.{index}.diamond_value"),
            money(row.paid, f"{key}.{index}.paid"),
        ]
        for index, row in enumerate(rows)
    ]
    note = None
    if key == "by_gift":  # said once, above the first of the three tables
        note = f"Worth: the diamonds at the payout rate each gift recorded; paid: what the viewers' coins cost them ({currency})."
    if of is not None and of > len(rows):
        note = f"The top {len(rows)} of {of} gifters."
    return html.section(title, chart, html.table(headers, body), note=note)


def _name(row: GiftTotal) -> str:
    return NO_STREAM if row.name is None else row.name


def _taken_back(s: Statement) -> str:
    title = "Taken back: refunds and reversals"
    if not s.taken_back:
        return html.section(title, html.paragraph("No diamonds were taken back in this period."))
    headers = [
        text("id"), text("viewer"), Cell("diamonds", number=True), Cell("worth", number=True), Cell("paid", number=True),
    ]  # fmt: skip
    rows = [
        [
            Cell(row.id, f"taken_back.items.{index}.id", sub=f"{row.kind}, {row.at[:10]}, of {', '.join(row.gifts)}"),
            text(row.viewer, f"taken_back.items.{index}.viewer"),
            number(row.diamonds, f"taken_back.items.{index}.diamonds"),
            money(row.diamond_value, f"taken_back.items.{index}.diamond_value"),
            money(row.paid, f"taken_back.items.{index}.paid"),
        ]
        for index, row in enumerate(s.taken_back)
    ]
    footer = [
        [
            text("total"),
            text(""),
            number(s.taken_back_diamonds, "taken_back.diamonds"),
            money(s.taken_back_value, "taken_back.diamond_value"),
            money(s.taken_back_paid, "taken_back.paid"),
        ]
    ]
    reasons = [f"{row.id}: {row.reason}" for row in s.taken_back if row.reason is not None]
    note = (
        f"Diamonds a refund clawed back or a reversal undid, worth what their gifts recorded; paid: what the viewer "
        f"had paid for their coins, given back ({s.currency})."
    )
    if reasons:
        note += " Reversal reasons: " + "; ".join(reasons) + "."
    return html.section(title, html.table(headers, rows, footer), note=note)


def _payouts(s: Statement) -> str:
    title = "Payouts"
    if s.stream is not None:
        return html.section(title, html.paragraph("Not shown: payouts belong to no stream."))
    if not s.payouts:
        return html.section(title, html.paragraph("No payouts in this period."))
    headers = [
        text("payout"),
        Cell("diamonds", number=True),
        Cell("cash", number=True),
        Cell("fee", number=True),
        Cell("net", number=True),
    ]
    rows = [
        [
            Cell(row.id, f"payouts.items.{index}.id", sub=f"{row.status}, {row.at[:10]}"),
            number(row.diamonds, f"payouts.items.{index}.diamonds"), money(row.cash, f"payouts.items.{index}.cash"),
            money(row.fee, f"payouts.items.{index}.fee"), money(row.net, f"payouts.items.{index}.net"),
        ]
        for index, row in enumerate(s.payouts)
    ]  # fmt: skip
    footer = []
    for status, total in s.payout_totals().items():
        footer.append([
            Cell(f"total {status}", sub=f"{total['count']} payout" + ("" if total["count"] == 1 else "s")),
            number(total["diamonds"], f"payouts.totals.{status}.diamonds"),
            money(Decimal(total["cash"]), f"payouts.totals.{status}.cash"),
            money(Decimal(total["fee"]), f"payouts.totals.{status}.fee"),
            money(Decimal(total["net"]), f"payouts.totals.{status}.net"),
        ])  # fmt: skip
    note = f"Amounts in {s.currency}: the cash the diamonds were worth, the fee, and what was paid out."
    return html.section(title, html.table(headers, rows, footer), note=note)


def _share(s: Statement) -> str:
    share = s.share
    title = "Share of viewers' cash that reached the creator"
    if share.ratio is None:
        return html.section(
            title, html.paragraph("None to show: no cash was paid for this period's gifts, less what was taken back.")
        )
    explained = (
        f"Viewers paid {html.grouped_money(share.paid)} {s.currency} for the coins of the gifts received, less those "
        f"taken back; the diamonds the creator earned from them are worth {html.grouped_money(share.diamond_value)} "
        f"{s.currency} at the payout rates the gifts recorded."
    )
    return html.section(
        title,
        html.figures(
            [
                (f"Viewers paid ({s.currency})", money(share.paid, "share.paid")),
                (f"Diamonds worth ({s.currency})", money(share.diamond_value, "share.diamond_value")),
                ("Share", text(share_text(share.ratio), "share.share")),
            ]
        ),
        html.paragraph(explained),
    )
