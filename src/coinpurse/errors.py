"""The one error hierarchy and the exit codes it maps to.

Core code raises these; only the CLI entry point turns them into an exit code
and a message, so the library never calls ``sys.exit``.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented exit codes (see the README)."""

    OK = 0
    REFUSED = 1  # a rule of the economy said no
    BAD_INPUT = 2  # bad usage or input
    LEDGER_UNUSABLE = 3  # the ledger file can't be used, or is damaged
    INTERRUPTED = 130  # stopped by Ctrl-C; 128 + SIGINT, as shells report it


class CoinpurseError(Exception):
    """Base of every error coinpurse reports to a user."""

    exit_code: ExitCode = ExitCode.BAD_INPUT
    code: str = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


class Refused(CoinpurseError):
    """A valid request that a rule of the economy refuses (exit 1)."""

    exit_code = ExitCode.REFUSED
    code = "refused"


class BadInput(CoinpurseError):
    """Bad usage or input (exit 2)."""

    exit_code = ExitCode.BAD_INPUT
    code = "bad_input"


class LedgerUnusable(CoinpurseError):
    """The ledger file can't be read, locked, written or trusted (exit 3)."""

    exit_code = ExitCode.LEDGER_UNUSABLE
    code = "ledger_unusable"


class Interrupted(CoinpurseError):
    """The run was stopped by Ctrl-C before it finished (exit 130)."""

    exit_code = ExitCode.INTERRUPTED
    code = "interrupted"
