"""A new file is published one way: complete, flushed, and never over a file that has its name."""

from __future__ import annotations

from pathlib import Path

import pytest

from coinpurse.errors import LedgerUnusable
from coinpurse.storage import atomic


def test_a_new_file_takes_the_name_and_the_temp_name_goes(tmp_path: Path) -> None:
    target = tmp_path / "ledger.json"
    temp = atomic.temp_path(target)
    temp.write_bytes(b"new")
    atomic.publish_new(temp, target)
    assert target.read_bytes() == b"new" and not temp.exists()


def test_a_file_that_has_the_name_is_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "ledger.json"
    target.write_bytes(b"theirs")
    temp = atomic.temp_path(target)
    temp.write_bytes(b"ours")
    with pytest.raises(FileExistsError):
        atomic.publish_new(temp, target)
    assert target.read_bytes() == b"theirs" and not temp.exists()


def test_a_folder_that_will_not_flush_is_reported_with_the_file_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ledger.json"
    temp = atomic.temp_path(target)
    temp.write_bytes(b"new")

    def refuse(folder: Path) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic, "fsync_folder", refuse)
    with pytest.raises(LedgerUnusable) as caught:
        atomic.publish_new(temp, target)
    assert caught.value.code == "write_unsynced" and target.read_bytes() == b"new"
