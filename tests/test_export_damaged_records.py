"""A CSV or journal export of a damaged record refuses as the full read does: exit 3, one line, nothing written."""

from __future__ import annotations

import pytest

from ledger_tools import load, save, seed


@pytest.mark.parametrize("fmt", ["csv", "journal"])
@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("at", "garbage"),  # the journal's date would be "garbage"
        ("at", "2026-01-01T00:00:00Z\nx"),
        ("id", "x y) z"),  # the journal's code "(x y) z)" ends early
    ],
)
def test_an_export_refuses_a_record_whose_id_or_time_is_not_one(cli, tmp_path, fmt, key, value) -> None:
    seed(cli)
    document = load(cli.ledger)
    document["transactions"][1][key] = value
    save(cli.ledger, document)
    assert cli("export", "-f", "json").exit_code == 3  # the full read refuses it
    out = tmp_path / f"out.{fmt}"
    result = cli("export", "-f", fmt, "-o", str(out))
    assert result.exit_code == 3, result.stdout
    assert not out.exists()
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "transaction 2" in lines[0]
