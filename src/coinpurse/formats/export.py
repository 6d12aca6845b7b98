"""The history in formats other tools read: CSV, a plain-text journal, and JSON.

The journal follows the syntax hledger and ledger-cli share: a dated entry with
the transaction id as its code, ``; key: value`` metadata lines, and postings
per commodity that balance. Users' accounts are ``users:<handle>``, so the
platform's accounts (``platform:...``) sort apart from theirs.

Every string read from the ledger is escaped for the format it goes to (see
``coinpurse.core.safetext``): a CSV text cell never starts a formula, and no
name can end a journal line, start a comment or split an account from its amount.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from coinpurse.core.model import Amount, Transaction
from coinpurse.core.names import is_platform_account
from coinpurse.core.safetext import csv_text, journal_text, json_dumps
from coinpurse.core.sentences import summary

FORMATS = ("csv", "journal", "json")
CSV_HEADER = ("id", "at", "kind", "account", "commodity", "amount")


def journal_account(name: str) -> str:
    return journal_text(name if is_platform_account(name) else f"users:{name}")


_PLAIN_COMMODITY = re.compile(r"[A-Za-z]+")
_UNQUOTABLE = re.compile(r'["\\]')  # ledger-cli reads a backslash in a quoted symbol as an escape


def journal_commodity(commodity: str) -> str:
    """A commodity symbol both tools read alike: letters as they are, anything else in double quotes."""
    if _PLAIN_COMMODITY.fullmatch(commodity):
        return commodity
    return '"' + _UNQUOTABLE.sub("", journal_text(commodity)) + '"'


def amount_text(amount: Amount) -> str:
    return str(amount) if isinstance(amount, int) else format(Decimal(amount), "f")


def to_csv(transactions: Iterable[Transaction]) -> str:
    """One row per posting, with a header; amounts exact, as in the ledger.

    Only text cells are guarded against formulas: an amount is always a number
    coinpurse formats itself, so a negative one stays a number a spreadsheet can add.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for tx in transactions:
        tx_cells = (csv_text(tx.id), csv_text(tx.at), csv_text(tx.kind))
        for p in tx.postings:
            writer.writerow((*tx_cells, csv_text(p.account), csv_text(p.commodity), amount_text(p.amount)))
    return out.getvalue()


def describe(tx: Transaction) -> str:
    """The journal's description of a transaction: its kind's summary (see core.sentences), made safe for the journal."""
    return journal_text(summary(tx.payload))


def to_journal(transactions: Iterable[Transaction], source: str = "") -> str:
    lines = [f"; coinpurse journal export{' of ' + source if source else ''}", "; users' holdings are positive; the platform carries the opposite side", ""]
    for tx in transactions:
        tx_id, at = journal_text(tx.id), journal_text(tx.at)
        header = f"{at[:10]} ({tx_id}) {describe(tx)}"
        meta = [f"    ; id: {tx_id}", f"    ; kind: {journal_text(tx.kind)}", f"    ; time: {at}"]
        if not tx.postings:  # a rates change moves nothing: kept as a comment, which both tools skip
            lines += [f"; {header}", *(f";{line[4:]}" for line in meta), ""]
            continue
        lines += [header, *meta]
        names = [journal_account(p.account) for p in tx.postings]
        width = max(len(name) for name in names) + 4
        for name, p in zip(names, tx.postings, strict=True):
            lines.append(f"    {name:<{width}}{amount_text(p.amount)} {journal_commodity(p.commodity)}")
        lines.append("")
    return "\n".join(lines)


def to_json(transactions: Iterable[Transaction], currency: str) -> str:
    document: dict[str, Any] = {"currency": currency, "transactions": [tx.output() for tx in transactions]}
    return json_dumps(document, indent=2) + "\n"

