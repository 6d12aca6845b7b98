"""Benchmark coinpurse: startup, per-operation cost against ledger size, memory, and ledger-cli/hledger.

    python benchmarks/run.py            # the full suite: 1k, 10k, 100k and 1M transactions
    python benchmarks/run.py --smoke    # tiny sizes, one run each, no timing claims (CI runs this)
    python benchmarks/run.py --compare ../main   # the key cases, that checkout (before) against this one (after)

Each case is a fresh process, timed from start to exit. Cases run interleaved
(round after round over all cases), and each reports the median of its runs,
so a busy moment on the machine spreads over every case instead of one. Every
target is reported as a ratio of two cases of the same run. Writes RESULTS.md
and latency.png next to this file (or to --out).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import apply_bench  # noqa: E402  (the folder is put on the path just above)
import build  # noqa: E402

FULL_SIZES = (1_000, 10_000, 100_000, 1_000_000)
SMOKE_SIZES = (20, 200)
APPLY_OPS = 100_000  # the batch target: apply this many operations in one run
SMOKE_APPLY_OPS = 200
FORMATS = ("json", "sqlite")
TARGET_SIZE = 100_000  # the size the targets name
SLOW_SECONDS = 8.0
# Beyond these sizes a case would need many GB of memory on a shared machine (a JSON
# write parses the whole file: ~0.9 GB at 100,000 transactions, ~9 GB at 1,000,000;
# hledger needs minutes), so it is skipped and the report says so.
JSON_WRITE_LIMIT = 100_000
TOOL_LIMITS = {"ledger": 1_000_000, "hledger": 100_000}  # a case slower than this on its first run is run once more only

# Runs one case and prints "seconds peak-RSS-KiB exit-code CPU-seconds". A small process of its
# own starts each case, because a child's peak RSS on Linux counts the memory of
# the process it was forked from, and this script holds whole ledgers in memory.
LAUNCHER = """\
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
elapsed = time.perf_counter() - started
print(f"{elapsed:.6f} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {usage.ru_utime + usage.ru_stime:.6f}")
"""

MINIMAL_APP = """\
import typer

app = typer.Typer()


@app.command()
def hello(name: str) -> None:
    print(name)


app()
"""


@dataclass
class Case:
    name: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    size: int | None = None
    group: str = ""  # the plot line it belongs to
    seconds: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)  # user + system: steadier than wall time on a busy machine
    peak_rss_kb: int = 0
    failed: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_seconds) if self.cpu_seconds else float("nan")

    def run_once(self) -> float:
        env = {**os.environ, **self.env}
        child = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, *self.command], env=env, capture_output=True, text=True)
        try:
            elapsed_text, rss_text, code_text, cpu_text = child.stdout.split()
        except ValueError:
            self.failed = f"launcher failed: {child.stderr.strip()[:200]}"
            return float("nan")
        if code_text != "0":
            self.failed = f"exit {code_text}: {child.stderr.strip()[:200]}"
        elapsed = float(elapsed_text)
        self.peak_rss_kb = max(self.peak_rss_kb, int(rss_text))
        self.seconds.append(elapsed)
        self.cpu_seconds.append(float(cpu_text))
        return elapsed


def coinpurse_command() -> list[str]:
    script = Path(sys.executable).with_name("coinpurse")
    return [str(script)] if script.exists() else [sys.executable, "-m", "coinpurse"]


def versions() -> dict[str, str]:
    found = {}
    for name in ("coinpurse", "typer", "rich", "platformdirs", "tomli-w", "matplotlib"):
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
    found["sqlite"] = __import__("sqlite3").sqlite_version
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
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs{memory}"


NOTES = (
    "A JSON ledger cannot meet the gift target: each write parses and rewrites the whole file, so its cost "
    "grows with the history (see the gift json rows). SQLite meets it at every size; that is the format "
    "for large ledgers (`coinpurse convert ledger.json ledger.sqlite`).",
    "balance on JSON reads only the file's head (accounts), not the history; at 1,000,000 transactions the "
    "head still holds every account, and the read takes the time shown.",
    "Peak RSS is measured through a small launcher process, so about 11 MB is its floor.",
    "The batch target runs `coinpurse apply` of a generated scenario (benchmarks/apply_bench.py, fixed seed) "
    "onto a fresh JSON ledger in each round: reading the file, every operation, and one save with fsync.",
)

skipped: list[str] = []  # cases left out, with the reason, for the report


def prepare(sizes: tuple[int, ...], work: Path, with_tools: bool, log, reuse: bool = False) -> tuple[list[Case], dict[int, str]]:
    """Build the ledgers and journals and list the cases."""
    cp = coinpurse_command()
    cases: list[Case] = []
    tiny = work / "tiny.json"
    for stale in [tiny, *(work / f"empty.{fmt}" for fmt in FORMATS)]:
        stale.unlink(missing_ok=True)
    cases_env = {"COINPURSE_NOW": "2027-01-01T00:00:00Z"}  # later than any built transaction
    subprocess.run([*cp, "--ledger", str(tiny), "buy", "alice", "700"], check=True, capture_output=True, env={**os.environ, **cases_env})
    subprocess.run(
        [*cp, "--ledger", str(tiny), "gift", "alice", "mia", "rose", "-n", "5"], check=True, capture_output=True, env={**os.environ, **cases_env}
    )
    minimal = work / "minimal_app.py"
    minimal.write_text(MINIMAL_APP)
    completion = {"_COINPURSE_COMPLETE": "complete_bash", "COMP_WORDS": "coinpurse b", "COMP_CWORD": "1"}
    cases += [
        Case("python -c pass", [sys.executable, "-c", "pass"], group="startup"),
        Case("minimal Typer app", [sys.executable, str(minimal), "x"], group="startup"),
        Case("balance ACCOUNT --json, small ledger", [*cp, "--ledger", str(tiny), "balance", "mia", "--json"], group="startup"),
        Case("tab completion", cp, env=completion, group="startup"),
    ]
    for fmt in FORMATS:
        empty = work / f"empty.{fmt}"
        subprocess.run([*cp, "--ledger", str(empty), "buy", "alice", "17500"], check=True, capture_output=True, env={**os.environ, **cases_env})
        cases.append(
            Case(f"gift, empty {fmt}", [*cp, "--ledger", str(empty), "gift", "alice", "mia", "rose", "--json"], cases_env, 0, f"gift {fmt}")
        )
    # The batch target: one `apply` of a generated scenario onto a fresh JSON ledger each run.
    ops = SMOKE_APPLY_OPS if max(sizes) < 1_000 else APPLY_OPS
    scenario = work / f"scenario-{ops}.json"
    scenario.write_text(json.dumps({"ops": apply_bench.generate(ops)}))
    fresh = work / "apply.json"
    cases.append(
        Case(
            f"apply {ops} ops, json",
            ["sh", "-c", f'rm -f "{fresh}"; exec "$@"', "apply", *cp, "--ledger", str(fresh), "apply", str(scenario), "--json"],
            cases_env,
            group="apply",
        )
    )
    users: dict[int, str] = {}
    skipped.clear()
    for size in sizes:
        started = time.perf_counter()
        journal = work / f"ledger-{size}.journal"
        kept = [work / f"ledger-{size}.{fmt}" for fmt in FORMATS] + [journal]
        book = None
        if reuse and all(path.exists() for path in kept):
            from coinpurse.storage import read_book

            accounts = read_book(work / f"ledger-{size}.sqlite").all_accounts()
            log(f"reusing the {size:,}-transaction ledgers in {work}")
        else:
            book = build.build_book(size)
            accounts = {row.account: row.state for row in book.balances().accounts}
            log(f"built {size:,} transactions in {time.perf_counter() - started:.1f} s")
        creator = max((n for n in accounts if n.startswith("creator")), key=lambda n: accounts[n].diamonds)
        sender = max((n for n in accounts if n.startswith("viewer")), key=lambda n: accounts[n].coins)
        users[size] = creator
        for fmt in FORMATS:
            path = work / f"ledger-{size}.{fmt}"
            if book is not None:
                started = time.perf_counter()
                build.save(book, path)
                log(f"  saved {path.name} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s")
            cases.append(Case(f"balance {fmt} {size}", [*cp, "--ledger", str(path), "balance", creator, "--json"], cases_env, size, f"balance {fmt}"))
            if fmt == "json" and size > JSON_WRITE_LIMIT:
                skipped.append(f"gift {fmt} {size}: a JSON write parses and rewrites the whole file (~9 GB of memory here)")
                continue
            cases.append(
                Case(f"gift {fmt} {size}", [*cp, "--ledger", str(path), "gift", sender, creator, "rose", "--json"], cases_env, size, f"gift {fmt}")
            )
        if with_tools:
            if book is not None:
                build.write_journal(book, journal)
            for tool in ("ledger", "hledger"):
                if size > TOOL_LIMITS[tool]:
                    skipped.append(f"{tool} bal {size}: over a minute and several GB per run")
                elif shutil.which(tool):
                    cases.append(Case(f"{tool} bal {size}", [tool, "-f", str(journal), "bal"], {}, size, f"{tool} bal"))
        del book
    return cases, users


def measure(cases: list[Case], runs: int, log, *, every_round: bool = False) -> None:
    """Interleaved rounds; a case slower than SLOW_SECONDS in the warm-up runs once more only, unless ``every_round``."""
    log(f"measuring {len(cases)} cases, {runs} interleaved rounds after a warm-up round")
    slow: set[str] = set()
    for round_number in range(runs + 1):
        for case in cases:
            if round_number > 1 and case.name in slow and not every_round:
                continue
            elapsed = case.run_once()
            if round_number == 0:
                case.seconds.clear()  # the warm-up fills caches and is not counted
                case.cpu_seconds.clear()
                if elapsed > SLOW_SECONDS:
                    slow.add(case.name)
        log(f"  round {round_number} done")


def find(cases: list[Case], name: str) -> Case | None:
    return next((case for case in cases if case.name == name), None)


def ratio(cases: list[Case], top: str, bottom: str) -> float | None:
    a, b = find(cases, top), find(cases, bottom)
    if a is None or b is None or not a.seconds or not b.seconds or a.failed or b.failed:
        return None
    return a.median / b.median


def targets(cases: list[Case], size: int) -> list[tuple[str, str, str]]:
    """(target, measured, met?) rows."""
    rows = []

    def add(label: str, value: float | None, limit: float, at_most: bool) -> None:
        if value is None:
            rows.append((label, "not measured", "–"))
            return
        met = value <= limit if at_most else value >= limit
        rows.append((label, f"{value:.2f}×", "yes" if met else "**no**"))

    add("balance --json (small ledger) ≤ 1.3× minimal Typer app", ratio(cases, "balance ACCOUNT --json, small ledger", "minimal Typer app"), 1.3, True)
    add("balance --json (small ledger) ≤ 8× `python -c pass`", ratio(cases, "balance ACCOUNT --json, small ledger", "python -c pass"), 8, True)
    add("tab completion ≤ 1.3× minimal Typer app", ratio(cases, "tab completion", "minimal Typer app"), 1.3, True)
    for fmt in FORMATS:
        add(f"gift at {size:,} ≤ 2× gift on an empty ledger ({fmt})", ratio(cases, f"gift {fmt} {size}", f"gift, empty {fmt}"), 2, True)
        add(f"ledger-cli bal ÷ coinpurse balance at {size:,} ≥ 5 ({fmt})", ratio(cases, f"ledger bal {size}", f"balance {fmt} {size}"), 5, False)
        add(f"hledger bal ÷ coinpurse balance at {size:,} ≥ 20 ({fmt})", ratio(cases, f"hledger bal {size}", f"balance {fmt} {size}"), 20, False)
    apply_case = next((c for c in cases if c.name.startswith("apply ")), None)
    if apply_case is not None and apply_case.seconds and not apply_case.failed:
        ops = int(apply_case.name.split()[1])
        rate = ops / apply_case.median
        rows.append((f"apply of {ops:,} operations ≥ 20,000 operations/s (json)", f"{rate:,.0f} ops/s", "yes" if rate >= 20_000 else "**no**"))
    else:
        rows.append(("apply of 100,000 operations ≥ 20,000 operations/s (json)", "not measured", "–"))
    for fmt in FORMATS:
        case = find(cases, f"balance {fmt} {size}")
        if case is not None and case.seconds:
            mb = case.peak_rss_kb / 1024
            rows.append((f"peak RSS of balance at {size:,} ≤ 150 MB ({fmt})", f"{mb:.0f} MB", "yes" if mb <= 150 else "**no**"))
        else:
            rows.append((f"peak RSS of balance at {size:,} ≤ 150 MB ({fmt})", "not measured", "–"))
    return rows


def report(cases: list[Case], sizes: tuple[int, ...], runs: int, smoke: bool, plot_name: str) -> str:
    size = TARGET_SIZE if TARGET_SIZE in sizes else max(sizes)
    lines = ["# Benchmark results", ""]
    if smoke:
        lines += ["Smoke run: tiny ledgers and one round. These figures say nothing about speed.", ""]
    lines += [
        f"- Machine: {machine()}",
        f"- Python: {platform.python_version()} ({sys.executable})",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()),
        f"- Method: each case is a new process; {runs} interleaved rounds after a warm-up round; median shown "
        f"(cases over {SLOW_SECONDS:g} s in the warm-up run once more only). Command: `python benchmarks/run.py`.",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "| --- | ---: | :---: |",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in targets(cases, size)]
    lines += ["", "Notes:", ""] + [f"- {note}" for note in NOTES]
    lines += ["", "## Every case", "", "| case | median | runs | peak RSS | note |", "| --- | ---: | ---: | ---: | --- |"]
    for case in cases:
        median = f"{case.median * 1000:,.1f} ms" if case.seconds else "–"
        lines.append(f"| {case.name} | {median} | {len(case.seconds)} | {case.peak_rss_kb / 1024:,.0f} MB | {case.failed} |")
    if skipped:
        lines += ["", "Not run: " + "; ".join(skipped) + "."]
    lines += ["", f"![latency against ledger size]({plot_name})", ""]
    return "\n".join(lines)


def plot(cases: list[Case], target: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    groups: dict[str, list[Case]] = {}
    for case in cases:
        if case.size and case.seconds and not case.failed:
            groups.setdefault(case.group, []).append(case)
    figure, axes = plt.subplots(figsize=(8, 5))
    for group, members in sorted(groups.items()):
        members.sort(key=lambda c: c.size or 0)
        axes.plot([c.size for c in members], [c.median * 1000 for c in members], marker="o", label=group)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xlabel("transactions in the ledger")
    axes.set_ylabel("median latency per command (ms)")
    axes.set_title("coinpurse: latency against ledger size")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    plt.close(figure)
    return True


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
    env = {"PYTHONPATH": paths, "COINPURSE_NOW": "2027-01-01T00:00:00Z"}  # later than any built transaction
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
        ["sh", "-c", f'rm -f "{fresh}"; exec "$@"', "apply", *cp, "--ledger", str(fresh), "apply", str(folder / "scenario.json"), "--json"],
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
    lines += [f"| {r['case']} | {r['before']} | {r['after']} | {r['ratio']} | {r['cpu ratio']} | {r['within 5%']} |" for r in rows]
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
            {"case": c.name, "median_s": str(round(c.median, 6)), "cpu_median_s": str(round(c.cpu_median, 6)), "runs": len(c.seconds), "failed": c.failed}
            for c in cases
        ]
        (options.out / "compare.json").write_text(json.dumps({"trees": {k: str(v) for k, v in trees.items()}, "rows": rows, "cases": measured}, indent=2) + "\n")
        log(f"wrote {options.out / 'COMPARE.md'}")
    failures = [case for case in cases if case.failed]
    for case in failures:
        log(f"FAILED {case.name}: {case.failed}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes and one round: checks the suite works, claims nothing")
    parser.add_argument("--sizes", type=lambda text: tuple(int(s) for s in text.split(",")), help="comma-separated ledger sizes")
    parser.add_argument("--runs", type=int, help="interleaved rounds per case (default 5; 1 with --smoke)")
    parser.add_argument("--out", type=Path, help="folder for RESULTS.md and latency.png (default: benchmarks/)")
    parser.add_argument("--work", type=Path, help="folder for the built ledgers (default: a temp folder, removed after)")
    parser.add_argument(
        "--reuse", action="store_true", help="with --work: measure the ledgers a previous run left there instead of building them"
    )
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="CHECKOUT",
        help="time the key cases of CHECKOUT (before) and this checkout (after) in one interleaved run; "
        "prints after ÷ before (and writes COMPARE.md with --out)",
    )
    parser.add_argument("--ops", type=int, help=f"with --compare: operations in the apply case (default {APPLY_OPS:,})")
    options = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if options.compare is not None:
        return compare(options, log)
    sizes = options.sizes or (SMOKE_SIZES if options.smoke else FULL_SIZES)
    runs = options.runs or (1 if options.smoke else 5)
    out = options.out or HERE
    out.mkdir(parents=True, exist_ok=True)
    # An installed wheel has its bytecode compiled; an editable checkout may not.
    import coinpurse

    compileall.compile_dir(Path(coinpurse.__file__).parent, quiet=1)
    work = options.work or Path(tempfile.mkdtemp(prefix="coinpurse-bench-"))
    try:
        cases, _ = prepare(sizes, work, with_tools=True, log=log, reuse=options.reuse)
        measure(cases, runs, log)
    finally:
        if options.work is None:
            shutil.rmtree(work, ignore_errors=True)
    plot_name = "latency.png"
    has_plot = plot(cases, out / plot_name)
    text = report(cases, sizes, runs, options.smoke, plot_name if has_plot else "(matplotlib not installed: no plot)")
    (out / "RESULTS.md").write_text(text)
    (out / "results.json").write_text(
        json.dumps(
            [{"case": c.name, "median_s": str(round(c.median, 6)), "runs": len(c.seconds), "peak_rss_kb": c.peak_rss_kb, "failed": c.failed} for c in cases],
            indent=2,
        )
        + "\n"
    )
    log(f"wrote {out / 'RESULTS.md'}" + (f" and {out / plot_name}" if has_plot else ""))
    failures = [case for case in cases if case.failed]
    for case in failures:
        log(f"FAILED {case.name}: {case.failed}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
