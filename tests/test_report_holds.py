"""report: a hold past its review whose release is not written yet is the creator's diamonds, as balance says."""

from __future__ import annotations

import pytest

from conftest import Cli
from test_report import HELD, _run


def test_an_expired_hold_not_yet_released_counts_as_the_creator_s_diamonds(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(cli, monkeypatch, HELD)  # h-2 (20,000 of mia's diamonds) is held from 2026-12-02, nothing settles it
    monkeypatch.setenv("COINPURSE_NOW", "2026-12-30T00:00:00Z")  # past h-2's review, its release not written
    before = cli.ledger.read_bytes() if cli.ledger.is_file() else None
    owed = cli.json("report")["liabilities"]
    balance = cli.json("balance", "mia")
    assert balance["diamonds"] == 40_000  # h-1's back from the bank, and h-2's expired
    assert owed["pending_payouts"] == {"payouts": 0, "cash": "0.00"}
    assert owed["diamonds"] == balance["diamonds"]  # neither pending nor lost: mia's again
    assert owed["diamond_value"] == "200.00"
    if before is not None:
        assert cli.ledger.read_bytes() == before  # a report writes no release
    # A report as at a moment past the review, before the release is written, says the same.
    then = cli.json("report", "--until", "2026-12-29T00:00:00Z")["liabilities"]
    assert (then["diamonds"], then["pending_payouts"]["payouts"]) == (40_000, 0)
    # Once the release is written, the figures stay; before the review ran out, the hold was pending.
    assert cli("payout", "expire").exit_code == 0
    assert cli.json("report")["liabilities"]["diamonds"] == 40_000
    assert cli.json("report", "--until", "2026-12-29T00:00:00Z")["liabilities"]["diamonds"] == 40_000
    pending = cli.json("report", "--until", "2026-12-02T12:00:00Z")["liabilities"]
    assert (pending["diamonds"], pending["pending_payouts"]["payouts"]) == (0, 1)
