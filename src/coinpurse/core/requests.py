"""What a caller asks for: one immutable request type per kind of operation.

A request's ``key()`` is its normalized form, stored with the transaction so a
retry with the same id can be told apart from a different request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Self

from coinpurse.core.money import CENT, money_str, parse_count, parse_decimal, shown
from coinpurse.core.names import check_tx_id, gift_key, normalize_handle, normalize_sponsor, tidy_gift_name
from coinpurse.core.safetext import check_no_control
from coinpurse.errors import BadInput


@dataclass(frozen=True)
class Buy:
    account: str
    coins: int
    channel: str = "app"
    id: str | None = None
    kind = "buy"

    @classmethod
    def make(cls, account: object, coins: object, channel: object = "app", id: object = None) -> Buy:
        if not isinstance(channel, str):
            raise BadInput(f"channel must be text, not {shown(channel)}")
        check_no_control(channel, "channel")
        return cls(
            normalize_handle(account),
            parse_count(coins, "coins"),
            channel.strip().lower(),
            None if id is None else check_tx_id(id),
        )

    def key(self) -> dict[str, Any]:
        return {"account": self.account, "coins": self.coins, "channel": self.channel}


@dataclass(frozen=True)
class Gift:
    sender: str
    recipient: str
    gift: str
    count: int = 1
    stream: str | None = None
    id: str | None = None
    new_account: bool = False  # a new account one typo from an existing one is meant (not part of key())
    kind = "gift"

    @classmethod
    def make(
        cls,
        sender: object,
        recipient: object,
        gift: object,
        count: object = 1,
        stream: object = None,
        id: object = None,
        new_account: object = False,
    ) -> Gift:
        check_no_control(gift, "gift name")
        check_no_control(stream, "stream")
        if not isinstance(gift, str) or not gift.strip():
            raise BadInput(f"gift must be a gift's name, not {shown(gift)}", code="unknown_gift")
        if stream is not None and (
            not isinstance(stream, str) or not stream.strip() or not stream.isprintable() or len(stream) > 80
        ):
            raise BadInput("stream must be printable text of 1 to 80 characters")
        return cls(
            normalize_handle(sender),
            normalize_handle(recipient),
            tidy_gift_name(gift),
            parse_count(count, "count"),
            None if stream is None else stream.strip(),
            None if id is None else check_tx_id(id),
            _flag(new_account, "new_account"),
        )

    def key(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "sender": self.sender,
            "recipient": self.recipient,
            "gift": gift_key(self.gift),
            "count": self.count,
        }
        if self.stream is not None:
            data["stream"] = self.stream
        return data


@dataclass(frozen=True)
class Redeem:
    account: str
    diamonds: int | None = None  # None with all=True
    all: bool = False
    id: str | None = None
    new_account: bool = False  # as for Gift
    kind = "redeem"

    @classmethod
    def make(
        cls,
        account: object,
        diamonds: object = None,
        all: object = False,
        id: object = None,
        new_account: object = False,
    ) -> Self:
        if not isinstance(all, bool):
            raise BadInput(f"all must be true or false, not {shown(all)}")
        if all and diamonds is not None:
            raise BadInput("give either a number of diamonds or all (--all), not both")
        if not all and diamonds is None:
            raise BadInput("give a number of diamonds to redeem, or all (--all)")
        return cls(
            normalize_handle(account),
            None if diamonds is None else parse_count(diamonds, "diamonds"),
            all,
            None if id is None else check_tx_id(id),
            _flag(new_account, "new_account"),
        )

    def key(self) -> dict[str, Any]:
        if self.all:
            return {"account": self.account, "all": True}
        return {"account": self.account, "diamonds": self.diamonds}


def _flag(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise BadInput(f"{what} must be true or false, not {type(value).__name__}", code="invalid_op")
    return value


@dataclass(frozen=True)
class Reverse:
    """An operator's correction: undo a gift (the only kind reversed for now), with the reason why."""

    original: str  # the id of the transaction reversed
    reason: str
    id: str | None = None
    # How the rule finds the original (the book's own look-up when None); verify's replay gives its own.
    lookup: Any = field(default=None, compare=False, repr=False)
    kind = "reversal"

    @classmethod
    def make(cls, original: object, reason: object, id: object = None) -> Reverse:
        if not isinstance(original, str) or not original.strip():
            raise BadInput("give the id of the transaction to reverse")
        check_no_control(reason, "reason")
        if not isinstance(reason, str) or not reason.strip() or len(reason.strip()) > 200:
            raise BadInput("--reason must say why, in 1 to 200 characters", code="missing_reason")
        return cls(original.strip(), reason.strip(), None if id is None else check_tx_id(id))

    def key(self) -> dict[str, Any]:
        return {"original": self.original, "reason": self.reason}


# ----- refund ------------------------------------------------------------------


@dataclass(frozen=True)
class Drawn:
    """A gift that drew coins of the refunded buy's lot: what the lineage of those coins says."""

    gift: str  # the gift's transaction id
    creator: str  # its recipient
    coins: int  # coins of the gift that came from the lot
    gift_coins: int  # all the gift's coins
    gift_diamonds: int  # all the diamonds it made
    cash_per_diamond: Decimal  # the payout rate it recorded
    sponsor: str | None = None  # the sponsor that paid the gift a bonus (None: no bonus was paid)
    bonus_diamonds: int = 0  # the bonus it paid the creator


@dataclass(frozen=True)
class Lineage:
    """What the refunded buy was, and which gifts spent its coins, oldest first."""

    account: str
    coins: int
    price: Decimal
    gifts: tuple[Drawn, ...] = ()


@dataclass(frozen=True)
class Refund:
    buy: str
    clawback: bool = False
    id: str | None = None
    lineage: Lineage | None = None  # found in the history before the rule runs (not part of key())
    kind = "refund"

    @classmethod
    def make(cls, buy: object, clawback: object = False, id: object = None) -> Refund:
        if not isinstance(buy, str) or not buy.strip():
            raise BadInput(f"give the id of the buy to refund, not {shown(buy)}", code="unknown_transaction")
        return cls(buy.strip(), _flag(clawback, "clawback"), None if id is None else check_tx_id(id))

    def key(self) -> dict[str, Any]:
        return {"buy": self.buy, "clawback": self.clawback}


# ----- sponsors ------------------------------------------------------------------


def _cash(value: object) -> Decimal:
    amount = parse_decimal(value, "cash", places=2)
    if amount <= 0:
        raise BadInput(f"cash must be a positive amount such as 100.00, not {shown(value)}", code="invalid_cash")
    return amount.quantize(CENT)  # 100 is 100.00, in the postings as in the request


@dataclass(frozen=True)
class SponsorFund:
    """A sponsor pays cash into its budget (``sponsor:NAME``), which pays its gifts' bonuses."""

    sponsor: str
    cash: Decimal
    id: str | None = None
    kind = "sponsor-fund"

    @classmethod
    def make(cls, sponsor: object, cash: object, id: object = None) -> SponsorFund:
        return cls(normalize_sponsor(sponsor), _cash(cash), None if id is None else check_tx_id(id))

    def key(self) -> dict[str, Any]:
        return {"sponsor": self.sponsor, "cash": money_str(self.cash)}  # 100 and 100.00 are one request


@dataclass(frozen=True)
class SponsorWithdraw(SponsorFund):
    """A sponsor takes unused budget back out: never more than its budget has left."""

    kind = "sponsor-withdraw"

    @classmethod
    def make(cls, sponsor: object, cash: object, id: object = None) -> SponsorWithdraw:
        return cls(normalize_sponsor(sponsor), _cash(cash), None if id is None else check_tx_id(id))


# ----- held payouts --------------------------------------------------------------


@dataclass(frozen=True)
class Hold(Redeem):
    """``redeem --hold``: reserve diamonds as a pending payout, its cash fixed at this moment's rates.
    Asked for as a redeem is (the same fields, checks and messages); a request of its own kind, never equal to one."""

    kind = "payout-hold"


@dataclass(frozen=True)
class HoldFacts:
    """What a hold recorded, as its settlement needs it: found in the history before the rule runs,
    or, in verify's replay, read from what the settlement recorded."""

    hold: str  # the hold's transaction id
    account: str
    diamonds: int
    cash: Decimal
    fee: Decimal
    net: Decimal
    rounding: Decimal
    day: str  # the UTC day it was asked for: its room in that day's maximum
    expires: str  # when it expires untouched
    approval: str | None = None  # the approval that paid it (for a return)


def _reason(reason: object) -> str:
    check_no_control(reason, "reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason.strip()) > 200:
        raise BadInput("--reason must say why, in 1 to 200 characters", code="missing_reason")
    return reason.strip()


def _hold_id(hold: object) -> str:
    if not isinstance(hold, str) or not hold.strip():
        raise BadInput(f"give the id of the payout (its hold), not {shown(hold)}", code="unknown_payout")
    return hold.strip()


@dataclass(frozen=True)
class ApprovePayout:
    hold: str
    id: str | None = None
    facts: HoldFacts | None = field(default=None, compare=False, repr=False)  # not part of key()
    kind = "payout-approve"

    @classmethod
    def make(cls, hold: object, id: object = None) -> ApprovePayout:
        return cls(_hold_id(hold), None if id is None else check_tx_id(id))

    @property
    def reason(self) -> str | None:
        return None

    def key(self) -> dict[str, Any]:
        return {"hold": self.hold}


@dataclass(frozen=True)
class RejectPayout:
    hold: str
    reason: str
    id: str | None = None
    facts: HoldFacts | None = field(default=None, compare=False, repr=False)
    kind = "payout-reject"

    @classmethod
    def make(cls, hold: object, reason: object, id: object = None) -> Self:
        return cls(_hold_id(hold), _reason(reason), None if id is None else check_tx_id(id))

    def key(self) -> dict[str, Any]:
        return {"hold": self.hold, "reason": self.reason}


@dataclass(frozen=True)
class ReturnPayout(RejectPayout):
    """A paid payout the bank sent back: the cash back to the platform, the diamonds to the creator.
    Asked for as a rejection is (a hold and a reason); a request of its own kind, never equal to one."""

    kind = "payout-return"


@dataclass(frozen=True)
class ExpirePayout:
    """The release of a hold left untouched past its review: recorded by the next write that touches its account."""

    hold: str
    id: str | None = None
    facts: HoldFacts | None = field(default=None, compare=False, repr=False)
    kind = "payout-expire"

    @classmethod
    def make(cls, hold: object, id: object = None) -> ExpirePayout:
        """The release of one hold, refused unless it expired untouched and its release is not recorded yet."""
        return cls(_hold_id(hold), None if id is None else check_tx_id(id))

    @property
    def reason(self) -> str | None:
        return None

    def key(self) -> dict[str, Any]:
        return {"hold": self.hold}


Settlement = ApprovePayout | RejectPayout | ReturnPayout | ExpirePayout
Request = Buy | Gift | Redeem | Reverse | Refund | SponsorFund | SponsorWithdraw | Hold | Settlement
