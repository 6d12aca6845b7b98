"""Atomic replacement of a file: temp file in the same folder, fsync, rename, fsync folder."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Sequence
from pathlib import Path

from coinpurse.errors import BadInput, LedgerUnusable

TEMP_SUFFIX = ".tmp"


_TEMP_RANDOM_BYTES = 6
# SQLite keeps these beside a temp file it builds a ledger in, and a kill leaves them too.
TEMP_COMPANIONS = ("-wal", "-shm", "-journal")


def temp_prefix(target: Path) -> str:
    return f".{target.name}."


def temp_path(target: Path) -> Path:
    """A new temp file's name for ``target``: ``.<name>.<12 hex digits>.tmp``, in the same folder."""
    return target.with_name(f"{temp_prefix(target)}{os.urandom(_TEMP_RANDOM_BYTES).hex()}{TEMP_SUFFIX}")


def is_temp_of(name: str, target_name: str) -> bool:
    """``name`` is exactly a temp file coinpurse makes for ``target_name`` (or SQLite's companion of one).

    Exactly: a prefix match would also take the temp files of another file whose
    name starts with this one's (``l.json.csv`` beside ``l.json``) and delete them
    from under their writer.
    """
    pattern = (
        re.escape(temp_prefix(Path(target_name)))
        + f"[0-9a-f]{{{2 * _TEMP_RANDOM_BYTES}}}"
        + re.escape(TEMP_SUFFIX)
        + "(?:" + "|".join(map(re.escape, TEMP_COMPANIONS)) + ")?"
    )  # fmt: skip
    return re.fullmatch(pattern, name) is not None


def clean_stray_temps(target: Path) -> list[Path]:
    """Remove temp files a killed writer left; call only while holding the lock."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if is_temp_of(entry.name, target.name):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


def make_private_folders(folder: Path) -> None:
    """Create ``folder`` and its missing parents, each 0700 (owner only) whatever the umask."""
    missing: list[Path] = []
    while not os.path.lexists(folder):
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue  # made meanwhile by another process: its mode is its maker's
        os.chmod(path, 0o700)  # the umask may have taken bits off even the owner's


def _remove(temp: Path) -> None:
    try:
        os.unlink(temp)
    except OSError:
        pass  # already gone, or left for the next writer's clean-up


def fsync_path(path: Path, *, folder: bool = False) -> None:
    """Flush a file, or a folder's entries, to disk."""
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if folder else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_folder(folder: Path) -> None:
    fsync_path(folder, folder=True)


def place_new(temp: Path, target: Path) -> None:
    """Give a complete temp file the name ``target`` only if no file has it (else FileExistsError).

    A hard link never replaces a file, unlike a rename. Where the filesystem has
    no hard links, a rename after checking, as the caller holds the target's lock.
    The temp file's name may remain: the caller removes it.
    """
    try:
        os.link(temp, target)
    except OSError as error:
        if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK):
            raise
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target)) from None
        os.replace(temp, target)


def flush_placed(target: Path) -> None:
    """Flush the folder of a file just put in place; if that fails, say the file is there but maybe not on disk."""
    try:
        fsync_folder(target.parent)
    except OSError as error:
        # The new file is in place, but a crash now could still lose the rename.
        reason = error.strerror or str(error)
        raise LedgerUnusable(
            f"wrote {target}, but could not flush its folder to disk: {reason}; check the disk", code="write_unsynced"
        ) from None


def publish_new(temp: Path, target: Path, *, flushed: bool = False) -> None:
    """Put a complete temp file in place as the new file ``target``, never over another file.

    The temp file is flushed (unless ``flushed``), named ``target`` by place_new
    (FileExistsError if a file got that name meanwhile), its temp name removed,
    and the folder flushed (flush_placed).
    """
    try:
        if not flushed:
            fsync_path(temp)
        place_new(temp, target)
    finally:
        _remove(temp)
    flush_placed(target)


def created_meanwhile(target: Path) -> LedgerUnusable:
    """A new ledger's file appeared while it was being built: it is left alone, and nothing is written."""
    return LedgerUnusable(
        f"{target} was created by another process meanwhile; nothing was written: run the command again",
        code="write_conflict",
    )


def open_temp(temp: Path, target: Path) -> int:
    """Create ``temp`` to write, never over an existing file, with ``target``'s permissions (0600 for a new one)."""
    mode = 0o600
    try:
        mode = os.stat(target).st_mode & 0o777
    except FileNotFoundError:
        pass
    return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)


def write_atomic(
    target: Path, data: bytes | Sequence[bytes | memoryview], *, output: bool = False, new: bool = False
) -> None:
    """Replace ``target`` with ``data`` (bytes, or pieces written in turn) so that a crash leaves the old file or the new one.

    ``output`` is for files the user asked for (exports): a failure is then bad
    input naming that file (exit 2), not an unusable ledger (exit 3). ``new`` is
    for a ledger that did not exist when read: it is then put in place with a
    hard link, which unlike a rename never replaces a file another writer made.
    """
    temp = temp_path(target)
    try:
        fd = open_temp(temp, target)
        try:
            for piece in [data] if isinstance(data, bytes) else data:
                view = memoryview(piece)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:
            publish_new(temp, target, flushed=True)
            return
        os.replace(temp, target)
    except FileExistsError:
        _remove(temp)
        raise created_meanwhile(target) from None
    except OSError as error:
        _remove(temp)
        reason = error.strerror or str(error)
        if output:
            raise BadInput(f"can't write {target}: {reason}", code="write_failed") from None
        raise LedgerUnusable(
            f"can't write {target}: {reason}; the ledger was left as it was", code="write_failed"
        ) from None
    flush_placed(target)
