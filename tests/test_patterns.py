"""Each rule of thumb has one definition, and every place that applies it agrees with it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coinpurse.core.book import _touches
from coinpurse.core.names import check_tx_id, normalize_handle
from coinpurse.core.patterns import ACCOUNT_NAME, HANDLE, ID_FORMAT, is_currency_code
from coinpurse.errors import BadInput
from coinpurse.storage.sqlite import touched_accounts

ROOT = Path(__file__).resolve().parent.parent
name_like = st.text(alphabet="abcz09_.:-A@ ", max_size=30)


@given(raw=name_like)
def test_a_handle_is_accepted_exactly_when_it_has_the_handle_pattern(raw: str) -> None:
    name = raw.strip().removeprefix("@").lower()
    try:
        normalize_handle(raw)
    except BadInput:
        assert not HANDLE.fullmatch(name)
    else:
        assert HANDLE.fullmatch(name) and ACCOUNT_NAME.fullmatch(name)


@given(raw=name_like)
def test_an_id_is_accepted_exactly_when_it_has_the_id_pattern(raw: str) -> None:
    try:
        check_tx_id(raw)
    except BadInput:
        assert not ID_FORMAT.fullmatch(raw)
    else:
        assert ID_FORMAT.fullmatch(raw)


@pytest.mark.parametrize(
    ("value", "valid"),
    [("USD", True), ("EURO", True), ("usd", False), ("US", False), ("ABCDEFGHI", False), ("U5D", False), (840, False)],
)
def test_a_currency_code_is_three_to_eight_capital_letters(value: object, valid: bool) -> None:
    assert is_currency_code(value) is valid


def test_a_transaction_touches_the_accounts_it_is_indexed_under() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import build
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    ledger = build.build_book(120)
    transactions = ledger.history().transactions
    everyone = {row.account for row in ledger.balances().accounts} | {"nobody", "platform:none"}
    everyone |= {posting.account for tx in transactions for posting in tx.postings}  # the platform's too
    for tx in transactions:
        indexed = touched_accounts(tx.to_dict())
        assert indexed and {name for name in everyone if _touches(tx, name)} == indexed
