"""An exclusive lock on ``<ledger>.lock``, held across read, change and write.

``flock`` locks are released by the kernel when their holder dies, so a writer
killed with ``kill -9`` never leaves the ledger locked. The holder writes its
PID into the lock file so that a writer who gives up can say who holds it.
"""

from __future__ import annotations

import errno
import fcntl
import os
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


@contextmanager
def locked(ledger: Path, timeout: Decimal | None = None) -> Iterator[None]:
    path = lock_path(ledger)
    wait = lock_timeout() if timeout is None else timeout
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise LedgerUnusable(f"can't open the lock file {path}: {error.strerror}", code="lock_failed") from None
    try:
        deadline = time.monotonic_ns() + int(wait * 1_000_000_000)
        pause_ms = 2
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise LedgerUnusable(f"can't lock {path}: {error.strerror}", code="lock_failed") from None
            if time.monotonic_ns() >= deadline:
                pid = _holder(fd)
                who = f"process {pid}" if pid else "another process"
                raise LedgerUnusable(
                    f"{ledger} is locked by {who}; gave up after {wait} s "
                    f"(set {TIMEOUT_VARIABLE} to wait longer)",
                    code="lock_timeout",
                )
            time.sleep(pause_ms / 1000)
            pause_ms = min(pause_ms * 2, 50)
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
