"""What each kind of transaction says of itself: the receipt sentence and the journal summary.

Both are made from the kind's typed record (``core.kinds``), so the receipt a
command prints, the description an export writes and the JSON a result dumps
(``Record.facts``) read the same facts. A new kind adds its two sentences here.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from coinpurse.core.kinds import BuyRecord, GiftRecord, OtherRecord, RatesRecord, Record, RedeemRecord, ReversalRecord
from coinpurse.core.money import decimal_str, money_str


def cash_text(amount: Decimal) -> str:
    """Cash as people read it, grouped in thousands as the tables show it: -$1.50, $35,750.00, $1,234.5675."""
    whole, point, fraction = money_str(abs(amount)).partition(".")  # every exact digit after the point kept
    return f"{'-' if amount < 0 else ''}${int(whole):,}{point}{fraction}"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def gift_name_text(name: str, count: int, times: str = "×") -> str:
    return f"{count} {times} {name}" if count > 1 else name


def _shown(value: str | int | None, absent: str) -> str:
    return absent if value is None else str(value)


def _buy_receipt(record: BuyRecord) -> str:
    r, price = record.request, record.details.price
    coin_price = "None" if record.rates.coin_price is None else decimal_str(record.rates.coin_price)
    how = "package" if record.details.package else f"custom, {r.coins} × ${coin_price}"
    return (
        f"{r.account} paid {cash_text(price)} on {r.channel} for {plural(r.coins, 'coin')} ({how}); "
        f"the platform took in {cash_text(price)}"
    )


def _buy_summary(record: BuyRecord) -> str:
    r = record.request
    return f"{r.account} buys {r.coins} coins on {r.channel}"


def _gift_receipt(record: GiftRecord) -> str:
    r, d = record.request, record.details
    line = (
        f"{gift_name_text(d.gift, d.count)}: {plural(d.coins, 'coin')} from {r.sender} → {plural(d.diamonds, 'diamond')} "
        f"to {r.recipient} (worth {cash_text(d.diamond_value)}); the platform kept "
        f"{cash_text(d.platform_kept)} of the {cash_text(d.paid)} {r.sender} paid"
    )
    if d.bonus is not None:
        line += "; " + _bonus_text(d.bonus, r.recipient)
    if d.stream is not None:
        line += f" [stream: {d.stream}]"
    return line


def _bonus_text(bonus: Any, creator: str) -> str:
    if bonus.paid:
        return (
            f"sponsor {bonus.sponsor} paid {creator} a bonus of {plural(bonus.diamonds, 'diamond')} "
            f"({cash_text(bonus.cash)} of its budget; {cash_text(bonus.budget - bonus.cash)} left)"
        )
    return (
        f"no sponsor bonus: {bonus.sponsor}'s budget of {cash_text(bonus.budget)} can't cover the "
        f"{plural(bonus.diamonds, 'diamond')} ({cash_text(bonus.cash)}), so none was paid"
    )


def _gift_summary(record: GiftRecord) -> str:
    r, d = record.request, record.details
    stream = f" on stream {d.stream}" if d.stream is not None else ""
    return f"{r.sender} sends {gift_name_text(d.gift, d.count, 'x')} to {r.recipient}{stream}"


def _redeem_receipt(record: RedeemRecord) -> str:
    r, d = record.request, record.details
    line = f"{r.account} redeemed {plural(d.diamonds, 'diamond')} for {cash_text(d.cash)}"
    if d.fee:
        line += f", less a {cash_text(d.fee)} fee: {cash_text(d.net)} paid"
    if d.rounding:
        line += f"; {cash_text(d.rounding)} under a cent went to platform:rounding"
    if d.kept_diamonds:
        line += f"; {plural(d.kept_diamonds, 'diamond')} worth less than a cent stayed"
    return line


def _redeem_summary(record: RedeemRecord) -> str:
    return f"{record.request.account} redeems {record.details.diamonds} diamonds"


def _rates_receipt(record: RatesRecord) -> str:
    d = record.details
    changes = "; ".join(f"{c.key} {_shown(c.before, '(none)')} → {_shown(c.after, '(none)')}" for c in d.changes)
    return f"rates ({d.source}): {changes or 'no change'}"


def _rates_summary(record: RatesRecord) -> str:
    d = record.details
    changes = ", ".join(f"{c.key} {_shown(c.before, 'none')} to {_shown(c.after, 'none')}" for c in d.changes)
    return f"rates {d.source}: {changes or 'no change'}"


def _other_receipt(record: OtherRecord) -> str:
    summary = record.details.get("summary") if isinstance(record.details, MappingProxyType) else None
    return str(summary if summary is not None else record.kind)


def _other_summary(record: OtherRecord) -> str:
    return record.kind


def _reversal_receipt(record: ReversalRecord) -> str:
    d = record.details
    bonus = (
        ""
        if d.bonus is None
        else (
            f", and the bonus of {plural(d.bonus.diamonds, 'diamond')} back to sponsor {d.bonus.sponsor} "
            f"({cash_text(d.bonus.cash)} to its budget)"
        )
    )
    return (
        f"reversed {d.original}: {plural(d.coins, 'coin')} back to {d.sender} into {plural(len(d.lots), 'lot')}, "
        f"{plural(d.diamonds, 'diamond')} back from {d.recipient}{bonus} (reason: {d.reason})"
    )


def _reversal_summary(record: ReversalRecord) -> str:
    return f"reversal of {record.details.original}: {record.details.reason}"


_SENTENCES: dict[type, tuple[Callable[[Any], str], Callable[[Any], str]]] = {
    BuyRecord: (_buy_receipt, _buy_summary),
    GiftRecord: (_gift_receipt, _gift_summary),
    RedeemRecord: (_redeem_receipt, _redeem_summary),
    RatesRecord: (_rates_receipt, _rates_summary),
    OtherRecord: (_other_receipt, _other_summary),
    ReversalRecord: (_reversal_receipt, _reversal_summary),
}


def receipt(record: Record) -> str:
    """One sentence that says where every coin and cent of a transaction went."""
    return _SENTENCES[type(record)][0](record)


def summary(record: Record) -> str:
    """A transaction in a few words, for a journal's description."""
    return _SENTENCES[type(record)][1](record)


# ----- refund --------------------------------------------------------------------


def _refund_receipt(record: Any) -> str:
    r, d = record.request, record.details
    parts = [f"buy {r.buy} refunded: {cash_text(d.price)} back to {d.account}"]
    if d.unspent:
        parts.append(f"{plural(d.unspent, 'unspent coin')} (cost {cash_text(d.unspent_cost)}) removed from {d.account}")
    for c in d.clawbacks:
        line = (
            f"{plural(c.diamonds, 'diamond')} (worth {cash_text(c.value)}) clawed back from {c.creator} "
            f"for {plural(c.coins, 'coin')} of gift {c.gift}"
        )
        if c.remainder:
            line += f" ({c.remainder}/{c.gift_coins} of a diamond under one stays with {c.creator})"
        if c.sponsor is not None and c.bonus_back:
            line += (
                f", with {plural(c.bonus_back, 'bonus diamond')} back to sponsor {c.sponsor} "
                f"({cash_text(c.bonus_cash)} to its budget)"
            )
        parts.append(line)
    if d.clawbacks:
        parts.append(f"the platform gives back the {cash_text(d.platform_returned)} it had kept of the spent coins")
    return "; ".join(parts)


def _refund_summary(record: Any) -> str:
    r = record.request
    how = " with clawback" if r.clawback else ""
    return f"{record.details.account} refunded buy {r.buy}{how}"


def _register_refund() -> None:
    from coinpurse.core.kinds import RefundRecord

    _SENTENCES[RefundRecord] = (_refund_receipt, _refund_summary)


_register_refund()


# ----- sponsors --------------------------------------------------------------------


def _sponsor_fund_receipt(record: Any) -> str:
    d = record.details
    return (
        f"sponsor {d.sponsor} paid {cash_text(d.cash)} into its budget; {cash_text(d.budget)} left to pay gift bonuses"
    )


def _sponsor_withdraw_receipt(record: Any) -> str:
    d = record.details
    return f"sponsor {d.sponsor} took {cash_text(d.cash)} of unused budget back; {cash_text(d.budget)} left"


def _sponsor_fund_summary(record: Any) -> str:
    return f"sponsor {record.details.sponsor} funds its budget with {cash_text(record.details.cash)}"


def _sponsor_withdraw_summary(record: Any) -> str:
    return f"sponsor {record.details.sponsor} withdraws {cash_text(record.details.cash)} of its budget"


def _register_sponsors() -> None:
    from coinpurse.core.kinds import SponsorFundRecord, SponsorWithdrawRecord

    _SENTENCES[SponsorFundRecord] = (_sponsor_fund_receipt, _sponsor_fund_summary)
    _SENTENCES[SponsorWithdrawRecord] = (_sponsor_withdraw_receipt, _sponsor_withdraw_summary)


_register_sponsors()


# ----- held payouts --------------------------------------------------------------


def _hold_receipt(record: Any) -> str:
    r, d = record.request, record.details
    line = (
        f"{r.account} asked for a payout of {plural(d.diamonds, 'diamond')}, held for review: "
        f"{cash_text(d.cash)} fixed now"
    )
    if d.fee:
        line += f", less a {cash_text(d.fee)} fee: {cash_text(d.net)} to pay"
    line += f"; it expires untouched at {d.expires}"
    if d.kept_diamonds:
        line += f"; {plural(d.kept_diamonds, 'diamond')} worth less than a cent stayed"
    return line


def _approve_receipt(record: Any) -> str:
    d = record.details
    line = f"payout {d.hold} approved: {d.account} paid {cash_text(d.net)} for {plural(d.diamonds, 'diamond')}"
    if d.fee:
        line += f" ({cash_text(d.cash)} less a {cash_text(d.fee)} fee)"
    if d.rounding:
        line += f"; {cash_text(d.rounding)} under a cent went to platform:rounding"
    return line


def _reject_receipt(record: Any) -> str:
    d = record.details
    return (
        f"payout {d.hold} rejected: {plural(d.diamonds, 'diamond')} back to {d.account}, "
        f"{cash_text(d.cash)} of {d.day}'s maximum freed (reason: {d.reason})"
    )


def _expire_receipt(record: Any) -> str:
    d = record.details
    return f"payout {d.hold} expired at {d.expires}, untouched: {plural(d.diamonds, 'diamond')} back to {d.account}"


def _return_receipt(record: Any) -> str:
    d = record.details
    return (
        f"payout {d.hold} returned by the bank: {cash_text(d.net)} back from {d.account} to the platform, "
        f"{plural(d.diamonds, 'diamond')} back to {d.account} (reason: {d.reason})"
    )


def _register_payouts() -> None:
    from coinpurse.core import kinds

    _SENTENCES[kinds.PayoutHoldRecord] = (
        _hold_receipt,
        lambda r: f"{r.request.account} asks for a payout of {r.details.diamonds} diamonds (held)",
    )
    _SENTENCES[kinds.PayoutApproveRecord] = (_approve_receipt, lambda r: f"payout {r.details.hold} approved")
    _SENTENCES[kinds.PayoutRejectRecord] = (
        _reject_receipt,
        lambda r: f"payout {r.details.hold} rejected: {r.details.reason}",
    )
    _SENTENCES[kinds.PayoutExpireRecord] = (_expire_receipt, lambda r: f"payout {r.details.hold} expired")
    _SENTENCES[kinds.PayoutReturnRecord] = (
        _return_receipt,
        lambda r: f"payout {r.details.hold} returned: {r.details.reason}",
    )


_register_payouts()
