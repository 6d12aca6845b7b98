"""Files the user asks coinpurse to write (exports, converted ledgers, rates files): written in pieces, atomically,
and never over a ledger's own files.

``write_output`` writes text as it is made, piece by piece, into a temp file
beside the target, then renames it into place, so an export of any size holds
one piece in memory and a failure midway leaves the old file (or none).

An output named ``-`` is stdout (``is_stdout``): the caller writes the text
there instead of a file, and nothing here applies to it.

An output is refused when it is the ledger, its lock file, its temp or backup
files, or SQLite's ``-wal``, ``-shm`` or ``-journal`` file: by name, through a
symbolic link (either path resolved), or as the same file by another name
(device and inode).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from coinpurse.errors import BadInput

SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
STDOUT = "-"


def is_stdout(output: str | os.PathLike[str] | None) -> bool:
    """Whether an output path is ``-``, which means stdout rather than a file of that name."""
    return output is not None and os.fspath(output) == STDOUT


def _what_it_is(name: str, ledger_name: str) -> str | None:
    """What a file called ``name`` beside the ledger ``ledger_name`` is to that ledger, if anything."""
    from coinpurse.storage.atomic import is_temp_of
    from coinpurse.storage.lock import lock_path

    if name == ledger_name:
        return "the ledger itself"
    if name == lock_path(Path(ledger_name)).name:
        return "the ledger's lock file"
    for companion in SQLITE_COMPANIONS:
        if name == ledger_name + companion:
            return f"the ledger's SQLite {companion} file"
    if is_temp_of(name, ledger_name):
        return "a temp file of the ledger"
    if re.fullmatch(re.escape(ledger_name) + r"\.v\d+\.bak", name):
        return "a backup of the ledger"
    return None


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # a loop of links (RuntimeError before Python 3.13)
        raise BadInput(f"{path}: its symbolic links form a loop", code="invalid_output") from None


def _names_of(path: Path) -> set[Path]:
    """The path an atomic replace would replace (its folder resolved) and the file it finally points to."""
    return {_resolved(path.parent) / path.name, _resolved(path)}


def _file_ids(path: Path) -> set[tuple[int, int]]:
    """Device and inode of the file at ``path`` and of what it points to; none if it does not exist."""
    ids: set[tuple[int, int]] = set()
    for look in (os.lstat, os.stat):
        try:
            info = look(path)
        except OSError:
            continue
        ids.add((info.st_dev, info.st_ino))
    return ids


def _ledger_side_files(folder: Path, ledger_name: str) -> dict[tuple[int, int], str]:
    """Device and inode of every existing file of the ledger, with what it is."""
    found: dict[tuple[int, int], str] = {}
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return found
    for entry in entries:
        what = _what_it_is(entry.name, ledger_name)
        if what is not None:
            for file_id in _file_ids(Path(entry.path)):
                found[file_id] = what
    return found


def refuse_ledger_files(output: Path, ledger: Path) -> None:
    """Refuse (exit 2) an output path that would overwrite, truncate or replace a file of ``ledger``."""

    from coinpurse.storage.urls import LedgerUrl, is_url

    named = str(output) if isinstance(output, LedgerUrl) else str(output).replace(":/", "://", 1)  # as a Path has it
    if is_url(named):  # a database is no output file (convert's target is one, named as a LedgerUrl)
        same = isinstance(ledger, LedgerUrl) and (output == ledger or named in (str(ledger), ledger.url))
        if same:
            raise _refusal(ledger, "the ledger itself")
        if not isinstance(output, LedgerUrl):
            raise _refusal(output, "a database URL, not a file")
        return
    if isinstance(ledger, LedgerUrl):  # a server's ledger has no files to overwrite
        return
    outputs = _names_of(output)
    output_ids = _file_ids(output)
    for ledger_path in _names_of(ledger):
        for name in outputs:
            what = _what_it_is(name.name, ledger_path.name) if name.parent == ledger_path.parent else None
            if what is not None:
                raise _refusal(output, what)
        side_files = _ledger_side_files(ledger_path.parent, ledger_path.name)
        for file_id in output_ids & side_files.keys():
            raise _refusal(output, f"{side_files[file_id]} under another name")


def _refusal(output: Path, what: str) -> BadInput:
    return BadInput(f"{output} is {what}; write the output to another file", code="output_is_ledger")


def write_output(target: Path, chunks: Iterable[str]) -> int:
    """Write the text ``chunks`` (UTF-8) to ``target`` as they come, replacing it only once all are written.

    Returns the bytes written. A failure to write is bad input naming the file
    (exit 2); any error midway, even an interrupt or a damaged record found while
    the chunks are made, removes the temp file and leaves ``target`` as it was.
    """
    from coinpurse.storage.atomic import flush_placed, open_temp, temp_path

    temp = temp_path(target)
    size = 0
    try:
        with _failing_as_bad_output(target):
            fd = open_temp(temp, target)
        try:
            for chunk in chunks:
                view = memoryview(chunk.encode())
                size += len(view)
                with _failing_as_bad_output(target):
                    while view:
                        view = view[os.write(fd, view) :]
            with _failing_as_bad_output(target):
                os.fsync(fd)
        finally:
            os.close(fd)
        with _failing_as_bad_output(target):
            os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    flush_placed(target)
    return size


@contextmanager
def _failing_as_bad_output(target: Path) -> Iterator[None]:
    try:
        yield
    except OSError as error:
        raise BadInput(f"can't write {target}: {error.strerror or error}", code="write_failed") from None


def write_stream(stream: TextIO, chunks: Iterable[str]) -> int:
    """Write the text ``chunks`` to an open text stream (stdout) as they come; returns their size in UTF-8 bytes."""
    size = 0
    write = stream.write
    for chunk in chunks:
        write(chunk)
        size += len(chunk) if chunk.isascii() else len(chunk.encode())
    return size
