"""COINPURSE_NOW: only four-digit UTC years from 1970 are accepted, and never with a traceback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from coinpurse.core import clock


@pytest.mark.parametrize(
    "text",
    ["0999-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"],
)
def test_a_clock_outside_1970_to_9999_in_utc_is_bad_input(cli, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("COINPURSE_NOW", text)
    result = cli("buy", "alice", "700")
    assert result.exit_code == 2, result.output
    assert "COINPURSE_NOW" in result.stderr and "Traceback" not in result.stderr
    assert not cli.ledger.exists()


def test_the_edges_of_the_range_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    assert clock.now({"COINPURSE_NOW": "1970-01-01T00:00:00Z"}) == "1970-01-01T00:00:00Z"
    assert clock.now({"COINPURSE_NOW": "9999-12-31T23:59:59Z"}) == "9999-12-31T23:59:59Z"
    assert clock.now({"COINPURSE_NOW": "1970-01-01T05:00:00+05:00"}) == "1970-01-01T00:00:00Z"


def test_stored_times_always_have_a_four_digit_year() -> None:
    assert clock.format_time(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00Z"
