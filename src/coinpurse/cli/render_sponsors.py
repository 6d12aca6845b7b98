"""``sponsor list`` for people: one row per sponsor's budget, then what its bonuses went to."""

from __future__ import annotations

from rich import box
from rich.table import Table

from coinpurse.cli.output import console
from coinpurse.results import Sponsors


def show_sponsors(sponsors: Sponsors) -> None:
    out = console()
    data = sponsors.to_dict()
    if not data["sponsors"]:
        out.print("No sponsors yet. Start one: coinpurse sponsor fund NAME CASH")
        return
    table = Table(title=f"Sponsors' budgets ({data['currency']})", box=box.SIMPLE_HEAVY, show_edge=False, title_justify="left")
    for column in ("sponsor", "funded", "spent", "returned", "withdrawn", "left", "gifts", "creators"):
        table.add_column(column, justify="left" if column == "sponsor" else "right")
    for row in data["sponsors"]:
        table.add_row(
            row["sponsor"], row["funded"], row["spent"], row["returned"], row["withdrawn"], row["left"],
            f"{row['gifts']:,}", f"{len(row['creators']):,}",
        )  # fmt: skip
    out.print(table)
    for row in data["sponsors"]:
        for on in row["on"]:
            out.print(
                f"  {row['sponsor']}: {on['gifts']:,} × {on['gift']} paid {on['diamonds']:,} bonus diamonds (${on['cash']})"
            )
