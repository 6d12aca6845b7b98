"""storage.sqlite.StoredDigests (a stored account's digest from its row's text) gives what the plain way gives."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coinpurse.core.chain import state_digest
from coinpurse.core.model import DamagedRecord
from coinpurse.storage.sqlite import StoredDigests, _account_from_row
from conftest import examples


def plain(row: tuple[Any, ...]) -> str | type[DamagedRecord]:
    try:
        return state_digest(_account_from_row(row), seen_again=False)
    except DamagedRecord:
        return DamagedRecord


def fast(digest: StoredDigests, row: tuple[Any, ...]) -> str | type[DamagedRecord]:
    try:
        return digest(row)
    except DamagedRecord:
        return DamagedRecord


costs = st.sampled_from(["9.99", "0.053", "1.50", "100", "0", "-0.0", " 2 ", "1e3", "NaN", "inf", "x", "", "1e30"])
sources = st.sampled_from(["tx-1", "tx-22", "", "é:b", "tx 3\n"])
coin_counts = st.sampled_from([1, 5, 0, -3, 10**18, 10**30])
plain_lot = st.tuples(sources, coin_counts, costs).map(list)
odd_lot = st.sampled_from([["tx-1", 5], ["tx-1", True, "1"], ["tx-1", 5, 1], [1, 5, "1"], "tx-1", ["tx-1", 1.5, "1"]])
lots_text = st.one_of(
    st.none(),
    st.lists(plain_lot, max_size=6).map(json.dumps),
    st.lists(st.one_of(plain_lot, odd_lot), min_size=1, max_size=4).map(json.dumps),
    st.sampled_from(["[", "{}", '"x"', "[1.5]", "null"]),
    st.just(7),
)
rows = st.tuples(
    st.sampled_from(["viewer01", "creator02"]),
    st.sampled_from([0, 690, -1, "5"]),
    st.sampled_from([0, 42]),
    st.sampled_from(["0", "1.25", "bad"]),
    lots_text,
    st.sampled_from([None, "2026-01-03"]),
    st.sampled_from([None, "0.5", "x"]),
)


@settings(max_examples=examples(400), deadline=None)
@given(row=rows)
def test_a_rows_digest_is_the_plain_ways_or_it_is_damaged_as_there(row: tuple[Any, ...]) -> None:
    digest = StoredDigests()
    assert fast(digest, row) == plain(row)
    assert fast(digest, row) == plain(row)  # again, with its costs' text found by the stored text


@pytest.mark.parametrize("cost", ["1.50", "1.5", "1.500"])
def test_costs_equal_in_value_give_one_digest(cost: str) -> None:
    row = ("viewer01", 5, 0, "0", json.dumps([["tx-1", 5, cost]]), None, None)
    assert StoredDigests()(row) == plain(("viewer01", 5, 0, "0", '[["tx-1",5,"1.5"]]', None, None))
