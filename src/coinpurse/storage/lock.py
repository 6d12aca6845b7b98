"""An exclusive lock on ``<ledger>.lock``, held across read, change and write.

``flock`` locks are released by the kernel when their holder dies, so a writer
killed with ``kill -9`` never leaves the ledger locked. The holder writes its
PID into the lock file so that a writer who gives up can say who holds it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path

from coinpurse.errors import BadInput, LedgerUnusable

TIMEOUT_VARIABLE = "COINPURSE_LOCK_TIMEOUT"
DEFAULT_TIMEOUT = Decimal(10)


def lock_timeout() -> Decimal:
    raw = os.environ.get(TIMEOUT_VARIABLE, "")
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise BadInput(f"{TIMEOUT_VARIABLE} must be a number of seconds, not {raw!r}") from None
    if not value.is_finite() or not 0 <= value <= 86400:
        raise BadInput(f"{TIMEOUT_VARIABLE} must be from 0 to 86400 seconds, not {raw!r}")
    return value


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


@contextmanager
def locked(ledger: Path, timeout: Decimal | None = None) -> Iterator[None]:
    path = lock_path(ledger)
    wait = lock_timeout() if timeout is None else timeout
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise LedgerUnusable(f"can't open the lock file {path}: {error.strerror}", code="lock_failed") from None
    try:
        try:
            got_it = _acquire(fd, wait)
        except OSError as error:
            raise LedgerUnusable(f"can't lock {path}: {error.strerror}", code="lock_failed") from None
        if not got_it:
            pid = _holder(fd)
            who = f"process {pid}" if pid else "another process"
            raise LedgerUnusable(
                f"{ledger} is locked by {who}; gave up after {wait} s (set {TIMEOUT_VARIABLE} to wait longer)",
                code="lock_timeout",
            )
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass  # the PID is only a courtesy to waiters
        try:
            yield
        finally:
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
