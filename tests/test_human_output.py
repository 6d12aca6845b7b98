"""Output for people: unwrapped and without trailing spaces in a pipe, cash grouped and aligned, history that fits."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coinpurse.cli import app
from coinpurse.cli.render import _cash, aligned

SGR = __import__("re").compile(r"\x1b\[[0-9;]*m")


def run(ledger: Path, *args: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["--ledger", str(ledger), *args], env=env, catch_exceptions=False)


def on_a_terminal(ledger: Path, *args: str, columns: int = 80) -> str:
    """``coinpurse --ledger LEDGER ARGS`` as a real process on a pseudo-terminal ``columns`` wide."""
    controller, attached = pty.openpty()
    fcntl.ioctl(attached, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    command = [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), *args]
    process = subprocess.Popen(command, stdin=attached, stdout=attached, stderr=attached, env=env)
    os.close(attached)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=120) == 0
    return SGR.sub("", b"".join(chunks).decode()).replace("\r\n", "\n")


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    ledger = tmp_path / "demo.json"
    assert run(ledger, "-q", "demo").exit_code == 0
    return ledger


def test_cash_is_grouped_in_thousands() -> None:
    assert _cash("11249.75") == "$11,249.75"
    assert _cash("-1000000") == "-$1,000,000.00"
    assert _cash("0.025") == "$0.025"


def test_amounts_align_on_the_decimal_point() -> None:
    cells = aligned(["$0.00", "$0.025", "$12.05", "700"], "worth (USD)")
    assert len({len(cell) for cell in cells}) == 1
    assert len({cell.index(".") for cell in cells if "." in cell}) == 1
    assert cells[3].endswith("700")  # a whole number keeps to the right edge


def test_piped_output_is_not_wrapped_and_has_no_trailing_spaces(demo: Path) -> None:
    for args in (
        ("balance",),
        ("balance", "mia"),
        ("history",),
        ("gifters", "mia"),
        ("rates",),
        ("buy", "alice", "700"),
    ):
        result = run(demo, *args, env={"COLUMNS": ""})
        assert result.exit_code == 0
        lines = result.stdout.split("\n")
        assert all(line == line.rstrip() for line in lines), args
    receipt = run(
        demo, "gift", "alice", "mia", "rose", "-n", "5", "--stream", "a-stream-name-that-is-long", env={"COLUMNS": ""}
    )
    sentence = [line for line in receipt.stdout.split("\n") if line.startswith("5 × Rose")]
    assert len(sentence) == 1 and len(sentence[0]) > 80 and sentence[0].endswith("[stream: a-stream-name-that-is-long]")


def test_columns_still_sets_a_width_for_a_pipe(demo: Path) -> None:
    receipt = run(
        demo, "gift", "alice", "mia", "rose", "-n", "5", "--stream", "a-stream-name-that-is-long", env={"COLUMNS": "60"}
    )
    assert max(len(line) for line in receipt.stdout.split("\n")) <= 60


def test_every_account_and_one_account_share_the_table_style_and_money_lines_up(demo: Path) -> None:
    everyone = run(demo, "balance").stdout
    one = run(demo, "balance", "mia").stdout
    assert "━━━" in everyone and "━━━" in one and "╭" not in one
    assert not everyone.startswith("\n") and not one.startswith("\n")  # no blank edge line above the table
    worth = [line for line in everyone.split("\n") if line.lstrip().startswith(("mia ", "noah ", "alice ", "total "))]
    points = {line.rindex(".") for line in worth}
    assert len(points) == 1, worth  # $12.435, $12.05, $0.00 and the total: one decimal point column
    rows = [line for line in one.split("\n") if "$" in line]
    assert len({line.rindex(".") for line in rows}) == 1, rows


def test_history_has_an_amount_column_and_one_line_per_transaction(demo: Path) -> None:
    shown = run(demo, "history").stdout
    rows = [line for line in shown.split("\n") if line.lstrip().startswith("demo-")]
    assert len(rows) == 20
    assert all(len(line) <= 80 for line in rows), max(rows, key=len)
    assert "$249.99" in rows[1] and "bob: 17,500 coins (app)" in rows[1]
    assert " redeem " in rows[19] and "$100.00" in rows[19]


@pytest.mark.slow
def test_a_pipe_gets_the_whole_history_and_a_terminal_the_newest_20(demo: Path) -> None:
    for _ in range(3):
        assert run(demo, "-q", "buy", "zed", "70").exit_code == 0
    piped = run(demo, "history").stdout
    assert piped.count(" buy ") == 9 and "--all" not in piped  # 6 demo buys and 3 more
    terminal = on_a_terminal(demo, "history")
    rows = [line for line in terminal.split("\n") if line.lstrip().startswith(("demo-", "tx-"))]
    assert len(rows) == 20 and rows[-1].lstrip().startswith("tx-23")
    assert "see more with --limit N, or all with --all" in terminal
    assert all(len(line.rstrip()) <= 80 for line in terminal.split("\n"))
    every = on_a_terminal(demo, "history", "--all")
    assert "--all" not in every and "demo-1 " in every
    assert "--all" not in on_a_terminal(demo, "history", "--limit", "5")


def test_a_terminal_120_wide_draws_history_on_one_line_a_row(demo: Path) -> None:
    shown = on_a_terminal(demo, "history", columns=120)
    rows = [line for line in shown.split("\n") if line.lstrip().startswith("demo-")]
    assert (
        len(rows) == 20
        and "--all" not in shown
        and all("→" in row or "coins" in row or "paid out" in row for row in rows)
    )


def test_the_width_is_read_at_each_run_not_kept_from_the_first(demo: Path) -> None:
    from coinpurse.cli import output

    output._console.cache_clear()  # the console is made by the next run, under COLUMNS=70
    long_stream = ("--stream", "a-stream-name-that-is-long")
    narrow = run(demo, "gift", "alice", "mia", "rose", "-n", "5", *long_stream, env={"COLUMNS": "70", "TERM": "dumb"})
    assert max(len(line) for line in narrow.stdout.split("\n")) <= 70
    wide = run(demo, "gift", "alice", "mia", "rose", "-n", "5", *long_stream, env={"COLUMNS": ""})
    assert max(len(line) for line in wide.stdout.split("\n")) > 80
