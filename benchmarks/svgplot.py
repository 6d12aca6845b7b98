"""Log-log line charts as SVG, with the standard library only: one panel per command, one line per store.

    write_panels(path, panels, legend)

``panels`` is a list of (title, lines); each line is (label, [(x, y), ...]),
drawn in the colour and dash its label has in ``legend``. Both axes are log
scaled to whole decades, with a tick and a grid line at each; the x axis is
the same in every panel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

Point = tuple[float, float]
Line = tuple[str, Sequence[Point]]
Panel = tuple[str, Sequence[Line]]
Style = tuple[str, bool]  # colour, dashed

WIDTH, HEIGHT = 330, 230  # one panel
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 26, 34  # its margins, inside which the plot area lies
COLUMNS = 3
LEGEND_ROW = 22


def size_label(value: float) -> str:
    for unit, name in ((1e6, "M"), (1e3, "k")):
        if value >= unit:
            return f"{value / unit:g}{name}"
    return f"{value:g}"


def ms_label(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:g} s"
    return f"{value:g} ms"


def decades(values: Sequence[float]) -> tuple[int, int]:
    low, high = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))
    return low, max(high, low + 1)


def panel_svg(
    x0: float, y0: float, title: str, lines: Sequence[Line], legend: dict[str, Style], x_decades: tuple[int, int]
) -> list[str]:
    points = [point for _, line in lines for point in line if point[0] > 0 and point[1] > 0]
    out = [f'<text x="{x0 + LEFT}" y="{y0 + 16}" class="title">{escape(title)}</text>']
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    left, top = x0 + LEFT, y0 + TOP
    out.append(f'<rect x="{left}" y="{top}" width="{inner_w}" height="{inner_h}" class="frame"/>')
    if not points:
        out.append(f'<text x="{left + 8}" y="{top + 20}" class="tick">nothing measured</text>')
        return out
    (xl, xh), (yl, yh) = x_decades, decades([p[1] for p in points])

    def sx(value: float) -> float:
        return left + (math.log10(value) - xl) / (xh - xl) * inner_w

    def sy(value: float) -> float:
        return top + inner_h - (math.log10(value) - yl) / (yh - yl) * inner_h

    for exponent in range(xl, xh + 1):
        x = sx(10.0**exponent)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + inner_h}" class="grid"/>')
        out.append(
            f'<text x="{x:.1f}" y="{top + inner_h + 14}" class="tick" text-anchor="middle">{size_label(10.0**exponent)}</text>'
        )
    for exponent in range(yl, yh + 1):
        y = sy(10.0**exponent)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + inner_w}" y2="{y:.1f}" class="grid"/>')
        out.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" class="tick" text-anchor="end">{ms_label(10.0**exponent)}</text>'
        )
    out.append(
        f'<text x="{left + inner_w / 2}" y="{y0 + HEIGHT - 4}" class="tick" text-anchor="middle">transactions in the ledger</text>'
    )
    for label, line in lines:
        kept = sorted(point for point in line if point[0] > 0 and point[1] > 0)
        if not kept:
            continue
        colour, dashed = legend.get(label, ("#444444", False))
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in kept)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{1.2 if dashed else 2}"{dash}/>'
        )
        out += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{colour}"/>' for x, y in kept]
    return out


def write_panels(path: Path, panels: Sequence[Panel], legend: dict[str, Style], heading: str) -> None:
    rows = max(1, math.ceil(len(panels) / COLUMNS))
    per_row = max(1, (COLUMNS * WIDTH - 20) // 170)
    legend_rows = math.ceil(len(legend) / per_row)
    head = 30 + legend_rows * LEGEND_ROW
    width, height = COLUMNS * WIDTH, head + rows * HEIGHT
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif">',
        "<style>.title{font-size:13px;font-weight:bold}.tick{font-size:10px;fill:#333}"
        ".frame{fill:none;stroke:#999}.grid{stroke:#ddd;stroke-width:1}.legend{font-size:11px}</style>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" class="title">{escape(heading)}</text>',
    ]
    for number, (label, (colour, dashed)) in enumerate(legend.items()):
        x, y = 10 + (number % per_row) * 170, 36 + (number // per_row) * LEGEND_ROW
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        out.append(f'<line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}" stroke="{colour}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{x + 30}" y="{y + 4}" class="legend">{escape(label)}</text>')
    sizes = [x for _, lines in panels for _, line in lines for x, y in line if x > 0 and y > 0]
    x_decades = decades(sizes) if sizes else (0, 1)  # one size axis for every panel, to compare them
    for number, (title, lines) in enumerate(panels):
        out += panel_svg(
            (number % COLUMNS) * WIDTH, head + (number // COLUMNS) * HEIGHT, title, lines, legend, x_decades
        )
    out.append("</svg>")
    path.write_text("\n".join(out) + "\n")
