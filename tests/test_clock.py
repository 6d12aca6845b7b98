"""The clock: COINPURSE_NOW takes four-digit UTC years from 1970, and a write never goes far back in time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli_checks import expect_error
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


# A clock far behind the ledger's last transaction: refused, not stamped with the last time.

FUTURE_TYPO = "2062-03-02T12:00:00Z"  # 2026 mistyped
TODAY = "2026-03-02T12:00:00Z"


def _run(ledger: Path, now: str, *args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COINPURSE_NOW": now, **environ}
    return subprocess.run(
        [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), *args],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip


@pytest.mark.faults
def test_a_write_far_behind_the_last_transaction_is_refused_and_changes_nothing(ledger: Path) -> None:
    assert _run(ledger, FUTURE_TYPO, "buy", "alice", "700").returncode == 0
    before = ledger.read_bytes()
    refused = _run(ledger, TODAY, "buy", "bob", "700")
    assert refused.returncode == 3, refused.stderr
    assert ledger.read_bytes() == before
    message = refused.stderr
    assert TODAY in message and FUTURE_TYPO in message, message
    assert "history can't go back in time" in message and "COINPURSE_NOW" in message
    assert "Traceback" not in message and message.count("\n") == 1
    # With a clock at or after the last transaction, writes go on.
    assert _run(ledger, FUTURE_TYPO, "buy", "bob", "700").returncode == 0


def test_a_clock_behind_within_the_tolerance_takes_the_last_time(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-01T12:05:00Z")
    cli.json("buy", "alice", "700")
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-01T12:00:00Z")  # 300 s behind: the default tolerance
    assert cli.json("buy", "bob", "700")["at"] == "2026-03-01T12:05:00Z"
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-01T11:59:59Z")
    expect_error(cli, "buy", "bob", "700", exit_code=3, code="clock_behind", says="history can't go back in time")


def test_the_tolerance_comes_from_the_environment(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-01T13:00:00Z")
    cli.json("buy", "alice", "700")
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-01T12:00:00Z")
    expect_error(cli, "buy", "bob", "700", exit_code=3, code="clock_behind", says="allows 300 s")
    monkeypatch.setenv("COINPURSE_CLOCK_TOLERANCE", "3600")
    assert cli.json("buy", "bob", "700")["at"] == "2026-03-01T13:00:00Z"
    monkeypatch.setenv("COINPURSE_CLOCK_TOLERANCE", "0")
    expect_error(cli, "buy", "bob", "70", exit_code=3, code="clock_behind", says="allows 0 s")


@pytest.mark.parametrize("value", ["soon", "-1", "86401", "nan", "inf"])
def test_a_bad_tolerance_is_bad_input_before_anything_is_read(cli, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("COINPURSE_CLOCK_TOLERANCE", value)
    expect_error(cli, "buy", "alice", "700", exit_code=2, code="bad_input", says="COINPURSE_CLOCK_TOLERANCE")


@pytest.mark.parametrize(
    "args",
    [
        ("rates", "set", "payout.minimum", "50.00"),
        ("demo", "--force"),
        ("gift", "alice", "mia", "Rose"),
        ("redeem", "alice", "1"),
    ],
)
def test_every_write_refuses_a_clock_far_behind(cli, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]) -> None:
    monkeypatch.setenv("COINPURSE_NOW", FUTURE_TYPO)
    cli.json("buy", "alice", "700")
    monkeypatch.setenv("COINPURSE_NOW", TODAY)
    before = cli.ledger.read_bytes()
    plain, machine = cli(*args), cli(*args, "--json")
    assert plain.exit_code == machine.exit_code == 3, plain.stderr
    assert FUTURE_TYPO in plain.stderr and "Traceback" not in plain.stderr
    assert json.loads(machine.stderr)["error"]["code"] == "clock_behind"
    assert cli.ledger.read_bytes() == before


def test_apply_refuses_a_clock_far_behind(cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("COINPURSE_NOW", FUTURE_TYPO)
    cli.json("buy", "alice", "700")
    scenario = tmp_path / "ops.toml"
    scenario.write_text('[[ops]]\nkind = "buy"\naccount = "bob"\ncoins = 70\n')
    monkeypatch.setenv("COINPURSE_NOW", TODAY)
    expect_error(cli, "apply", str(scenario), exit_code=3, code="clock_behind", says="history can't go back in time")


def test_a_replayed_id_is_no_write_and_is_not_refused(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINPURSE_NOW", FUTURE_TYPO)
    cli.json("buy", "alice", "700", "--id", "first")
    monkeypatch.setenv("COINPURSE_NOW", TODAY)
    assert cli.json("buy", "alice", "700", "--id", "first")["replayed"] is True


# ----- the one parser of the times a user names (--at, --since, --until, --month) -----


@pytest.mark.parametrize(
    ("text", "end_of_day", "stored"),
    [
        ("2026-03-01", False, "2026-03-01T00:00:00Z"),
        ("2026-03-01", True, "2026-03-01T23:59:59Z"),
        ("2026-03-01T12:30:00Z", True, "2026-03-01T12:30:00Z"),
        ("2026-03-01T12:30:00", False, "2026-03-01T12:30:00Z"),  # no zone: UTC
        ("2026-03-01T12:30:00+02:00", False, "2026-03-01T10:30:00Z"),
        ("today", False, "2026-03-01T00:00:00Z"),
        ("Yesterday", True, "2026-02-28T23:59:59Z"),
    ],
)
def test_a_named_time_is_a_stored_utc_time(
    monkeypatch: pytest.MonkeyPatch, text: str, end_of_day: bool, stored: str
) -> None:
    monkeypatch.setenv("COINPURSE_NOW", "2026-03-01T12:00:00Z")
    assert clock.moment(text, end_of_day=end_of_day, what="--since") == stored


@pytest.mark.parametrize("text", ["2026-02-30", "last week", "2026-3-1", "", "0999-01-01"])
def test_a_time_that_is_not_one_is_bad_input_naming_the_option(text: str) -> None:
    from coinpurse.errors import BadInput

    with pytest.raises(BadInput) as error:
        clock.moment(text, end_of_day=False, what="--until")
    assert "--until" in error.value.message or "outside the years" in error.value.message
    assert error.value.code == "bad_time"


def test_a_month_spans_its_first_to_its_last_second() -> None:
    assert clock.month_span("2026-02") == ("2026-02-01T00:00:00Z", "2026-02-28T23:59:59Z")
    assert clock.month_span("2024-12") == ("2024-12-01T00:00:00Z", "2024-12-31T23:59:59Z")
    from coinpurse.errors import BadInput

    for bad in ("2026-13", "2026", "March"):
        with pytest.raises(BadInput):
            clock.month_span(bad)
