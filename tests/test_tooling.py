"""The strict tooling the project holds itself to: ruff (lint and format) on everything, mypy strict on the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_finds_nothing() -> None:
    done = _run("ruff", "check", "src", "tests", "scripts", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_code_is_in_ruff_format() -> None:
    # One layout everywhere, so a change's diff is only what it changes.
    done = _run("ruff", "format", "--check", "src", "tests", "scripts", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_strict_finds_nothing() -> None:
    done = _run("mypy")
    assert done.returncode == 0, done.stdout + done.stderr
