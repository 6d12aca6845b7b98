"""Account handles and transaction ids: what is a valid name, and close-name hints."""

from __future__ import annotations

from collections.abc import Iterable

from coinpurse.core.patterns import HANDLE, ID_FORMAT
from coinpurse.core.safetext import check_no_control
from coinpurse.errors import BadInput

HANDLE_RULE = "2 to 24 characters of lowercase letters, digits, '_' and '.'"

# The platform's own accounts; users can never act as them.
COIN_ISSUE = "platform:coin-issue"
DIAMOND_ISSUE = "platform:diamond-issue"
REVENUE = "platform:revenue"
PAYOUTS = "platform:payouts"
ROUNDING = "platform:rounding"
SPONSOR_DEPOSITS = "platform:sponsor-deposits"  # the opposite side of the cash sponsors paid in and took back
PENDING_PREFIX = "platform:payouts-pending:"  # + a creator's handle: the diamonds of their held payouts


def pending_account(creator: str) -> str:
    """Where a creator's held diamonds wait: beside their own account, so a clawback never takes them."""
    return PENDING_PREFIX + creator


_HANDLES: dict[str, str] = {}  # each handle as given, once checked: a bulk apply names the same users again and again
_HANDLES_KEPT = 4096


def normalize_handle(raw: object) -> str:
    """Return the canonical handle: '@' dropped, lowercased, checked."""
    if raw.__class__ is str:
        known = _HANDLES.get(raw)
        if known is not None:
            return known
    if not isinstance(raw, str):
        from coinpurse.core.money import shown

        raise BadInput(f"account name must be text, not {shown(raw)}")
    check_no_control(raw, "account name")
    name = raw.strip()
    if name.startswith("@"):
        name = name[1:]
    name = name.lower()
    if not HANDLE.fullmatch(name):
        raise BadInput(f"invalid account name {raw!r}: a handle is {HANDLE_RULE}", code="invalid_name")
    if raw.__class__ is str:
        if len(_HANDLES) >= _HANDLES_KEPT:
            _HANDLES.clear()
        _HANDLES[raw] = name
    return name


def is_platform_account(name: str) -> bool:
    return name.startswith("platform:")


SPONSOR_PREFIX = "sponsor:"  # a sponsor's budget: cash a brand funded, paying gifts' bonus diamonds


def sponsor_account(name: str) -> str:
    """The account of the sponsor ``name`` (a checked handle): ``sponsor:acme``."""
    return SPONSOR_PREFIX + name


def is_sponsor_account(name: str) -> bool:
    return name.startswith(SPONSOR_PREFIX)


def is_user_account(name: str) -> bool:
    """A viewer's or creator's account: neither the platform's nor a sponsor's budget."""
    return not (name.startswith("platform:") or name.startswith(SPONSOR_PREFIX))


def normalize_sponsor(raw: object) -> str:
    """A sponsor's name, checked as a handle is ('@' dropped, lowercased); ``sponsor:acme`` is taken as ``acme``."""
    if isinstance(raw, str) and raw.strip().lower().startswith(SPONSOR_PREFIX):
        raw = raw.strip()[len(SPONSOR_PREFIX) :]
    if not isinstance(raw, str):
        from coinpurse.core.money import shown

        raise BadInput(f"a sponsor's name must be text, not {shown(raw)}", code="invalid_name")
    check_no_control(raw, "sponsor name")
    name = raw.strip().removeprefix("@").lower()
    if not HANDLE.fullmatch(name):
        raise BadInput(f"invalid sponsor name {raw!r}: a sponsor's name is {HANDLE_RULE}", code="invalid_name")
    return name


def check_tx_id(raw: object) -> str:
    check_no_control(raw, "id")
    if not isinstance(raw, str) or not ID_FORMAT.fullmatch(raw):
        from coinpurse.core.money import shown

        raise BadInput(
            f"invalid id {shown(raw)}: use 1 to 64 letters, digits, '.', '_', ':' or '-', starting with a letter or digit",
            code="invalid_id",
        )
    return raw


def close_names(name: str, known: Iterable[str], limit: int = 3) -> list[str]:
    """The known names ``name`` most likely meant, best first (see ``core.suggest``)."""
    from coinpurse.core.suggest import suggestions  # only when suggesting a name

    return suggestions(name, known, limit)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    from coinpurse.core.suggest import did_you_mean as hint

    return hint(name, known)


def tidy_gift_name(name: str) -> str:
    """A gift's name as given, each run of spaces made one: 'Finger   Heart' is 'Finger Heart'."""
    return " ".join(name.split())


def gift_key(name: str) -> str:
    """How gift names compare, in the catalog and in a request: tidied and case-folded ('finger heart')."""
    return tidy_gift_name(name).casefold()


def unknown_transaction(tx_id: str) -> BadInput:
    """The error for an id no transaction in the ledger has (exit 2), as ``reverse`` and ``explain`` say it."""
    return BadInput(
        f"no transaction {tx_id!r} in this ledger; 'coinpurse history' lists them", code="unknown_transaction"
    )
