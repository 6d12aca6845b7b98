"""Settings read from the environment: one parser for each kind of value, one message for a bad one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from coinpurse.errors import BadInput


def seconds_setting(
    variable: str, default: Decimal, maximum: Decimal, environ: Mapping[str, str] | None = None
) -> Decimal:
    """A number of seconds from 0 to ``maximum`` in ``variable``, or ``default`` when it is unset or empty."""
    raw = (os.environ if environ is None else environ).get(variable, "")
    if not raw:
        return default
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise BadInput(f"{variable} must be a number of seconds, not {raw!r}") from None
    if not value.is_finite() or not 0 <= value <= maximum:
        raise BadInput(f"{variable} must be from 0 to {maximum} seconds, not {raw!r}")
    return value


def whole_number_setting(variable: str, default: int, most: int, unit: str) -> int:
    """A whole number of ``unit`` from 1 to ``most`` in ``variable``, or ``default`` when it is unset or empty."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdecimal()) or not 1 <= int(raw[:12]) <= most:
        raise BadInput(f"{variable} must be a whole number of {unit} from 1 to {most:,}, not {raw[:40]!r}")
    return int(raw)
