"""The benchmark suite runs end to end in its smoke mode (tiny ledgers; no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow  # the whole benchmark suite in its subprocesses: ~10 s
def test_smoke_run_builds_measures_and_reports(tmp_path: Path) -> None:
    out, work = tmp_path / "out", tmp_path / "work"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--out", str(out), "--work", str(work)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    results = (out / "RESULTS.md").read_text()
    assert "Smoke run" in results
    assert "| gift at 200 ≤ 2× gift on an empty ledger (sqlite) |" in results
    cases = {case["case"]: case for case in json.loads((out / "results.json").read_text())}
    assert {"balance json 200", "gift sqlite 200", "tab completion", "minimal Typer app"} <= set(cases)
    assert all(case["runs"] == 1 and not case["failed"] for case in cases.values())
    # The built ledgers are real: the same seed gives the same data in both formats.
    sizes = {path.name: path.stat().st_size for path in work.iterdir()}
    assert sizes["ledger-200.json"] > 0 and sizes["ledger-200.sqlite"] > 0


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
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--compare", str(ROOT), "--smoke", "--out", str(out), "--work", str(work)],
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
    assert (work / "before" / "ledger-200.sqlite").stat().st_size > 0 and (work / "after" / "ledger-200.json").stat().st_size > 0


def test_compare_refuses_a_folder_that_is_not_a_checkout(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--compare", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "not a coinpurse checkout" in done.stderr
