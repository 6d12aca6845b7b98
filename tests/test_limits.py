"""Bounded resources: files too big to read whole are refused unread, deep nesting and memory never a traceback.

The real-process tests run coinpurse under an address-space limit
(RLIMIT_AS), so a command that read a big file whole would fail with
MemoryError: passing proves the memory stayed bounded, without timing anything.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from cli_checks import expect_error
from coinpurse import Ledger

ADDRESS_SPACE = 300 * 2**20  # coinpurse itself runs in well under this
BIG = 600 * 10**6  # over the default limit of 256 MB, and over the address space allowed


def _limited(
    ledger: Path, *args: str, address_space: int = ADDRESS_SPACE, timeout: int = 120, **environ: str
) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))

    return subprocess.run(
        [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), *args],
        capture_output=True, text=True, timeout=timeout, preexec_fn=limit, env={**os.environ, **environ},
    )  # fmt: skip


def _sparse(path: Path, size: int, start: bytes, end: bytes) -> None:
    """A file of ``size`` bytes that takes no disk: ``start``, a hole of NUL bytes, ``end``."""
    with path.open("wb") as file:
        file.write(start)
        file.seek(size - len(end))
        file.write(end)


def _fingerprint(path: Path) -> tuple[int, int, bytes, bytes]:
    with path.open("rb") as file:
        first = file.read(4096)
        file.seek(-4096, os.SEEK_END)
        return path.stat().st_size, path.stat().st_mtime_ns, first, file.read()


# ----- a ledger too big to read whole ----------------------------------------------


@pytest.mark.faults
@pytest.mark.parametrize("suffix", ["json", "toml"])
@pytest.mark.parametrize("command", [("balance",), ("history",), ("buy", "alice", "700"), ("verify",)])
def test_a_ledger_of_one_huge_line_is_refused_unread_in_little_memory(
    tmp_path: Path, suffix: str, command: tuple[str, ...]
) -> None:
    ledger = tmp_path / f"ledger.{suffix}"
    # One line of 600 MB that ends the way coinpurse's JSON layout ends, so the head reader is tried too.
    _sparse(ledger, BIG, b'{"schema": 2, "currency": "USD", "rates": "', b'"\n  ]\n}\n')
    before = _fingerprint(ledger)
    result = _limited(ledger, *command)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert str(ledger) in result.stderr and "600 MB" in result.stderr
    assert "256 MB" in result.stderr and "COINPURSE_MAX_FILE_MB" in result.stderr
    assert _fingerprint(ledger) == before
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [ledger.name]


@pytest.mark.parametrize("ledger", ["json", "toml"], indirect=True)  # SQLite ledgers are never read whole
def test_the_limit_comes_from_the_environment(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    cli.json("buy", "alice", "700")
    monkeypatch.setenv("COINPURSE_MAX_FILE_MB", "1")
    cli.ledger.write_bytes(cli.ledger.read_bytes() + b" " * 10**6)  # still a valid ledger, now over 1 MB
    expect_error(cli, "history", exit_code=3, code="ledger_too_big", says="over the 1 MB that coinpurse reads whole")
    monkeypatch.setenv("COINPURSE_MAX_FILE_MB", "2")
    assert cli.json("history")["transactions"]


@pytest.mark.parametrize("value", ["0", "-5", "1.5", "lots", "1000001"])
def test_a_bad_limit_is_bad_input(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    scenario = tmp_path / "ops.json"
    scenario.write_text('{"ops": []}')
    monkeypatch.setenv("COINPURSE_MAX_FILE_MB", value)
    expect_error(
        cli, "apply", str(scenario), exit_code=2, code="bad_input", says="COINPURSE_MAX_FILE_MB must be a whole number"
    )


# ----- input files too big -------------------------------------------------------


@pytest.mark.faults
@pytest.mark.parametrize("suffix", ["json", "toml"])
def test_a_scenario_over_the_limit_is_refused_unread_in_little_memory(tmp_path: Path, suffix: str) -> None:
    scenario = tmp_path / f"ops.{suffix}"
    _sparse(
        scenario, 300 * 10**6, b'{"ops": [' if suffix == "json" else b"ops = [", b"]}\n" if suffix == "json" else b"]\n"
    )
    ledger = tmp_path / "ledger.json"
    result = _limited(ledger, "apply", str(scenario), address_space=200 * 2**20)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert str(scenario) in result.stderr and "300 MB" in result.stderr and "256 MB" in result.stderr
    assert not ledger.exists()


@pytest.mark.faults
def test_a_rates_file_over_the_limit_is_refused_unread(tmp_path: Path) -> None:
    rates = tmp_path / "rates.toml"
    _sparse(rates, 300 * 10**6, b"[payout]\n", b"\n")
    ledger = tmp_path / "ledger.json"
    result = _limited(ledger, "rates", "import", str(rates), address_space=200 * 2**20)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "256 MB" in result.stderr
    assert not ledger.exists()


@pytest.mark.faults
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize(
    ("what", "command", "code"),
    [
        ("ops.json", ("apply", "{file}"), 2),
        ("rates.toml", ("rates", "import", "{file}"), 2),
    ],
)
def test_a_file_whose_size_says_nothing_is_read_only_to_the_limit(
    tmp_path: Path, what: str, command: tuple[str, ...], code: int
) -> None:
    """A link to /dev/zero (or a pipe) has a size of 0: it was read to the end of memory, never refused by its size."""
    file = tmp_path / what
    file.symlink_to("/dev/zero")
    ledger = tmp_path / "ledger.json"
    args = [arg.format(file=file) for arg in command]
    result = _limited(ledger, *args, COINPURSE_MAX_FILE_MB="5")
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    assert f"{file}: the file holds more than the 5 MB that coinpurse reads whole" in result.stderr


@pytest.mark.faults
@pytest.mark.parametrize("suffix", ["json", "toml"])
@pytest.mark.parametrize("planted", ["fifo", "/dev/zero"])
@pytest.mark.parametrize("command", [("balance",), ("history",), ("verify",), ("buy", "alice", "70"), ("convert",)])
def test_a_ledger_that_is_not_a_regular_file_is_refused_unread(
    tmp_path: Path, suffix: str, planted: str, command: tuple[str, ...]
) -> None:
    """A FIFO where the ledger should be hung every read (and a write) forever; a device was read to the limit."""
    ledger = tmp_path / f"ledger.{suffix}"
    if planted == "fifo":
        os.mkfifo(ledger)
    else:
        ledger.symlink_to("/dev/zero")
    args = [*command, str(ledger), str(tmp_path / "copy.sqlite")] if command == ("convert",) else list(command)
    try:
        result = _limited(ledger, *args, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(command)} hung on a {planted} ledger")
    if planted == "/dev/zero" and command[0] == "buy":  # a write follows the link, to a file of no ledger suffix
        assert result.returncode == 2 and "is a link to /dev/zero" in result.stderr
        return
    assert result.returncode == 3, result.stderr
    assert (
        result.stderr
        == f"coinpurse: error: {ledger}: is not a regular file (a FIFO, a socket or a device), not a ledger file\n"
    )


# ----- deep nesting ---------------------------------------------------------------

DEPTHS = [990, 5000, 200_000]


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _nest_in_the_rates(ledger: Path, depth: int) -> None:
    """Put a deeply nested value into the rates in force, which every command reads."""
    from ledger_tools import is_server

    if is_server(ledger):
        import psycopg

        with psycopg.connect(ledger.conninfo, autocommit=True) as db:  # type: ignore[attr-defined]
            table = f"{ledger.schema}.meta"  # type: ignore[attr-defined]
            (rates,) = db.execute(f"SELECT value FROM {table} WHERE key = 'rates'").fetchone()  # type: ignore[misc]
            db.execute(
                f"UPDATE {table} SET value = %s WHERE key = 'rates'", ('{"deep": ' + _nested(depth) + ", " + rates[1:],)
            )
        return
    if ledger.suffix == ".sqlite":
        with closing(sqlite3.connect(ledger)) as db, db:
            (rates,) = db.execute("SELECT value FROM meta WHERE key = 'rates'").fetchone()
            db.execute(
                "UPDATE meta SET value = ? WHERE key = 'rates'", ('{"deep": ' + _nested(depth) + ", " + rates[1:],)
            )
        return
    text = ledger.read_text()
    if ledger.suffix == ".json":
        text = text.replace('"rates": {', '"rates": {"deep": ' + _nested(depth) + ", ", 1)
    else:
        text = text.replace("[rates]\n", "[rates]\ndeep = " + _nested(depth) + "\n", 1)
    ledger.write_text(text)


@pytest.mark.faults
@pytest.mark.parametrize("depth", DEPTHS)
def test_a_deeply_nested_ledger_is_unusable_not_a_traceback(ledger: Path, depth: int) -> None:
    assert _limited(ledger, "buy", "alice", "700").returncode == 0
    _nest_in_the_rates(ledger, depth)
    before = ledger.read_bytes()
    for command in (("balance",), ("history",), ("verify",), ("export",), ("gift", "alice", "mia", "rose"), ("rates",)):
        result = _limited(ledger, *command)
        assert result.returncode == 3, (command, result.stderr)
        assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, (command, result.stderr)
        assert ledger.read_bytes() == before


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("suffix", ["json", "toml"])
def test_a_deeply_nested_scenario_is_bad_input(cli, tmp_path: Path, depth: int, suffix: str) -> None:
    scenario = tmp_path / f"ops.{suffix}"
    if suffix == "json":
        scenario.write_text('{"ops": [{"kind": "buy", "account": "alice", "coins": ' + _nested(depth) + "}]}")
    else:
        scenario.write_text("ops = " + _nested(depth) + "\n")
    result = cli("apply", str(scenario))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr and str(scenario) in result.stderr
    assert not cli.ledger.exists()


# ----- apply holds no per-op results --------------------------------------------


# The peak is read from /proc in the process itself: a child's ru_maxrss also counts
# the parent's pages it held between fork and exec.
PEAK_RSS = """
import atexit, sys
from coinpurse.cli import main

def peak():
    with open("/proc/self/status") as status:
        sys.stderr.write(next(line for line in status if line.startswith("VmHWM:")))

atexit.register(peak)
sys.argv = ["coinpurse", *sys.argv[1:]]
main()
"""


def _apply_peak_rss(tmp_path: Path, count: int) -> int:
    """Peak RSS in kB of `apply` of ``count`` ops onto a new SQLite ledger, in its own process."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from apply_bench import generate, write_scenario

    scenario = tmp_path / f"ops-{count}.json"
    write_scenario(generate(count), scenario)
    ledger = tmp_path / f"ledger-{count}.sqlite"
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, "--ledger", str(ledger), "apply", str(scenario)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return int(done.stderr.split("VmHWM:")[1].split()[0])


@pytest.mark.faults
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from /proc")
def test_apply_memory_does_not_grow_with_the_ops(tmp_path: Path) -> None:
    """Many more ops take about the same memory: results are counted and spooled, not held.

    COINPURSE_TEST_APPLY_OPS sets the larger run (default 10,000; each op held
    whole took about 5 kB).
    """
    many = int(os.environ.get("COINPURSE_TEST_APPLY_OPS", "10000"))
    few = _apply_peak_rss(tmp_path, 1000)
    grown = _apply_peak_rss(tmp_path, many) - few
    # The scenario's text (about 150 bytes an op) stays in memory, and a little more.
    assert grown < 5_000 + (many * 300) // 1000, (few, grown)


# ----- the streamed --json report is the report ---------------------------------


@pytest.mark.parametrize("ops", [[], [{"kind": "buy", "account": "alice", "coins": 700, "id": "a-1"}]])
def test_the_streamed_json_report_is_the_report(tmp_path: Path, ops: list[dict[str, object]]) -> None:
    scenario = tmp_path / "opérations.json"  # text beyond ASCII stays as it is
    scenario.write_text(json.dumps({"ops": ops * 3}))
    report = Ledger(tmp_path / "ledger.json").apply(scenario, now="2026-03-01T12:00:00Z")
    data = report.to_dict()
    assert "".join(report.json_chunks(indented=True)) == json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    assert (
        "".join(report.json_chunks(indented=False))
        == json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"
    )
    assert [op["status"] for op in data["ops"]] == ["recorded", "replayed", "replayed"][: len(ops) * 3]


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        (
            '{"ops": [{"kind": "buy", "account": "bob", "coins": 1}], "ops": [{"kind": "buy", "account": "alice", "coins": 70}]}',
            1,
        ),
        ('{"ops": [{"kind": "buy", "account": "alice", "coins": 70}], "extra": 1}', "unknown top-level key 'extra'"),
        ('{"ops": [{"kind": "buy", "account": "alice", "coins": 70},]}', "not valid JSON"),
        ('{"ops": [{"kind": "buy", "account": "alice", "coins": 70.0}]}', "70.0 is a float"),
        (
            '  {"ops" :[ {"kind": "buy", "account": "alice", "coins": 70} ,\n{"kind": "buy", "account": "bob", "coins": 70}\n] }\n',
            2,
        ),
    ],
)
def test_a_json_scenario_reads_as_a_full_parse_would(cli, tmp_path: Path, text: str, outcome: int | str) -> None:
    scenario = tmp_path / "ops.json"
    scenario.write_text(text)
    if isinstance(outcome, int):
        assert cli.json("apply", str(scenario))["recorded"] == outcome
    else:
        result = cli("apply", str(scenario))
        assert result.exit_code == 2 and outcome in result.stderr, result.stderr


# ----- the last resort ----------------------------------------------------------

# The error comes from inside the command, past where files are read, as a last resort would.
FAILING_APP = """
import sys

import coinpurse.storage
from coinpurse.cli import main

def fail(*args, **kwargs):
    raise {error}()

coinpurse.storage.resolve_ledger_path = fail
sys.argv = ["coinpurse", "balance", *sys.argv[1:]]
main()
"""


@pytest.mark.parametrize(
    ("error", "says"), [("MemoryError", "ran out of memory"), ("RecursionError", "nested too deep")]
)
@pytest.mark.parametrize("as_json", [False, True])
def test_the_entry_point_reports_memory_and_stack_exhaustion_as_exit_3(error: str, says: str, as_json: bool) -> None:
    script = FAILING_APP.format(error=error)
    done = subprocess.run(
        [sys.executable, "-c", script, *(["--json"] if as_json else [])], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1 and done.stdout == ""
    message = json.loads(done.stderr)["error"]["message"] if as_json else done.stderr
    assert says in message and "as it was or fully written" in message
