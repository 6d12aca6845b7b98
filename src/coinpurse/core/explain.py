"""The path of value of one transaction, step by step, with checks that its figures add up.

``explain(tx, find)`` reads the transaction and only the few records it names
(the buys whose lots a gift drew, the buy a refund gives back, the gift a
reversal undoes), through ``find`` (a book's look-up by id), never the history.

An explanation is a list of ``Step``s (a label, its figures, the ids it draws
on) and of ``Check``s, each a total that must equal the sum of its parts: the
lots' costs and what the coins cost, what the viewer paid and the creator's
value plus the platform's take, the postings and the details. Every
explanation also checks that its postings balance per commodity.

A new kind is one entry in ``EXPLAINERS`` (and a row in tests/test_explain.py);
a kind without one is explained by its postings.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_FLOOR, ROUND_HALF_UP, ROUND_UP, Decimal, localcontext
from typing import Any, NamedTuple

from coinpurse.core.kinds import (
    BuyRecord,
    GiftRecord,
    OtherRecord,
    PayoutApproveRecord,
    PayoutHoldRecord,
    PayoutReturnRecord,
    RatesRecord,
    RedeemRecord,
    RefundRecord,
    ReversalRecord,
    SettleDetails,
    SponsorFundRecord,
    SponsorWithdrawRecord,
)
from coinpurse.core.model import Amount, Transaction
from coinpurse.core.money import (
    CENT,
    COIN,
    DIAMOND,
    EXACT_CONTEXT,
    ZERO,
    decimal_str,
    exact_arithmetic,
    round_half_up,
    tidy,
)
from coinpurse.core.names import PAYOUTS, REVENUE, ROUNDING, SPONSOR_DEPOSITS, pending_account, sponsor_account
from coinpurse.core.rates import store_fee
from coinpurse.core.sentences import cash_text, plural, receipt

# Units of a figure. Cash is in the ledger's currency; a rate is cash (or diamonds) per unit.
COINS = "coins"
DIAMONDS = "diamonds"
CASH = "cash"
PERCENT = "percent"  # a share worked out here, to PERCENT_PLACES
RATE_PERCENT = "rate percent"  # a percentage the rates set, with its own digits (a fee)
CASH_PER_COIN = "cash per coin"
CASH_PER_DIAMOND = "cash per diamond"
DIAMONDS_PER_COIN = "diamonds per coin"

PERCENT_PLACES = 2
PERCENT_ROUNDING = f"half up, to {PERCENT_PLACES} places"  # how every percentage shown is rounded
_PERCENT_STEP = Decimal(1).scaleb(-PERCENT_PLACES)


class Figure(NamedTuple):
    name: str
    amount: Amount
    unit: str  # COINS, DIAMONDS, CASH, PERCENT or a rate


class Step(NamedTuple):
    label: str
    figures: tuple[Figure, ...] = ()
    draws_on: tuple[str, ...] = ()  # ids of the transactions it draws on


class Check(NamedTuple):
    """``total`` must be exactly the sum of ``parts`` (one part: the two are equal)."""

    label: str
    unit: str
    total: Amount
    parts: tuple[Amount, ...]

    @property
    def holds(self) -> bool:
        with localcontext(EXACT_CONTEXT):  # asked for anywhere: a sum of large amounts must not round
            return bool(self.total == sum(self.parts, ZERO if self.unit not in (COINS, DIAMONDS) else 0))


class Explanation(NamedTuple):
    id: str
    kind: str
    at: str
    summary: str  # the receipt sentence
    steps: tuple[Step, ...]
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = ()

    @property
    def adds_up(self) -> bool:
        return all(check.holds for check in self.checks)


Find = Callable[[str], Transaction | None]  # a transaction by id, or None


class Told(NamedTuple):
    """What a kind's explainer makes: its steps, checks and notes (the postings checks are added for every kind)."""

    steps: list[Step]
    checks: list[Check]
    notes: list[str]


Explainer = Callable[[Transaction, Find], Told]


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """``part`` in % of ``whole``, rounded as PERCENT_ROUNDING says; None of nothing."""
    if not whole:
        return None
    return (part * 100 / whole).quantize(_PERCENT_STEP, rounding=ROUND_HALF_UP)


def _percent_figures(name: str, part: Decimal, whole: Decimal) -> tuple[Figure, ...]:
    share = percent(part, whole)
    return () if share is None else (Figure(name, share, PERCENT),)


def posted(tx: Transaction, account: str, commodity: str) -> Amount:
    """What the transaction's postings move to ``account`` in ``commodity`` (negative: out of it)."""
    total: Amount = 0 if commodity in (COIN, DIAMOND) else ZERO
    for name, kind, amount in tx.postings:
        if name == account and kind == commodity:
            total += amount
    return total


def _unit_of(commodity: str) -> str:
    return COINS if commodity == COIN else DIAMONDS if commodity == DIAMOND else CASH


def _buy_of(find: Find, tx_id: str) -> BuyRecord | None:
    found = find(tx_id) if tx_id else None
    return found.payload if found is not None and isinstance(found.payload, BuyRecord) else None


def _currency(tx: Transaction) -> str:
    """The currency the cash postings are in (a transaction without cash: none needed)."""
    return next((kind for _, kind, _ in tx.postings if kind not in (COIN, DIAMOND)), "")


# ----- buy ------------------------------------------------------------------------


def explain_buy(tx: Transaction, find: Find) -> Told:
    record = tx.payload
    assert isinstance(record, BuyRecord)
    r, rates, d = record.request, record.rates, record.details
    currency = _currency(tx)
    steps = [Step(f"{r.account} pays", (Figure("cash", d.price, CASH),))]
    checks = [
        Check(f"{r.account}'s cash posted = the price", CASH, d.price, (-posted(tx, r.account, currency),)),
        Check("platform:revenue takes in the price", CASH, d.price, (posted(tx, REVENUE, currency),)),
        Check(f"coins posted to {r.account} = coins bought", COINS, r.coins, (posted(tx, r.account, COIN),)),
    ]
    if rates.package is not None:
        package = rates.package
        steps.append(
            Step(
                f"on {rates.channel}, the package of {package.coins:,} coins",
                (Figure("coins", package.coins, COINS), Figure("price", package.price, CASH)),
            )
        )
        checks.append(Check("price = the package's price", CASH, d.price, (package.price,)))
        checks.append(Check("coins = the package's coins", COINS, r.coins, (package.coins,)))
    elif rates.coin_price is not None:
        exact = r.coins * rates.coin_price
        steps.append(
            Step(
                f"on {rates.channel}, a custom amount at the per-coin price",
                (Figure("coins", r.coins, COINS), Figure("per coin", rates.coin_price, CASH_PER_COIN)),
            )
        )
        steps.append(
            Step(
                "rounded half up to the cent",
                (Figure("coins × per coin", exact, CASH), Figure("rounding", d.price - exact, CASH)),
            )
        )
        checks.append(
            Check("price = coins × per coin, rounded to the cent", CASH, d.price, (round_half_up(exact, CENT),))
        )
    steps.append(
        Step(
            f"{r.account} holds a new lot of coins at that cost",
            (Figure("coins", r.coins, COINS), Figure("cost", d.price, CASH)),
            (tx.id,),
        )
    )
    steps.append(Step("platform:revenue takes in the price", (Figure("cash", d.price, CASH),)))
    fee_percent = rates.store_fee_percent
    if fee_percent is None:
        notes = [
            f"The rates this buy recorded name no app-store fee for channel {rates.channel}: the whole price is "
            "booked to platform:revenue, and what a store kept of it is not in the ledger."
        ]
    else:
        fee_steps, fee_checks = _store_fee(rates.channel, d.price, fee_percent)
        steps += fee_steps
        checks += fee_checks
        notes = [
            f"The store's fee is reckoned from the rate this buy recorded ({decimal_str(fee_percent)}% on {rates.channel}); "
            "it is not a posting: the ledger books the whole price to platform:revenue."
            if fee_percent
            else f"No app store stands between viewer and platform on {rates.channel}: the whole price reaches it."
        ]
    notes.append("The creator's share is paid out of this revenue when the coins are gifted and the diamonds redeemed.")
    return Told(steps, checks, notes)


def _store_fee(channel: str, price: Decimal, fee_percent: Decimal) -> tuple[list[Step], list[Check]]:
    """What the app store took of a buy's price at the fee it recorded, and what reached the platform."""
    exact = price * fee_percent / 100
    fee = store_fee(price, fee_percent)
    net = price - fee
    fee_step = Step(
        f"the app store's fee on {channel}, rounded half up to the cent",
        (
            Figure("fee percent", fee_percent, RATE_PERCENT),
            Figure("price × fee percent", exact, CASH),
            Figure("rounding", fee - exact, CASH),
            Figure("fee", fee, CASH),
        ),
    )
    if not fee_percent:
        fee_step = Step(
            f"no app store takes a fee on {channel}",
            (Figure("fee percent", fee_percent, RATE_PERCENT), Figure("fee", fee, CASH)),
        )
    steps = [
        fee_step,
        Step(
            "what reached the platform: the price less the store's fee",
            (Figure("cash", net, CASH), *_percent_figures("of the price", net, price)),
        ),
    ]
    checks = [
        Check(
            "store's fee = price × fee percent, rounded half up to the cent", CASH, fee, (round_half_up(exact, CENT),)
        ),
        Check("store's fee = price × fee percent + rounding", CASH, fee, (exact, fee - exact)),
        Check("price = store's fee + what reached the platform", CASH, price, (fee, net)),
    ]
    return steps, checks


# ----- gift -----------------------------------------------------------------------


def explain_gift(tx: Transaction, find: Find) -> Told:
    record = tx.payload
    assert isinstance(record, GiftRecord)
    r, rates, d = record.request, record.rates, record.details
    what = f"{d.count} × {d.gift}" if d.count > 1 else d.gift
    steps = [
        Step(
            f"{r.sender} sends {r.recipient} {what} ({plural(rates.gift.coins, 'coin')} each)",
            (Figure("coins", d.coins, COINS),),
        )
    ]
    buys: dict[str, BuyRecord | None] = {}
    for lot in d.lots:
        if lot.source not in buys:
            buys[lot.source] = _buy_of(find, lot.source)
        buy = buys[lot.source]
        if not lot.source:
            label = "coins that came with no purchase"
        elif buy is None:
            label = f"coins of purchase {lot.source}"
        else:
            label = (
                f"coins of buy {lot.source} ({buy.request.coins:,} coins for {cash_text(buy.details.price)} "
                f"on {buy.request.channel})"
            )
        steps.append(
            Step(
                label,
                (Figure("coins", lot.coins, COINS), Figure("cost", lot.cost, CASH)),
                (lot.source,) if lot.source else (),
            )
        )
    steps.append(Step(f"what those coins cost {r.sender}", (Figure("cash", d.paid, CASH),)))
    exact_diamonds = d.coins * rates.diamonds_per_coin
    steps.append(
        Step(
            f"{r.recipient} receives diamonds, rounded down to whole ones",
            (
                Figure("diamonds", d.diamonds, DIAMONDS),
                Figure("diamonds per coin", rates.diamonds_per_coin, DIAMONDS_PER_COIN),
            ),
        )
    )
    steps.append(
        Step(
            "the diamonds' cash value at the payout rate",
            (
                Figure("cash", d.diamond_value, CASH),
                Figure("per diamond", rates.cash_per_diamond, CASH_PER_DIAMOND),
                *_percent_figures("of what was paid", d.diamond_value, d.paid),
            ),
        )
    )
    steps.append(
        Step(
            "the platform's take",
            (Figure("cash", d.platform_kept, CASH), *_percent_figures("of what was paid", d.platform_kept, d.paid)),
        )
    )
    stores = _stores_share(d.lots, buys)
    checks = [
        Check(f"coins = {d.count} × {plural(rates.gift.coins, 'coin')}", COINS, d.coins, (d.count * rates.gift.coins,)),
        Check("coins = the lots' coins", COINS, d.coins, tuple(lot.coins for lot in d.lots)),
        Check("what the coins cost = the lots' costs", CASH, d.paid, tuple(lot.cost for lot in d.lots)),
        Check(
            "diamonds = coins × diamonds per coin, rounded down",
            DIAMONDS,
            d.diamonds,
            (int(exact_diamonds.to_integral_value(rounding=ROUND_FLOOR)),),
        ),
        Check(
            "diamonds' value = diamonds × cash per diamond",
            CASH,
            d.diamond_value,
            (d.diamonds * rates.cash_per_diamond,),
        ),
        Check(
            f"what {r.sender} paid = diamonds' value + platform's take",
            CASH,
            d.paid,
            (d.diamond_value, d.platform_kept),
        ),
        Check(f"coins posted out of {r.sender}", COINS, d.coins, (-posted(tx, r.sender, COIN),)),
    ]
    bonus = d.bonus
    if bonus is None:
        checks.append(
            Check(f"diamonds posted to {r.recipient}", DIAMONDS, d.diamonds, (posted(tx, r.recipient, DIAMOND),))
        )
    else:
        budget = sponsor_account(bonus.sponsor)
        steps.append(_bonus_step(bonus.sponsor, r.recipient, bonus.diamonds, bonus.cash, bonus.paid, bonus.budget))
        checks += [
            Check(
                "the bonus's worth = its diamonds × cash per diamond",
                CASH,
                bonus.cash,
                (bonus.diamonds * rates.cash_per_diamond,),
            ),
            Check(
                f"diamonds posted to {r.recipient} = the gift's + the bonus paid",
                DIAMONDS,
                posted(tx, r.recipient, DIAMOND),
                (d.diamonds, bonus.paid_diamonds),
            ),
            Check(
                f"cash posted out of {budget} = the bonus paid",
                CASH,
                -posted(tx, budget, _currency(tx)) if bonus.paid else ZERO,
                (bonus.cash if bonus.paid else ZERO,),
            ),
        ]
    notes = [
        "No viewer cash moves in a gift: it was booked to platform:revenue when the coins were bought, "
        "and the creator's value is paid out of it when the diamonds are redeemed."
        + (" The sponsor's bonus moves cash from its budget to platform:payouts." if bonus and bonus.paid else ""),
    ]
    if stores is None:
        notes.append(
            "Some of these coins come from buys that recorded no app-store fee (or are not in this ledger): "
            "the platform's take includes whatever a store kept of them."
        )
    elif stores:
        after = d.platform_kept - stores
        steps += [
            Step(
                "of which app stores took",
                (Figure("cash", stores, CASH), *_percent_figures("of what was paid", stores, d.paid)),
            ),
            Step(
                "the platform's take after store fees",
                (Figure("cash", after, CASH), *_percent_figures("of what was paid", after, d.paid)),
            ),
        ]
        checks.append(
            Check(
                f"what {r.sender} paid = diamonds' value + store fees + take after them",
                CASH,
                d.paid,
                (d.diamond_value, stores, after),
            )
        )
    if d.stream is not None:
        notes.append(f"Sent on stream {d.stream}.")
    return Told(steps, checks, notes)


def _stores_share(lots: tuple[Any, ...], buys: dict[str, BuyRecord | None]) -> Decimal | None:
    """What app stores took of the lots' cost, exactly, at the fee each lot's buy recorded; None if one recorded none."""
    share = ZERO
    for lot in lots:
        if not lot.source:  # coins that came with no purchase cost nothing
            continue
        buy = buys.get(lot.source)
        if buy is None or buy.rates.store_fee_percent is None:
            return None
        share += lot.cost * buy.rates.store_fee_percent / 100
    return share


# ----- redeem ---------------------------------------------------------------------


def explain_redeem(tx: Transaction, find: Find) -> Told:
    record = tx.payload
    assert isinstance(record, RedeemRecord)
    r, payout, d = record.request, record.rates, record.details
    currency = _currency(tx)
    used_value = d.diamonds * payout.cash_per_diamond
    after = tx.balance_after(r.account)
    left = after.diamonds if after is not None else 0
    asked = d.diamonds + left if r.all else int(r.diamonds or 0)
    steps = [
        Step(
            f"{r.account} asks to redeem {'all their' if r.all else f'{asked:,}'} diamonds",
            (Figure("diamonds", asked, DIAMONDS),),
        ),
        Step(
            "diamonds used: only those the cents need",
            (
                Figure("diamonds", d.diamonds, DIAMONDS),
                Figure("per diamond", payout.cash_per_diamond, CASH_PER_DIAMOND),
                Figure("worth", tidy(used_value), CASH),
            ),
        ),
        Step("cash: their worth rounded down to the cent", (Figure("cash", d.cash, CASH),)),
        Step("rounding under a cent, to platform:rounding", (Figure("cash", d.rounding, CASH),)),
        Step(
            "fee, rounded up to the cent, to platform:revenue",
            (Figure("fee percent", payout.fee_percent, RATE_PERCENT), Figure("cash", d.fee, CASH)),
        ),
        Step(
            f"paid out to {r.account}",
            (Figure("cash", d.net, CASH), *_percent_figures("of the diamonds' worth", d.net, used_value)),
        ),
        Step(
            "the platform's take: fee and rounding",
            (
                Figure("cash", d.fee + d.rounding, CASH),
                *_percent_figures("of the diamonds' worth", d.fee + d.rounding, used_value),
            ),
        ),
        Step(
            f"stays in {r.account}'s balance",
            (Figure("kept (worth under a cent)", d.kept_diamonds, DIAMONDS), Figure("diamonds after", left, DIAMONDS)),
        ),
    ]
    fee = (d.cash * payout.fee_percent / 100).quantize(CENT, rounding=ROUND_UP)
    checks = [
        Check("diamonds asked = used + kept", DIAMONDS, asked, (d.diamonds, d.kept_diamonds)),
        Check("diamonds × cash per diamond = cash + rounding", CASH, used_value, (d.cash, d.rounding)),
        Check("cash = paid out + fee", CASH, d.cash, (d.net, d.fee)),
        Check("fee = cash × fee percent, rounded up to the cent", CASH, d.fee, (fee,)),
        Check(f"diamonds posted out of {r.account}", DIAMONDS, d.diamonds, (-posted(tx, r.account, DIAMOND),)),
        Check(
            "platform:payouts pays = paid out + fee + rounding (as posted)",
            CASH,
            -posted(tx, PAYOUTS, currency),
            (posted(tx, r.account, currency), posted(tx, REVENUE, currency), posted(tx, ROUNDING, currency)),
        ),
    ]
    return Told(steps, checks, [])


# ----- rates ----------------------------------------------------------------------


def explain_rates(tx: Transaction, find: Find) -> Told:
    record = tx.payload
    assert isinstance(record, RatesRecord)
    d = record.details
    why = f" ({d.reason})" if d.reason is not None else ""
    steps = [Step(f"rates changed by {d.source}{why}: {len(d.changes):,} key{'' if len(d.changes) == 1 else 's'}")]
    for change in d.changes:
        before = "(none)" if change.before is None else str(change.before)
        after = "(removed)" if change.after is None else str(change.after)
        steps.append(Step(f"{change.key}: {before} → {after}"))
    notes = ["A rates change moves no money: each later transaction records the rates it used."]
    return Told(steps, [], notes)


# ----- refund ---------------------------------------------------------------------


def explain_refund(tx: Transaction, find: Find) -> Told:
    record = tx.payload
    assert isinstance(record, RefundRecord)
    r, d = record.request, record.details
    currency = _currency(tx)
    buy = _buy_of(find, r.buy)
    bought = f" ({buy.request.coins:,} coins on {buy.request.channel})" if buy is not None else ""
    spent = d.coins - d.unspent
    steps = [
        Step(f"cash back to {d.account} for buy {r.buy}{bought}", (Figure("cash", d.price, CASH),), (r.buy,)),
        Step("out of platform:revenue", (Figure("cash", d.price, CASH),)),
        Step(
            f"the lot's unspent coins removed from {d.account}",
            (Figure("coins", d.unspent, COINS), Figure("cost", d.unspent_cost, CASH)),
            (r.buy,),
        ),
    ]
    clawed = ZERO
    for c in d.clawbacks:
        left = f"; {c.remainder}/{c.gift_coins} of a diamond stays with {c.creator}" if c.remainder else ""
        steps.append(
            Step(
                f"clawed back from {c.creator}: gift {c.gift}'s diamonds for the {c.coins:,} coins of this lot{left}",
                (
                    Figure("coins", c.coins, COINS),
                    Figure("diamonds", c.diamonds, DIAMONDS),
                    Figure("worth", tidy(c.value), CASH),
                ),
                (c.gift,),
            )
        )
        clawed += c.value
    creators: dict[str, list[Any]] = {}
    for c in d.clawbacks:
        creators.setdefault(c.creator, []).append(c)
    for creator, theirs in creators.items():
        if len(theirs) > 1:  # a creator clawed back from in several gifts: their total
            steps.append(
                Step(
                    f"clawed back from {creator} in all",
                    (
                        Figure("diamonds", sum(c.diamonds for c in theirs), DIAMONDS),
                        Figure("worth", tidy(sum((c.value for c in theirs), ZERO)), CASH),
                    ),
                    tuple(c.gift for c in theirs),
                )
            )
    if d.clawbacks:
        steps.append(
            Step(
                "the platform gives back what it had kept of the spent coins",
                (
                    Figure("cash", d.platform_returned, CASH),
                    *_percent_figures("of the cash back", d.platform_returned, d.price),
                ),
            )
        )
    checks = [
        Check(
            "cash back = unspent coins' cost + clawed-back diamonds' worth + platform's share returned",
            CASH,
            d.price,
            (d.unspent_cost, clawed, d.platform_returned),
        ),
        Check(
            "the lot's coins = unspent + spent in gifts", COINS, d.coins, (d.unspent, *(c.coins for c in d.clawbacks))
        ),
        Check(f"cash posted to {d.account}", CASH, d.price, (posted(tx, d.account, currency),)),
        Check("cash posted out of platform:revenue", CASH, d.price, (-posted(tx, REVENUE, currency),)),
        Check(f"coins posted out of {d.account}", COINS, d.unspent, (-posted(tx, d.account, COIN),)),
    ]
    for c in d.clawbacks:
        checks.append(
            Check(
                f"gift {c.gift}: its diamonds × {c.coins:,} coins = clawed back × its {c.gift_coins:,} coins + remainder",
                DIAMONDS,
                c.gift_diamonds * c.coins,
                (c.diamonds * c.gift_coins, c.remainder),
            )
        )
    for creator, theirs in creators.items():
        bonuses = tuple(c.bonus_back for c in theirs if c.sponsor is not None)
        checks.append(
            Check(
                f"diamonds posted out of {creator} = the clawbacks from them"
                + (" and the bonuses back" if bonuses else ""),
                DIAMONDS,
                -posted(tx, creator, DIAMOND),
                (*(c.diamonds for c in theirs), *bonuses),
            )
        )
    sponsors: dict[str, list[Any]] = {}
    for c in d.clawbacks:
        if c.sponsor is not None:
            sponsors.setdefault(c.sponsor, []).append(c)
            steps.append(_bonus_back_step(c.sponsor, c.creator, c.bonus_back, c.bonus_cash, c.gift))
    for sponsor, theirs in sponsors.items():
        budget = sponsor_account(sponsor)
        checks.append(
            Check(
                f"cash posted to {budget} = the bonuses' worth back",
                CASH,
                posted(tx, budget, currency),
                tuple(c.bonus_cash for c in theirs),
            )
        )
    if buy is not None:
        checks.append(Check(f"cash back = buy {r.buy}'s price", CASH, d.price, (buy.details.price,)))
        checks.append(Check(f"the lot's coins = buy {r.buy}'s coins", COINS, d.coins, (buy.request.coins,)))
    notes = []
    if spent and not d.clawbacks:
        notes.append(f"{spent:,} coins of the lot had been spent, and nothing was clawed back.")
    return Told(steps, checks, notes)


# ----- reversal -------------------------------------------------------------------


def explain_reversal(tx: Transaction, find: Find) -> Told:
    record = tx.payload
    assert isinstance(record, ReversalRecord)
    d = record.details
    original = find(d.original)
    gift = original.payload if original is not None and isinstance(original.payload, GiftRecord) else None
    cost = sum((lot.cost for lot in d.lots), ZERO)
    steps = [Step(f"reverses gift {d.original} (reason: {d.reason})", (), (d.original,))]
    for lot in d.lots:
        label = (
            f"coins back into the lot of buy {lot.source}" if lot.source else "coins back that came with no purchase"
        )
        steps.append(
            Step(
                label,
                (Figure("coins", lot.coins, COINS), Figure("cost", lot.cost, CASH)),
                (lot.source,) if lot.source else (),
            )
        )
    steps.append(
        Step(
            f"coins back to {d.sender}, at what they cost",
            (Figure("coins", d.coins, COINS), Figure("cost", cost, CASH)),
        )
    )
    worth = () if gift is None else (Figure("worth", gift.details.diamond_value, CASH),)
    steps.append(Step(f"diamonds taken back from {d.recipient}", (Figure("diamonds", d.diamonds, DIAMONDS), *worth)))
    if gift is not None:
        steps.append(
            Step("the platform's take of the gift, undone", (Figure("cash", gift.details.platform_kept, CASH),))
        )
    back = d.bonus
    if back is not None:
        steps.append(_bonus_back_step(back.sponsor, d.recipient, back.diamonds, back.cash))
    checks = [
        Check("coins = the lots' coins", COINS, d.coins, tuple(lot.coins for lot in d.lots)),
        Check(f"coins posted to {d.sender}", COINS, d.coins, (posted(tx, d.sender, COIN),)),
        Check(
            f"diamonds posted out of {d.recipient}" + ("" if back is None else " = the gift's + its bonus"),
            DIAMONDS,
            -posted(tx, d.recipient, DIAMOND),
            (d.diamonds,) if back is None else (d.diamonds, back.diamonds),
        ),
    ]
    if back is not None:
        budget = sponsor_account(back.sponsor)
        checks.append(
            Check(f"cash posted to {budget} = the bonus's worth", CASH, posted(tx, budget, _currency(tx)), (back.cash,))
        )
    if original is not None and gift is not None:
        g = gift.details
        checks += [
            Check(
                f"the lots' cost = what gift {d.original}'s coins cost", CASH, g.paid, tuple(lot.cost for lot in d.lots)
            ),
            Check(f"coins = gift {d.original}'s coins", COINS, d.coins, (g.coins,)),
            Check(f"diamonds = gift {d.original}'s diamonds", DIAMONDS, d.diamonds, (g.diamonds,)),
            Check(
                f"gift {d.original}'s coins cost = its diamonds' worth + the platform's take",
                CASH,
                g.paid,
                (g.diamond_value, g.platform_kept),
            ),
        ]
    notes = ["No cash moves in a reversal: the coins keep the cost they had, and the diamonds were not paid out."]
    return Told(steps, checks, notes)


# ----- sponsors -------------------------------------------------------------------


def _bonus_step(sponsor: str, creator: str, diamonds: int, cash: Decimal, paid: bool, budget: Decimal) -> Step:
    if paid:
        label = f"sponsor {sponsor} pays {creator} a bonus from its budget, at the payout rate"
        return Step(label, (Figure("diamonds", diamonds, DIAMONDS), Figure("cash", cash, CASH)))
    label = f"no bonus from sponsor {sponsor}: its budget can't cover it whole"
    return Step(label, (Figure("bonus", cash, CASH), Figure("budget", budget, CASH)))


def _bonus_back_step(sponsor: str, creator: str, diamonds: int, cash: Decimal, gift: str = "") -> Step:
    of_gift = f" of gift {gift}" if gift else ""
    label = f"the sponsor bonus{of_gift} back: diamonds from {creator}, their worth to sponsor {sponsor}'s budget"
    return Step(label, (Figure("diamonds", diamonds, DIAMONDS), Figure("cash", cash, CASH)))


def explain_sponsor_cash(tx: Transaction, find: Find) -> Told:
    record = tx.payload
    assert isinstance(record, SponsorFundRecord)
    d = record.details
    budget = sponsor_account(d.sponsor)
    into = not isinstance(record, SponsorWithdrawRecord)
    sign = 1 if into else -1
    before = d.budget - sign * d.cash
    steps = [
        Step(f"{budget}'s budget before", (Figure("cash", before, CASH),)),
        Step(
            f"sponsor {d.sponsor} pays cash into its budget"
            if into
            else f"sponsor {d.sponsor} takes unused budget back",
            (Figure("cash", d.cash, CASH),),
        ),
        Step(f"{budget}'s budget after", (Figure("cash", d.budget, CASH),)),
    ]
    currency = _currency(tx)
    checks = [
        Check("budget after = before ± the cash", CASH, d.budget, (before, sign * d.cash)),
        Check(f"cash posted to {budget}", CASH, sign * d.cash, (posted(tx, budget, currency),)),
        Check(
            f"cash posted out of {SPONSOR_DEPOSITS}", CASH, sign * d.cash, (-posted(tx, SPONSOR_DEPOSITS, currency),)
        ),
    ]
    notes = [
        "A sponsor's budget pays the bonus diamonds of the gifts it sponsors, at the payout rate; "
        "what it has not spent can be taken back."
    ]
    return Told(steps, checks, notes)


# ----- held payouts ----------------------------------------------------------------


def explain_hold(tx: Transaction, find: Find) -> Told:
    record = tx.payload
    assert isinstance(record, PayoutHoldRecord)
    r, payout, d = record.request, record.rates.payout, record.details
    pending = pending_account(r.account)
    used_value = d.diamonds * payout.cash_per_diamond
    steps = [
        Step(
            f"{r.account} asks to redeem {'all their' if r.all else f'{r.diamonds or 0:,}'} diamonds, held for review",
            (Figure("diamonds", d.diamonds + d.kept_diamonds, DIAMONDS),),
        ),
        Step(
            "diamonds held: only those the cents need",
            (
                Figure("diamonds", d.diamonds, DIAMONDS),
                Figure("per diamond", payout.cash_per_diamond, CASH_PER_DIAMOND),
                Figure("worth", tidy(used_value), CASH),
            ),
        ),
        Step(f"they wait in {pending}, out of reach of clawbacks", (Figure("diamonds", d.diamonds, DIAMONDS),)),
        Step("cash fixed now: their worth rounded down to the cent", (Figure("cash", d.cash, CASH),)),
        Step("rounding under a cent, booked on approval", (Figure("cash", d.rounding, CASH),)),
        Step(
            "fee, rounded up to the cent, taken on approval",
            (Figure("fee percent", payout.fee_percent, RATE_PERCENT), Figure("cash", d.fee, CASH)),
        ),
        Step(f"to be paid to {r.account} on approval", (Figure("cash", d.net, CASH),)),
        Step(
            f"counts against the daily maximum of {d.day}; expires untouched at {d.expires}",
            (Figure("kept (worth under a cent)", d.kept_diamonds, DIAMONDS),),
        ),
    ]
    fee = (d.cash * payout.fee_percent / 100).quantize(CENT, rounding=ROUND_UP)
    checks = [
        Check("diamonds × cash per diamond = cash + rounding", CASH, used_value, (d.cash, d.rounding)),
        Check("cash = to be paid + fee", CASH, d.cash, (d.net, d.fee)),
        Check("fee = cash × fee percent, rounded up to the cent", CASH, d.fee, (fee,)),
        Check(f"diamonds posted out of {r.account}", DIAMONDS, d.diamonds, (-posted(tx, r.account, DIAMOND),)),
        Check(f"diamonds posted to {pending}", DIAMONDS, d.diamonds, (posted(tx, pending, DIAMOND),)),
    ]
    if not r.all:
        checks.insert(
            0, Check("diamonds asked = held + kept", DIAMONDS, r.diamonds or 0, (d.diamonds, d.kept_diamonds))
        )
    notes = ["No cash moves until the payout is approved; approval pays exactly the cash fixed here."]
    return Told(steps, checks, notes)


_SETTLED = {
    "payout-approve": "approved: the cash fixed by the hold paid out, the held diamonds redeemed",
    "payout-reject": "rejected: the held diamonds back to the creator",
    "payout-expire": "expired untouched: the held diamonds back to the creator",
    "payout-return": "returned by the bank: the cash back to the platform, the diamonds back to the creator",
}


def explain_settlement(tx: Transaction, find: Find) -> Told:
    """An approval, rejection, expiry or return: what the hold fixed, and where it goes now."""
    record = tx.payload
    d = record.details
    assert isinstance(d, SettleDetails)
    pending = pending_account(d.account)
    currency = _currency(tx)
    hold = find(d.hold)
    held = hold.payload.details if hold is not None and isinstance(hold.payload, PayoutHoldRecord) else None
    why = "" if d.reason is None else f" (reason: {d.reason})"
    steps = [
        Step(f"payout {d.hold} {_SETTLED[tx.kind]}{why}", (), (d.hold,)),
        Step(f"the hold's diamonds, asked for on {d.day}", (Figure("diamonds", d.diamonds, DIAMONDS),)),
        Step(
            "the cash the hold fixed: paid out + fee",
            (Figure("cash", d.cash, CASH), Figure("paid out", d.net, CASH), Figure("fee", d.fee, CASH)),
        ),
    ]
    checks = [Check("cash = paid out + fee", CASH, d.cash, (d.net, d.fee))]
    if held is not None:
        checks += [
            Check(f"diamonds = hold {d.hold}'s", DIAMONDS, d.diamonds, (held.diamonds,)),
            Check(f"cash = hold {d.hold}'s", CASH, d.cash, (held.cash,)),
            Check(f"paid out = hold {d.hold}'s", CASH, d.net, (held.net,)),
        ]
    if isinstance(record, PayoutApproveRecord):
        checks += [
            Check(f"diamonds posted out of {pending}", DIAMONDS, d.diamonds, (-posted(tx, pending, DIAMOND),)),
            Check(f"cash posted to {d.account}", CASH, d.net, (posted(tx, d.account, currency),)),
            Check(
                "platform:payouts pays = paid out + fee + rounding (as posted)",
                CASH,
                -posted(tx, PAYOUTS, currency),
                (posted(tx, d.account, currency), posted(tx, REVENUE, currency), posted(tx, ROUNDING, currency)),
            ),
        ]
        notes = ["Approval pays the cash the hold fixed, whatever the rates are now."]
    elif isinstance(record, PayoutReturnRecord):
        steps[0] = Step(steps[0].label, (), (d.hold, *((d.approval,) if d.approval else ())))
        checks += [
            Check(f"diamonds posted back to {d.account}", DIAMONDS, d.diamonds, (posted(tx, d.account, DIAMOND),)),
            Check(f"cash posted out of {d.account}", CASH, d.net, (-posted(tx, d.account, currency),)),
        ]
        notes = ["The approval's postings, undone: the payout's room in its day's maximum is freed."]
    else:
        checks += [
            Check(f"diamonds posted out of {pending}", DIAMONDS, d.diamonds, (-posted(tx, pending, DIAMOND),)),
            Check(f"diamonds posted back to {d.account}", DIAMONDS, d.diamonds, (posted(tx, d.account, DIAMOND),)),
        ]
        notes = ["No cash moves: the hold's room in its day's maximum is freed."]
    return Told(steps, checks, notes)


# ----- any other kind -------------------------------------------------------------


def explain_postings(tx: Transaction, find: Find) -> Told:
    """A kind with no explainer of its own: what its postings move, as stored."""
    steps = [
        Step(
            f"{account} {'receives' if amount > 0 else 'gives'} {commodity}",
            (Figure(_unit_of(commodity), amount, _unit_of(commodity)),),
        )
        for account, commodity, amount in tx.postings
    ]
    return Told(steps, [], [f"coinpurse explains a {tx.kind} by its postings only."])


EXPLAINERS: dict[str, Explainer] = {
    "buy": explain_buy,
    "gift": explain_gift,
    "redeem": explain_redeem,
    "rates": explain_rates,
    "refund": explain_refund,
    "reversal": explain_reversal,
    "sponsor-fund": explain_sponsor_cash,
    "sponsor-withdraw": explain_sponsor_cash,
    "payout-hold": explain_hold,
    "payout-approve": explain_settlement,
    "payout-reject": explain_settlement,
    "payout-expire": explain_settlement,
    "payout-return": explain_settlement,
}


def _balance_checks(tx: Transaction) -> list[Check]:
    by_commodity: dict[str, list[Any]] = {}
    for _, commodity, amount in tx.postings:
        by_commodity.setdefault(commodity, []).append(amount)
    zero: dict[str, Amount] = {COIN: 0, DIAMOND: 0}
    return [
        Check(f"postings in {commodity} balance", _unit_of(commodity), zero.get(commodity, ZERO), tuple(amounts))
        for commodity, amounts in by_commodity.items()
    ]


@exact_arithmetic
def explain(tx: Transaction, find: Find) -> Explanation:
    """The transaction's path of value; ``find`` reads the few records it names."""
    explainer = EXPLAINERS.get(tx.kind, explain_postings)
    if isinstance(tx.payload, OtherRecord):
        explainer = explain_postings
    told = explainer(tx, find)
    checks = (*told.checks, *_balance_checks(tx))
    return Explanation(tx.id, tx.kind, tx.at, receipt(tx.payload), tuple(told.steps), checks, tuple(told.notes))
