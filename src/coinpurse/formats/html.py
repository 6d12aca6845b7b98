"""Self-contained HTML pages: inline CSS and inline SVG bar charts, no scripts, fonts or anything from the network.

A page is its chrome (``page``: the head and its CSS, a header with the facts it
stands on and the hash of the ledger's transaction it was made from, a footer)
around sections a report makes with the pieces here (``section``, ``figures``,
``table``, ``bar_chart``). Every piece escapes the text it is given
(``coinpurse.core.safetext.html_text``): names from a ledger never become markup.
The bytes depend only on what is given, so the same report makes the same page.

An element showing a figure of the report's JSON carries ``data-figure`` with
the figure's path there (``closing.diamonds``, ``by_gift.0.paid``), so a test
can read the rendered page against the JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from coinpurse.core.clock import month_span
from coinpurse.core.money import money_str
from coinpurse.core.safetext import html_text

CHART_WIDTH = 360  # SVG units: a phone's width, less the page's margins
_ROW = 34  # SVG units per bar: a line of text, and the bar under it
_LABEL_CHARACTERS = 34  # a longer label is cut short (the whole name is in the bar's tooltip)


def grouped(value: int) -> str:
    return f"{value:,}"


def grouped_money(value: Decimal) -> str:
    """Cash with the currency's places (more where exact needs them), grouped in thousands: -1,234.005."""
    text = money_str(value)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, point, fraction = digits.partition(".")
    return f"{sign}{int(whole):,}{point}{fraction}"


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")  # fmt: skip


def span_text(since: str | None, until: str | None) -> str:
    """A span of stored times as people read it: a month by its name, whole days by their dates, else the times;
    open ends said so."""
    if since is None and until is None:
        return "the whole history"
    if since is not None and until is not None and month_span(since[:7]) == (since, until):
        return f"{_MONTHS[int(since[5:7]) - 1]} {since[:4]}, {since[:10]} to {until[:10]}"
    start = None if since is None else since[:10] if since.endswith("T00:00:00Z") else since
    end = None if until is None else until[:10] if until.endswith("T23:59:59Z") else until
    if start is None:
        return f"up to {end}"
    if end is None:
        return f"from {start}"
    return f"{start} to {end}" if start != end else start


class Cell(NamedTuple):
    """One table cell: its text, the JSON figure it shows (if any), whether it is a number (right-aligned),
    and a smaller line under it (what a narrow screen has no column for), with the figure that line shows
    (if it is one). ``unbroken`` keeps the text on one line: a date or handle, never broken at a hyphen."""

    text: str
    figure: str | None = None
    number: bool = False
    sub: str | None = None
    sub_figure: str | None = None
    unbroken: bool = False


def _figure(figure: str | None) -> str:
    return "" if figure is None else f' data-figure="{html_text(figure)}"'


def number(value: int, figure: str | None = None) -> Cell:
    return Cell(grouped(value), figure, True)


def money(value: Decimal, figure: str | None = None) -> Cell:
    return Cell(grouped_money(value), figure, True)


def text(value: str, figure: str | None = None) -> Cell:
    return Cell(value, figure)


def section(title: str, *parts: str, note: str | None = None) -> str:
    body = "".join(parts)
    shown_note = "" if note is None else f'<p class="note">{html_text(note)}</p>'
    return f"<section>\n<h2>{html_text(title)}</h2>\n{shown_note}{body}</section>\n"


def paragraph(content: str) -> str:
    """A paragraph of text (escaped here)."""
    return f"<p>{html_text(content)}</p>\n"


def figures(items: Sequence[tuple[str, Cell]]) -> str:
    """Headline figures as cards: a label above each value."""
    cards = "".join(
        f'<div class="card"><div class="label">{html_text(label)}</div>'
        f'<div class="value"{_figure(cell.figure)}>{html_text(cell.text)}</div></div>\n'
        for label, cell in items
    )
    return f'<div class="cards">\n{cards}</div>\n'


_NUMBER = ' class="n"'


def table(headers: Sequence[Cell], rows: Sequence[Sequence[Cell]], footer: Sequence[Sequence[Cell]] = ()) -> str:
    """A table that scrolls sideways on a narrow screen rather than squeezing its figures."""

    def row(cells: Sequence[Cell], tag: str) -> str:
        return f"<tr>{''.join(_cell(cell, tag) for cell in cells)}</tr>\n"

    rows, footer = _points_aligned([*rows, *footer], len(rows))
    head = row(headers, "th")
    body = "".join(row(cells, "td") for cells in rows)
    foot = "" if not footer else f"<tfoot>\n{''.join(row(cells, 'td') for cells in footer)}</tfoot>\n"
    return f'<div class="scroll"><table>\n<thead>\n{head}</thead>\n<tbody>\n{body}</tbody>\n{foot}</table></div>\n'


FIGURE_SPACE = "\u2007"  # as wide as a digit: pads 0.03 under 0.025 so the points line up


def _places(text: str) -> int:
    point = text.rfind(".")
    return 0 if point < 0 else len(text) - point - 1


def _points_aligned(rows: list[Sequence[Cell]], body: int) -> tuple[list[Sequence[Cell]], list[Sequence[Cell]]]:
    """Each column's amounts padded after their last digit to the most decimal places in it (right-aligned,
    their points then line up); whole numbers in a column of them are left as they are."""
    most: dict[int, int] = {}
    for cells in rows:
        for index, cell in enumerate(cells):
            if cell.number and "." in cell.text:
                most[index] = max(most.get(index, 0), _places(cell.text))
    padded: list[Sequence[Cell]] = [
        [
            cell._replace(text=cell.text + FIGURE_SPACE * (most[index] - _places(cell.text)))
            if cell.number and "." in cell.text and index in most
            else cell
            for index, cell in enumerate(cells)
        ]
        for cells in rows
    ]
    return padded[:body], padded[body:]


def _unbroken_parts(text: str) -> str:
    """Text whose comma-separated parts (a date, an id) wrap only between them, never at a hyphen inside one."""
    return ", ".join(f'<span class="nowrap">{html_text(part)}</span>' for part in text.split(", "))


def _cell(cell: Cell, tag: str) -> str:
    shown = html_text(cell.text)
    number = _NUMBER if cell.number else ""
    if cell.sub is None:
        unbroken = ' class="nowrap"' if cell.unbroken and not cell.number else ""  # a number's cell never wraps
        return f"<{tag}{number}{unbroken}{_figure(cell.figure)}>{shown}</{tag}>"
    unbroken = ' class="nowrap"' if cell.unbroken else ""
    sub = _unbroken_parts(cell.sub) if cell.sub_figure is None else html_text(cell.sub)
    return (
        f"<{tag}{number}><span{unbroken}{_figure(cell.figure)}>{shown}</span>"
        f'<span class="sub"{_figure(cell.sub_figure)}>{sub}</span></{tag}>'
    )


class Bar(NamedTuple):
    label: str
    value: int  # what the bar's length shows (whole units: diamonds, coins)
    shown: str  # the value as written beside the bar


def bar_chart(title: str, bars: Sequence[Bar]) -> str:
    """Horizontal bars, longest first as given: each a label and its value on a line, the bar under them.

    Lengths are whole SVG units from integer arithmetic, so the bytes never depend on floating point.
    """
    if not bars:
        return ""
    top = max(max(bar.value for bar in bars), 1)
    height = _ROW * len(bars)
    rows = []
    for index, bar in enumerate(bars):
        y = index * _ROW
        length = 0 if bar.value <= 0 else max(2, bar.value * CHART_WIDTH // top)
        label = bar.label if len(bar.label) <= _LABEL_CHARACTERS else bar.label[: _LABEL_CHARACTERS - 1] + "…"
        rows.append(
            f"<g><title>{html_text(bar.label)}: {html_text(bar.shown)}</title>"
            f'<text x="0" y="{y + 13}" class="bl">{html_text(label)}</text>'
            f'<text x="{CHART_WIDTH}" y="{y + 13}" class="bv">{html_text(bar.shown)}</text>'
            f'<rect x="0" y="{y + 18}" width="{CHART_WIDTH}" height="10" rx="2" class="track"/>'
            f'<rect x="0" y="{y + 18}" width="{length}" height="10" rx="2" class="bar"/></g>\n'
        )
    return (
        f'<figure class="chart"><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} {height}" '
        f'width="100%" role="img" aria-label="{html_text(title)}">\n'
        f"<title>{html_text(title)}</title>\n{''.join(rows)}</svg></figure>\n"
    )


_CSS = """\
:root{color-scheme:light;--ink:#1d1d1f;--soft:#5f6368;--line:#e3e3e8;--card:#f6f6f8;--accent:#0a66c2;--track:#e8eef6}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;padding:16px;color:var(--ink);background:#fff;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:760px;margin:0 auto}
header{border-bottom:2px solid var(--ink);padding-bottom:12px;margin-bottom:8px}
h1{font-size:1.45em;margin:0 0 4px;overflow-wrap:anywhere}
h2{font-size:1.1em;margin:24px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
p{margin:6px 0}
.facts{margin:6px 0;color:var(--soft)}
.facts div{overflow-wrap:anywhere}
.anchor{margin-top:10px;padding:8px 10px;background:var(--card);border-radius:6px;font-size:.85em}
.anchor code{display:block;margin-top:2px;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.note{color:var(--soft);font-size:.9em}
.nowrap{white-space:nowrap}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:8px}
.cards+.cards{margin-top:8px}
.card{background:var(--card);border-radius:6px;padding:8px 10px}
.card .label{color:var(--soft);font-size:.8em}
.card .value{font-size:1.2em;font-weight:600;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.875em}
th,td{padding:5px 4px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th:first-child,td:first-child{padding-left:0}
th:last-child,td:last-child{padding-right:0}
th{color:var(--soft);font-weight:600;white-space:nowrap}
.sub{display:block;color:var(--soft);font-size:.85em}
.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
tfoot td{font-weight:600;border-top:2px solid var(--line)}
.chart{margin:8px 0 12px}
.chart svg{display:block;max-width:100%;height:auto}
.bl{font-size:12px;fill:var(--ink)}
.bv{font-size:12px;fill:var(--soft);text-anchor:end;font-variant-numeric:tabular-nums}
.track{fill:var(--track)}
.bar{fill:var(--accent)}
footer{margin-top:28px;padding-top:10px;border-top:1px solid var(--line);color:var(--soft);font-size:.85em}
footer p{overflow-wrap:anywhere}
footer code{display:block;padding:6px 8px;background:var(--card);border-radius:4px;color:var(--ink);font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
@media print{body{padding:0}.scroll{overflow:visible}}
"""


class Code(NamedTuple):
    """A command for the reader to run, shown as code on a line of its own."""

    text: str


class PageAnchor(NamedTuple):
    """The ledger transaction a page was made from, printed in its header so ``verify --anchor`` can check it."""

    label: str  # what it is, e.g. "Last transaction in the period"
    id: str
    at: str
    hash: str


def page(
    title: str, facts: Sequence[str], anchor: PageAnchor | None, sections: Sequence[str], footer: Sequence[str | Code]
) -> str:
    """A whole page: ``title`` and ``facts`` (lines of text) in the header with ``anchor``, the sections, ``footer`` lines.

    ``sections`` are markup from ``section``; everything else is text, escaped here.
    """
    shown_facts = "".join(f"<div>{html_text(line)}</div>\n" for line in facts)
    if anchor is None:
        shown_anchor = '<div class="anchor">No transaction in the ledger by the end of the period.</div>\n'
    else:
        shown_anchor = (
            f'<div class="anchor">{html_text(anchor.label)}: <span class="nowrap">{html_text(anchor.id)}</span> '
            f'at <span class="nowrap">{html_text(anchor.at)}</span>'
            f'<code data-figure="anchor.hash">{html_text(anchor.hash)}</code></div>\n'
        )
    shown_footer = "".join(
        f"<p><code>{html_text(line.text)}</code></p>\n" if isinstance(line, Code) else f"<p>{html_text(line)}</p>\n"
        for line in footer
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
        f"<title>{html_text(title)}</title>\n<style>\n{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f'<header>\n<h1>{html_text(title)}</h1>\n<div class="facts">\n{shown_facts}</div>\n{shown_anchor}</header>\n'
        f"{''.join(sections)}"
        f"<footer>\n{shown_footer}</footer>\n</main>\n</body>\n</html>\n"
    )
