"""An exclusive lock on ``<ledger>.lock``, held across read, change and write.

``flock`` locks are released by the kernel when their holder dies, so a writer
killed with ``kill -9`` never leaves the ledger locked. A writer that made the
lock file and wrote no ledger (a dry run or a refused first write) removes it
again under its lock (see ``_remove_if_unused``), so such a command leaves no file. The holder writes its
PID into the lock file so that a writer who gives up can say who holds it.

The lock file is opened without following symbolic links and must be a regular
file with one name, so that nothing but a lock file is ever truncated. After the
``flock`` the file must still be the one at ``<ledger>.lock``: a clean-up script
that deleted it, or a process that replaced it, would otherwise let a second
writer lock a new file and run beside the holder.
"""

from __future__ import annotations

import errno
import fcntl
import os
import random
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from coinpurse.core.settings import seconds_setting
from coinpurse.errors import LedgerUnusable

TIMEOUT_VARIABLE = "COINPURSE_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = Decimal(10)


def lock_timeout() -> Decimal:
    return seconds_setting(TIMEOUT_VARIABLE, DEFAULT_TIMEOUT, Decimal(86400))


def lock_path(ledger: Path) -> Path:
    return ledger.with_name(ledger.name + ".lock")


def _holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return text if text.isdigit() else ""


class _TimedOut(Exception):
    pass


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        if error.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _can_use_timer() -> bool:
    """A blocking wait with a timer needs the main thread and a SIGALRM nobody else uses."""
    return (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )


def _acquire(fd: int, wait: Decimal) -> bool:
    """Take the lock within ``wait`` seconds.

    Waiting blocked in ``flock`` lets the kernel wake a waiter the moment the
    lock is free; polling with growing pauses let busy writers starve a waiter
    past the timeout under heavy contention (20 writers in the fault tests).
    Where a timer can't be used (another thread, or SIGALRM taken) it polls.
    """
    if _try_lock(fd):
        return True
    if wait <= 0:
        return False
    if _can_use_timer():

        def give_up(signum: int, frame: object) -> None:
            raise _TimedOut

        previous = signal.signal(signal.SIGALRM, give_up)
        signal.setitimer(signal.ITIMER_REAL, float(wait))
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return True
        except _TimedOut:
            return False
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    deadline = time.monotonic() + float(wait)
    pause = 0.001
    while time.monotonic() < deadline:
        time.sleep(min(pause, max(deadline - time.monotonic(), 0)) * random.uniform(0.5, 1))
        if _try_lock(fd):
            return True
        pause = min(pause * 2, 0.01)
    return False


def _open_lock_file(path: Path, created: set[tuple[int, int]] | None = None) -> int:
    """Open (or create) the lock file itself, never what a symbolic link points to.

    A file this call creates has its device and inode added to ``created``.
    """
    flags = os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        while True:
            try:
                fd = os.open(path, flags)
                break
            except FileNotFoundError:
                pass
            try:
                fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue  # another writer made it just now: open theirs
            if created is not None:
                info = os.fstat(fd)
                created.add((info.st_dev, info.st_ino))
            break
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _unsafe_lock_file(path, "is a symbolic link") from None
        raise LedgerUnusable(f"can't open the lock file {path}: {error.strerror}", code="lock_failed") from None
    try:
        _refuse_unless_a_lock_file(path, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refuse_unless_a_lock_file(path: Path, info: os.stat_result) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise _unsafe_lock_file(path, "is not a regular file")
    if info.st_nlink > 1:
        raise _unsafe_lock_file(path, f"has {info.st_nlink} names (a hard link to another file)")


def _unsafe_lock_file(path: Path, why: str) -> LedgerUnusable:
    return LedgerUnusable(
        f"the lock file {path} {why}; nothing was written: remove it and coinpurse makes a new one",
        code="lock_unsafe",
    )


def still_at_path(fd: int, path: Path) -> bool:
    """The locked file is still the one named ``path``, not deleted or replaced meanwhile."""
    try:
        named = os.lstat(path)
    except FileNotFoundError:
        return False
    except OSError as error:
        raise LedgerUnusable(f"can't check {path}: {error.strerror}", code="lock_failed") from None
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _open_ledger_file(path: Path) -> int | None:
    """The ledger file itself, to lock; None when there is none yet (or reading it will say why not)."""
    try:
        return os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None


def _flock_at_path(
    path: Path, open_file: Callable[[Path], int | None], ledger: Path, wait: Decimal, deadline: float
) -> int | None:
    """An open descriptor of the file at ``path`` holding its flock, checked to be still the one there."""
    while True:
        fd = open_file(path)
        if fd is None:
            return None
        try:
            remaining = max(Decimal(deadline - time.monotonic()), Decimal(0))
            try:
                got_it = _acquire(fd, remaining)
            except OSError as error:
                raise LedgerUnusable(f"can't lock {path}: {error.strerror}", code="lock_failed") from None
            if not got_it:
                pid = _holder(fd)
                who = f"process {pid}" if pid else "another process"
                raise LedgerUnusable(
                    f"{ledger} is locked by {who}; gave up after {wait} s (set {TIMEOUT_VARIABLE} to wait longer)",
                    code="lock_timeout",
                )
            if still_at_path(fd, path):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # a lock on a file no longer at the path guards nothing: take the one there now


def _release(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@contextmanager
def locked(ledger: Path, timeout: Decimal | None = None, *, replaced_on_write: bool = False) -> Iterator[int | None]:
    """Hold the lock of ``ledger`` (its real path: see ``storage.real_ledger_path``).

    ``replaced_on_write`` is for ledgers that every write replaces (JSON, TOML):
    the ledger file read is then flocked as well, so that a writer who locked a
    new ``<ledger>.lock`` after a clean-up script deleted the holder's waits for
    the holder all the same, and then reads what the holder wrote. (SQLite
    serializes its writers itself, and its own locks must not be mixed with flock.)
    It yields that file's descriptor, for the writer to read the very file it
    locked (None when there was no ledger, or without ``replaced_on_write``).
    """
    path = lock_path(ledger)
    wait = lock_timeout() if timeout is None else timeout
    deadline = time.monotonic() + float(wait)
    created: set[tuple[int, int]] = set()
    fd = _flock_at_path(path, lambda at: _open_lock_file(at, created), ledger, wait, deadline)
    assert fd is not None
    try:
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # the PID is only a courtesy to waiters
        ledger_fd = _flock_at_path(ledger, _open_ledger_file, ledger, wait, deadline) if replaced_on_write else None
        try:
            yield ledger_fd
        finally:
            if ledger_fd is not None:
                _release(ledger_fd)
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            _remove_if_unused(fd, path, ledger, created)
    finally:
        _release(fd)


def _remove_if_unused(fd: int, path: Path, ledger: Path, created: set[tuple[int, int]]) -> None:
    """Remove the lock file again when this writer made it and wrote no ledger (a dry run, a refusal).

    Only while still holding its flock, only the very file this process created,
    and only while no ledger exists: a waiter that opened it finds it gone once
    it gets the flock and takes the one at the path then, as after any clean-up
    (see ``_flock_at_path``). Had a clean-up script replaced it in the instant
    between the check and the removal, two writers could each create the new
    ledger, but one of them is refused: a new ledger is published by a hard link,
    which never replaces a file another writer made.
    """
    info = os.fstat(fd)
    if (info.st_dev, info.st_ino) not in created or os.path.lexists(ledger):
        return
    try:
        if still_at_path(fd, path):
            os.unlink(path)
    except (OSError, LedgerUnusable):
        pass  # the lock file stays, as it always did
