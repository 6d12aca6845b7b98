"""The clock: real UTC time, or the fixed time in COINPURSE_NOW for reproducible ledgers."""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from coinpurse.core.settings import seconds_setting
from coinpurse.errors import BadInput, LedgerUnusable

NOW_VARIABLE = "COINPURSE_NOW"
TOLERANCE_VARIABLE = "COINPURSE_CLOCK_TOLERANCE"
DEFAULT_TOLERANCE = Decimal(300)
# Up to a day: a clock further behind than that is no small skew, and a day is
# what the daily payout maximum counts in.
MAX_TOLERANCE = Decimal(86400)


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
    tolerance(environ)  # a bad setting is reported before anything is read, not only when the clock is behind
    fixed = (os.environ if environ is None else environ).get(NOW_VARIABLE)
    if fixed:
        return format_time(parse_time(fixed))
    return format_time(datetime.now(UTC))


def tolerance(environ: dict[str, str] | None = None) -> Decimal:
    """How many seconds the clock may be behind the ledger's last transaction (COINPURSE_CLOCK_TOLERANCE)."""
    return seconds_setting(TOLERANCE_VARIABLE, DEFAULT_TOLERANCE, MAX_TOLERANCE, environ)


def not_before(moment: str, last: str) -> str:
    """The time to stamp a transaction made at ``moment`` after one stamped ``last``.

    A clock a little behind (within the tolerance) takes the last time, so time
    never goes backwards; one further behind is refused, since every later
    transaction would take that time (and count against that day's payouts).
    """
    if moment >= last:  # stored times sort as text
        return moment
    try:
        behind = Decimal(int((_stored(last) - _stored(moment)).total_seconds()))
    except ValueError:  # the shape of stored times is checked on reading, not the calendar
        raise LedgerUnusable(
            f"the ledger's last transaction has an impossible time {last!r}", code="ledger_damaged"
        ) from None
    allowed = tolerance()
    if behind <= allowed:
        return last
    raise LedgerUnusable(
        f"the clock says {moment}, {_span(behind)} before the ledger's last transaction at {last} "
        f"({TOLERANCE_VARIABLE} allows {allowed} s); history can't go back in time, so nothing was written. "
        f"Run with a clock at or after {last} (e.g. {NOW_VARIABLE}={last}); "
        "for a fixture made with a later clock, regenerate it",
        code="clock_behind",
    )


def days_after(stamp: str, days: int) -> str:
    """The stored time ``days`` after a stored time; the last second of year 9999 at the most."""
    from datetime import timedelta

    try:
        return format_time(_stored(stamp).replace(tzinfo=UTC) + timedelta(days=days))
    except OverflowError:
        return f"{LAST_YEAR}-12-31T23:59:59Z"


def _stored(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")


def _span(seconds: Decimal) -> str:
    days = seconds // 86400
    return f"{days:,} days" if days >= 2 else f"{seconds:,} s"


# ----- times a user names: --at, --since, --until, --month ---------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def moment(text: str, *, end_of_day: bool, what: str, environ: dict[str, str] | None = None) -> str:
    """A time a user names, as a stored time (UTC, to the second); bounds are inclusive.

    ``text`` is an ISO time (a zone-less one is UTC), a date, ``today`` or
    ``yesterday`` (which follow COINPURSE_NOW). A day stands for its first second,
    or its last with ``end_of_day`` (``--until`` and ``--at``), so
    ``--since 2026-03-01 --until 2026-03-01`` is that whole day.
    """
    word = text.strip().lower()
    if word in ("today", "yesterday"):
        day = _stored(now(environ)).date()
        if word == "yesterday":
            day -= timedelta(days=1)
        return _day_edge(day, end_of_day)
    if _DATE.fullmatch(text.strip()):
        try:
            return _day_edge(date.fromisoformat(text.strip()), end_of_day)
        except ValueError:
            raise BadInput(f"{what} is not a real date: {text!r}", code="bad_time") from None
    try:
        return format_time(parse_time(text, what))
    except BadInput as error:
        raise BadInput(
            f"{what} takes a date (2026-03-01), an ISO time (2026-03-01T12:00:00Z), today or yesterday; got {text!r}"
            if "ISO 8601" in error.message
            else error.message,
            code="bad_time",
        ) from None


def month_span(text: str, what: str = "--month") -> tuple[str, str]:
    """The first and last second of a month named YYYY-MM, as stored times."""
    found = _MONTH.fullmatch(text.strip())
    if found is None or not 1 <= int(found[2]) <= 12 or not FIRST_YEAR <= int(found[1]) <= LAST_YEAR:
        raise BadInput(f"{what} takes a month such as 2026-03; got {text!r}", code="bad_time")
    year, month = int(found[1]), int(found[2])
    first = date(year, month, 1)
    last = (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)) - timedelta(days=1)
    return _day_edge(first, False), _day_edge(last, True)


def _day_edge(day: date, end_of_day: bool) -> str:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadInput(f"{day.isoformat()} is outside the years {FIRST_YEAR} to {LAST_YEAR}", code="bad_time")
    return f"{day.year:04d}-{day:%m-%d}T" + ("23:59:59Z" if end_of_day else "00:00:00Z")
