"""Each speed trick in coinpurse.speedups gives what the plain way gives."""

from __future__ import annotations

import gc
import io
import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coinpurse.core.book import MemoryBook
from coinpurse.core.rates import default_rates
from coinpurse.speedups import jsonfile
from coinpurse.speedups.collector import CollectorPaused
from coinpurse.speedups.jsontext import (
    CANONICAL_SETTINGS,
    COMPACT_SETTINGS,
    LINE_SETTINGS,
    canonical_json,
    compact_json,
    line_json,
    reusable_encoder,
)
from coinpurse.storage.files import render_json
from conftest import examples

# What coinpurse encodes: trees of dicts, lists, text, whole numbers, booleans and null.
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=25,
)


@pytest.mark.parametrize(
    ("encode", "options"),
    [(canonical_json, CANONICAL_SETTINGS), (compact_json, COMPACT_SETTINGS), (line_json, LINE_SETTINGS)],
    ids=["canonical", "compact", "line"],
)
@settings(max_examples=examples(300), deadline=None)
@given(value=json_values)
def test_each_encoder_gives_the_text_of_json_encoder(encode: Any, options: dict[str, Any], value: Any) -> None:
    assert encode(value) == json.JSONEncoder(**options).encode(value)


def test_an_encoder_it_cannot_speed_up_is_used_as_it_is() -> None:
    indented = json.JSONEncoder(indent=2)
    assert reusable_encoder(indented) == indented.encode
    assert reusable_encoder(json.JSONEncoder(**COMPACT_SETTINGS)) is not None


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_inside_and_as_it_was_after(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with CollectorPaused():
            assert not gc.isenabled()
            made = [[n] for n in range(20_000)]
        assert gc.isenabled() is enabled
        if enabled:  # what was made inside was moved on without a collection walking it
            assert gc.get_count()[0] < 1_000
        del made
    finally:
        (gc.enable if was else gc.disable)()


def test_a_short_run_keeps_the_collector_off_until_exit() -> None:
    code = (
        "import gc; from coinpurse.speedups.collector import collector_off_until_exit; "
        "collector_off_until_exit(); print(gc.isenabled())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# Generated ledgers in the writer's layout, compared piece by piece with a full parse.
names = st.from_regex(r"[a-z][a-z0-9_.]{1,10}", fullmatch=True)
memos = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)


@st.composite
def ledger_bytes(draw: st.DrawFn) -> bytes:
    accounts = draw(st.lists(names, unique=True, max_size=4))
    count = draw(st.integers(min_value=0, max_value=6))
    records = []
    for position in range(count):
        touched = draw(st.lists(st.sampled_from(accounts), unique=True)) if accounts else []
        record: dict[str, Any] = {"id": f"tx-{position}", "kind": "buy", "memo": draw(memos)}
        if draw(st.booleans()):
            record["state"] = {"rates": "0" * 32, "accounts": {name: "1" * 32 for name in touched}, "root": "2" * 32}
        record["hash"] = f"{position:064x}"
        records.append(record)
    book = MemoryBook("USD", default_rates(), {}, records)
    return render_json(book)


@settings(max_examples=examples(100), deadline=None)
@given(data=ledger_bytes())
def test_the_pieces_of_a_written_ledger_agree_with_a_full_parse(data: bytes) -> None:
    document = json.loads(data)
    transactions = document.pop("transactions")
    assert jsonfile.ends_as_written(data[-jsonfile.TAIL_SIZE :])
    read = jsonfile.read_head(io.BytesIO(data), len(data))
    assert read is not None and json.loads(read[0]) == {**document, "transactions": []}
    span = jsonfile.history_span(data)
    if not transactions:
        assert span is None  # an empty history is written as []: only the head read applies
        assert read[1][0] == read[1][1]
        return
    assert span is not None and read[1] == span
    assert json.loads(jsonfile.head_of(data, span)) == {**document, "transactions": []}
    assert jsonfile.history_digest(data, span).hexdigest() == document["history_sha256"]
    count = jsonfile.line_count(data, span)
    assert count == len(transactions)
    starts = jsonfile.LineStarts(data, span, count)
    lines = [data[slice(*starts.bounds(index))].decode() for index in range(count)]
    assert [json.loads(line) for line in lines] == transactions
    assert jsonfile.history_lines(data, span) == lines
    assert [jsonfile.line_id(line) for line in lines] == [record["id"] for record in transactions]
    assert list(starts.ids()) == [(record["id"], index) for index, record in enumerate(transactions)]
    for index, record in enumerate(transactions):
        assert jsonfile.plain_id(record["id"]) and starts.find_id(record["id"]) == index
    assert starts.find_id("tx-none") is None
    for line, record in zip(lines, transactions, strict=True):
        offset = jsonfile.state_offset(line)
        if "state" not in record:
            assert offset is None
            continue
        assert offset is not None
        assert json.JSONDecoder().raw_decode(line, offset)[0] == record["state"]
        for name in record["state"]["accounts"]:
            assert jsonfile.records_state_of(line, offset, name)
            assert jsonfile.may_record(data, span, name)


@settings(max_examples=examples(100), deadline=None)
@given(data=ledger_bytes(), block=st.integers(min_value=1, max_value=400), extra=names)
def test_the_newest_lines_are_the_history_read_from_its_end(data: bytes, block: int, extra: str) -> None:
    transactions = json.loads(data)["transactions"]
    read = jsonfile.read_head(io.BytesIO(data), len(data))
    assert read is not None
    span = read[1]

    def pread(offset: int, size: int) -> bytes:
        return data[offset : offset + size]

    def lines(needle: bytes | None = None) -> list[bytes]:
        return list(jsonfile.newest_lines(pread, span, needle, first_block=block, last_block=block * 4))

    every = lines()
    assert [json.loads(line) for line in every] == transactions[::-1]
    for line, record in zip(every, transactions[::-1], strict=True):
        assert jsonfile.line_kind(line) == record["kind"].encode()
    history = data[span[0] : span[1]]
    accounts = {name for record in transactions for name in record.get("state", {}).get("accounts", {})}
    for needle in [jsonfile.name_needle(name) for name in sorted(accounts | {extra})] + [jsonfile.kind_needle("buy")]:
        try:
            found = lines(needle)
        except jsonfile.OtherLayout:  # an escape could spell the needle another way
            assert b"\\u" in history
            continue
        assert found == [line for line in every if needle in line]  # each line once, newest first


def test_the_lines_of_a_long_history_are_found_from_the_end_and_in_one_pass() -> None:
    lines = [f'    {{"id": "tx-{n}", "kind": "buy", "memo": "{"x" * (n % 7)}"}}' for n in range(3000)]
    data = b"[\n" + ",\n".join(lines).encode() + b"\n]"
    span = (2, len(data) - 2)
    assert jsonfile.line_count(data, span) == 3000
    from_the_end = jsonfile.LineStarts(data, span, 3000)
    for index in [*range(2999, 2000, -1), 5, 0]:  # walked back, then one pass for the rest
        assert data[slice(*from_the_end.bounds(index))].decode() == lines[index]
    in_one_pass = jsonfile.LineStarts(data, span, 3000)
    assert [data[slice(*in_one_pass.bounds(index))].decode() for index in range(3000)] == lines
    assert in_one_pass.find_id("tx-2999") == 2999 and in_one_pass.find_id("tx-30000") is None
    with pytest.raises(IndexError):
        in_one_pass.bounds(3000)


def test_a_history_in_another_layout_stops_the_reading_of_its_lines() -> None:
    good = b'    {"id": "a", "kind": "buy"},\n    {"id": "b", "kind": "buy"}'
    cases = [
        good.replace(b"},\n", b"}\n"),  # no comma between lines
        good + b",",  # a comma after the newest
        good.replace(b'    {"id": "b"', b'{"id": "b"'),  # not indented as written
        good.replace(b'"kind": "buy"}', b'"kind": "buy"} '),  # not ending the line with the object
        b"\n" + good,  # an empty line
    ]
    assert len(list(jsonfile.newest_lines(lambda offset, size: good[offset : offset + size], (0, len(good))))) == 2
    for history in cases:
        with pytest.raises(jsonfile.OtherLayout):
            list(
                jsonfile.newest_lines(
                    lambda offset, size, bytes_=history: bytes_[offset : offset + size], (0, len(history))
                )
            )
    with pytest.raises(jsonfile.OtherLayout):
        jsonfile.line_kind(b'    {"id": "a", "at": "x", "kind": "buy"}')


@settings(max_examples=examples(100), deadline=None)
@given(data=ledger_bytes(), cut=st.integers(min_value=1, max_value=40))
def test_a_cut_or_reformatted_ledger_is_left_to_the_full_parse(data: bytes, cut: int) -> None:
    cut_short = data[:-cut]
    assert not jsonfile.ends_as_written(cut_short[-jsonfile.TAIL_SIZE :])
    assert jsonfile.read_head(io.BytesIO(cut_short), len(cut_short)) is None
    assert jsonfile.history_span(cut_short) is None
    flat = json.dumps(json.loads(data)).encode()
    assert jsonfile.read_head(io.BytesIO(flat), len(flat)) is None
    assert jsonfile.history_span(flat) is None


@pytest.mark.parametrize(
    "layout",
    [{}, {"separators": (",", ":")}, {"separators": (", ", ": ")}, {"indent": 2}],
    ids=["default", "compact", "line", "indented"],
)
@settings(max_examples=examples(150), deadline=None)
@given(value=json_values)
def test_output_json_is_what_json_dumps_gives_with_controls_escaped(layout: dict[str, Any], value: Any) -> None:
    from coinpurse.core.safetext import json_dumps, json_text

    assert json_dumps(value, **layout) == json_text(json.dumps(value, ensure_ascii=False, **layout))


@given(
    data=st.lists(st.sampled_from([b"\\", b"u", b"a", b'"', b"\\u"]), max_size=30).map(b"".join),
    start=st.integers(0, 40),
    end=st.one_of(st.none(), st.integers(0, 40)),
)
def test_holds_escape_answers_as_a_search_for_the_pair(data: bytes, start: int, end: int | None) -> None:
    assert jsonfile.holds_escape(data, start, end) == (data.find(b"\\u", start, end) >= 0)


# speedups.lotcosts: an account's lots' cost counted from their text, as the full parse sums it.
lot_sources = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
lot_costs = st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False).map(str)
lots = st.lists(st.tuples(lot_sources, st.integers(-(10**16), 10**16), lot_costs | text), max_size=6)


@given(lots, st.sampled_from(["compact", "spaced", "escaped"]))
@settings(max_examples=examples(300))
def test_lot_costs_counted_from_the_text_are_what_a_full_parse_sums(found: list[Any], layout: str) -> None:
    from decimal import Decimal

    from coinpurse.core.model import DamagedRecord, account_from_dict
    from coinpurse.storage.sqlite import _coin_cost

    raw = [list(lot) for lot in found]
    stored = {
        "compact": compact_json(raw),
        "spaced": json.dumps(raw),  # another layout: left to the full parse
        "escaped": json.dumps(raw, ensure_ascii=True, separators=(",", ":")),
    }[layout]
    try:
        state = account_from_dict({"coins": 0, "diamonds": 0, "cash": "0", "lots": json.loads(stored)}, "a")
    except DamagedRecord:
        with pytest.raises(DamagedRecord):
            _coin_cost("a", stored, {})
        return
    expected = sum((lot.cost for lot in state.lots), Decimal(0))
    checked: dict[str, Decimal] = {}
    assert _coin_cost("a", stored, checked) == expected
    assert _coin_cost("a", stored, checked) == expected  # with the costs checked before


def test_lots_in_another_layout_are_left_to_the_full_parse() -> None:
    from coinpurse.speedups.lotcosts import coin_pattern, lot_cost_counts

    coins = coin_pattern(15)
    assert lot_cost_counts('[["tx-1",700,"7.49"],["tx-2",70,"0.99"],["tx-3",700,"7.49"]]', coins) == {
        "7.49": 2,
        "0.99": 1,
    }
    assert lot_cost_counts("[]", coins) == {}
    for other in (
        '[["tx-1", 700, "7.49"]]',  # spaced
        '[["tx-\\"1",700,"7.49"]]',  # an escape
        '[["tx-1",true,"7.49"]]',  # not a whole number
        '[["tx-1",1000000000000000,"7.49"]]',  # out of range
        '[["tx-1",700,"7.49","x"]]',  # four parts
        '[["tx-1",700]]',  # two
        '[["tx-1",700,"7.49\n"]]',  # a control character in a cost
        '{"tx-1":[700,"7.49"]}',
    ):
        assert lot_cost_counts(other, coins) is None, other


def test_a_source_spelling_a_separator_does_not_hide_a_damaged_one() -> None:
    from coinpurse.speedups.lotcosts import coin_pattern, lot_cost_counts

    # not JSON (the x), though it holds as many '"],["' as places between lots
    assert lot_cost_counts('[["a",1,"2"],x["],[",1,"3"]]', coin_pattern(15)) is None
