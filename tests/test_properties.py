"""Random sequences of buys, gifts, redeems, refunds and reversals keep the books balanced and match a simple model.

The machine drives the library (coinpurse.api) on a real JSON ledger and, after
every step, reads the file back and checks it against a model that knows only
coins and diamonds per user, each user's payouts per UTC day, and which buys'
coins each gift spent (for refunds' clawbacks and reversals' restored lots).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from coinpurse import Ledger, api
from coinpurse.errors import BadInput, Refused
from conftest import examples

USERS = ["alice", "bob", "mia"]
GIFTS = {"Rose": 1, "Finger Heart": 5, "Galaxy": 1000, "Interstellar": 10000, "Lion": 29999}
CASH_PER_DIAMOND = Decimal("0.005")
MINIMUM = Decimal("100.00")
DAILY_MAXIMUM = Decimal("1000.00")
START = datetime(2026, 3, 1, 12, tzinfo=UTC)


@dataclass(frozen=True)
class SentGift:
    """A gift as the model knows it: who, how many coins (one diamond each), and which buys' coins paid."""

    sender: str
    recipient: str
    coins: int
    draws: tuple[tuple[str, int], ...]  # (buy id, coins), first in first out


@dataclass(frozen=True)
class Done:
    """A request that succeeded with an id, kept to try it again."""

    kind: str
    args: tuple[Any, ...]
    result: dict[str, Any]


def _note(what: str) -> None:
    """Count an outcome in hypothesis's statistics (--hypothesis-show-statistics)."""
    if currently_in_test_context():
        event(what)


def _redeem_outcome(diamonds: int) -> tuple[Decimal, int]:
    """(cash, diamonds used) for a redeem of ``diamonds``: cash rounds down to the cent."""
    cash = (diamonds * CASH_PER_DIAMOND).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    used = int((cash / CASH_PER_DIAMOND).to_integral_value(rounding=ROUND_CEILING))
    return cash, used


class Wallet(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="coinpurse-props-"))
        self.ledger = self.folder / "ledger.json"
        self.coins: dict[str, int] = defaultdict(int)
        self.diamonds: dict[str, int] = defaultdict(int)
        self.paid: dict[tuple[str, str], Decimal] = defaultdict(Decimal)  # (user, UTC day) -> cash
        self.moment = START
        self.done: list[Done] = []
        self.ids = 0
        # Where each user's coins came from, for refunds and reversals: buy id -> coins left, in buy order.
        self.lots: dict[str, dict[str, int]] = defaultdict(dict)
        self.buys: dict[str, tuple[str, int]] = {}  # buy id -> (buyer, coins), in the order bought
        self.gifts: dict[str, SentGift] = {}  # gift id -> what it drew from which buys
        self.refunded: set[str] = set()
        self.reversed: set[str] = set()
        self.undone: list[Done] = []  # refunds and reversals made with an id, to try again

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- helpers ---------------------------------------------------------------------

    @property
    def now(self) -> str:
        return self.moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _bytes(self) -> bytes | None:
        return self.ledger.read_bytes() if self.ledger.exists() else None

    def _next_id(self, with_id: bool) -> str | None:
        if not with_id:
            return None
        self.ids += 1
        return f"req-{self.ids}"

    def _expect_refusal(self, call: Any, *args: Any, **kwargs: Any) -> None:
        before = self._bytes()
        try:
            call(self.ledger, *args, **kwargs)
        except Refused:
            pass
        else:
            raise AssertionError(f"expected a refusal for {call.__name__}{args}")
        assert self._bytes() == before, "a refusal changed the ledger"
        _note(f"{call.__name__} refused")

    # --- operations ------------------------------------------------------------------

    @initialize(funded=st.booleans())
    def start(self, funded: bool) -> None:
        """An empty economy, or one where mia can already cash out, so payouts get exercised."""
        assert not self.ledger.exists()
        if funded:
            self.buy("bob", 200_000, "web", False)
            self.gift("bob", "mia", "Lion", 3, False)

    @rule(
        user=st.sampled_from(USERS),
        coins=st.sampled_from([70, 700, 17500, 30, 1001, 60000, 200_000]),
        channel=st.sampled_from(["app", "web"]),
        with_id=st.booleans(),
    )
    def buy(self, user: str, coins: int, channel: str, with_id: bool) -> None:
        self._released_first(user)
        tx_id = self._next_id(with_id)
        result = api.buy(self.ledger, user, str(coins), channel, tx_id, now=self.now).to_dict()
        self.coins[user] += coins
        self._bought(user, result["id"], coins)
        assert result["balance"]["coins"] == self.coins[user]
        assert not result["replayed"]
        if tx_id:
            self.done.append(Done("buy", (user, str(coins), channel, tx_id), result))

    @rule(
        sender=st.sampled_from(USERS),
        recipient=st.sampled_from(USERS),
        gift=st.sampled_from(sorted(GIFTS)),
        count=st.integers(1, 3),
        with_id=st.booleans(),
    )
    def gift(self, sender: str, recipient: str, gift: str, count: int, with_id: bool) -> None:
        cost = GIFTS[gift] * count
        if sender == recipient or self.coins[sender] < cost:
            self._expect_refusal(api.gift, sender, recipient, gift, count, now=self.now)
            return
        self._released_first(sender, recipient)
        tx_id = self._next_id(with_id)
        result = api.gift(self.ledger, sender, recipient, gift, count, None, tx_id, now=self.now).to_dict()
        self.coins[sender] -= cost
        self.diamonds[recipient] += cost  # one diamond per coin
        self._drawn(sender, recipient, result["id"], cost)
        _note("gift sent")
        assert (result["coins"], result["diamonds"]) == (cost, cost)
        assert result["sender"]["coins"] == self.coins[sender]
        assert result["recipient"]["diamonds"] == self.diamonds[recipient]
        if tx_id:
            self.done.append(Done("gift", (sender, recipient, gift, count, None, tx_id), result))

    @rule(
        user=st.sampled_from(USERS),
        diamonds=st.one_of(
            st.none(), st.sampled_from([1, 19_999, 20_000, 20_001, 40_000, 200_001]), st.integers(1, 250_000)
        ),
        with_id=st.booleans(),
    )
    def redeem(self, user: str, diamonds: int | None, with_id: bool) -> None:
        undo = self._released_first(user)
        redeem_all = diamonds is None
        asked = self.diamonds[user] if redeem_all else diamonds
        assert asked is not None
        cash, used = _redeem_outcome(asked)
        day = self.now[:10]
        refused = (
            asked == 0 or asked > self.diamonds[user] or cash < MINIMUM or self.paid[(user, day)] + cash > DAILY_MAXIMUM
        )
        if refused:
            undo()
            self._expect_refusal(api.redeem, user, diamonds, redeem_all, now=self.now)
            return
        tx_id = self._next_id(with_id)
        result = api.redeem(self.ledger, user, diamonds, redeem_all, tx_id, now=self.now).to_dict()
        self.diamonds[user] -= used
        self.paid[(user, day)] += cash
        _note("redeem paid")
        assert (result["diamonds"], result["cash"], result["kept_diamonds"]) == (used, str(cash), asked - used)
        assert result["balance"]["diamonds"] == self.diamonds[user]
        if tx_id:
            self.done.append(Done("redeem", (user, diamonds, redeem_all, tx_id), result))

    @rule(hours=st.integers(0, 30))
    def time_passes(self, hours: int) -> None:
        self.moment += timedelta(hours=hours)

    @precondition(lambda self: bool(self.done))
    @rule(pick=st.integers(0, 10_000))
    def retry_with_the_same_id(self, pick: int) -> None:
        done = self.done[pick % len(self.done)]
        call = {"buy": api.buy, "gift": api.gift, "redeem": api.redeem}[done.kind]
        before = self._bytes()
        again = call(self.ledger, *done.args, now=self.now).to_dict()
        assert self._bytes() == before, "a replay wrote to the ledger"
        assert again == {**done.result, "replayed": True}

    @precondition(lambda self: bool(self.done))
    @rule(pick=st.integers(0, 10_000))
    def reuse_an_id_for_another_request(self, pick: int) -> None:
        done = self.done[pick % len(self.done)]
        tx_id = done.result["id"]
        before = self._bytes()
        try:
            # More diamonds than any rule here lets anyone redeem, so never a stored request.
            api.redeem(self.ledger, "alice", 999_999, False, tx_id, now=self.now)
        except Refused as error:
            assert error.code == "id_conflict"
        else:
            raise AssertionError("an id was reused for a different request")
        assert self._bytes() == before

    @rule(user=st.sampled_from(["a", "platform:revenue", "al ice"]))
    def bad_name(self, user: str) -> None:
        before = self._bytes()
        try:
            api.buy(self.ledger, user, "700", now=self.now)
        except BadInput:
            pass
        else:
            raise AssertionError(f"{user!r} was accepted as a name")
        assert self._bytes() == before

    # --- invariants ------------------------------------------------------------------

    def _document(self) -> dict[str, Any]:
        if not self.ledger.exists():
            return {"accounts": {}, "transactions": []}
        return json.loads(self.ledger.read_text(), parse_float=Decimal)  # type: ignore[no-any-return]

    @invariant()
    def every_transaction_balances_per_commodity(self) -> None:
        for tx in self._document()["transactions"]:
            sums: dict[str, Decimal] = defaultdict(Decimal)
            for posting in tx["postings"]:
                amount = posting["amount"]
                assert isinstance(amount, int | str), f"money must be an int or a string: {amount!r}"
                sums[posting["commodity"]] += Decimal(amount)
            assert all(total == 0 for total in sums.values()), (tx["id"], dict(sums))

    @invariant()
    def every_commodity_sums_to_zero_over_all_accounts(self) -> None:
        accounts = self._document()["accounts"]
        assert sum(a["coins"] for a in accounts.values()) == 0
        assert sum(a["diamonds"] for a in accounts.values()) == 0
        assert sum((Decimal(a["cash"]) for a in accounts.values()), Decimal()) == 0

    @invariant()
    def balances_equal_the_model(self) -> None:
        accounts = self._document()["accounts"]
        users = {name: state for name, state in accounts.items() if not name.startswith("platform:")}
        for user in USERS:
            state = users.get(user, {"coins": 0, "diamonds": 0})
            assert (state["coins"], state["diamonds"]) == (self.coins[user], self.diamonds[user]), user
        if self.ledger.exists():
            listed = {
                a["account"]: (a["coins"], a["diamonds"]) for a in api.balances(self.ledger).to_dict()["accounts"]
            }
            assert listed == {name: (s["coins"], s["diamonds"]) for name, s in users.items()}

    @invariant()
    def each_users_lots_hold_exactly_their_coins(self) -> None:
        for name, state in self._document()["accounts"].items():
            if name.startswith("platform:"):
                continue
            lots = state.get("lots", [])
            assert sum(lot[1] for lot in lots) == state["coins"], name
            assert all(lot[1] > 0 and Decimal(lot[2]) >= 0 for lot in lots), (name, lots)

    # --- held payouts: holds, their approval, rejection, return and expiry ----------------

    @property
    def holds(self) -> dict[str, dict[str, Any]]:
        """Each hold asked for: its user, diamonds, cash, day, expiry and state, by id (made on first use)."""
        if not hasattr(self, "_holds"):
            self._holds: dict[str, dict[str, Any]] = {}
            self.hold_ids = 0
        return self._holds

    def _free(self, hold: dict[str, Any]) -> None:
        """The diamonds back to the creator, the cash out of its day's payouts."""
        self.diamonds[hold["user"]] += hold["used"]
        self.paid[(hold["user"], hold["day"])] -= hold["cash"]

    def _released_first(self, *users: str) -> Any:
        """What the next write touching these users records first: the release of their holds expired by now.
        Returns an undo for the model, for a write that is then refused (it records nothing)."""
        saved = (
            defaultdict(int, self.diamonds),
            defaultdict(Decimal, self.paid),
            {k: dict(v) for k, v in self.holds.items()},
        )
        for hold in self.holds.values():
            if hold["user"] in users and hold["state"] == "pending" and hold["expires"] <= self.now:
                self._free(hold)
                hold["state"] = "expired"
                _note("hold released by a later write")

        def undo() -> None:
            self.diamonds, self.paid, self._holds = saved

        return undo

    def _refused(self, call: Any) -> None:
        before = self._bytes()
        try:
            call()
        except Refused:
            pass
        else:
            raise AssertionError("expected a refusal")
        assert self._bytes() == before, "a refusal changed the ledger"

    @rule(
        user=st.sampled_from(["mia", "mia", "mia", "bob", "alice"]),  # mia is the one a funded start pays
        diamonds=st.one_of(st.none(), st.sampled_from([20_000, 20_001, 40_000, 200_001])),
        with_id=st.booleans(),
    )
    def hold(self, user: str, diamonds: int | None, with_id: bool) -> None:
        from coinpurse import Ledger

        undo = self._released_first(user)
        asked = self.diamonds[user] if diamonds is None else diamonds
        cash, used = _redeem_outcome(asked)
        day = self.now[:10]
        if asked == 0 or asked > self.diamonds[user] or cash < MINIMUM or self.paid[(user, day)] + cash > DAILY_MAXIMUM:
            undo()
            self._refused(lambda: Ledger(self.ledger).redeem(user, diamonds, diamonds is None, now=self.now, hold=True))
            return
        self.holds  # noqa: B018  # made before its counter is used
        self.hold_ids += 1
        tx_id = f"hold-{self.hold_ids}" if with_id else None
        result = Ledger(self.ledger).redeem(user, diamonds, diamonds is None, tx_id, now=self.now, hold=True).to_dict()
        self.diamonds[user] -= used
        self.paid[(user, day)] += cash
        expires = (self.moment + timedelta(days=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.holds[result["id"]] = {
            "user": user,
            "used": used,
            "cash": cash,
            "day": day,
            "expires": expires,
            "state": "pending",
        }
        _note("payout held")
        assert (result["diamonds"], result["cash"], result["expires"]) == (used, str(cash), expires)
        assert result["balance"]["diamonds"] == self.diamonds[user]
        if tx_id:
            again = (
                Ledger(self.ledger).redeem(user, diamonds, diamonds is None, tx_id, now=self.now, hold=True).to_dict()
            )
            assert again == {**result, "replayed": True}

    @precondition(lambda self: bool(self.holds))
    @rule(pick=st.integers(0, 10_000), how=st.sampled_from(["approve", "reject", "return"]))
    def settle(self, pick: int, how: str) -> None:
        from coinpurse import Ledger

        hold_id = sorted(self.holds)[pick % len(self.holds)]
        hold = self.holds[hold_id]
        ledger = Ledger(self.ledger)
        calls = {
            "approve": lambda: ledger.payout_approve(hold_id, now=self.now),
            "reject": lambda: ledger.payout_reject(hold_id, "checks", now=self.now),
            "return": lambda: ledger.payout_return(hold_id, "bank", now=self.now),
        }
        expired = hold["state"] == "pending" and hold["expires"] <= self.now
        allowed = hold["state"] == ("paid" if how == "return" else "pending") and not expired
        if not allowed:
            self._refused(calls[how])
            _note(f"{how} refused")
            return
        self._released_first(hold["user"])  # the user's other expired holds
        result = calls[how]().to_dict()
        hold["state"] = {"approve": "paid", "reject": "rejected", "return": "returned"}[how]
        if how != "approve":
            self._free(hold)
        _note(f"payout {hold['state']}")
        assert (result["payout"], result["cash"], result["state"]) == (hold_id, str(hold["cash"]), hold["state"])
        assert result["balance"]["diamonds"] == self.diamonds[hold["user"]]

    @precondition(lambda self: bool(self.holds))
    @rule()
    def expire_due_holds(self) -> None:
        from coinpurse import Ledger

        due = sorted(k for k, h in self.holds.items() if h["state"] == "pending" and h["expires"] <= self.now)
        done = Ledger(self.ledger).payout_expire(now=self.now).to_dict()
        assert sorted(r["payout"] for r in done["released"]) == due
        for hold_id in due:
            self._free(self.holds[hold_id])
            self.holds[hold_id]["state"] = "expired"
            _note("hold expired by payout expire")

    @invariant()
    def pending_accounts_hold_the_pending_diamonds(self) -> None:
        accounts = self._document()["accounts"]
        for user in USERS:
            held = sum(h["used"] for h in self.holds.values() if h["user"] == user and h["state"] == "pending")
            stored = accounts.get(f"platform:payouts-pending:{user}", {"diamonds": 0})["diamonds"]
            assert stored == held, user

    @rule(days=st.integers(1, 20))
    def days_pass(self, days: int) -> None:
        """Long enough for holds to expire (15 days of review)."""
        self.moment += timedelta(days=days)

    # --- refunds, clawbacks and reversals ------------------------------------------------

    def _bought(self, user: str, buy_id: str, coins: int) -> None:
        self.buys[buy_id] = (user, coins)
        self.lots[user][buy_id] = coins  # a new buy is the newest lot: dicts keep the order

    def _in_buy_order(self, user: str) -> list[str]:
        order = {buy_id: place for place, buy_id in enumerate(self.buys)}
        return sorted(self.lots[user], key=order.__getitem__)

    def _drawn(self, sender: str, recipient: str, gift_id: str, coins: int) -> None:
        """The gift takes its coins from the sender's lots, first in first out."""
        draws, need = [], coins
        for buy_id in self._in_buy_order(sender):
            if not need:
                break
            take = min(need, self.lots[sender][buy_id])
            draws.append((buy_id, take))
            need -= take
            if take == self.lots[sender][buy_id]:
                del self.lots[sender][buy_id]
            else:
                self.lots[sender][buy_id] -= take
        assert not need, "every coin here comes from a buy"
        self.gifts[gift_id] = SentGift(sender, recipient, coins, tuple(draws))

    def _expect_refused(self, code: str, call: Any, *args: Any, **kwargs: Any) -> None:
        """A refusal with ``code`` that leaves the ledger's bytes as they were."""
        before = self._bytes()
        try:
            call(*args, **kwargs)
        except Refused as error:
            assert error.code == code, (code, error.code, error.message)
        else:
            raise AssertionError(f"expected a refusal ({code}) for {call.__name__}{args}")
        assert self._bytes() == before, "a refusal changed the ledger"
        _note(f"{call.__name__} refused: {code}")

    @precondition(lambda self: bool(self.buys))
    @rule(pick=st.integers(0, 10_000), clawback=st.booleans(), with_id=st.booleans())
    def refund(self, pick: int, clawback: bool, with_id: bool) -> None:
        buy_id = list(self.buys)[pick % len(self.buys)]
        user, coins = self.buys[buy_id]
        wallet = Ledger(self.ledger)
        if buy_id in self.refunded:
            self._expect_refused("already_refunded", wallet.refund, buy_id, clawback, now=self.now)
            return
        spenders = [
            (gift_id, sent.recipient, drawn)
            for gift_id, sent in self.gifts.items()
            if gift_id not in self.reversed
            for source, drawn in sent.draws
            if source == buy_id
        ]
        unspent = self.lots[user].get(buy_id, 0)
        assert sum(drawn for _, _, drawn in spenders) == coins - unspent
        if spenders and not clawback:
            self._expect_refused("coins_spent", wallet.refund, buy_id, clawback, now=self.now)
            return
        # The buyer's and the clawed-back creators' holds expired by now are released first.
        self._released_first(user, *{creator for _, creator, _ in spenders})
        tx_id = self._next_id(with_id)
        result = wallet.refund(buy_id, clawback, tx_id, now=self.now).to_dict()
        self.refunded.add(buy_id)
        self.lots[user].pop(buy_id, None)
        self.coins[user] -= unspent
        for _, creator, drawn in spenders:
            self.diamonds[creator] -= drawn  # one diamond per coin: no remainder stays
        _note("refund with clawbacks" if spenders else "refund of unspent coins")
        if any(self.diamonds[creator] < 0 for _, creator, _ in spenders):
            _note("refund left a creator owing")
        assert (result["coins_removed"], result["spent"]) == (unspent, coins - unspent)
        clawed = [(c["gift"], c["creator"], c["coins"], c["diamonds"], c["remainder"]) for c in result["clawbacks"]]
        assert clawed == [
            (gift_id, creator, drawn, drawn, f"0/{self.gifts[gift_id].coins}") for gift_id, creator, drawn in spenders
        ]
        assert result["balance"]["coins"] == self.coins[user]
        assert {b["account"]: b["diamonds"] for b in result["creators"]} == {
            creator: self.diamonds[creator] for _, creator, _ in spenders
        }
        if tx_id:
            self.undone.append(Done("refund", (buy_id, clawback, tx_id), result))

    @precondition(lambda self: bool(self.gifts))
    @rule(pick=st.integers(0, 10_000), with_id=st.booleans())
    def reverse(self, pick: int, with_id: bool) -> None:
        gift_id = list(self.gifts)[pick % len(self.gifts)]
        sent = self.gifts[gift_id]
        wallet = Ledger(self.ledger)
        undo = self._released_first(sent.sender, sent.recipient)  # a refused reversal records no release either
        if gift_id in self.reversed:
            undo()
            self._expect_refused("already_reversed", wallet.reverse, gift_id, "again", now=self.now)
            return
        if any(source in self.refunded for source, _ in sent.draws):
            undo()
            self._expect_refused("lot_refunded", wallet.reverse, gift_id, "paid by a refunded buy", now=self.now)
            return
        if self.diamonds[sent.recipient] < sent.coins:
            undo()
            self._expect_refused("insufficient_diamonds", wallet.reverse, gift_id, "spent", now=self.now)
            return
        tx_id = self._next_id(with_id)
        result = wallet.reverse(gift_id, "wrong creator", tx_id, now=self.now).to_dict()
        self.reversed.add(gift_id)
        self.coins[sent.sender] += sent.coins
        self.diamonds[sent.recipient] -= sent.coins
        for source, drawn in sent.draws:  # back into the same lots, which stay in buy order
            self.lots[sent.sender][source] = self.lots[sent.sender].get(source, 0) + drawn
        _note("gift reversed")
        assert (result["original"], result["coins"], result["diamonds"]) == (gift_id, sent.coins, sent.coins)
        assert [(lot["source"], lot["coins"]) for lot in result["lots_restored"]] == list(sent.draws)
        assert result["sender"]["coins"] == self.coins[sent.sender]
        assert result["recipient"]["diamonds"] == self.diamonds[sent.recipient]
        if tx_id:
            self.undone.append(Done("reversal", (gift_id, "wrong creator", tx_id), result))

    @precondition(lambda self: any(self.diamonds[user] < 0 for user in USERS))
    @rule(pick=st.integers(0, 10_000), diamonds=st.one_of(st.none(), st.integers(1, 250_000)))
    def redeem_while_owing(self, pick: int, diamonds: int | None) -> None:
        """A creator left owing by a clawback can redeem nothing, whatever they ask."""
        owing = [user for user in USERS if self.diamonds[user] < 0]
        user = owing[pick % len(owing)]
        undo = self._released_first(user)  # a refused redeem records no release: the model is put back below
        still_owing = self.diamonds[user] < 0
        undo()
        if not still_owing:  # a hold expired by now gives back enough: that redeem is an ordinary one
            return
        before = self._bytes()
        try:
            api.redeem(self.ledger, user, diamonds, diamonds is None, now=self.now)
        except Refused as error:
            assert error.code == "insufficient_diamonds" and "owes" in error.message, error.message
        else:
            raise AssertionError(f"{user} redeemed while owing diamonds")
        assert self._bytes() == before
        _note("redeem refused: owing")

    @precondition(lambda self: bool(self.undone))
    @rule(pick=st.integers(0, 10_000))
    def retry_a_refund_or_reversal_with_the_same_id(self, pick: int) -> None:
        done = self.undone[pick % len(self.undone)]
        wallet = Ledger(self.ledger)
        call = wallet.refund if done.kind == "refund" else wallet.reverse
        before = self._bytes()
        again = call(*done.args, now=self.now).to_dict()
        assert self._bytes() == before, "a replay wrote to the ledger"
        assert again == {**done.result, "replayed": True}

    @invariant()
    def each_users_lots_are_the_models(self) -> None:
        for name, state in self._document()["accounts"].items():
            if not name.startswith("platform:"):
                held = [(lot[0], lot[1]) for lot in state.get("lots", [])]
                assert held == [(source, self.lots[name][source]) for source in self._in_buy_order(name)], name

    @invariant()
    def verify_passes(self) -> None:
        now = self._bytes()
        if now is not None and now != getattr(self, "_verified", None):  # a refusal or a replay wrote nothing new
            report = api.verify(self.ledger)
            assert report.ok, report.summary()
            self._verified = now


Wallet.TestCase.settings = settings(
    max_examples=examples(25),
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# With refunds and reversals a run takes a few seconds: the quick loop keeps the fixed sequences below.
TestWallet = pytest.mark.slow(Wallet.TestCase)


def test_the_model_agrees_on_a_known_sequence() -> None:
    """A fixed run through the same checks, so a broken model fails loudly even without hypothesis's luck."""
    machine = Wallet()
    try:
        machine.start(funded=False)
        machine.buy("bob", 60000, "app", True)
        machine.gift("bob", "mia", "Interstellar", 3, False)
        machine.gift("bob", "mia", "Rose", 1, True)
        machine.redeem("mia", None, True)  # 30,001 diamonds: $150.00 and one stays
        assert machine.diamonds["mia"] == 1
        machine.redeem("mia", 1, False)  # refused: worth less than a cent
        machine.gift("mia", "mia", "Rose", 1, False)  # refused: to oneself
        machine.buy("alice", 1001, "web", False)
        machine.gift("alice", "bob", "Galaxy", 1, False)
        machine.gift("alice", "bob", "Rose", 1, False)  # spends exactly the rest of a lot
        machine.each_users_lots_hold_exactly_their_coins()
        machine.retry_with_the_same_id(0)
        machine.reuse_an_id_for_another_request(1)
        machine.every_transaction_balances_per_commodity()
        machine.every_commodity_sums_to_zero_over_all_accounts()
        machine.balances_equal_the_model()
        machine.each_users_lots_hold_exactly_their_coins()
    finally:
        machine.teardown()


def test_the_model_agrees_on_held_payouts() -> None:
    """A fixed run through every payout rule: hold, approve, reject, return, and expiry both ways."""
    machine = Wallet()
    try:
        machine.start(funded=True)  # mia: 89,997 diamonds
        machine.hold("mia", 20_000, True)  # hold-1
        machine.hold("mia", 40_000, False)  # tx-4
        machine.hold("mia", 200_001, False)  # refused: more than she has
        machine.settle(0, "approve")  # hold-1 paid
        machine.settle(0, "approve")  # refused: already paid
        machine.settle(0, "return")  # hold-1 returned
        machine.settle(1, "return")  # refused: tx-4 is not paid
        machine.settle(1, "reject")  # tx-4 rejected
        machine.hold("mia", 20_000, False)  # tx-8
        machine.days_pass(16)
        machine.settle(2, "approve")  # refused: expired
        machine.gift("bob", "mia", "Rose", 1, False)  # releases tx-8 first
        assert machine.holds["tx-8"]["state"] == "expired"
        machine.hold("mia", 20_000, False)
        machine.days_pass(16)
        machine.expire_due_holds()
        for check in (
            machine.every_transaction_balances_per_commodity,
            machine.every_commodity_sums_to_zero_over_all_accounts,
            machine.balances_equal_the_model,
            machine.pending_accounts_hold_the_pending_diamonds,
        ):
            check()
        assert {h["state"] for h in machine.holds.values()} == {"returned", "rejected", "expired"}
        assert api.verify(machine.ledger).ok
    finally:
        machine.teardown()


def test_the_model_agrees_on_refunds_clawbacks_and_reversals() -> None:
    """Each refund and reversal path once, in a fixed order: the rules above reach some of them only by luck."""
    machine = Wallet()
    try:
        machine.start(funded=False)
        machine.buy("bob", 60000, "app", True)  # req-1
        machine.gift("bob", "mia", "Interstellar", 3, False)
        machine.gift("bob", "alice", "Galaxy", 1, False)
        interstellar, galaxy = list(machine.gifts)
        machine.redeem("mia", None, False)  # all 30,000 diamonds: $150.00
        machine.reverse(list(machine.gifts).index(interstellar), False)  # refused: mia holds none of them now
        machine.reverse(list(machine.gifts).index(galaxy), True)
        machine.reverse(list(machine.gifts).index(galaxy), False)  # refused: already reversed
        machine.refund(0, False, False)  # refused: 30,000 of its coins were spent
        machine.refund(0, True, True)  # clawback: mia owes 30,000 diamonds
        assert machine.diamonds["mia"] == -30000 and machine.coins["bob"] == 0
        machine.redeem_while_owing(0, None)
        machine.redeem_while_owing(0, 100)
        machine.refund(0, True, False)  # refused: already refunded
        machine.buy("alice", 60000, "web", False)
        machine.gift("alice", "mia", "Interstellar", 3, False)  # repays mia's debt exactly
        assert machine.diamonds["mia"] == 0
        machine.reverse(list(machine.gifts).index(interstellar), False)  # refused: its buy was refunded
        machine.retry_a_refund_or_reversal_with_the_same_id(0)
        machine.retry_a_refund_or_reversal_with_the_same_id(1)
        machine.every_transaction_balances_per_commodity()
        machine.every_commodity_sums_to_zero_over_all_accounts()
        machine.balances_equal_the_model()
        machine.each_users_lots_hold_exactly_their_coins()
        machine.each_users_lots_are_the_models()
        machine.verify_passes()
    finally:
        machine.teardown()
