"""Exact money: integers for coins and diamonds, ``Decimal`` for cash.

Cash is always built from strings (or ints) and never from floats.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from typing import ParamSpec, TypeVar

from coinpurse.errors import BadInput

COIN = "COIN"
DIAMOND = "DIAMOND"
ZERO = Decimal()
CENT = Decimal("0.01")
# Cost basis of spent coins is kept to a tenth of a cent (a "mill"), so that a
# single Rose still shows what it cost; the lot keeps the remainder exactly.
MILL = Decimal("0.001")
MAX_UNITS = 10**15  # far beyond any real wallet; keeps TOML's 64-bit ints safe
# Rates (a coin's price, a diamond's cash value, diamonds per coin) are capped so that
# every product the rules form stays far inside EXACT_CONTEXT's precision.
RATE_PLACES = 8
MAX_RATE = Decimal(10**6)
# Decimal's default 28 digits would round a product such as a 14-digit rate times a
# 15-digit count silently; 60 digits hold every product of capped values exactly.
EXACT_CONTEXT = Context(prec=60)

_Params = ParamSpec("_Params")
_Result = TypeVar("_Result")


def exact_arithmetic(function: Callable[_Params, _Result]) -> Callable[_Params, _Result]:
    """Run ``function`` with enough decimal precision that sums and products of money are exact."""

    @functools.wraps(function)
    def run(*args: _Params.args, **kwargs: _Params.kwargs) -> _Result:
        with localcontext(EXACT_CONTEXT):
            return function(*args, **kwargs)

    return run


def shorten(text: object, limit: int = 40) -> str:
    """An input as echoed in a message: long ones cut to ``limit`` characters with an ellipsis."""
    shown = text if isinstance(text, str) else repr(text)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def shown(value: object) -> str:
    """A value given, as a message echoes it: text quoted and cut short, a number as written, and a
    list or table (from a scenario or rates file) by its kind, never as Python prints it."""
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    if value is None:
        return "nothing"
    return repr(shorten(value)) if isinstance(value, str) else shorten(repr(value))


def parse_decimal(text: object, what: str, *, places: int | None = None) -> Decimal:
    """Parse a decimal from a string, refusing floats, NaN, infinities and extra places."""
    if isinstance(text, (bool, float)):
        raise BadInput(f'{what} must be a decimal string such as "0.99", not {text!r}')
    if isinstance(text, int):
        value = Decimal(text)
    elif isinstance(text, str):
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise BadInput(f"{what} is not a decimal number: {text!r}") from None
    elif isinstance(text, Decimal):
        value = text
    else:
        raise BadInput(f"{what} must be a decimal string, not {type(text).__name__}")
    if not value.is_finite():
        raise BadInput(f"{what} must be a finite number: {text!r}")
    if abs(value) >= MAX_UNITS:  # before quantize, which fails on huge exponents
        raise BadInput(f"{what} is too large: {text!r}")
    if places is not None and value != value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN):
        raise BadInput(f"{what} has more than {places} decimal places: {text!r}")
    return value


def parse_rate(text: object, what: str) -> Decimal:
    """A positive rate of at most RATE_PLACES places, below MAX_RATE."""
    value = parse_decimal(text, what, places=RATE_PLACES)
    if value <= 0:
        raise BadInput(f"{what} must be positive, not {text!r}")
    if value >= MAX_RATE:
        raise BadInput(f"{what} must be below {MAX_RATE}: {text!r}")
    return value


# ASCII digits, grouped by '_' (17_500) or by commas in threes (17,500); nothing else.
_WHOLE_NUMBER = re.compile(r"-?(?:[0-9]+(?:_[0-9]+)*|[0-9]{1,3}(?:,[0-9]{3})+)")


def parse_count(value: object, what: str, *, minimum: int = 1) -> int:
    """Parse a whole number of coins, diamonds or gifts: ASCII digits, grouped as 17_500 or 17,500."""
    if isinstance(value, bool):
        raise BadInput(f"{what} must be a whole number, not {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if not _WHOLE_NUMBER.fullmatch(text):
            raise BadInput(f"{what} must be a whole number, not {shorten(repr(value))}")
        if len(text) > 24:
            raise BadInput(f"{what} is too large: {shorten(text)}")
        value = int(text.replace(",", ""))
    if not isinstance(value, int):
        raise BadInput(f"{what} must be a whole number, not {shown(value)}")
    if value < minimum:
        if minimum == 1:
            raise BadInput(f"{what} must be a positive whole number, not {shorten(str(value))}")
        raise BadInput(f"{what} must be at least {minimum}, not {shorten(str(value))}")
    if value >= MAX_UNITS:
        raise BadInput(f"{what} is too large: {shorten(str(value))}")
    return value


def round_half_up(value: Decimal, step: Decimal = CENT) -> Decimal:
    return value.quantize(step, rounding=ROUND_HALF_UP)


def round_down(value: Decimal, step: Decimal = CENT) -> Decimal:
    return value.quantize(step, rounding=ROUND_DOWN)


def tidy(value: Decimal, places: int = 2) -> Decimal:
    """The same amount with the currency's places, and more digits only where exactness needs them."""
    step = (
        CENT if places == 2 else Decimal(1).scaleb(-places)
    )  # the usual step made once: this runs several times per op
    rounded = value.quantize(step)
    if value == rounded:
        return rounded
    return value.normalize()


def decimal_str(value: Decimal) -> str:
    """A decimal as stored and shown: its own digits, never in exponent notation such as 1E-7."""
    return format(value, "f")


def money_str(value: Decimal, places: int = 2) -> str:
    """Show cash with at least the currency's places, and more only when exact needs them (never 1E-7)."""
    return decimal_str(tidy(value, places))


def percent_str(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"
