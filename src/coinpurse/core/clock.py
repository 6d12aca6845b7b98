"""The clock: real UTC time, or the fixed time in COINPURSE_NOW for reproducible ledgers."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from coinpurse.errors import BadInput

NOW_VARIABLE = "COINPURSE_NOW"


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, what: str = NOW_VARIABLE) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"{what} is not an ISO 8601 time such as 2026-03-01T12:00:00Z: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a time without a zone is taken as UTC
    return moment


def now(environ: dict[str, str] | None = None) -> str:
    """The current time as stored in the ledger, to the second, in UTC."""
    fixed = (os.environ if environ is None else environ).get(NOW_VARIABLE)
    if fixed:
        return format_time(parse_time(fixed))
    return format_time(datetime.now(UTC))
