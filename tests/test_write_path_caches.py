"""What a bulk write remembers instead of asking its store again, and that it stays right."""

from __future__ import annotations

from pathlib import Path

from coinpurse import Ledger
from coinpurse.core.names import pending_account
from coinpurse.storage import write_book
from coinpurse.storage.sqlite import SqliteWriteBook


def test_a_sqlite_write_remembers_an_account_with_no_row_until_it_appends_one(tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.sqlite"
    Ledger(ledger).buy("alice", 700)
    with write_book(ledger) as book:
        assert isinstance(book, SqliteWriteBook)
        held = pending_account("mia")
        assert book.stored_account(held) is None and held in book._absent
        assert book.stored_account(held) is None  # answered without a query
        assert book.stored_account("alice") is not None and "alice" not in book._absent
    # A hold makes the pending account in the same write that first found it missing.
    Ledger(ledger).buy("bob", 17500)
    Ledger(ledger).buy("bob", 17500)
    ops = [
        {"kind": "gift", "sender": "bob", "recipient": "mia", "gift": "galaxy", "count": 20},
        {"kind": "redeem", "account": "mia", "diamonds": 20000, "hold": True},
        {"kind": "gift", "sender": "alice", "recipient": "mia", "gift": "rose"},
    ]
    report = Ledger(ledger).apply(ops)
    assert report.counts()["recorded"] == 3
    with write_book(ledger) as book:
        state = book.stored_account(pending_account("mia"))
        assert state is not None and state.diamonds == 20000
    assert Ledger(ledger).verify().ok


def test_a_handle_checked_once_is_answered_the_same_and_bad_ones_are_still_refused() -> None:
    import pytest

    from coinpurse.core import names
    from coinpurse.errors import BadInput

    assert names.normalize_handle(" @Alice ") == "alice"
    assert names._HANDLES[" @Alice "] == "alice"
    assert names.normalize_handle(" @Alice ") == "alice"  # from what was kept
    for bad in ("a", "Al ice", "x" * 25, "bob\x07", 7):
        with pytest.raises(BadInput):
            names.normalize_handle(bad)
        assert bad not in names._HANDLES

    class Text(str):  # a str subclass is checked every time, never kept
        pass

    assert names.normalize_handle(Text("Bob")) == "bob" and "Bob" not in names._HANDLES
    for number in range(names._HANDLES_KEPT + 10):  # the memory stays bounded
        names.normalize_handle(f"user{number}")
    assert len(names._HANDLES) <= names._HANDLES_KEPT


def test_each_digest_from_a_copy_of_one_fresh_hasher_is_a_blake2b_of_its_own() -> None:
    from hashlib import blake2b

    from coinpurse.core import chain
    from coinpurse.core.model import AccountState, Lot

    for text in ("", "0 0 0 0: ", "é" * 100, "x\n" * 5000):
        assert chain._digest(text) == blake2b(text.encode(), digest_size=chain.DIGEST_BYTES).hexdigest()
        assert chain._node(text.encode()) == blake2b(text.encode(), digest_size=chain.DIGEST_BYTES).digest()
    state = AccountState(
        5, 0, chain.Decimal("-1.98"), (Lot("b-1", 3, chain.Decimal("0.99")), Lot("b-2", 2, chain.Decimal("0.99")))
    )
    assert (
        chain.account_digest("alice", state) == chain.state_digest(state) == chain.state_digest(state, seen_again=False)
    )
    # A tree moved on op by op has the root of one made whole from the same digests.
    digests = {f"viewer{n}": chain._digest(str(n)) for n in range(300)}
    tree = chain.AccountTree.of({})
    for name, digest in digests.items():
        tree.update({name: digest, "platform:coin-issue": digest})
        tree.root()
    assert tree.root() == chain.AccountTree.of({**digests, "platform:coin-issue": digests["viewer299"]}).root()
