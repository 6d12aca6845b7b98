"""coinpurse.speedups.indentjson writes the very text json.dumps writes with an indent."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from coinpurse.speedups.indentjson import indented_json
from conftest import examples

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=25,
)


@settings(max_examples=examples(300), deadline=None)
@given(value=json_values, indent=st.integers(0, 4), level=st.integers(0, 3))
def test_it_writes_what_json_dumps_writes(value: Any, indent: int, level: int) -> None:
    expected = json.dumps(value, ensure_ascii=False, indent=indent).replace("\n", "\n" + " " * indent * level)
    assert indented_json(value, indent, level) == expected


def test_what_it_does_not_write_itself_goes_to_json_dumps() -> None:
    for odd in ({"a": [1, 2.5]}, {1: "x"}, {"nested": {True: None}}, ("t", [])):
        assert indented_json(odd, 2, 1) == json.dumps(odd, ensure_ascii=False, indent=2).replace("\n", "\n  ")
    try:
        indented_json({"cash": Decimal("1.5")})
    except TypeError:
        pass  # as json.dumps: no money as a float by accident
    else:
        raise AssertionError("a Decimal was written")
