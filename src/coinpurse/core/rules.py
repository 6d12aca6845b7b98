"""The rules of the economy: turn a request into a balanced transaction, or refuse.

Every function here is pure over a ``Book``: it reads, decides and returns a
transaction with the accounts' new states. Nothing is written until the caller
appends it, so a refusal changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_UP, Decimal
from typing import Any, NamedTuple

from coinpurse.core import clock
from coinpurse.core import requests as rq
from coinpurse.core.book import Book
from coinpurse.core.chain import recorded_state
from coinpurse.core.kinds import (
    BonusBack,
    BuyDetails,
    BuyRates,
    BuyRecord,
    GiftDetails,
    GiftRates,
    GiftRecord,
    Record,
    RedeemDetails,
    RedeemRecord,
    ReversalDetails,
    ReversalRecord,
    SponsorBonus,
)
from coinpurse.core.model import AccountState, Lot, Posting, Transaction, is_balanced
from coinpurse.core.money import (
    CENT,
    COIN,
    DIAMOND,
    MAX_UNITS,
    MILL,
    ZERO,
    exact_arithmetic,
    round_down,
    round_half_up,
    tidy,
)
from coinpurse.core.names import (
    COIN_ISSUE,
    DIAMOND_ISSUE,
    PAYOUTS,
    REVENUE,
    ROUNDING,
    SPONSOR_DEPOSITS,
    did_you_mean,
    is_user_account,
    sponsor_account,
)
from coinpurse.core.new_accounts import check_new_accounts
from coinpurse.core.payouts import accounts_named, release_due  # here, not in execute: an import per op costs
from coinpurse.core.rates import Rates
from coinpurse.core.sentences import cash_text  # refusals group cash in thousands as receipts do
from coinpurse.errors import BadInput, Refused


class Plan(NamedTuple):  # a NamedTuple: one per op of a bulk apply, and cheaper to make
    """What a rule makes of a request: the typed record, its postings, and the touched accounts' new states."""

    payload: Record
    postings: tuple[Posting, ...]
    states: dict[str, AccountState]
    new_rates: Rates | None = None  # set by a rates change

    @property
    def kind(self) -> str:
        return self.payload.kind


class Outcome(NamedTuple):  # a NamedTuple: one per op of a bulk apply, and cheaper to make
    """A recorded transaction; ``replayed`` when an id retry found it already there."""

    transaction: Transaction
    replayed: bool = False


def balances_after(states: dict[str, AccountState]) -> dict[str, Any]:
    """Users' coins and diamonds right after a transaction, as it stores them."""
    # posted_states makes ``states`` in name order; a rule may add to it, hence the check.
    names = list(states)
    if names != sorted(names):
        names.sort()
    return {
        name: {"coins": states[name].coins, "diamonds": states[name].diamonds}
        for name in names
        if is_user_account(name)
    }


def posted_states(book: Book, postings: tuple[Posting, ...]) -> dict[str, AccountState]:
    """The touched accounts' states after the postings, by name (lots are each rule's business).

    One pass over the postings and one new state per account: this runs for every
    op of a bulk apply.
    """
    moved: dict[str, list[Any]] = {}
    for account, commodity, amount in postings:
        totals = moved.get(account)
        if totals is None:
            totals = moved[account] = [0, 0, None]  # coins, diamonds, cash (None: no cash posted)
        if commodity == COIN:
            totals[0] += amount
        elif commodity == DIAMOND:
            totals[1] += amount
        else:
            totals[2] = amount if totals[2] is None else totals[2] + amount
    states: dict[str, AccountState] = {}
    for name in sorted(moved):
        state = book.account(name)
        coins, diamonds, cash = moved[name]
        states[name] = AccountState(
            state.coins + coins, state.diamonds + diamonds, state.cash if cash is None else state.cash + cash,
            state.lots, state.payout_day, state.paid_that_day,
        )  # fmt: skip
    return states


def _with_lots(state: AccountState, lots: tuple[Lot, ...]) -> AccountState:
    # Built directly: NamedTuple._replace costs several times more on this hot path.
    return AccountState(state.coins, state.diamonds, state.cash, lots, state.payout_day, state.paid_that_day)


@exact_arithmetic
def plan_buy(book: Book, req: rq.Buy, tx_id: str, at: str) -> Plan:
    channel = book.rates.channel(req.channel)
    package = channel.package_for(req.coins)
    if package is not None:
        price = package.price
        rates_used = BuyRates(channel.name, package, None, channel.store_fee_percent)
    else:
        if not channel.custom_min <= req.coins <= channel.custom_max:
            raise BadInput(
                f"{req.coins} coins is not a package on {channel.name}, where custom amounts are "
                f"{channel.custom_min} to {channel.custom_max} coins",
                code="amount_out_of_bounds",
            )
        price = channel.custom_price(req.coins)
        rates_used = BuyRates(channel.name, None, channel.coin_price, channel.store_fee_percent)
    postings = (
        Posting(req.account, COIN, req.coins),
        Posting(COIN_ISSUE, COIN, -req.coins),
        Posting(req.account, book.currency, -price),
        Posting(REVENUE, book.currency, price),
    )
    states = posted_states(book, postings)
    buyer = states[req.account]
    states[req.account] = _with_lots(buyer, (*buyer.lots, Lot(tx_id, req.coins, price)))
    return Plan(BuyRecord(req, rates_used, BuyDetails(price, package is not None)), postings, states)


def draw_lots(lots: tuple[Lot, ...], coins: int) -> tuple[list[Lot], tuple[Lot, ...]]:
    """Take ``coins`` first in, first out; returns (what was drawn, what remains).

    A partly drawn lot gives up its cost in proportion, to the mill, and keeps
    the exact remainder, so a lot's draws always add up to what it cost.
    """
    drawn: list[Lot] = []
    need = coins
    index = 0  # lots before it are drawn whole; the rest stay, shared with ``lots`` (a viewer may hold thousands)
    while need and index < len(lots):
        lot = lots[index]
        if lot.coins <= need:
            drawn.append(lot)
            need -= lot.coins
            index += 1
        else:
            cost = round_half_up(lot.cost * need / lot.coins, MILL)
            drawn.append(Lot(lot.source, need, cost))
            remaining = (Lot(lot.source, lot.coins - need, lot.cost - cost), *lots[index + 1 :])
            need = 0
            break
    else:
        remaining = tuple(lots[index:])
    if need:  # coins that came with no lot (not produced by any rule) cost nothing
        drawn.append(Lot("", need, ZERO))
    return drawn, tuple(remaining)


@exact_arithmetic
def plan_gift(book: Book, req: rq.Gift, tx_id: str, at: str) -> Plan:
    if req.sender == req.recipient:
        raise Refused(f"{req.sender} can't send a gift to themselves", code="self_gift")
    gift = book.rates.find_gift(req.gift)
    if gift is None:
        hint = did_you_mean(req.gift, [g.name for g in book.rates.gifts])
        raise BadInput(f"unknown gift {req.gift!r}{hint}; 'coinpurse rates' lists the catalog", code="unknown_gift")
    coins = gift.coins * req.count
    sender = book.account(req.sender)
    if sender.coins < coins:
        what = f"{req.count} × {gift.name}" if req.count > 1 else gift.name
        raise Refused(
            f"{req.sender} has {sender.coins} coins; {what} costs {coins}",
            code="insufficient_coins",
        )
    rates = book.rates
    diamonds = int((coins * rates.diamonds_per_coin).to_integral_value(rounding=ROUND_FLOOR))
    drawn, remaining_lots = draw_lots(sender.lots, coins)
    paid = ZERO
    for lot in drawn:  # a loop, not sum() over a generator: this runs for every gift of a bulk apply
        paid += lot.cost
    value = tidy(diamonds * rates.payout.cash_per_diamond)
    postings: tuple[Posting, ...] = (
        Posting(req.sender, COIN, -coins),
        Posting(COIN_ISSUE, COIN, coins),
        Posting(DIAMOND_ISSUE, DIAMOND, -diamonds),
        Posting(req.recipient, DIAMOND, diamonds),
    )
    bonus = None
    if gift.sponsor is not None and gift.bonus_diamonds:  # a gift no sponsor pays on is recorded as it always was
        bonus = _sponsor_bonus(book, gift.sponsor, gift.bonus_diamonds * req.count, rates.payout.cash_per_diamond)
        if bonus.paid:
            postings += _bonus_postings(book.currency, bonus, req.recipient)
    states = posted_states(book, postings)
    states[req.sender] = _with_lots(states[req.sender], remaining_lots)
    details = GiftDetails(
        gift.name, req.count, coins, diamonds, paid, value, paid - value, tuple(drawn), req.stream, bonus
    )
    rates_used = GiftRates(gift, rates.diamonds_per_coin, rates.payout.cash_per_diamond)
    return Plan(GiftRecord(req, rates_used, details), postings, states)


def _sponsor_bonus(book: Book, sponsor: str, diamonds: int, cash_per_diamond: Decimal) -> SponsorBonus:
    """The bonus a sponsored gift pays, whole, when the sponsor's budget covers it; otherwise none of it."""
    cash = tidy(diamonds * cash_per_diamond)
    budget = book.account(sponsor_account(sponsor)).cash
    return SponsorBonus(sponsor, diamonds, cash, budget >= cash, budget)


def _bonus_postings(currency: str, bonus: SponsorBonus, creator: str) -> tuple[Posting, ...]:
    """The sponsor's cash to the platform's payout liability, and the bonus diamonds issued to the creator."""
    return (
        Posting(sponsor_account(bonus.sponsor), currency, -bonus.cash),
        Posting(PAYOUTS, currency, bonus.cash),
        Posting(DIAMOND_ISSUE, DIAMOND, -bonus.diamonds),
        Posting(creator, DIAMOND, bonus.diamonds),
    )


class PayoutFigures(NamedTuple):
    """What a payout of the asked diamonds comes to at the rates in force, under the minimum and the day's maximum."""

    used: int  # only the diamonds the cents need
    used_value: Decimal
    cash: Decimal
    fee: Decimal
    net: Decimal
    rounding: Decimal
    kept: int  # asked for but worth less than a cent
    day: str
    already: Decimal  # paid or held on that day before


def payout_figures(book: Book, req: rq.Redeem | rq.Hold, at: str) -> PayoutFigures:
    """A redeem's or a hold's figures (the same rules), or why it is refused."""
    day = at[:10]  # the daily maximum is per UTC day
    payout = book.rates.payout
    account = book.account(req.account)
    if account.diamonds < 0:  # a refund's clawback left a debt
        raise Refused(
            f"{req.account} owes {-account.diamonds:,} diamonds clawed back by a refund; "
            "nothing can be redeemed until later gifts repay them",
            code="insufficient_diamonds",
        )
    asked = account.diamonds if req.all else int(req.diamonds or 0)
    if asked == 0 or asked > account.diamonds:
        raise Refused(
            f"{req.account} has {account.diamonds} diamonds; can't redeem {asked if not req.all else 'any'}",
            code="insufficient_diamonds",
        )
    rate = payout.cash_per_diamond
    cash = round_down(asked * rate, CENT)
    if cash == 0:
        raise Refused(f"{asked} diamonds are worth less than a cent", code="below_minimum")
    # Use only the diamonds the cents need; the rest stay in the balance.
    used = int((cash / rate).to_integral_value(rounding=ROUND_CEILING))
    used_value = tidy(used * rate)
    rounding = tidy(used_value - cash)
    if cash < payout.minimum:
        raise Refused(
            f"a payout of {cash_text(cash)} is under the minimum of {cash_text(payout.minimum)}",
            code="below_minimum",
        )
    already = account.paid_on(day)
    left = payout.daily_maximum - already
    if cash > left:
        raise Refused(
            f"a payout of {cash_text(cash)} would pass the daily maximum of {cash_text(payout.daily_maximum)}; "
            f"{cash_text(max(left, ZERO))} is left for {day} (UTC)",
            code="over_daily_maximum",
        )
    fee = (cash * payout.fee_percent / 100).quantize(CENT, rounding=ROUND_UP)
    return PayoutFigures(used, used_value, cash, fee, cash - fee, rounding, asked - used, day, already)


@exact_arithmetic
def plan_redeem(book: Book, req: rq.Redeem, tx_id: str, at: str) -> Plan:
    f = payout_figures(book, req, at)
    used, used_value, cash, fee, net, rounding, day, already = (
        f.used,
        f.used_value,
        f.cash,
        f.fee,
        f.net,
        f.rounding,
        f.day,
        f.already,
    )
    payout = book.rates.payout
    currency = book.currency
    postings_list = [
        Posting(req.account, DIAMOND, -used),
        Posting(DIAMOND_ISSUE, DIAMOND, used),
        Posting(PAYOUTS, currency, -used_value),
        Posting(req.account, currency, net),
    ]
    if fee:
        postings_list.append(Posting(REVENUE, currency, fee))
    if rounding:
        postings_list.append(Posting(ROUNDING, currency, rounding))
    postings = tuple(postings_list)
    states = posted_states(book, postings)
    states[req.account] = states[req.account]._replace(payout_day=day, paid_that_day=already + cash)
    details = RedeemDetails(used, cash, fee, net, rounding, f.kept)
    return Plan(RedeemRecord(req, payout, details), postings, states)


_NOT_REVERSED = {  # what to do instead, for a kind that is not reversed
    "buy": "refund a buy with 'coinpurse refund'",
    "redeem": "a payout made is final; a redeem is not reversed",
    "reversal": "a reversal can't be reversed; send the gift again if it was meant",
}


def reversal_of(book: Book, original: str) -> Transaction | None:
    """The reversal that names ``original``, if one was recorded (reversals are few: read by kind, not the history)."""
    for tx in book.transactions(kind="reversal"):
        if tx.details.get("original") == original:
            return tx
    return None


def restore_lots(lots: tuple[Lot, ...], restored: tuple[Lot, ...], order: Callable[[str], int]) -> tuple[Lot, ...]:
    """``lots`` with the ``restored`` ones back in first-in-first-out place (``draw_lots`` undone).

    A restored lot merges with what is left of the same lot; otherwise it goes before the
    first held lot that came later (``order`` of a lot's source: its buy's place among the
    account's buys). Coins that came with no lot go last.
    """
    held = list(lots)
    for lot in restored:
        index = next((i for i, h in enumerate(held) if h.source == lot.source), None)
        if index is not None:
            same = held[index]
            held[index] = Lot(lot.source, same.coins + lot.coins, tidy(same.cost + lot.cost))
            continue
        if lot.source == "":
            held.append(lot)
            continue
        place = order(lot.source)
        at = next((i for i, h in enumerate(held) if h.source == "" or order(h.source) > place), len(held))
        held.insert(at, lot)
    return tuple(held)


@exact_arithmetic
def plan_reversal(book: Book, req: rq.Reverse, tx_id: str, at: str) -> Plan:
    history = req.lookup or book  # verify's replay gives the history it walks
    original = history.find(req.original)
    if original is None:
        from coinpurse.core.names import unknown_transaction

        raise unknown_transaction(req.original)
    if original.kind != "gift" or not isinstance(original.payload, GiftRecord):
        instead = _NOT_REVERSED.get(original.kind, f"a {original.kind} is not reversed")
        raise BadInput(
            f"{req.original} is a {original.kind}, and only gifts are reversed: {instead}", code="not_reversible"
        )
    if req.lookup is None:  # verify's replay checks this itself, against the history before it
        done = reversal_of(book, req.original)
        if done is not None:
            raise Refused(f"{req.original} was already reversed by {done.id} at {done.at}", code="already_reversed")
    gift: GiftRecord = original.payload
    sender, recipient, d = gift.request.sender, gift.request.recipient, gift.details
    sources = {lot.source for lot in d.lots}
    for refund in history.transactions(kind="refund"):  # refunds are few (SQLite indexes the rare kinds)
        if refund.request.get("buy") in sources:
            raise Refused(
                f"the coins of {req.original} came from buy {refund.request.get('buy')}, refunded by {refund.id} "
                f"at {refund.at}; their lot is gone, so the gift can't be reversed",
                code="lot_refunded",
            )
    holds = book.account(recipient).diamonds
    bonus = d.bonus if d.bonus is not None and d.bonus.paid else None
    gave = d.diamonds + (bonus.diamonds if bonus is not None else 0)  # a paid bonus comes back too
    if holds < gave:
        raise Refused(
            f"{recipient} holds {holds} diamonds, fewer than the {gave} the gift {req.original} gave; "
            "it can't be reversed",
            code="insufficient_diamonds",
        )
    postings = tuple(Posting(account, commodity, -amount) for account, commodity, amount in original.postings)
    states = posted_states(book, postings)
    places = {buy.id: place for place, buy in enumerate(history.transactions(account=sender, kind="buy"))}
    last = len(places)
    lots = restore_lots(states[sender].lots, d.lots, lambda source: places.get(source, last))
    states[sender] = _with_lots(states[sender], lots)
    back = None if bonus is None else BonusBack(bonus.sponsor, bonus.diamonds, bonus.cash)  # negated with the postings
    details = ReversalDetails(req.original, req.reason, sender, recipient, d.coins, d.diamonds, d.lots, back)
    return Plan(ReversalRecord(rq.Reverse(req.original, req.reason), {}, details), postings, states)


Rule = Callable[[Book, Any, str, str], Plan]  # (book, request, transaction id, time) -> plan
RULES: dict[str, Rule] = {"buy": plan_buy, "gift": plan_gift, "redeem": plan_redeem}
RULES["reversal"] = plan_reversal


def plan(book: Book, request: rq.Request, tx_id: str, at: str) -> Plan:
    """What the rule of the request's kind makes of it against the book, or a refusal."""
    return RULES[request.kind](book, request, tx_id, at)


Planner = Callable[[Book, str, str], Plan]


def _check_limits(plan: Plan) -> None:
    """Refuse amounts a ledger can't hold (10^15 units), before anything is written.

    Each input is bounded on its own, but a product (a huge count of a costly gift
    at a huge rate) or a balance built from many buys could pass the limit that
    readers enforce. Postings and balances cover every amount stored, but for a
    gift's diamond value, which no posting carries.
    """
    limit = MAX_UNITS
    fits = True
    for _, _, amount in plan.postings:  # loops, not all() over generators: this runs for every op of a bulk apply
        if not -limit < amount < limit:
            fits = False
    for state in plan.states.values():
        if not (-limit < state.coins < limit and -limit < state.diamonds < limit and -limit < state.cash < limit):
            fits = False
    for amount in plan.payload.unposted():
        if not -limit < amount < limit:
            fits = False
    if not fits:
        raise BadInput(
            f"this {plan.kind} moves or leaves amounts of 10^15 or more, beyond what a ledger holds",
            code="amount_too_large",
        )


def execute(book: Book, request: rq.Request, now: str, planner: Planner | None = None) -> Outcome:
    """Check the id, plan the change under the rules, and append it to the book.

    A request with an id already in the book replays the stored transaction if it
    is the same request, and is refused if it is not. ``planner`` lets other
    kinds (rates changes) share this path.
    """
    if request.id is not None:
        existing = book.find(request.id)
        if existing is not None:
            if existing.kind == request.kind and existing.request == request.key():
                return Outcome(existing, replayed=True)
            raise Refused(
                f"id {request.id!r} was already used for a different request ({existing.kind} at {existing.at})",
                code="id_conflict",
            )
    check_new_accounts(book, request)  # a gift or redeem to a new name one typo from an account's
    book.begin_write()  # the head must agree with the chain before anything builds on it
    head = book.head()
    at = clock.not_before(now, head.at)  # never earlier than the transaction before, nor far behind it
    if planner is not None or request.kind == "payout-expire":
        tx_id = request.id or book.next_auto_id()
        made = planner(book, tx_id, at) if planner is not None else RULES[request.kind](book, request, tx_id, at)
        return Outcome(_seal(book, made, tx_id, at))

    # Holds of the accounts it touches that expired untouched are released first, each its own transaction.
    def release(expiry: Any) -> None:
        expiry_id = book.next_auto_id()
        _seal(book, plan_payout_expire(book, expiry, expiry_id, at), expiry_id, at)

    named = accounts_named(book, request)
    if hasattr(request, "hold"):  # a settlement of an expired hold is refused as expired, before any release
        RULES[request.kind](book, request, "", at)
    release_due(book, named, at, release)
    tx_id = request.id or book.next_auto_id()
    made = RULES[request.kind](book, request, tx_id, at)
    others = [name for name in made.states if name not in named and not name.startswith("platform:")]
    if others and release_due(book, others, at, release):  # users the rules found (a refund's creators)
        tx_id = request.id or book.next_auto_id()
        made = RULES[request.kind](book, request, tx_id, at)
    return Outcome(_seal(book, made, tx_id, at))


def _seal(book: Book, made: Plan, tx_id: str, at: str) -> Transaction:
    """Check a plan's amounts and balance, seal it onto the head, and append it."""
    head = book.head()
    _check_limits(made)
    if not is_balanced(made.postings):  # a bug guard: never record money from nowhere
        raise AssertionError(f"unbalanced postings for {made.kind}: {made.postings}")
    after = balances_after(made.states)
    state = recorded_state(made.new_rates or book.rates, made.states, book.currency, book.account_tree())
    tx = Transaction.sealed(tx_id, at, made.payload, made.postings, after, head.hash, state)
    book.append(tx, made.states, made.new_rates)
    book.trust(made.states)
    return tx


# ----- refund ------------------------------------------------------------------


def _spent_text(gifts: tuple[Any, ...]) -> str:
    return "; ".join(f"{g.coins:,} in gift {g.gift} to {g.creator}" for g in gifts)


def refund_lineage(book: Book, buy_id: str) -> rq.Lineage:
    """What the buy was and which gifts spent its lot's coins; refuses a buy refunded before."""
    buy = book.find(buy_id)
    if buy is None:
        raise BadInput(f"no transaction {buy_id!r} in this ledger", code="unknown_transaction")
    record = buy.payload
    if buy.kind != "buy" or not isinstance(record, BuyRecord):
        raise BadInput(f"{buy_id!r} is a {buy.kind}, not a buy; only a buy can be refunded", code="not_a_buy")
    account = record.request.account
    gifts: list[rq.Drawn] = []
    reversed_gifts: set[str] = set()  # a reversed gift put its coins back in the lot: they are unspent again
    seen = False
    # The buyer's own transactions are enough: every gift of those coins, a refund of the buy and a
    # reversal of such a gift all post to the buyer (on SQLite, one search of the postings index).
    for tx in book.transactions(account=account):
        if not seen:
            seen = tx.id == buy_id
            continue
        if tx.kind == "refund" and tx.request.get("buy") == buy_id:
            raise Refused(f"buy {buy_id} was already refunded by {tx.id} at {tx.at}", code="already_refunded")
        if tx.kind == "reversal":
            reversed_gifts.add(str(tx.request.get("original")))
        gift = tx.payload
        if tx.kind != "gift" or not isinstance(gift, GiftRecord) or gift.request.sender != account:
            continue
        coins = sum(lot.coins for lot in gift.details.lots if lot.source == buy_id)
        if coins:
            bonus = gift.details.bonus
            sponsor, bonus_diamonds = (bonus.sponsor, bonus.diamonds) if bonus is not None and bonus.paid else (None, 0)
            gifts.append(
                rq.Drawn(
                    tx.id,
                    gift.request.recipient,
                    coins,
                    gift.details.coins,
                    gift.details.diamonds,
                    gift.rates.cash_per_diamond,
                    sponsor,
                    bonus_diamonds,
                )
            )
    spent = tuple(drawn for drawn in gifts if drawn.gift not in reversed_gifts)
    return rq.Lineage(account, record.request.coins, record.details.price, spent)


@exact_arithmetic
def plan_refund(book: Book, req: Any, tx_id: str, at: str) -> Plan:
    """The store gave a coin purchase back: its cash back to the viewer, its lot's coins removed,
    and with ``clawback`` the diamonds its spent coins became taken back from each creator."""
    from coinpurse.core.kinds import Clawback, RefundDetails, RefundRecord

    lineage = req.lineage  # verify's replay gives the one the refund recorded
    if lineage is None:
        lineage = refund_lineage(book, req.buy)
        req = rq.Refund(req.buy, req.clawback, req.id, lineage)
    viewer = book.account(lineage.account)
    lot = next((lot for lot in viewer.lots if lot.source == req.buy), None)
    unspent = lot.coins if lot is not None else 0
    unspent_cost = lot.cost if lot is not None else ZERO
    spent = lineage.coins - unspent
    drawn = sum(g.coins for g in lineage.gifts)
    if drawn != spent:
        raise Refused(
            f"buy {req.buy}'s lot has {unspent} of its {lineage.coins} coins left, but gifts drew {drawn}",
            code="lineage_mismatch",
        )
    if spent and not req.clawback:
        raise Refused(
            f"{spent:,} of the {lineage.coins:,} coins of buy {req.buy} were already spent "
            f"({_spent_text(lineage.gifts)}); refund with --clawback to take those diamonds back",
            code="coins_spent",
        )
    clawbacks = []
    for g in lineage.gifts:
        diamonds, remainder = divmod(g.gift_diamonds * g.coins, g.gift_coins)
        bonus_back = g.bonus_diamonds * g.coins // g.gift_coins  # a sponsored gift's bonus, in the same proportion
        clawbacks.append(
            Clawback(
                g.gift,
                g.creator,
                g.coins,
                g.gift_coins,
                g.gift_diamonds,
                g.cash_per_diamond,
                diamonds,
                remainder,
                g.sponsor,
                g.bonus_diamonds,
                bonus_back,
            )
        )
    currency = book.currency
    postings_list = [
        Posting(lineage.account, currency, lineage.price),
        Posting(REVENUE, currency, -lineage.price),
    ]
    if unspent:
        postings_list += [Posting(lineage.account, COIN, -unspent), Posting(COIN_ISSUE, COIN, unspent)]
    by_creator: dict[str, int] = {}
    by_sponsor: dict[str, Any] = {}  # the bonus cash each sponsor's budget gets back
    for c in clawbacks:
        if c.diamonds or c.bonus_back:
            by_creator[c.creator] = by_creator.get(c.creator, 0) + c.diamonds + c.bonus_back
        if c.sponsor is not None and c.bonus_back:
            by_sponsor[c.sponsor] = by_sponsor.get(c.sponsor, ZERO) + c.bonus_cash
    for creator, diamonds in by_creator.items():
        postings_list.append(Posting(creator, DIAMOND, -diamonds))
    if by_creator:
        postings_list.append(Posting(DIAMOND_ISSUE, DIAMOND, sum(by_creator.values())))
    for sponsor, cash in by_sponsor.items():
        postings_list.append(Posting(sponsor_account(sponsor), currency, tidy(cash)))
    if by_sponsor:
        postings_list.append(Posting(PAYOUTS, currency, -tidy(sum(by_sponsor.values(), ZERO))))
    postings = tuple(postings_list)
    states = posted_states(book, postings)
    states[lineage.account] = _with_lots(
        states[lineage.account], tuple(lot for lot in viewer.lots if lot.source != req.buy)
    )
    clawed_value = ZERO
    for c in clawbacks:
        clawed_value += c.value
    platform_returned = tidy(lineage.price - unspent_cost - clawed_value)
    details = RefundDetails(
        lineage.account, lineage.coins, lineage.price, unspent, unspent_cost, tuple(clawbacks), platform_returned
    )
    return Plan(RefundRecord(req, {}, details), postings, states)  # type: ignore[arg-type]


RULES["refund"] = plan_refund


# ----- sponsors ----------------------------------------------------------------


@exact_arithmetic
def plan_sponsor_fund(book: Book, req: rq.SponsorFund, tx_id: str, at: str) -> Plan:
    """A sponsor's cash in from outside the ledger: to its budget, the platform carrying the opposite side."""
    from coinpurse.core.kinds import SponsorDetails, SponsorFundRecord

    account = sponsor_account(req.sponsor)
    postings = (Posting(SPONSOR_DEPOSITS, book.currency, -req.cash), Posting(account, book.currency, req.cash))
    states = posted_states(book, postings)
    details = SponsorDetails(req.sponsor, req.cash, states[account].cash)
    return Plan(SponsorFundRecord(rq.SponsorFund(req.sponsor, req.cash), {}, details), postings, states)  # type: ignore[arg-type]


@exact_arithmetic
def plan_sponsor_withdraw(book: Book, req: rq.SponsorWithdraw, tx_id: str, at: str) -> Plan:
    """Unused budget back out to the sponsor: refused beyond what the budget holds."""
    from coinpurse.core.kinds import SponsorDetails, SponsorWithdrawRecord

    account = sponsor_account(req.sponsor)
    if not book.has_account(account):
        raise BadInput(
            f"no sponsor {req.sponsor!r} in this ledger; 'coinpurse sponsor list' lists them", code="unknown_sponsor"
        )
    left = book.account(account).cash
    if req.cash > left:
        raise Refused(
            f"sponsor {req.sponsor} has {cash_text(left)} of unused budget; can't withdraw {cash_text(req.cash)}",
            code="insufficient_budget",
        )
    postings = (Posting(account, book.currency, -req.cash), Posting(SPONSOR_DEPOSITS, book.currency, req.cash))
    states = posted_states(book, postings)
    details = SponsorDetails(req.sponsor, req.cash, states[account].cash)
    return Plan(SponsorWithdrawRecord(rq.SponsorWithdraw(req.sponsor, req.cash), {}, details), postings, states)  # type: ignore[arg-type]


RULES["sponsor-fund"] = plan_sponsor_fund
RULES["sponsor-withdraw"] = plan_sponsor_withdraw


# ----- held payouts ----------------------------------------------------------------


def _freed(state: AccountState, facts: rq.HoldFacts) -> AccountState:
    """The state with the hold's room in its day's maximum given back (only that day's total is kept)."""
    if state.payout_day != facts.day:
        return state
    return state._replace(paid_that_day=max(tidy(state.paid_that_day - facts.cash), ZERO))


@exact_arithmetic
def plan_payout_hold(book: Book, req: rq.Hold, tx_id: str, at: str) -> Plan:
    """The diamonds a redeem would pay move to the creator's pending account; the cash is fixed now."""
    from coinpurse.core.kinds import HoldDetails, HoldRates, PayoutHoldRecord
    from coinpurse.core.names import pending_account

    f = payout_figures(book, req, at)
    review_days = book.rates.review_days_in_force
    expires = clock.days_after(at, review_days)
    pending = pending_account(req.account)
    postings = (Posting(req.account, DIAMOND, -f.used), Posting(pending, DIAMOND, f.used))
    states = posted_states(book, postings)
    states[req.account] = states[req.account]._replace(payout_day=f.day, paid_that_day=f.already + f.cash)
    details = HoldDetails(f.used, f.cash, f.fee, f.net, f.rounding, f.kept, f.day, expires)
    return Plan(PayoutHoldRecord(req, HoldRates(book.rates.payout, review_days), details), postings, states)  # type: ignore[arg-type]


def _settle_details(facts: rq.HoldFacts, reason: str | None = None) -> Any:
    from coinpurse.core.kinds import SettleDetails

    return SettleDetails(
        facts.hold, facts.account, facts.diamonds, facts.cash, facts.fee, facts.net, facts.rounding, facts.day,
        facts.expires, reason, facts.approval,
    )  # fmt: skip


def _approval_postings(book: Book, facts: rq.HoldFacts) -> tuple[Posting, ...]:
    """What approval posts: a redeem's postings at the cash the hold fixed, the diamonds from pending."""
    from coinpurse.core.names import pending_account

    currency = book.currency
    made = [
        Posting(pending_account(facts.account), DIAMOND, -facts.diamonds),
        Posting(DIAMOND_ISSUE, DIAMOND, facts.diamonds),
        Posting(PAYOUTS, currency, -tidy(facts.cash + facts.rounding)),
        Posting(facts.account, currency, facts.net),
    ]
    if facts.fee:
        made.append(Posting(REVENUE, currency, facts.fee))
    if facts.rounding:
        made.append(Posting(ROUNDING, currency, facts.rounding))
    return tuple(made)


def _facts_of(book: Book, req: Any, at: str, wanted: str) -> rq.HoldFacts:
    """The hold a settlement names, checked to be in ``wanted`` state now (verify's replay gives the recorded facts)."""
    if req.facts is not None:
        facts: rq.HoldFacts = req.facts
        return facts
    from coinpurse.core.payouts import hold_facts_for

    return hold_facts_for(book, req.hold, at, wanted, req.kind)


@exact_arithmetic
def plan_payout_approve(book: Book, req: rq.ApprovePayout, tx_id: str, at: str) -> Plan:
    from coinpurse.core.kinds import PayoutApproveRecord

    facts = _facts_of(book, req, at, "pending")
    postings = _approval_postings(book, facts)
    states = posted_states(book, postings)
    made = rq.ApprovePayout(req.hold)
    return Plan(PayoutApproveRecord(made, {}, _settle_details(facts)), postings, states)  # type: ignore[arg-type]


def _release(book: Book, facts: rq.HoldFacts) -> tuple[tuple[Posting, ...], dict[str, AccountState]]:
    from coinpurse.core.names import pending_account

    postings = (
        Posting(pending_account(facts.account), DIAMOND, -facts.diamonds),
        Posting(facts.account, DIAMOND, facts.diamonds),
    )
    states = posted_states(book, postings)
    states[facts.account] = _freed(states[facts.account], facts)
    return postings, states


@exact_arithmetic
def plan_payout_reject(book: Book, req: rq.RejectPayout, tx_id: str, at: str) -> Plan:
    from coinpurse.core.kinds import PayoutRejectRecord

    facts = _facts_of(book, req, at, "pending")
    postings, states = _release(book, facts)
    made = rq.RejectPayout(req.hold, req.reason)
    return Plan(PayoutRejectRecord(made, {}, _settle_details(facts, req.reason)), postings, states)  # type: ignore[arg-type]


@exact_arithmetic
def plan_payout_expire(book: Book, req: rq.ExpirePayout, tx_id: str, at: str) -> Plan:
    from coinpurse.core.kinds import PayoutExpireRecord

    facts = _facts_of(book, req, at, "expired")
    if at < facts.expires:
        raise Refused(f"payout {facts.hold} expires at {facts.expires}, not before", code="not_expired")
    postings, states = _release(book, facts)
    return Plan(PayoutExpireRecord(rq.ExpirePayout(req.hold), {}, _settle_details(facts)), postings, states)  # type: ignore[arg-type]


@exact_arithmetic
def plan_payout_return(book: Book, req: rq.ReturnPayout, tx_id: str, at: str) -> Plan:
    """The bank sent a paid payout back: the approval's postings undone, except that the diamonds go to
    the creator (not back to pending), and the room in the hold's day freed."""
    from coinpurse.core.kinds import PayoutReturnRecord
    from coinpurse.core.names import pending_account

    facts = _facts_of(book, req, at, "paid")
    pending = pending_account(facts.account)
    postings = tuple(
        Posting(facts.account if account == pending else account, commodity, -amount)
        for account, commodity, amount in _approval_postings(book, facts)
    )
    states = posted_states(book, postings)
    states[facts.account] = _freed(states[facts.account], facts)
    made = rq.ReturnPayout(req.hold, req.reason)
    return Plan(PayoutReturnRecord(made, {}, _settle_details(facts, req.reason)), postings, states)  # type: ignore[arg-type]


RULES["payout-hold"] = plan_payout_hold
RULES["payout-approve"] = plan_payout_approve
RULES["payout-reject"] = plan_payout_reject
RULES["payout-expire"] = plan_payout_expire
RULES["payout-return"] = plan_payout_return
