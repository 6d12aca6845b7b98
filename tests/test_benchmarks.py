"""The benchmark suite runs end to end in its smoke mode (tiny ledgers; no timing is asserted)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from xml.etree import ElementTree

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # the whole benchmark suite in its subprocesses: ~10 s on an idle machine
def test_smoke_run_builds_measures_and_reports(tmp_path: Path) -> None:
    out, work = tmp_path / "out", tmp_path / "work"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--out", str(out), "--work", str(work)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    results = (out / "RESULTS.md").read_text()
    assert "Smoke run" in results
    assert "| target | measured | floor | × floor | goal | met |" in results
    assert "| one gift at 200 on sqlite |" in results and "| verify at 200 on json |" in results
    cases = {case["case"]: case for case in json.loads((out / "results.json").read_text())["cases"]}
    assert {
        "balance json 200",
        "gift sqlite 200",
        "export csv sqlite 200",
        "tab completion",
        "minimal Typer app",
    } <= set(cases)
    assert {"floor: verify_floor sqlite 200", "floor: apply 200 ops, sqlite", "apply 400 ops, sqlite"} <= set(cases)
    assert cases["verify json 200"]["floor"] == "floor: verify_floor json 200"
    assert all(case["runs"] == 1 and not case["failed"] and not case["stopped"] for case in cases.values())
    # The built ledgers are real: the same seed gives the same data in both formats.
    sizes = {path.name: path.stat().st_size for path in work.iterdir()}
    assert sizes["ledger-200.json"] > 0 and sizes["ledger-200.sqlite"] > 0 and sizes["ledger-200.journal"] > 0
    plot = ElementTree.parse(out / "latency.svg").getroot()
    assert len(plot.findall(".//{http://www.w3.org/2000/svg}polyline")) >= 20  # two stores and their floors per command
    # The report is written again from results.json alone, the same, without measuring anything.
    again = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--from-results",
            str(out / "results.json"),
            "--out",
            str(tmp_path / "again"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "RESULTS.md").read_text() == results


def _run_module() -> ModuleType:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import run
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return run


def test_only_keeps_the_matching_cases_and_their_floors(tmp_path: Path) -> None:
    run = _run_module()
    plan = run.make_plan((1_000, 10_000, 1_000_000), False, tmp_path, ["coinpurse"], with_after=True)
    names = {case.name for case in plan.cases}
    assert {"verify json 10000", "verify sqlite 1000000", "export json sqlite 1000000", "ledger bal 1000000"} <= names
    assert "verify json 1000000" not in names  # JSON is measured up to 100,000
    assert "hledger bal 1000000" not in names and any(name == "hledger bal 1000000" for name, _ in plan.skipped)
    run.select(plan, ["verify*sqlite*"])
    assert {case.name for case in plan.cases} == {
        "verify sqlite 1000", "verify sqlite 10000", "verify sqlite 1000000",
        "verify --after sqlite 1000", "verify --after sqlite 10000", "verify --after sqlite 1000000",
        "floor: verify_floor sqlite 1000", "floor: verify_floor sqlite 10000", "floor: verify_floor sqlite 1000000",
        "floor: verify_floor --last 100 sqlite 1000", "floor: verify_floor --last 100 sqlite 10000",
        "floor: verify_floor --last 100 sqlite 1000000",
    }  # fmt: skip
    plan = run.make_plan((1_000,), False, tmp_path, ["coinpurse"], with_after=False)
    assert not any(case.verb == "verify --after" for case in plan.cases)
    assert any(name == "verify --after sqlite 1000" for name, _ in plan.skipped)


def test_a_case_the_smaller_size_says_is_too_slow_or_too_big_is_skipped() -> None:
    run = _run_module()
    small = run.Case(
        "export json sqlite 1000", [], size=1_000, group="export json · sqlite", first_seconds=2.0, peak_rss_kb=40_000
    )
    big = run.Case("export json sqlite 100000", [], size=100_000, group="export json · sqlite")
    limits = run.Limits(case_seconds=300.0, rss_kb=6 * 1024 * 1024)
    assert run.predicted_skip([small, big], big, limits) == ""  # about 200 s and 2.8 GB
    small.first_seconds = 5.0  # the warm-up's, kept when the counted runs start afresh
    assert run.predicted_skip([small, big], big, limits).endswith("about 500 s here, over the 300 s limit")
    small.first_seconds = 0.05
    small.peak_rss_kb = 200 * 1024
    assert "over the 6 GB limit" in run.predicted_skip([small, big], big, limits)  # about 19 GB
    small.peak_rss_kb = 20 * 1024
    assert run.predicted_skip([small, big], big, limits) == ""
    small.skipped = "too slow"
    assert run.predicted_skip([small, big], big, limits).startswith("as at 1,000")


def test_floors_do_the_real_work_on_a_built_ledger(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import build
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    book = build.build_book(60)
    floors = ROOT / "benchmarks" / "floors"
    counted: set[str] = set()  # the accounts each store's balance floor read

    def floor(script: str, *args: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(floors / script), *map(str, args)], capture_output=True, text=True, timeout=60
        )

    for store in ("json", "sqlite"):
        ledger = tmp_path / f"l.{store}"
        build.save(book, ledger)
        head = book.history().transactions[-1].hash
        assert floor("verify_floor.py", ledger).stdout.split() == ["60", head]
        assert floor("verify_floor.py", ledger, "--last", 10).stdout.split() == ["10", head]
        assert floor("tail_floor.py", ledger, 20).stdout.split() == ["20"]
        assert int(floor("export_floor.py", ledger).stdout) >= 4 * 60
        counted.add(floor("balance_floor.py", ledger).stdout.strip())
        assert floor("balance_floor.py", ledger, build.a_user(book)).stdout.split() == ["1"]
    assert len(counted) == 1 and int(counted.pop()) >= len(book.balances().accounts)
    text = (tmp_path / "l.json").read_text()
    before = len(text)
    assert (
        floor("rewrite_floor.py", tmp_path / "l.json").returncode == 0
        and len((tmp_path / "l.json").read_text()) == before
    )
    # The verify floor hashes what is stored: a changed amount breaks the chain there.
    (tmp_path / "l.json").write_text(text.replace('"amount": 700', '"amount": 701', 1))
    broken = floor("verify_floor.py", tmp_path / "l.json")
    assert broken.returncode != 0 and "the hash differs" in broken.stderr
    for script, target in (
        ("apply_floor_sqlite.py", tmp_path / "a.sqlite"),
        ("apply_floor_jsonl.py", tmp_path / "a.jsonl"),
    ):
        assert floor(script, target, 50).returncode == 0
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 50
    connection = sqlite3.connect(tmp_path / "a.sqlite")
    assert connection.execute("SELECT count(*) FROM transactions").fetchone() == (50,)
    assert connection.execute("SELECT count(*) FROM postings").fetchone() == (200,)
    connection.close()


def test_the_plot_is_an_svg_with_a_line_per_store_on_log_axes(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import svgplot
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    lines = [
        ("json", [(1e3, 60.0), (1e4, 90.0), (1e5, 900.0)]),
        ("sqlite", [(1e3, 60.0), (1e6, 70.0)]),
        ("json floor", []),
    ]
    svgplot.write_panels(
        tmp_path / "p.svg", [("gift", lines), ("verify", [])], {"json": ("#00f", False), "sqlite": ("#f00", False)}, "t"
    )
    root = ElementTree.parse(tmp_path / "p.svg").getroot()
    svg = "{http://www.w3.org/2000/svg}"
    assert len(root.findall(f".//{svg}polyline")) == 2
    ticks = [text.text for text in root.iter(f"{svg}text")]
    assert {"1k", "10k", "100k", "1M", "10 ms", "100 ms", "1 s"} <= set(ticks) and "nothing measured" in ticks


def test_built_ledgers_are_reproducible_and_complete() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import build
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    first, second = build.build_book(300).history().transactions, build.build_book(300).history().transactions
    assert len(first) == 300
    assert [tx.hash for tx in first] == [tx.hash for tx in second]
    assert {tx.kind for tx in first} >= {"buy", "gift"}
    journal = "".join(build.journal_lines(first))
    assert journal.count("\n\n") == 300


@pytest.mark.slow  # builds and times two trees' ledgers in subprocesses
def test_compare_runs_both_trees_interleaved_and_reports_ratios(tmp_path: Path) -> None:
    out, work = tmp_path / "out", tmp_path / "work"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "run.py"),
            "--compare",
            str(ROOT),
            "--smoke",
            "--out",
            str(out),
            "--work",
            str(work),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "| case | before | after | after ÷ before | CPU after ÷ before | within 5% |" in done.stdout
    assert (out / "COMPARE.md").read_text() in done.stdout
    report = json.loads((out / "compare.json").read_text())
    assert [row["case"] for row in report["rows"]] == [
        "balance --json, small ledger", "gift sqlite 200", "gift json 200", "apply 200 ops, json",
    ]  # fmt: skip
    assert all(row["ratio"] != "–" and row["cpu ratio"] != "–" for row in report["rows"])
    names = [case["case"] for case in report["cases"]]
    assert names[:2] == ["balance --json, small ledger [before]", "balance --json, small ledger [after]"]  # interleaved
    assert all(case["runs"] == 1 and not case["failed"] for case in report["cases"])
    # Each tree built its own ledgers with its own build.py.
    assert (work / "before" / "ledger-200.sqlite").stat().st_size > 0 and (
        work / "after" / "ledger-200.json"
    ).stat().st_size > 0


def test_compare_refuses_a_folder_that_is_not_a_checkout(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--compare", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "not a coinpurse checkout" in done.stderr


def test_the_warm_up_of_a_slow_case_predicts_the_next_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """A case slow enough to run once more only starts its counted runs afresh; its warm-up still judges the next size."""
    run = _run_module()
    monkeypatch.setattr(run, "SLOW_SECONDS", 0.0)  # every case counts as slow here
    command = [sys.executable, "-c", "pass"]
    small = run.Case("verify sqlite 10", command, size=10, group="verify · sqlite")
    big = run.Case("verify sqlite 10000", command, size=10_000, group="verify · sqlite")
    run.measure([small, big], 2, lambda _: None, limits=run.Limits(case_seconds=1.0, rss_kb=6 * 1024 * 1024))
    assert len(small.seconds) == 1 and small.first_seconds > 0  # the warm-up, then one counted run
    assert big.skipped.endswith("over the 1 s limit") and not big.seconds


def test_the_verify_floor_of_the_last_n_takes_a_short_history_whole(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import build
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    book = build.build_book(20)
    for store in ("json", "sqlite"):
        ledger = tmp_path / f"l.{store}"
        build.save(book, ledger)
        done = subprocess.run(
            [sys.executable, str(ROOT / "benchmarks" / "floors" / "verify_floor.py"), str(ledger), "--last", "100"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["20", book.history().transactions[-1].hash]
