"""The clock: real UTC time, or the fixed time in COINPURSE_NOW for reproducible ledgers."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from coinpurse.errors import BadInput

NOW_VARIABLE = "COINPURSE_NOW"


# Ledger times sort as text, so every stored year has exactly four digits.
FIRST_YEAR = 1970
LAST_YEAR = 9999


def format_time(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    # strftime's %Y drops leading zeros on some platforms; spell the year out.
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S}Z"


def parse_time(text: str, what: str = NOW_VARIABLE) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadInput(f"{what} is not an ISO 8601 time such as 2026-03-01T12:00:00Z: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a time without a zone is taken as UTC
    try:
        utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):  # e.g. 9999-12-31T23:59:59-05:00 is past year 9999 in UTC
        raise BadInput(f"{what} is outside the years {FIRST_YEAR} to {LAST_YEAR} in UTC: {text!r}") from None
    if not FIRST_YEAR <= utc.year <= LAST_YEAR:
        raise BadInput(f"{what} is outside the years {FIRST_YEAR} to {LAST_YEAR} in UTC: {text!r}")
    return utc


def now(environ: dict[str, str] | None = None) -> str:
    """The current time as stored in the ledger, to the second, in UTC."""
    fixed = (os.environ if environ is None else environ).get(NOW_VARIABLE)
    if fixed:
        return format_time(parse_time(fixed))
    return format_time(datetime.now(UTC))
