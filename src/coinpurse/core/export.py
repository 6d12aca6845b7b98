"""The history in formats other tools read: CSV, a plain-text journal, and JSON.

The journal follows the syntax hledger and ledger-cli share: a dated entry with
the transaction id as its code, ``; key: value`` metadata lines, and postings
per commodity that balance. Users' accounts are ``users:<handle>``, so the
platform's accounts (``platform:...``) sort apart from theirs.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from coinpurse.core.model import Amount, Transaction
from coinpurse.core.names import is_platform_account

FORMATS = ("csv", "journal", "json")
CSV_HEADER = ("id", "at", "kind", "account", "commodity", "amount")


def journal_account(name: str) -> str:
    return name if is_platform_account(name) else f"users:{name}"


def amount_text(amount: Amount) -> str:
    return str(amount) if isinstance(amount, int) else format(Decimal(amount), "f")


def to_csv(transactions: Iterable[Transaction]) -> str:
    """One row per posting, with a header; amounts exact, as in the ledger."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for tx in transactions:
        for p in tx.postings:
            writer.writerow((tx.id, tx.at, tx.kind, p.account, p.commodity, amount_text(p.amount)))
    return out.getvalue()


def _clean(text: object) -> str:
    """Description text without the characters the journal syntax gives a meaning (comments, payee|note)."""
    return " ".join(str(text).replace(";", ",").replace("|", "/").split())


def describe(tx: Transaction) -> str:
    r, d = tx.request, tx.details
    if tx.kind == "buy":
        return _clean(f"{r['account']} buys {r['coins']} coins on {r['channel']}")
    if tx.kind == "gift":
        what = f"{d['count']} x {d['gift']}" if d["count"] > 1 else d["gift"]
        stream = f" on stream {d['stream']}" if "stream" in d else ""
        return _clean(f"{r['sender']} sends {what} to {r['recipient']}{stream}")
    if tx.kind == "redeem":
        return _clean(f"{r['account']} redeems {d['diamonds']} diamonds")
    if tx.kind == "rates":
        changes = ", ".join(f"{c['key']} {c.get('from', 'none')} to {c.get('to', 'none')}" for c in d.get("changes", []))
        return _clean(f"rates {d.get('source', 'set')}: {changes or 'no change'}")
    return _clean(tx.kind)


def to_journal(transactions: Iterable[Transaction], source: str = "") -> str:
    lines = [f"; coinpurse journal export{' of ' + source if source else ''}", "; users' holdings are positive; the platform carries the opposite side", ""]
    for tx in transactions:
        header = f"{tx.at[:10]} ({tx.id}) {describe(tx)}"
        meta = [f"    ; id: {tx.id}", f"    ; kind: {tx.kind}", f"    ; time: {tx.at}"]
        if not tx.postings:  # a rates change moves nothing: kept as a comment, which both tools skip
            lines += [f"; {header}", *(f";{line[4:]}" for line in meta), ""]
            continue
        lines += [header, *meta]
        names = [journal_account(p.account) for p in tx.postings]
        width = max(len(name) for name in names) + 4
        for name, p in zip(names, tx.postings, strict=True):
            lines.append(f"    {name:<{width}}{amount_text(p.amount)} {p.commodity}")
        lines.append("")
    return "\n".join(lines)


def to_json(transactions: Iterable[Transaction], currency: str) -> str:
    document: dict[str, Any] = {"currency": currency, "transactions": [tx.output() for tx in transactions]}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def balances_by_account(transactions: Iterable[Transaction]) -> dict[tuple[str, str], Amount]:
    """Sum of postings per (journal account, commodity), for checking an export against the ledger."""
    totals: dict[tuple[str, str], Amount] = {}
    for tx in transactions:
        for p in tx.postings:
            key = (journal_account(p.account), p.commodity)
            totals[key] = totals.get(key, 0) + p.amount
    return totals
