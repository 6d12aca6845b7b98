"""Helpers for tests that edit ledger files by hand, as a tamperer would."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import tomli_w


def load(path: Path) -> dict[str, Any]:
    if path.suffix == ".toml":
        return tomllib.loads(path.read_text())
    return json.loads(path.read_text())


def save(path: Path, document: dict[str, Any]) -> None:
    if path.suffix == ".toml":
        path.write_text(tomli_w.dumps(document))
    else:
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False))


def seed(cli) -> None:  # type: ignore[no-untyped-def]
    """A small economy touching every kind, lots and a payout."""
    for args in (
        ("buy", "alice", "700"),
        ("gift", "alice", "mia", "rose", "-n", "5"),
        ("buy", "bob", "17500"),
        ("buy", "bob", "3500", "--channel", "web"),
        ("gift", "bob", "mia", "interstellar", "-n", "2"),
        ("redeem", "mia", "20000"),
        ("buy", "carol", "1234", "--channel", "web"),
        ("gift", "carol", "mia", "finger heart", "-n", "3"),
    ):
        result = cli(*args)
        assert result.exit_code == 0, result.output


# How many generated inputs the fuzz tests tried, reported at the end of the session.
FUZZ_COUNTS: dict[str, int] = {}
