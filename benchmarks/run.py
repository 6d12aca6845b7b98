"""Benchmark coinpurse: each command at each history size and store, beside its floor, peak memory, the speed targets.

    python benchmarks/run.py            # the full suite: JSON at 1k-100k, SQLite at 1k-1M transactions
    python benchmarks/run.py --smoke    # tiny sizes, one run each, no timing claims (CI runs this)
    python benchmarks/run.py --sizes 1000,10000 --only 'verify*'   # part of it
    python benchmarks/run.py --compare ../main   # the key cases, that checkout (before) against this one (after)

Each case is a fresh process, timed from start to exit, its peak RSS taken by a
small launcher process. Cases run interleaved (round after round over all
cases), and each reports the median of its runs, so a busy moment on the
machine spreads over every case instead of one. A floor is a small standalone
script (benchmarks/floors/) doing the least work a command must do, with the
standard library only; it runs as a case too, beside the command it bounds, and
every target is a figure or a ratio of two cases of the same run. Writes
RESULTS.md, results.json and latency.svg next to this file (or to --out).
"""

from __future__ import annotations

import argparse
import compileall
import fnmatch
import json
import math
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLOORS = HERE / "floors"
sys.path.insert(0, str(HERE))

import apply_bench  # noqa: E402  (the folder is put on the path just above)
import svgplot  # noqa: E402

FULL_SIZES = (1_000, 10_000, 100_000, 1_000_000)
SMOKE_SIZES = (20, 200)
STORES = ("json", "sqlite")
STORE_LIMITS = {"json": 100_000, "sqlite": 1_000_000}  # the largest history each store is measured at
APPLY_OPS = 100_000  # apply this many ops onto a new ledger of each store
BIG_APPLY_OPS = 1_000_000  # and this many onto a new SQLite ledger, once, for its peak RSS
SMOKE_APPLY_OPS, SMOKE_BIG_APPLY_OPS = 200, 400
TARGET_SIZE = 100_000  # the size most of the speed targets name; the largest SQLite size is the other
AFTER_NEW = 100  # verify --after: the transactions after the hash it is given
SLOW_SECONDS = 8.0  # a case slower than this in the warm-up runs once more only
VERY_SLOW_SECONDS = 60.0  # a case slower than this counts its warm-up run and runs no more
CASE_LIMIT = 300.0  # seconds: a case predicted to take longer is skipped, and one running longer is stopped
SMOKE_CASE_LIMIT = 120.0
MAX_RSS_GB = 6.0  # a case predicted to need more is skipped, and one using more is stopped
TOOL_LIMITS = {"ledger": 1_000_000, "hledger": 100_000}  # hledger at 1M needs about 10 GB
CASES_ENV = {
    "COINPURSE_NOW": "2030-01-01T00:00:00Z"
}  # later than any built transaction (the 1M ledger ends in mid-2027)
LAUNCHER_KB = 11 * 1024  # about what the launcher itself holds: peak RSS is never below it

# Runs one case and prints "seconds peak-RSS-KiB exit-code CPU-seconds stopped-because". A small
# process of its own starts each case, because a child's peak RSS on Linux counts the memory of
# the process it was forked from, and this script may hold much more. A watcher stops a case
# that runs past the time limit or holds more than the memory limit (looking first after 1 s, so
# short cases run undisturbed); the figures of a stopped case are those it reached.
LAUNCHER = """\
import os, subprocess, sys, threading, time
limit_s, limit_kb = float(sys.argv[1]), int(sys.argv[2])
stopped, done = [], threading.Event()
started = time.perf_counter()
child = subprocess.Popen(sys.argv[3:], stdout=subprocess.DEVNULL)
def watch():
    status = f"/proc/{child.pid}/status"
    if done.wait(min(1.0, limit_s)):
        return
    while True:
        reason = ""
        if time.perf_counter() - started > limit_s:
            reason = f"stopped-after-{limit_s:g}-s"
        else:
            try:
                with open(status) as file:
                    rss = next((int(line.split()[1]) for line in file if line.startswith("VmRSS:")), 0)
            except OSError:
                rss = 0
            if limit_kb and rss > limit_kb:
                reason = f"stopped-at-{limit_kb // 1024}-MB"
        if reason:
            stopped.append(reason)
            if not done.is_set():
                child.kill()
            return
        if done.wait(0.25):
            return
threading.Thread(target=watch, daemon=True).start()
_, status, usage = os.wait4(child.pid, 0)
elapsed = time.perf_counter() - started
done.set()
print(f"{elapsed:.6f} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {usage.ru_utime + usage.ru_stime:.6f} {stopped[0] if stopped else '-'}")
"""

MINIMAL_APP = """\
import typer

app = typer.Typer()


@app.command()
def hello(name: str) -> None:
    print(name)


app()
"""

# The commands measured at every size and store: (name, arguments, floor script and its arguments).
# {ledger}, {creator}, {sender}, {after}, {middle}, {stream} and {late} are filled in per ledger.
COMMANDS: tuple[tuple[str, tuple[str, ...], tuple[str, ...] | None], ...] = (
    ("balance ACCOUNT", ("balance", "{creator}", "--json"), ("balance_floor.py", "{ledger}", "{creator}")),
    ("balance", ("balance", "--json"), ("balance_floor.py", "{ledger}")),
    ("gift", ("gift", "{sender}", "{creator}", "rose", "--json"), ("rewrite_floor.py", "{ledger}")),
    ("history --limit 20", ("history", "--limit", "20", "--json"), ("tail_floor.py", "{ledger}", "20")),
    ("gifters", ("gifters", "{creator}", "--json"), ("tail_floor.py", "{ledger}", "20")),
    ("verify", ("verify", "--json"), ("verify_floor.py", "{ledger}")),
    (
        "verify --after",
        ("verify", "--after", "{after}", "--json"),
        ("verify_floor.py", "{ledger}", "--last", str(AFTER_NEW)),
    ),
    ("export csv", ("export", "--format", "csv"), ("export_floor.py", "{ledger}")),
    ("export journal", ("export", "--format", "journal"), ("export_floor.py", "{ledger}")),
    ("export json", ("export", "--format", "json"), ("export_floor.py", "{ledger}")),
    ("balance ACCOUNT --at", ("balance", "{creator}", "--at", "{middle}", "--json"), None),
    ("explain", ("explain", "{middle_id}", "--json"), None),
    ("report", ("report", "--by", "week", "--json"), ("export_floor.py", "{ledger}")),
    (
        "gifters ACCOUNT --stream",
        ("gifters", "{creator}", "--stream", "{stream}", "--json"),
        ("tail_floor.py", "{ledger}", "20"),
    ),
    (
        "history --stream --limit 20",
        ("history", "--stream", "{stream}", "--limit", "20", "--json"),
        ("tail_floor.py", "{ledger}", "20"),
    ),
    ("export journal --since", ("export", "--format", "journal", "--since", "{late}"), None),
    ("statement --since", ("statement", "{creator}", "--since", "{late}", "--json"), None),
    ("report --since", ("report", "--since", "{late}", "--by", "day", "--json"), None),
)
# What each floor measures, for the report.
FLOOR_NOTES = {
    "balance_floor.py": "one SELECT of the accounts table (SQLite), or the JSON file read up to its history and parsed",
    "rewrite_floor.py": "the JSON file read, written to a temp file, fsynced and renamed over itself",
    "tail_floor.py": "the last 20 transactions read and parsed (JSON: the file read backwards from its end)",
    "verify_floor.py": "every stored body parsed, encoded canonically and hashed into the chain, as a stream",
    "export_floor.py": "every stored body read and parsed, as a stream",
    "apply_floor_sqlite.py": "the ops' transactions × 4 postings written in one SQLite commit (WAL, synchronous=FULL)",
    "apply_floor_jsonl.py": "the ops' transactions appended as JSON lines with a sha256 chain, one fsync",
}


@dataclass
class Case:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    size: int | None = None
    group: str = ""  # the plot line it belongs to (compare: the case it is a side of)
    store: str = ""
    verb: str = ""  # the command measured: one panel of the plot
    floor: str = ""  # the name of the floor case beside it
    is_floor: bool = False
    once: bool = False  # one run only, counted (a case of minutes, measured for its memory)
    skipped: str = ""  # why it was not run
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)  # user + system: steadier than wall time on a busy machine
    peak_rss_kb: int = 0
    failed: str = ""
    stopped: str = ""  # the limit that stopped it
    first_seconds: float = 0.0  # its first run (the warm-up), from which the next size's is predicted

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else float("nan")

    @property
    def measured(self) -> bool:
        return bool(self.seconds) and not self.failed and not self.stopped

    def run_once(self, limit_s: float = 3600.0, limit_kb: int = 0) -> float:
        env = {**os.environ, **self.env}
        child = subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, str(limit_s), str(limit_kb), *self.command],
            env=env,
            capture_output=True,
            text=True,
        )
        try:
            elapsed_text, rss_text, code_text, cpu_text, stopped = child.stdout.split()
        except ValueError:
            self.failed = f"launcher failed: {child.stderr.strip()[:200]}"
            return float("nan")
        elapsed = float(elapsed_text)
        self.peak_rss_kb = max(self.peak_rss_kb, int(rss_text))
        self.seconds.append(elapsed)
        self.cpu_seconds.append(float(cpu_text))
        if stopped != "-":
            self.stopped = stopped.replace("-", " ")
        elif code_text != "0":
            self.failed = f"exit {code_text}: {child.stderr.strip()[:200]}"
        return elapsed


def coinpurse_command() -> list[str]:
    script = Path(sys.executable).with_name("coinpurse")
    return [str(script)] if script.exists() else [sys.executable, "-m", "coinpurse"]


def versions() -> dict[str, str]:
    found = {}
    for name in ("coinpurse", "typer", "rich", "platformdirs", "tomli-w"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    for tool, flag in (("ledger", "--version"), ("hledger", "--version")):
        path = shutil.which(tool)
        if path:
            out = subprocess.run([path, flag], capture_output=True, text=True).stdout.strip().splitlines()
            found[tool] = out[0] if out else "?"
        else:
            found[tool] = "not installed"
    found["sqlite"] = sqlite3.sqlite_version
    return found


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    kb = meminfo("MemTotal")
    if kb:
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs{memory}"


def meminfo(key: str) -> int:
    """A /proc/meminfo figure in KiB, or 0 where there is none."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def has_verify_after(cp: list[str]) -> bool:
    """Whether this checkout's `verify` takes --after (it re-checks only what came after a hash)."""
    shown = subprocess.run(
        [*cp, "verify", "--help"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}
    )
    return "--after" in shown.stdout


# ---------------------------------------------------------------- the plan: every case, before anything is built


@dataclass
class Plan:
    sizes: tuple[int, ...]
    apply_ops: int
    big_apply_ops: int
    work: Path
    cases: list[Case] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (case, why), left out before measuring

    def ledger(self, size: int, store: str) -> Path:
        return self.work / f"ledger-{size}.{store}"

    def journal(self, size: int) -> Path:
        return self.work / f"ledger-{size}.journal"


def floor_case(plan: Plan, name: str, script: str, args: list[str], size: int | None, store: str, verb: str) -> Case:
    """The floor case of that name, made once and shared by the commands it bounds."""
    found = find(plan.cases, name)
    if found is None:
        series = name.rsplit(" ", 1)[0] if size else name  # the same floor at every size
        found = Case(name, [sys.executable, str(FLOORS / script), *args], {}, size, series, store, verb, is_floor=True)
        plan.cases.append(found)
    return found


def make_plan(sizes: tuple[int, ...], smoke: bool, work: Path, cp: list[str], with_after: bool) -> Plan:
    """Every case with its floor beside it, startup first, then size by size (smallest first, for the predictions)."""
    ops, big_ops = (SMOKE_APPLY_OPS, SMOKE_BIG_APPLY_OPS) if smoke else (APPLY_OPS, BIG_APPLY_OPS)
    plan = Plan(sizes, ops, big_ops, work)
    tiny, minimal = work / "tiny.json", work / "minimal_app.py"
    completion = {"_COINPURSE_COMPLETE": "complete_bash", "COMP_WORDS": "coinpurse b", "COMP_CWORD": "1"}
    plan.cases += [
        Case("python -c pass", [sys.executable, "-c", "pass"], group="startup"),
        Case("minimal Typer app", [sys.executable, str(minimal), "x"], group="startup"),
        Case(
            "balance ACCOUNT --json, small ledger",
            [*cp, "--ledger", str(tiny), "balance", "mia", "--json"],
            group="startup",
        ),
        Case("tab completion", cp, env=completion, group="startup"),
    ]
    for store in STORES:
        empty = work / f"empty.{store}"
        gift = [*cp, "--ledger", str(empty), "gift", "alice", "mia", "rose", "--json"]
        plan.cases.append(Case(f"gift, empty {store}", gift, CASES_ENV, 0, "startup", store, "gift"))
    applies = [(ops, store) for store in STORES] + [(big_ops, "sqlite")]
    for count, store in applies:
        fresh = work / f"apply-{count}.{store}"
        scenario = work / f"scenario-{count}.json"
        clean = f'rm -f "{fresh}" "{fresh}-wal" "{fresh}-shm" "{fresh}.lock"; exec "$@"'
        command = ["sh", "-c", clean, "apply", *cp, "--ledger", str(fresh), "apply", str(scenario), "--json"]
        case = Case(
            f"apply {count} ops, {store}", command, CASES_ENV, None, "apply", store, "apply", once=count == big_ops
        )
        if count == ops:
            script = "apply_floor_sqlite.py" if store == "sqlite" else "apply_floor_jsonl.py"
            target = work / f"floor-apply-{count}.{'sqlite' if store == 'sqlite' else 'jsonl'}"
            case.floor = floor_case(
                plan, f"floor: apply {count} ops, {store}", script, [str(target), str(count)], None, store, "apply"
            ).name
        plan.cases.append(case)
    for size in sizes:
        for store in STORES:
            if size > STORE_LIMITS[store]:
                continue
            ledger = plan.ledger(size, store)
            for verb, args, floor in COMMANDS:
                name = f"{verb} {store} {size}"
                if verb == "verify --after" and not with_after:
                    plan.skipped.append((name, "`coinpurse verify --help` shows no --after in this checkout"))
                    continue
                fill = {"ledger": str(ledger)}
                case = Case(
                    name, [*cp, "--ledger", str(ledger), *args], CASES_ENV, size, f"{verb} · {store}", store, verb
                )
                if floor is not None and not (verb == "gift" and store != "json"):  # a SQLite write rewrites nothing
                    script, *floor_args = floor
                    key = " ".join(floor_args[1:])
                    floor_name = f"floor: {script.removesuffix('.py')}{' ' + key if key else ''} {store} {size}"
                    floor_args = [arg.format(**fill) if arg == "{ledger}" else arg for arg in floor_args]
                    case.floor = floor_case(plan, floor_name, script, floor_args, size, store, verb).name
                plan.cases.append(case)
        if size <= max(TOOL_LIMITS.values()):
            for tool, limit in TOOL_LIMITS.items():
                name = f"{tool} bal {size}"
                if size > limit:
                    plan.skipped.append((name, "hledger needs about 10 GB at 1,000,000 transactions"))
                elif shutil.which(tool) is None:
                    plan.skipped.append((name, f"{tool} is not installed"))
                else:
                    plan.cases.append(
                        Case(
                            name, [tool, "-f", str(plan.journal(size)), "bal"], {}, size, f"{tool} bal", tool, "balance"
                        )
                    )
    return plan


def matches(name: str, patterns: list[str]) -> bool:
    """Whether a case's name matches one of the patterns: a glob (with * ? or [), or else a part of the name."""
    for pattern in patterns:
        wanted = pattern.lower()
        if any(sign in wanted for sign in "*?["):
            if fnmatch.fnmatchcase(name.lower(), wanted):
                return True
        elif wanted in name.lower():
            return True
    return False


def select(plan: Plan, patterns: list[str], leave_out: list[str] | None = None) -> None:
    """Keep the cases whose names match a pattern (all, without patterns) and no ``leave_out`` one, and their floors."""
    leave_out = leave_out or []
    chosen = {
        c.name for c in plan.cases if (not patterns or matches(c.name, patterns)) and not matches(c.name, leave_out)
    }
    chosen |= {case.floor for case in plan.cases if case.name in chosen and case.floor}
    plan.cases = [case for case in plan.cases if case.name in chosen]
    plan.skipped = [(name, why) for name, why in plan.skipped if not patterns or matches(name, patterns)]


# ---------------------------------------------------------------- building what the cases read

BUILD_ONE = """\
import sys, time
from pathlib import Path
import build
size, stores = int(sys.argv[1]), sys.argv[2].split(",")
started = time.perf_counter()
book = build.build_book(size)
print(f"built {size:,} transactions in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
for store in stores:
    path = Path(sys.argv[3]) / f"ledger-{size}.{store}"
    begun = time.perf_counter()
    build.save(book, path)
    print(f"  saved {path.name} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - begun:.1f} s", file=sys.stderr, flush=True)
"""


def user_names(path: Path) -> dict[str, str]:
    """The creator with the most diamonds (for balance and gifters) and the viewer with the most coins (to send gifts)."""
    if path.suffix == ".sqlite":
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            query = "SELECT name FROM accounts WHERE name LIKE ? ORDER BY {} DESC, name LIMIT 1"
            creator = connection.execute(query.format("diamonds"), ("creator%",)).fetchone()[0]
            sender = connection.execute(query.format("coins"), ("viewer%",)).fetchone()[0]
        finally:
            connection.close()
        return {"creator": creator, "sender": sender}
    sys.path.insert(0, str(FLOORS))
    from _stored import json_head

    accounts = json_head(path)["accounts"]
    assert isinstance(accounts, dict)
    creators = sorted((-state["diamonds"], name) for name, state in accounts.items() if name.startswith("creator"))
    viewers = sorted((-state["coins"], name) for name, state in accounts.items() if name.startswith("viewer"))
    return {"creator": creators[0][1], "sender": viewers[0][1]}


def middle_time(size: int) -> str:
    """A time about halfway through a built history of ``size`` (build.py steps its clock 1-90 s, 45.5 s on average)."""
    import build

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(build.START + size * 455 // 20))


LATE_LAST = 1000  # export --since: the transactions from then on


def stream_and_late(path: Path, creator: str) -> dict[str, str]:
    """The live stream of the creator's last gift (its week's: build.stream_of), and the time of the
    transaction ``LATE_LAST`` from the end (what export --since leaves to write), read from the ledger's end."""
    if path.suffix == ".sqlite":
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            query = (
                "SELECT json_extract(body, '$.details.stream') FROM transactions WHERE kind = 'gift' "
                "AND json_extract(body, '$.request.recipient') = ? ORDER BY seq DESC LIMIT 1"
            )
            stream = connection.execute(query, (creator,)).fetchone()[0]
            total = connection.execute("SELECT count(*) FROM transactions").fetchone()[0]
            late = "SELECT at FROM transactions ORDER BY seq DESC LIMIT 1 OFFSET ?"
            moment = connection.execute(late, (min(LATE_LAST, total) - 1,)).fetchone()[0]
        finally:
            connection.close()
        return {"stream": str(stream), "late": str(moment)}
    sys.path.insert(0, str(FLOORS))
    from _stored import json_last_lines

    lines = [json.loads(line) for line in json_last_lines(path, max(LATE_LAST, 2000))]
    gifts = [tx for tx in lines if tx["kind"] == "gift" and tx["request"]["recipient"] == creator]
    return {"stream": str(gifts[-1]["details"].get("stream")), "late": str(lines[-min(LATE_LAST, len(lines))]["at"])}


def hash_before_last(path: Path, count: int) -> str:
    """The hash of the transaction before the last ``count`` (the first one's, in a shorter history)."""
    if path.suffix == ".sqlite":
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            total = connection.execute("SELECT count(*) FROM transactions").fetchone()[0]
            query = "SELECT hash FROM transactions ORDER BY seq DESC LIMIT 1 OFFSET ?"
            found: str = connection.execute(query, (min(count, total - 1),)).fetchone()[0]
        finally:
            connection.close()
        return found
    sys.path.insert(0, str(FLOORS))
    from _stored import json_last_lines

    lines = json_last_lines(path, count + 1)
    digest: str = json.loads(lines[0])["hash"]
    return digest


def prepare(plan: Plan, cp: list[str], log: Callable[[str], None], reuse: bool) -> dict[str, float]:
    """Build what the planned cases read (ledgers, journals, scenarios), fill in their names; returns build seconds."""
    work, env = plan.work, {**os.environ, **CASES_ENV}
    built: dict[str, float] = {}
    needed = {word for case in plan.cases for word in case.command}
    tiny = work / "tiny.json"
    if str(tiny) in needed:
        tiny.unlink(missing_ok=True)
        for args in (("buy", "alice", "700"), ("gift", "alice", "mia", "rose", "-n", "5")):
            subprocess.run([*cp, "--ledger", str(tiny), *args], check=True, capture_output=True, env=env)
    (work / "minimal_app.py").write_text(MINIMAL_APP)
    for store in STORES:
        empty = work / f"empty.{store}"
        if str(empty) in needed:
            for stale in (empty, Path(f"{empty}-wal"), Path(f"{empty}-shm")):
                stale.unlink(missing_ok=True)
            subprocess.run(
                [*cp, "--ledger", str(empty), "buy", "alice", "17500"], check=True, capture_output=True, env=env
            )
    for count in sorted({plan.apply_ops, plan.big_apply_ops}):
        scenario = work / f"scenario-{count}.json"
        if str(scenario) in needed and not (reuse and scenario.exists()):
            started = time.perf_counter()
            apply_bench.write_ops_json(count, scenario)
            log(
                f"wrote {scenario.name} ({scenario.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s"
            )
    for size in plan.sizes:
        stores = [store for store in STORES if str(plan.ledger(size, store)) in needed]
        tools = [case for case in plan.cases if case.size == size and case.store in TOOL_LIMITS]
        if tools and "sqlite" not in stores:
            stores.append("sqlite")  # the journal is written from it
        if not stores:
            continue
        started = time.perf_counter()
        if reuse and all(plan.ledger(size, store).exists() for store in stores):
            log(f"reusing the {size:,}-transaction ledgers in {work}")
        else:
            # In a process of its own: a million transactions in memory take several GB, given back when it ends.
            path = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
            subprocess.run(
                [sys.executable, "-c", BUILD_ONE, str(size), ",".join(stores), str(work)],
                check=True,
                env={**os.environ, "PYTHONPATH": path},
            )
            built[f"ledger {size}"] = time.perf_counter() - started
        journal = plan.journal(size)
        if tools and not (reuse and journal.exists()):
            import build

            started = time.perf_counter()
            build.journal_from_sqlite(plan.ledger(size, "sqlite"), journal)
            built[f"journal {size}"] = time.perf_counter() - started
            log(f"  wrote {journal.name} in {built[f'journal {size}']:.1f} s")
        for store in stores:
            ledger = plan.ledger(size, store)
            fill = {**user_names(ledger), "after": hash_before_last(ledger, AFTER_NEW) if "{after}" in needed else ""}
            fill["middle"] = middle_time(size)
            fill["middle_id"] = f"tx-{max(1, size // 2)}"  # build.py numbers its transactions tx-1, tx-2 ...
            if "{stream}" in needed or "{late}" in needed:
                fill.update(stream_and_late(ledger, fill["creator"]))
            for case in plan.cases:
                if case.size == size and case.store == store:
                    case.command = [
                        word.format(**fill) if word.startswith("{") and word.endswith("}") else word
                        for word in case.command
                    ]
    return built


# ---------------------------------------------------------------- measuring


@dataclass
class Limits:
    case_seconds: float
    rss_kb: int


def previous_size(cases: list[Case], case: Case) -> Case | None:
    """The same command on the same store at the next smaller size, if there is one."""
    assert case.size is not None
    smaller = [
        c for c in cases if c.group == case.group and c.is_floor == case.is_floor and c.size and c.size < case.size
    ]
    return max(smaller, key=lambda c: c.size or 0, default=None)


def predicted_skip(cases: list[Case], case: Case, limits: Limits) -> str:
    """Why a case would take too long or too much memory, judged linearly from its run at the next smaller size."""
    if not case.size:
        return ""
    before = previous_size(cases, case)
    if before is None or before.size is None:
        return ""
    if before.skipped or before.stopped:
        return f"as at {before.size:,} ({before.skipped or before.stopped})"
    if not before.first_seconds:
        return ""
    scale = case.size / before.size
    seconds = before.first_seconds * scale
    rss_kb = LAUNCHER_KB + max(0, before.peak_rss_kb - LAUNCHER_KB) * scale
    available = meminfo("MemAvailable")
    what = f"at {before.size:,} it took {before.first_seconds:.1f} s and {before.peak_rss_kb / 1024:,.0f} MB"
    if seconds > limits.case_seconds:
        return f"{what}: about {seconds:,.0f} s here, over the {limits.case_seconds:g} s limit"
    if rss_kb > limits.rss_kb:
        return f"{what}: about {rss_kb / 1024 / 1024:.1f} GB here, over the {limits.rss_kb / 1024 / 1024:g} GB limit"
    if available and rss_kb > 0.8 * available:
        return f"{what}: about {rss_kb / 1024 / 1024:.1f} GB here, more than this machine had free"
    return ""


def measure(
    cases: list[Case], runs: int, log: Callable[[str], None], *, every_round: bool = False, limits: Limits | None = None,
    warm_up: bool = True,
) -> None:  # fmt: skip
    """Interleaved rounds after a warm-up round (none with ``warm_up=False``: the first round counts).

    A case slower than SLOW_SECONDS in the warm-up runs once more only, and one slower than
    VERY_SLOW_SECONDS (or marked ``once``) counts its warm-up and runs no more, unless ``every_round``.
    In the warm-up, a case whose run at the next smaller size says it would pass a limit is skipped.
    """
    limits = limits or Limits(3600.0, 0)
    log(f"measuring {len(cases)} cases, {runs} interleaved round(s)" + (" after a warm-up round" if warm_up else ""))
    slow: set[str] = set()
    done: set[str] = set()
    for round_number in range(runs + 1 if warm_up else runs):
        started = time.perf_counter()
        for case in cases:
            if case.skipped or case.name in done or (round_number > 1 and case.name in slow and not every_round):
                continue
            if round_number == 0:
                case.skipped = predicted_skip(cases, case, limits)
                if case.skipped:
                    log(f"  skipped {case.name}: {case.skipped}")
                    continue
            elapsed = case.run_once(limits.case_seconds, limits.rss_kb)
            if round_number == 0:
                case.first_seconds = elapsed
            if case.stopped or case.failed:
                done.add(case.name)
                log(f"  {case.name}: {case.stopped or case.failed}")
            elif round_number == 0 and warm_up:
                if not every_round and (case.once or elapsed > VERY_SLOW_SECONDS):
                    done.add(case.name)  # its one run is its figure
                    log(f"  {case.name}: {elapsed:.1f} s, its one run")
                    continue
                case.seconds.clear()  # the warm-up fills caches and is not counted
                case.cpu_seconds.clear()
                if elapsed > SLOW_SECONDS:
                    slow.add(case.name)
            if round_number == 0 and elapsed > SLOW_SECONDS and not (case.stopped or case.failed):
                log(f"  {case.name}: {elapsed:.1f} s")
        log(f"  round {round_number} done in {time.perf_counter() - started:.0f} s")


def find(cases: list[Case], name: str) -> Case | None:
    return next((case for case in cases if case.name == name), None)


def ratio(cases: list[Case], top: str, bottom: str) -> float | None:
    a, b = find(cases, top), find(cases, bottom)
    if a is None or b is None or not a.seconds or not b.seconds or a.failed or b.failed:
        return None
    return a.median / b.median


def estimate(plan: Plan, previous: Path, runs: int, reuse: bool) -> str:
    """The time this run should take, from the medians a previous run wrote (results.json), if cheap to tell."""
    try:
        earlier = json.loads(previous.read_text())
        known = {case["case"]: case for case in earlier.get("cases", [])}
        builds = earlier.get("builds", {})
    except (OSError, ValueError, AttributeError):
        return "no estimate (no results.json of a previous run)"
    total, counted = 0.0, 0
    for case in plan.cases:
        seen = known.get(case.name)
        if not seen or not seen.get("median_s") or seen["median_s"] == "nan":
            continue
        seconds = float(seen["median_s"])
        times = 1 if (case.once or seconds > VERY_SLOW_SECONDS) else 2 if seconds > SLOW_SECONDS else runs + 1
        total += seconds * times
        counted += 1
    building = 0.0
    for size in plan.sizes:
        if reuse and all(plan.ledger(size, store).exists() for store in STORES if size <= STORE_LIMITS[store]):
            continue
        # A previous run's build time, else about half a millisecond a transaction (the 1M ledger: about 8 min).
        building += float(builds.get(f"ledger {size}", size * 0.0005)) + float(builds.get(f"journal {size}", 0))
    return (
        f"about {(total + building) / 60:.0f} min: {total / 60:.0f} min measuring the {counted} of {len(plan.cases)} cases "
        f"a previous run measured, {building / 60:.0f} min building"
    )


# ---------------------------------------------------------------- the report

Row = tuple[str, str, str, str, str, str]  # target, measured, floor, × floor, goal, met


def ms(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:,.0f} ms"
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:,.1f} s"


def mb(kb: int) -> str:
    return f"{kb / 1024:,.0f} MB"


def why_not(case: Case | None) -> str:
    if case is None:
        return "not run"
    if case.skipped:
        return f"skipped: {case.skipped}"
    if case.stopped:
        return f"{case.stopped} (peak RSS by then {mb(case.peak_rss_kb)})"
    if case.failed:
        return f"failed: {case.failed}"
    return "not measured"


class Targets:
    """The speed targets ("fast at any size") as rows, each judged from cases of this run."""

    def __init__(self, cases: list[Case], skipped: dict[str, str]) -> None:
        self.cases = cases
        self.skipped = skipped  # cases left out of the plan, and why
        self.missing = ""
        self.rows: list[Row] = []

    def get(self, name: str) -> Case | None:
        found = find(self.cases, name)
        if found is None:
            self.missing = name
        return found

    def why_not(self, case: Case | None, label: str) -> str:
        if case is None and self.missing in self.skipped:
            return f"not run: {self.skipped[self.missing]}"
        return why_not(case)

    def floor_of(self, case: Case | None) -> Case | None:
        return self.get(case.floor) if case is not None and case.floor else None

    def add(
        self, label: str, case: Case | None, goal: str, met: Callable[[Case], bool], show: Callable[[Case], str],
        floor_show: Callable[[Case], str] | None = None, memory: bool = False,
    ) -> None:  # fmt: skip
        floor = self.floor_of(case)
        floor_text = (floor_show or show)(floor) if floor is not None and floor.measured else "–"
        times = "–"
        if case and case.measured and floor and floor.measured:
            times = f"{case.peak_rss_kb / floor.peak_rss_kb:.2f}×" if memory else f"{case.median / floor.median:.2f}×"
        if case is None or not case.measured:
            self.rows.append((label, self.why_not(case, label), floor_text, "–", goal, "–"))
            return
        self.rows.append((label, show(case), floor_text, times, goal, "yes" if met(case) else "**no**"))

    def time_within(self, label: str, name: str, limit: float) -> None:
        case = self.get(name)
        floor = self.floor_of(case)
        self.add(
            label,
            case,
            f"≤ {limit:g}× floor",
            lambda c: floor is not None and floor.measured and c.median <= limit * floor.median,
            lambda c: ms(c.median),
        )

    def time_under(self, label: str, name: str, seconds: float) -> None:
        self.add(label, self.get(name), f"≤ {ms(seconds)}", lambda c: c.median <= seconds, lambda c: ms(c.median))

    def rss_under(self, label: str, name: str, megabytes: int) -> None:
        self.add(
            label,
            self.get(name),
            f"≤ {megabytes:,} MB",
            lambda c: c.peak_rss_kb <= megabytes * 1024,
            lambda c: mb(c.peak_rss_kb),
            memory=True,
        )

    def relative(self, label: str, name: str, reference: str, limit: float) -> None:
        base, case = self.get(reference), self.get(name)
        if base is None or not base.measured:
            shown = ms(case.median) if case is not None and case.measured else self.why_not(case, label)
            self.rows.append((label, shown, "–", "–", f"≤ {limit:g}× {reference} ({why_not(base)})", "–"))
            return
        goal = f"≤ {limit:g}× {reference} ({ms(base.median)})"
        self.add(
            label,
            case,
            goal,
            lambda c: c.median <= limit * base.median,
            lambda c: f"{ms(c.median)} ({c.median / base.median:.2f}×)",
            lambda c: ms(c.median),
        )

    def throughput(self, label: str, name: str, ops: int, per_second: int) -> None:
        def show(c: Case) -> str:
            return f"{ops / c.median:,.0f} ops/s ({ms(c.median)})"

        self.add(label, self.get(name), f"≥ {per_second:,} ops/s", lambda c: ops / c.median >= per_second, show)


def targets(cases: list[Case], sizes: tuple[int, ...], ops: int, big_ops: int, skipped: dict[str, str]) -> list[Row]:
    sqlite_sizes = [s for s in sizes if s <= STORE_LIMITS["sqlite"]] or [0]
    json_sizes = [s for s in sizes if s <= STORE_LIMITS["json"]] or [0]
    top = max(sqlite_sizes)  # 1M in the full suite
    mid_sqlite = TARGET_SIZE if TARGET_SIZE in sqlite_sizes else max(sqlite_sizes)
    mid_json = TARGET_SIZE if TARGET_SIZE in json_sizes else max(json_sizes)
    t = Targets(cases, skipped)
    for store in STORES:
        t.throughput(
            f"apply of {ops:,} ops through the CLI with --json onto {store}", f"apply {ops} ops, {store}", ops, 25_000
        )
    t.rss_under(f"apply of {big_ops:,} ops onto sqlite: peak RSS", f"apply {big_ops} ops, sqlite", 1536)
    t.rss_under(f"verify at {top:,} on sqlite: peak RSS", f"verify sqlite {top}", 64)
    t.time_within(f"verify at {mid_sqlite:,} on sqlite", f"verify sqlite {mid_sqlite}", 2.5)
    t.time_within(f"verify at {mid_json:,} on json", f"verify json {mid_json}", 2.5)
    t.time_within(
        f"verify --after (the last {AFTER_NEW} new) at {top:,} on sqlite", f"verify --after sqlite {top}", 2.5
    )
    for fmt in ("csv", "journal", "json"):
        t.rss_under(f"export --format {fmt} at {top:,} from sqlite: peak RSS", f"export {fmt} sqlite {top}", 64)
        t.time_within(f"export --format {fmt} at {top:,} from sqlite", f"export {fmt} sqlite {top}", 2)
    t.time_under(f"balance (all accounts) at {top:,} on sqlite", f"balance sqlite {top}", 0.25)
    for store in STORES:
        size = top if store == "sqlite" else max(json_sizes)
        t.relative(
            f"balance ACCOUNT at {size:,} on {store}: startup cost",
            f"balance ACCOUNT {store} {size}",
            "balance ACCOUNT --json, small ledger",
            1.2,
        )
    t.time_under(f"history --limit 20 at {mid_json:,} on json", f"history --limit 20 json {mid_json}", 0.3)
    t.time_under(f"gifters at {mid_json:,} on json", f"gifters json {mid_json}", 0.3)
    t.time_within(f"one gift at {mid_json:,} on json", f"gift json {mid_json}", 3)
    t.relative(
        "startup: balance ACCOUNT --json, small ledger",
        "balance ACCOUNT --json, small ledger",
        "minimal Typer app",
        1.2,
    )
    t.relative(f"one gift at {top:,} on sqlite", f"gift sqlite {top}", "gift, empty sqlite", 1.1)
    return [row for row in t.rows if " at 0 " not in row[0]]  # a store with no size in this run


NOTES = (
    "A floor is the least work the command must do, done by a standalone script with the standard library "
    "(benchmarks/floors/), timed and measured as its own process like every case; × floor is the command's median "
    "÷ the floor's. Floors: " + "; ".join(f"`{script}`: {what}" for script, what in FLOOR_NOTES.items()) + ".",
    "Peak RSS is taken by a small launcher process (ru_maxrss of the case's process), so about 11 MB is its floor.",
    "gift, apply and the rewrite floor write: gift adds one transaction to the measured ledger each run (so the later "
    "runs see a few more), apply starts from a new ledger each run.",
    f"`verify --after HASH` is given the hash of the transaction before the last {AFTER_NEW} (read from the built file), "
    "so it re-checks those; its floor hashes the same transactions from the stored hash before them.",
    "A JSON write reads and rewrites the whole file, so `gift` on JSON grows with the history (its floor does the same "
    "bytes without any parsing); on SQLite a write appends rows, so its cost stays flat.",
)


def plan_note(limits: Limits) -> str:
    return (
        f"A case predicted (linearly, from its run at the next smaller size) to take over {limits.case_seconds:g} s or "
        f"{limits.rss_kb / 1024 / 1024:g} GB is skipped, and a case running past either is stopped and reported with "
        "what it reached."
    )


def case_rows(cases: list[Case]) -> list[str]:
    lines = [
        "| command | store | size | median | CPU | runs | peak RSS | floor | floor RSS | × floor | CPU × floor | note |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    order = {verb: number for number, (verb, _, _) in enumerate(COMMANDS)}
    sized = [c for c in cases if c.size and not c.is_floor and c.store in STORES]
    sized.sort(key=lambda c: (order.get(c.verb, 99), STORES.index(c.store), c.size or 0))
    for case in sized:
        floor = find(cases, case.floor) if case.floor else None
        median = ms(case.median) if case.seconds else "–"
        cpu = ms(case.cpu_median) if case.cpu_seconds else "–"
        rss = mb(case.peak_rss_kb) if case.seconds else "–"
        floor_median = ms(floor.median) if floor and floor.seconds else "–"
        floor_rss = mb(floor.peak_rss_kb) if floor and floor.seconds else "–"
        times = f"{case.median / floor.median:.2f}×" if floor and case.measured and floor.measured else "–"
        cpu_times = "–"
        if floor and case.measured and floor.measured and floor.cpu_median > 0:
            cpu_times = f"{case.cpu_median / floor.cpu_median:.2f}×"
        note = "" if case.measured else why_not(case)
        if floor is not None and (floor.skipped or floor.failed or floor.stopped):
            note = (note + "; " if note else "") + f"floor {why_not(floor)}"
        lines.append(
            f"| {case.verb} | {case.store} | {case.size:,} | {median} | {cpu} | {len(case.seconds)} | {rss} | {floor_median} | {floor_rss} | {times} | {cpu_times} | {note} |"
        )
    return lines


def other_rows(cases: list[Case]) -> list[str]:
    lines = [
        "| case | median | CPU | runs | peak RSS | floor | floor RSS | × floor | note |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for case in cases:
        if case.is_floor or (case.size and case.store in STORES):
            continue
        floor = find(cases, case.floor) if case.floor else None
        lines.append(
            f"| {case.name} | {ms(case.median) if case.seconds else '–'} | {ms(case.cpu_median) if case.cpu_seconds else '–'} | {len(case.seconds)} | "
            f"{mb(case.peak_rss_kb) if case.seconds else '–'} | {ms(floor.median) if floor and floor.seconds else '–'} | "
            f"{mb(floor.peak_rss_kb) if floor and floor.seconds else '–'} | "
            f"{f'{case.median / floor.median:.2f}×' if floor and case.measured and floor.measured else '–'} | "
            f"{'' if case.measured else why_not(case)} |"
        )
    return lines


def tool_rows(cases: list[Case]) -> list[str]:
    lines = [
        "| transactions | tool | median | peak RSS | coinpurse balance, sqlite | coinpurse balance, json | tool ÷ coinpurse (sqlite) |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for case in cases:
        if case.store not in TOOL_LIMITS or not case.size:
            continue
        mine = {store: find(cases, f"balance {store} {case.size}") for store in STORES}
        shown = {store: ms(c.median) if c and c.measured else "–" for store, c in mine.items()}
        sqlite_case = mine["sqlite"]
        times = (
            f"{case.median / sqlite_case.median:.1f}×"
            if case.measured and sqlite_case and sqlite_case.measured
            else "–"
        )
        median = ms(case.median) if case.measured else why_not(case)
        lines.append(
            f"| {case.size:,} | {case.store} bal | {median} | {mb(case.peak_rss_kb)} | {shown['sqlite']} | {shown['json']} | {times} |"
        )
    return lines


def key_rows(cases: list[Case], sizes: tuple[int, ...], ops: int, big_ops: int) -> list[str]:
    """The few figures the README quotes: each command on JSON and SQLite at 100,000 and on SQLite at its largest size."""
    json_size = max([s for s in sizes if s <= STORE_LIMITS["json"]], default=0)
    sqlite_sizes = [s for s in sizes if s <= STORE_LIMITS["sqlite"]]
    middle = TARGET_SIZE if TARGET_SIZE in sqlite_sizes else max(sqlite_sizes, default=0)
    columns = [("json", json_size), ("sqlite", middle)] + (
        [("sqlite", max(sqlite_sizes))] if max(sqlite_sizes, default=0) > middle else []
    )

    def cell(case: Case | None) -> str:
        if case is None:
            return "–"
        if not case.measured:
            return "stopped" if case.stopped else "skipped" if case.skipped else "–"
        floor = find(cases, case.floor) if case.floor else None
        times = f"{case.median / floor.median:.1f}× floor, " if floor is not None and floor.measured else ""
        return f"{ms(case.median)} ({times}{mb(case.peak_rss_kb)})"

    head = " | ".join(f"{store} {size:,}" for store, size in columns)
    lines = [f"| command | {head} |", "| --- |" + " ---: |" * len(columns)]
    for verb, _, _ in COMMANDS:
        lines.append(
            f"| `{verb}` | " + " | ".join(cell(find(cases, f"{verb} {store} {size}")) for store, size in columns) + " |"
        )
    applied = [cell(find(cases, f"apply {ops} ops, {store}")) for store in STORES]
    lines.append(
        f"| `apply` of {ops:,} ops onto a new ledger | {applied[0]} | {applied[1]} |"
        + (f" {big_ops:,} ops: {cell(find(cases, f'apply {big_ops} ops, sqlite'))} |" if len(columns) > 2 else "")
    )
    return lines


def report(
    cases: list[Case], plan: Plan, runs: int, smoke: bool, limits: Limits, plot_name: str, argv: list[str], seconds: float,
    load: str = "",
) -> str:  # fmt: skip
    lines = ["# Benchmark results", ""]
    if smoke:
        lines += ["Smoke run: tiny ledgers and one round. These figures say nothing about speed.", ""]
    command = "python benchmarks/run.py" + "".join(f" {arg}" for arg in argv)
    lines += [
        f"- Machine: {machine()}",
        f"- Python: {platform.python_version()} ({sys.executable})",
        *([f"- Load: {load}"] if load else []),
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        f"- Method: each case is a new process; {runs} interleaved round(s)"
        + ("" if smoke else " after a warm-up round")
        + "; median wall time shown. "
        f"A case over {SLOW_SECONDS:g} s in the warm-up runs once more only, and one over {VERY_SLOW_SECONDS:g} s "
        "(or apply of the big scenario) counts its warm-up run as its one run. CPU is the median user + system time, "
        "steadier than wall time when other work shares the machine. " + plan_note(limits),
        f"- Command: `{command}`"
        + (f" ({seconds / 60:.0f} min, building included)" if seconds else "")
        + ". Ledgers: benchmarks/build.py (fixed seed); "
        "scenarios: benchmarks/apply_bench.py (fixed seed).",
        "",
        "## Targets",
        "",
        "| target | measured | floor | × floor | goal | met |",
        "| --- | ---: | ---: | ---: | --- | :---: |",
    ]
    lines += [
        f"| {' | '.join(row)} |"
        for row in targets(cases, plan.sizes, plan.apply_ops, plan.big_apply_ops, dict(plan.skipped))
    ]
    lines += ["", "Notes:", ""] + [f"- {note}" for note in NOTES]
    lines += ["", "## Key figures", "", "Median (× its floor, peak RSS); the README quotes this table.", ""]
    lines += key_rows(cases, plan.sizes, plan.apply_ops, plan.big_apply_ops)
    lines += ["", "## Every command at every size", "", *case_rows(cases)]
    lines += ["", "## Startup, apply and the rest", "", *other_rows(cases)]
    lines += ["", "## ledger-cli and hledger on the same data", ""]
    lines += [
        "`bal` over a journal of the same transactions (benchmarks/build.py's `journal_lines`), beside `coinpurse balance` of all accounts.",
        "",
    ]
    lines += tool_rows(cases)
    skipped = [(name, why) for name, why in plan.skipped] + [(c.name, c.skipped) for c in cases if c.skipped]
    if skipped:
        reasons: dict[str, list[str]] = {}
        for name, why in skipped:
            reasons.setdefault(why, []).append(name)
        lines += ["", "## Not run", ""] + [f"- {', '.join(names)}: {why}" for why, names in reasons.items()]
    lines += ["", f"![time against history size, per command, one line per store]({plot_name})", ""]
    return "\n".join(lines)


STYLES: dict[str, svgplot.Style] = {
    "json": ("#1f77b4", False),
    "sqlite": ("#d62728", False),
    "json floor": ("#1f77b4", True),
    "sqlite floor": ("#d62728", True),
    "ledger-cli bal": ("#2ca02c", False),
    "hledger bal": ("#9467bd", False),
}


def plot(cases: list[Case], target: Path) -> None:
    """Time against history size per command (log-log), one line per store and a dashed one per floor."""
    panels: list[svgplot.Panel] = []
    for verb, _, _ in COMMANDS:
        lines: list[svgplot.Line] = []
        for store in STORES:
            members = [
                c for c in cases if c.verb == verb and c.store == store and c.size and not c.is_floor and c.measured
            ]
            lines.append((store, [(float(c.size or 0), c.median * 1000) for c in members]))
            floors = [find(cases, c.floor) for c in members if c.floor]
            lines.append(
                (
                    f"{store} floor",
                    [(float(f.size or 0), f.median * 1000) for f in floors if f is not None and f.measured],
                )
            )
        if verb == "balance":
            for tool, label in (("ledger", "ledger-cli bal"), ("hledger", "hledger bal")):
                members = [c for c in cases if c.store == tool and c.measured and c.size]
                lines.append((label, [(float(c.size or 0), c.median * 1000) for c in members]))
        panels.append((verb, lines))
    svgplot.write_panels(target, panels, STYLES, "coinpurse: median time against history size (log-log)")


def results_json(cases: list[Case], builds: dict[str, float], plan: Plan, run: dict[str, object]) -> str:
    rows = [
        {
            "case": c.name, "median_s": str(round(c.median, 6)), "cpu_median_s": str(round(c.cpu_median, 6)), "runs": len(c.seconds),
            "peak_rss_kb": c.peak_rss_kb, "failed": c.failed, "stopped": c.stopped, "skipped": c.skipped,
            "size": c.size, "store": c.store, "command": c.verb, "floor": c.floor, "is_floor": c.is_floor,
        }
        for c in cases
    ]  # fmt: skip
    builds_text = {key: str(round(value, 1)) for key, value in builds.items()}
    not_run = [{"case": name, "why": why} for name, why in plan.skipped]
    sizes = {"sizes": list(plan.sizes), "apply_ops": plan.apply_ops, "big_apply_ops": plan.big_apply_ops}
    return (
        json.dumps({"run": {**run, **sizes}, "cases": rows, "not_run": not_run, "builds": builds_text}, indent=1) + "\n"
    )


def from_results(path: Path) -> tuple[list[Case], Plan, dict[str, object]]:
    """The cases, plan and run of a results.json, to write its report again without measuring."""
    saved = json.loads(path.read_text())
    cases = []
    for row in saved["cases"]:
        runs, median = int(row["runs"]), float(row["median_s"])
        case = Case(row["case"], [], size=row.get("size"), store=row.get("store", ""), verb=row.get("command", ""))
        case.floor, case.is_floor = row.get("floor", ""), bool(row.get("is_floor"))
        case.seconds = [median] * runs if not math.isnan(median) else []  # the median, as often as it was run
        case.cpu_seconds = [float(row.get("cpu_median_s", "nan"))] * len(case.seconds)
        case.peak_rss_kb, case.failed = int(row["peak_rss_kb"]), row.get("failed", "")
        case.stopped, case.skipped = row.get("stopped", ""), row.get("skipped", "")
        cases.append(case)
    run = saved.get("run", {})
    sized = sorted({c.size for c in cases if c.size})
    ops = sorted(int(c.name.split()[1]) for c in cases if c.name.startswith("apply ") and c.name.split()[1].isdigit())
    plan = Plan(
        tuple(run.get("sizes", sized)), int(run.get("apply_ops", ops[0] if ops else APPLY_OPS)),
        int(run.get("big_apply_ops", ops[-1] if ops else BIG_APPLY_OPS)), path.parent, cases,
    )  # fmt: skip
    plan.skipped = [(row["case"], row["why"]) for row in saved.get("not_run", [])]
    return cases, plan, run


# --compare: the cases the speed rule names, for two source trees in one interleaved run.
# Each tree runs its own src (on PYTHONPATH) and builds its own ledgers with its own
# benchmarks/build.py, so each reads the files its own writer makes.
COMPARE_LIMIT = 1.05  # after ÷ before: at most 5% slower
COMPARE_CASES = ("balance --json, small ledger", "gift sqlite {size}", "gift json {size}", "apply {ops} ops, json")
TREES = ("before", "after")

# Run with a tree's src and benchmarks on the path: builds its ledgers, prints who to query.
BUILDER = """\
import json, sys
from pathlib import Path
import apply_bench, build
size, ops, folder = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
book = build.build_book(size)
for fmt in ("json", "sqlite"):
    build.save(book, folder / f"ledger-{size}.{fmt}")
(folder / "scenario.json").write_text(json.dumps({"ops": apply_bench.generate(ops)}))
if hasattr(book, "balances"):  # a Ledger handle
    users = {row.account: row.state for row in book.balances().accounts}
else:  # an older tree's build_book gives its in-memory book
    users = {name: book.account(name) for name in book.user_accounts()}
creator = max((n for n in users if n.startswith("creator")), key=lambda n: users[n].diamonds)
sender = max((n for n in users if n.startswith("viewer")), key=lambda n: users[n].coins)
print(json.dumps({"creator": creator, "sender": sender}))
"""


def source_tree(path: Path) -> Path:
    tree = path.resolve()
    if not (tree / "src" / "coinpurse").is_dir() or not (tree / "benchmarks" / "build.py").is_file():
        raise SystemExit(f"{path}: not a coinpurse checkout (no src/coinpurse or benchmarks/build.py)")
    return tree


def prepare_tree(label: str, tree: Path, size: int, ops: int, work: Path, log) -> list[Case]:
    """Build one tree's ledgers with its own code and list its cases, named '<case> [<label>]'."""
    folder = work / label
    folder.mkdir(parents=True, exist_ok=True)
    compileall.compile_dir(tree / "src" / "coinpurse", quiet=1)
    paths = os.pathsep.join([str(tree / "src"), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env = {"PYTHONPATH": paths, **CASES_ENV}  # later than any built transaction
    run_env = {**os.environ, **env}
    started = time.perf_counter()
    built = subprocess.run(
        [sys.executable, "-c", BUILDER, str(size), str(ops), str(folder)],
        env={**run_env, "PYTHONPATH": os.pathsep.join([str(tree / "benchmarks"), paths])},
        capture_output=True,
        text=True,
    )
    if built.returncode != 0:
        raise SystemExit(f"{tree}: building the ledgers failed:\n{built.stderr.strip()[-2000:]}")
    users = json.loads(built.stdout.splitlines()[-1])
    log(f"{label} ({tree}): built {size:,} transactions and {ops:,} ops in {time.perf_counter() - started:.1f} s")
    cp = [sys.executable, "-m", "coinpurse"]
    tiny = folder / "tiny.json"
    tiny.unlink(missing_ok=True)
    for args in (("buy", "alice", "700"), ("gift", "alice", "mia", "rose", "-n", "5")):
        subprocess.run([*cp, "--ledger", str(tiny), *args], check=True, capture_output=True, env=run_env)
    fresh = folder / "apply.json"
    names = [name.format(size=size, ops=ops) for name in COMPARE_CASES]
    gift = ["gift", users["sender"], users["creator"], "rose", "--json"]
    commands = [
        [*cp, "--ledger", str(tiny), "balance", "mia", "--json"],
        [*cp, "--ledger", str(folder / f"ledger-{size}.sqlite"), *gift],
        [*cp, "--ledger", str(folder / f"ledger-{size}.json"), *gift],
        [
            "sh",
            "-c",
            f'rm -f "{fresh}"; exec "$@"',
            "apply",
            *cp,
            "--ledger",
            str(fresh),
            "apply",
            str(folder / "scenario.json"),
            "--json",
        ],
    ]
    return [Case(f"{name} [{label}]", command, env, group=name) for name, command in zip(names, commands, strict=True)]


def compare_rows(cases: list[Case]) -> list[dict[str, str]]:
    """One row per case: both medians, after ÷ before in wall and CPU time, and whether the 5% rule holds (wall time)."""
    rows = []
    for group in dict.fromkeys(case.group for case in cases):
        before, after = (find(cases, f"{group} [{label}]") for label in TREES)
        row = {"case": group, "before": "–", "after": "–", "ratio": "–", "cpu ratio": "–", "within 5%": "–"}
        for label, case in (("before", before), ("after", after)):
            if case is not None and case.seconds:
                row[label] = f"{case.median * 1000:,.1f} ms" + (f" (failed: {case.failed})" if case.failed else "")
        value = ratio(cases, f"{group} [after]", f"{group} [before]")
        if value is not None:
            row["ratio"] = f"{value:.3f}"
            row["within 5%"] = "yes" if value <= COMPARE_LIMIT else "**no**"
            assert before is not None and after is not None
            if before.cpu_seconds and after.cpu_seconds and before.cpu_median > 0:
                row["cpu ratio"] = f"{after.cpu_median / before.cpu_median:.3f}"
        rows.append(row)
    return rows


def compare_report(rows: list[dict[str, str]], trees: dict[str, Path], runs: int, smoke: bool) -> str:
    lines = ["# Before and after", ""]
    if smoke:
        lines += ["Smoke run: tiny ledgers and one round. These figures say nothing about speed.", ""]
    lines += [
        f"- before: {trees['before']}",
        f"- after: {trees['after']}",
        f"- Machine: {machine()}; Python {platform.python_version()}",
        f"- Method: each case is a new process; both trees' cases interleaved, {runs} rounds after a warm-up "
        "round; median wall time shown; ratio is after ÷ before (below 1 is faster), in wall time and in CPU time "
        "(user + system, which other work on the machine disturbs less).",
        "",
        "| case | before | after | after ÷ before | CPU after ÷ before | within 5% |",
        "| --- | ---: | ---: | ---: | ---: | :---: |",
    ]
    lines += [
        f"| {r['case']} | {r['before']} | {r['after']} | {r['ratio']} | {r['cpu ratio']} | {r['within 5%']} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def compare(options: argparse.Namespace, log) -> int:
    trees = {"before": source_tree(options.compare), "after": source_tree(HERE.parent)}
    size = (options.sizes or ((SMOKE_SIZES[-1],) if options.smoke else (TARGET_SIZE,)))[-1]
    ops = options.ops or (SMOKE_APPLY_OPS if options.smoke else APPLY_OPS)
    runs = options.runs or (1 if options.smoke else 7)
    work = options.work or Path(tempfile.mkdtemp(prefix="coinpurse-compare-"))
    try:
        per_tree = [prepare_tree(label, tree, size, ops, work, log) for label, tree in trees.items()]
        cases = [case for pair in zip(*per_tree, strict=True) for case in pair]  # before, after, before, ...
        measure(cases, runs, log, every_round=True)  # a ratio needs a median on both sides
    finally:
        if options.work is None:
            shutil.rmtree(work, ignore_errors=True)
    rows = compare_rows(cases)
    text = compare_report(rows, trees, runs, options.smoke)
    print(text)
    if options.out is not None:
        options.out.mkdir(parents=True, exist_ok=True)
        (options.out / "COMPARE.md").write_text(text)
        measured = [
            {
                "case": c.name,
                "median_s": str(round(c.median, 6)),
                "cpu_median_s": str(round(c.cpu_median, 6)),
                "runs": len(c.seconds),
                "failed": c.failed,
            }
            for c in cases
        ]
        (options.out / "compare.json").write_text(
            json.dumps({"trees": {k: str(v) for k, v in trees.items()}, "rows": rows, "cases": measured}, indent=2)
            + "\n"
        )
        log(f"wrote {options.out / 'COMPARE.md'}")
    failures = [case for case in cases if case.failed]
    for case in failures:
        log(f"FAILED {case.name}: {case.failed}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes and one round: checks the suite works, claims nothing"
    )
    parser.add_argument(
        "--sizes", type=lambda text: tuple(int(s) for s in text.split(",")),
        help="comma-separated history sizes (default 1000,10000,100000,1000000; JSON is measured up to 100,000)",
    )  # fmt: skip
    parser.add_argument(
        "--runs", type=int, help="interleaved rounds per case (default 5; 1 with --smoke; --compare: 7)"
    )
    parser.add_argument(
        "--only", action="append", metavar="PATTERN",
        help="only the cases whose names match (a glob such as 'verify*sqlite*', or a part of the name; repeatable), with their floors",
    )  # fmt: skip
    parser.add_argument(
        "--skip", action="append", metavar="PATTERN", help="leave out the cases whose names match (as --only)"
    )
    parser.add_argument(
        "--out", type=Path, help="folder for RESULTS.md, results.json and latency.svg (default: benchmarks/)"
    )
    parser.add_argument(
        "--work", type=Path, help="folder for the built ledgers (default: a temp folder, removed after)"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --work: measure the ledgers a previous run left there instead of building them",
    )
    parser.add_argument(
        "--case-limit",
        type=float,
        help=f"seconds a case may take (default {CASE_LIMIT:g}; {SMOKE_CASE_LIMIT:g} with --smoke)",
    )
    parser.add_argument(
        "--max-rss-gb", type=float, default=MAX_RSS_GB, help=f"memory a case may take (default {MAX_RSS_GB:g} GB)"
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="CHECKOUT",
        help="time the key cases of CHECKOUT (before) and this checkout (after) in one interleaved run; "
        "prints after ÷ before (and writes COMPARE.md with --out)",
    )
    parser.add_argument("--ops", type=int, help=f"with --compare: operations in the apply case (default {APPLY_OPS:,})")
    parser.add_argument(
        "--from-results", type=Path, metavar="RESULTS_JSON",
        help="measure nothing: write RESULTS.md and latency.svg again from a results.json this script wrote (to --out)",
    )  # fmt: skip
    options = parser.parse_args(argv)
    arguments = sys.argv[1:] if argv is None else argv

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if options.compare is not None:
        return compare(options, log)
    if options.from_results is not None:
        out = options.out or HERE
        out.mkdir(parents=True, exist_ok=True)
        cases, plan, run = from_results(options.from_results)
        limits = Limits(
            float(str(run.get("case_limit", CASE_LIMIT))),
            int(float(str(run.get("max_rss_gb", MAX_RSS_GB))) * 1024 * 1024),
        )
        argv_used = (
            [str(word) for word in run.get("argv", [])] if isinstance(run.get("argv"), list) else ["(not recorded)"]
        )
        runs_used = int(str(run.get("runs", max((len(c.seconds) for c in cases), default=1))))
        plot(cases, out / "latency.svg")
        text = report(
            cases,
            plan,
            runs_used,
            bool(run.get("smoke")),
            limits,
            "latency.svg",
            argv_used,
            float(str(run.get("seconds", 0))),
            str(run.get("load", "")),
        )
        (out / "RESULTS.md").write_text(text)
        log(f"wrote {out / 'RESULTS.md'} and {out / 'latency.svg'} from {options.from_results}")
        return 0
    sizes = tuple(sorted(options.sizes or (SMOKE_SIZES if options.smoke else FULL_SIZES)))
    runs = options.runs or (1 if options.smoke else 5)
    limits = Limits(
        options.case_limit or (SMOKE_CASE_LIMIT if options.smoke else CASE_LIMIT), int(options.max_rss_gb * 1024 * 1024)
    )
    out = options.out or HERE
    out.mkdir(parents=True, exist_ok=True)
    # An installed wheel has its bytecode compiled; an editable checkout may not.
    import coinpurse

    compileall.compile_dir(Path(coinpurse.__file__).parent, quiet=1)
    started = time.perf_counter()
    load_at_start = f"{os.getloadavg()[0]:.1f}"  # other work on the machine slows every wall time
    work = options.work or Path(tempfile.mkdtemp(prefix="coinpurse-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    cp = coinpurse_command()
    try:
        plan = make_plan(sizes, options.smoke, work, cp, has_verify_after(cp))
        if options.only or options.skip:
            select(plan, options.only or [], options.skip)
            if not plan.cases:
                raise SystemExit("no case is left to run (see --only and --skip)")
        log(f"{len(plan.cases)} cases; estimated {estimate(plan, out / 'results.json', runs, options.reuse)}")
        builds = prepare(plan, cp, log, options.reuse)
        measure(plan.cases, runs, log, limits=limits, warm_up=not options.smoke)
    finally:
        if options.work is None:
            shutil.rmtree(work, ignore_errors=True)
    plot_name = "latency.svg"
    plot(plan.cases, out / plot_name)
    load = f"{load_at_start} at the start, {os.getloadavg()[0]:.1f} at the end (the 1-minute load average; {os.cpu_count()} CPUs)"
    text = report(
        plan.cases, plan, runs, options.smoke, limits, plot_name, arguments, time.perf_counter() - started, load
    )
    (out / "RESULTS.md").write_text(text)
    run = {
        "argv": arguments, "runs": runs, "smoke": options.smoke, "seconds": round(time.perf_counter() - started, 1),
        "case_limit": limits.case_seconds, "max_rss_gb": options.max_rss_gb, "load": load,
    }  # fmt: skip
    (out / "results.json").write_text(results_json(plan.cases, builds, plan, run))
    log(f"wrote {out / 'RESULTS.md'} and {out / plot_name} in {(time.perf_counter() - started) / 60:.1f} min")
    failures = [case for case in plan.cases if case.failed]
    for case in failures:
        log(f"FAILED {case.name}: {case.failed}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
