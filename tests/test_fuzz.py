"""Fuzzing bad input: random command lines and damaged ledger files.

Every case must end with exit 0, 1, 2 or 3 and never a traceback, and a
non-zero exit must leave the ledger byte-identical. The number of inputs tried
is printed in the test session's summary.
"""

from __future__ import annotations

import copy
import json
import os
import random
import sqlite3
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from coinpurse.cli import app
from coinpurse.core.money import decimal_str
from coinpurse.core.rates import Rates, default_rates
from coinpurse.core.rates_edit import edited, flatten
from coinpurse.errors import BadInput
from coinpurse.storage.files import read_lined_book, render_json
from ledger_tools import FUZZ_COUNTS

EXAMPLES = int(os.environ.get("COINPURSE_FUZZ_EXAMPLES", "250"))  # raise it for a longer hunt
fuzz_settings = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
EXIT_CODES = {0, 1, 2, 3}
SEED = [
    ["buy", "alice", "700"],
    ["gift", "alice", "mia", "rose", "-n", "5"],
    ["buy", "bob", "17500"],
    ["buy", "bob", "3500"],
    ["gift", "bob", "mia", "interstellar", "-n", "2"],
    ["redeem", "mia", "20000", "--id", "pay-1"],
]
runner = CliRunner()


def _invoke(ledger: Path, args: list[str]):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["--ledger", str(ledger), *args], catch_exceptions=True)


def _assert_clean(result, before: bytes | None, ledger: Path) -> None:  # type: ignore[no-untyped-def]
    exception = result.exception
    assert exception is None or isinstance(exception, SystemExit), (
        f"{type(exception).__name__}: {exception}\n{result.output}"
    )
    assert result.exit_code in EXIT_CODES, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    if result.exit_code != 0:
        after = ledger.read_bytes() if ledger.exists() else None
        assert after == before, "a non-zero exit changed the ledger"


class Seeds(dict[str, bytes]):
    def __repr__(self) -> str:  # keep hypothesis' failure reports short
        return "<seeded ledgers>"


@pytest.fixture(scope="module")
def seeded() -> Iterator[dict[str, bytes]]:
    """Seeded ledgers' bytes in both formats, made once."""
    with tempfile.TemporaryDirectory() as folder:
        made = Seeds()
        for suffix in ("json", "toml", "sqlite"):
            path = Path(folder) / f"seed.{suffix}"
            for args in SEED:
                assert _invoke(path, args).exit_code == 0
            made[suffix] = path.read_bytes()
        made["v1"] = (Path(__file__).with_name("fixtures") / "ledger-v1.json").read_bytes()  # migrated on read
        yield made


# ----- command lines ---------------------------------------------------------------

weird_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=5),
    st.sampled_from(["", " ", "@", "@alice", "ALICE", "a", "x" * 25, "platform:revenue", "mia\n", "al\x00ice"]),
)
numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["0", "-1", "1e3", "1.5", "NaN", "inf", "9" * 40, "1_000", "1,000", "٣", "²", "0x10", " 7 "]),
)
words = st.sampled_from(
    ["buy", "gift", "balance", "redeem", "rates", "history", "verify", "alice", "mia", "bob", "rose", "Rose",
     "finger heart", "lion", "--json", "--id", "--channel", "app", "web", "-n", "--count", "--stream", "--all",
     "--kind", "--limit", "--help", "--version", "--", "-x", "--ledger"]
)  # fmt: skip
commands = st.sampled_from(["buy", "gift", "balance", "redeem", "rates", "history", "verify", "nope", ""])
arguments = st.lists(st.one_of(words, weird_text, numbers), max_size=8)


@fuzz_settings
@given(command=commands, rest=arguments, fmt=st.sampled_from(["json", "toml"]))
def test_random_command_lines_never_crash(seeded: dict[str, bytes], tmp_path: Path, command: str, rest: list[str], fmt: str) -> None:
    FUZZ_COUNTS["command lines"] = FUZZ_COUNTS.get("command lines", 0) + 1
    ledger = tmp_path / f"fuzz.{fmt}"
    ledger.write_bytes(seeded[fmt])
    before = ledger.read_bytes()
    result = _invoke(ledger, [command, *rest])
    _assert_clean(result, before, ledger)


@fuzz_settings
@given(rest=arguments)
def test_random_command_lines_on_a_missing_ledger_create_nothing_on_failure(tmp_path: Path, rest: list[str]) -> None:
    FUZZ_COUNTS["command lines"] = FUZZ_COUNTS.get("command lines", 0) + 1
    ledger = tmp_path / "fresh" / "new.json"
    if ledger.exists():
        ledger.unlink()
    result = _invoke(ledger, rest)
    _assert_clean(result, None, ledger)


# ----- damaged files ---------------------------------------------------------------

READ_AND_WRITE = [
    ["balance"], ["balance", "alice", "--json"], ["balance", "mia"], ["rates"], ["rates", "--json"],
    ["history"], ["history", "mia", "--json"], ["history", "--kind", "gift", "--limit", "2"], ["verify"],
    ["verify", "--json"], ["buy", "alice", "70"], ["buy", "zoe", "350", "--json"], ["gift", "alice", "mia", "rose"],
    ["gift", "bob", "alice", "lion", "--json"], ["redeem", "mia", "--all"], ["redeem", "mia", "--all", "--id", "pay-1"],
    ["buy", "alice", "700", "--id", "tx-1", "--json"], ["buy", "alice", "700", "--id", "tx-1"],
]  # fmt: skip

odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([10**15, -(10**15), 10**40, 2**63, 0, -1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "1e999999", "NaN", "-0", "0.001", "9" * 30, "\ud800", "2026-13-40T99:99:99Z"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _mutate(document: Any, rnd: random.Random, value: Any) -> Any:
    # Aim at each part of the file in turn, or the 39-gift catalog would take most edits.
    section = rnd.choice(["transactions", "transactions", "transactions", "accounts", "accounts", "rates", ""])
    if section and section in document:
        paths = [(section, *p) for p in _paths(document[section])]
    else:
        paths = [p for p in _paths(document) if len(p) == 1]
    if not paths:
        return document
    path = rnd.choice(paths)
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    value = copy.deepcopy(value)  # never the same object twice, or the document could contain itself
    action = rnd.choice(["replace", "replace", "delete", "extra"])
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif isinstance(parent, dict):
        parent[f"extra_{rnd.randrange(100)}"] = value
    else:
        parent.append(value)
    return document


def _dump(document: Any, fmt: str) -> bytes | None:
    try:
        if fmt == "toml":
            return tomli_w.dumps(document).encode()
        return json.dumps(document, indent=1).encode()
    except (TypeError, ValueError):
        return None  # not representable in this format (e.g. null in TOML)


@fuzz_settings
@given(
    fmt=st.sampled_from(["json", "toml", "v1"]),
    seed=st.integers(min_value=0, max_value=2**32),
    value=odd_values,
    edits=st.integers(min_value=1, max_value=3),
    command=st.sampled_from(READ_AND_WRITE),
)
def test_damaged_structure_never_crashes(
    seeded: dict[str, bytes], tmp_path: Path, fmt: str, seed: int, value: Any, edits: int, command: list[str]
) -> None:
    rnd = random.Random(seed)
    raw = seeded[fmt]
    document = tomllib.loads(raw.decode()) if fmt == "toml" else json.loads(raw)
    for _ in range(edits):
        document = _mutate(document, rnd, value)
    suffix = "toml" if fmt == "toml" else "json"
    data = _dump(document, suffix)
    if data is None:
        return
    FUZZ_COUNTS["damaged files"] = FUZZ_COUNTS.get("damaged files", 0) + 1
    ledger = tmp_path / f"damaged.{suffix}"
    ledger.write_bytes(data)
    for stale in tmp_path.glob("*.bak"):
        stale.unlink()
    _assert_clean(_invoke(ledger, command), data, ledger)


@fuzz_settings
@given(
    fmt=st.sampled_from(["json", "toml"]),
    cut=st.floats(min_value=0, max_value=1),
    flips=st.lists(st.tuples(st.floats(min_value=0, max_value=1), st.integers(min_value=1, max_value=255)), max_size=4),
    command=st.sampled_from(READ_AND_WRITE),
)
def test_truncated_or_flipped_bytes_never_crash(
    seeded: dict[str, bytes], tmp_path: Path, fmt: str, cut: float, flips: list[tuple[float, int]], command: list[str]
) -> None:
    data = bytearray(seeded[fmt])
    for where, mask in flips:
        position = min(int(where * len(data)), len(data) - 1)
        data[position] ^= mask
    if not flips or cut < 0.5:
        data = data[: int(cut * len(data))]
    FUZZ_COUNTS["damaged files"] = FUZZ_COUNTS.get("damaged files", 0) + 1
    ledger = tmp_path / f"bytes.{fmt}"
    ledger.write_bytes(bytes(data))
    _assert_clean(_invoke(ledger, command), bytes(data), ledger)


# ----- edited head rates ------------------------------------------------------------

RATE_KEYS = sorted(flatten(default_rates()))
WRITES = [
    ["buy", "alice", "70"], ["buy", "zoe", "17500", "--json"], ["buy", "alice", "1234", "--channel", "web"],
    ["gift", "alice", "mia", "rose"], ["gift", "bob", "mia", "lion", "--json"], ["redeem", "mia", "--all"],
    ["rates", "set", "gift.Comet.coins", "9"],
]  # fmt: skip


def _edited_rates(action: str, key: str, step: int) -> Rates | None:
    """The default rates with one change of value, or None when that change makes them invalid."""
    rates = default_rates()
    try:
        if action == "remove gift":
            return edited(rates, {}, (f"gift.{rates.gifts[step % len(rates.gifts)].name}",))
        if action == "add gift":
            return edited(rates, {f"gift.Gift {step}.coins": step}, ())
        value = flatten(rates)[key]
        if isinstance(value, int):
            return edited(rates, {key: value + step}, ())
        return edited(rates, {key: decimal_str(Decimal(value) + Decimal(step).scaleb(-2))}, ())
    except BadInput:
        return None


def _put_head_rates(ledger: Path, rates: Rates) -> None:
    """A hand edit of the rates in force, the history left byte for byte as it was."""
    if ledger.suffix == ".sqlite":
        with closing(sqlite3.connect(ledger)) as db, db:
            db.execute("UPDATE meta SET value = ? WHERE key = 'rates'", (json.dumps(rates.to_dict()),))
        return
    if ledger.suffix == ".toml":
        document = tomllib.loads(ledger.read_text())
        document["rates"] = rates.to_dict()
        ledger.write_text(tomli_w.dumps(document))
        return
    lined = read_lined_book(ledger, ledger.read_bytes())
    assert lined is not None
    book, _ = lined
    book.rates = rates
    ledger.write_bytes(render_json(book))


@fuzz_settings
@given(
    fmt=st.sampled_from(["json", "toml", "sqlite"]),
    action=st.sampled_from(["change", "change", "change", "remove gift", "add gift"]),
    key=st.sampled_from(RATE_KEYS),
    step=st.integers(min_value=1, max_value=500),
    command=st.sampled_from(WRITES),
)
def test_edited_head_rates_are_refused_by_every_write(
    seeded: dict[str, bytes], tmp_path: Path, fmt: str, action: str, key: str, step: int, command: list[str]
) -> None:
    rates = _edited_rates(action, key, step)
    assume(rates is not None and rates != default_rates())
    assert rates is not None
    FUZZ_COUNTS["edited head rates"] = FUZZ_COUNTS.get("edited head rates", 0) + 1
    ledger = tmp_path / f"rates.{fmt}"
    ledger.unlink(missing_ok=True)
    ledger.write_bytes(seeded[fmt])
    _put_head_rates(ledger, rates)
    before = ledger.read_bytes()
    result = _invoke(ledger, command)
    _assert_clean(result, before, ledger)
    assert result.exit_code == 3, (result.output, result.stderr)
    assert "rates in force" in result.stderr
    assert _invoke(ledger, ["verify"]).exit_code == 3
    assert ledger.read_bytes() == before
