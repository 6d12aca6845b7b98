"""Progress bars: drawn on stderr only when it is a terminal, once a run has gone on for about a second."""

from __future__ import annotations

import os
import sys

import pytest

from coinpurse.cli import render_summaries
from ledger_tools import seed


def test_a_bar_is_made_for_a_terminal_and_never_for_a_pipe(monkeypatch) -> None:
    master, slave = os.openpty()
    try:
        with os.fdopen(slave, "w", closefd=False) as terminal:
            monkeypatch.setattr(sys, "stderr", terminal)
            assert isinstance(render_summaries.progress_bar("verifying ledger.json"), render_summaries.ProgressBar)
        read, write = os.pipe()
        with os.fdopen(write, "w") as pipe:
            monkeypatch.setattr(sys, "stderr", pipe)
            assert render_summaries.progress_bar("verifying ledger.json") is None
        os.close(read)
    finally:
        os.close(master)
        os.close(slave)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []
        self.closed = False

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("ledger", ["json", "sqlite"], indirect=True)
def test_verify_reports_its_progress_to_the_bar(cli, monkeypatch) -> None:
    from coinpurse.core import verify

    seed(cli)
    bars: list[Recorder] = []
    labels: list[str] = []

    def made(label: str) -> Recorder:
        labels.append(label)
        bars.append(Recorder())
        return bars[-1]

    monkeypatch.setattr(render_summaries, "progress_bar", made)
    monkeypatch.setattr(verify, "PROGRESS_EVERY", 3)
    assert cli("verify").exit_code == 0
    (bar,) = bars
    assert labels == [f"verifying {cli.ledger.name}"]
    assert bar.calls == [(3, 8), (6, 8), (8, 8)] and bar.closed


def test_verify_off_a_terminal_draws_nothing(cli) -> None:
    seed(cli)
    result = cli("verify")
    assert result.exit_code == 0 and result.stderr == ""
