"""What each transaction records it leaves behind (``state``), and the digests behind it."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path

from coinpurse.core.chain import AccountTree, rates_digest, state_digest
from coinpurse.core.model import AccountState, Lot
from coinpurse.storage import read_book
from conftest import Cli, examples
from ledger_tools import seed


def test_each_transaction_records_the_rates_and_the_accounts_it_changed(cli) -> None:
    seed(cli)
    assert cli("rates", "set", "gift.Rose.coins", "2").exit_code == 0
    book = read_book(cli.ledger)
    transactions = list(book.iter_transactions())
    gift = transactions[1]
    assert gift.state is not None and set(gift.state.accounts) == {p.account for p in gift.postings}
    change = transactions[-1]
    every = {name: state_digest(state) for name, state in book.all_accounts().items()}
    assert change.state is not None
    assert change.state.to_dict() == {
        "rates": rates_digest(book.rates),
        "accounts": {},
        "root": AccountTree.of(every).root(),
    }
    for name, state in book.all_accounts().items():
        last = next(tx for tx in reversed(transactions) if tx.state and name in tx.state.accounts)
        assert last.state is not None and last.state.accounts[name] == state_digest(state)


def test_digests_go_by_value() -> None:
    one = AccountState(5, 0, Decimal("-9.90"), (Lot("tx-1", 5, Decimal("0.100")),))
    same = AccountState(5, 0, Decimal("-9.9"), (Lot("tx-1", 5, Decimal("0.1")),))
    assert state_digest(one) == state_digest(same)
    assert state_digest(one) != state_digest(one._replace(coins=6))
    assert state_digest(one) != state_digest(one._replace(lots=(Lot("tx-2", 5, Decimal("0.1")),)))
    assert state_digest(one) != state_digest(one._replace(payout_day="2026-03-01"))


def test_a_sqlite_write_checks_the_head_through_indexes_only(tmp_path: Path) -> None:
    """The head checks cost the same at any history length: every query they make is an index search."""
    from coinpurse.storage.sqlite import SqliteBook

    ledger = tmp_path / "ledger.sqlite"
    seed(Cli(ledger))
    with closing(sqlite3.connect(ledger, isolation_level=None)) as db:
        statements: list[str] = []
        db.set_trace_callback(statements.append)
        book = SqliteBook(db, ledger)
        book.begin_write()
        for name in ("alice", "mia", "platform:revenue", "nobody"):
            book.account(name)
        db.set_trace_callback(None)
        checks = [sql for sql in statements if any(table in sql for table in ("transactions", "postings", "_digests"))]
        assert any("account_digests" in sql for sql in checks)
        for sql in checks:
            if sql.endswith("ORDER BY seq DESC LIMIT 1"):
                continue  # the head: the last row of the table, whatever its length
            if sql == "SELECT bucket, digest FROM bucket_digests":
                continue  # at most 4,096 rows, whatever the history's length
            plan = " ".join(str(row[-1]) for row in db.execute("EXPLAIN QUERY PLAN " + sql))
            assert "SCAN" not in plan, (sql, plan)


def _scenario(path: Path, ops: list[dict[str, object]]) -> Path:
    import json

    path.write_text(json.dumps({"ops": ops}))
    return path


def test_a_bulk_apply_checks_every_account_it_reads_even_past_the_first_few(ledger: Path, tmp_path: Path) -> None:
    """After a few searches the head checks index every account recorded; the answers stay the same."""
    from ledger_tools import load, restore, save

    cli = Cli(ledger)
    viewers = [f"viewer{n:02d}" for n in range(30)]
    buys = _scenario(tmp_path / "buys.json", [{"kind": "buy", "account": name, "coins": 700} for name in viewers])
    assert cli("apply", str(buys)).exit_code == 0
    gifts = [{"kind": "gift", "sender": name, "recipient": "mia", "gift": "Rose"} for name in viewers]
    newcomers = [{"kind": "buy", "account": f"new{n:02d}", "coins": 70} for n in range(30)]
    scenario = _scenario(tmp_path / "gifts.json", gifts + newcomers)
    original = ledger.read_bytes()
    if ledger.suffix == ".json":  # a hand edit of the head that keeps the history's lines and checksum
        head, opener, history = original.partition(b'\n  "transactions": [\n')
        ledger.write_bytes(
            head.replace(b'"viewer25": {"coins": 700,', b'"viewer25": {"coins": 7000,') + opener + history
        )
    else:
        document = load(ledger)
        document["accounts"]["viewer25"]["coins"] = 7000
        save(ledger, document)
    before = ledger.read_bytes()
    assert before != original
    refused = cli("apply", str(scenario))
    assert refused.exit_code == 3 and "account 'viewer25'" in refused.stderr
    assert ledger.read_bytes() == before
    restore(ledger, original)
    assert cli("apply", str(scenario)).exit_code == 0
    assert cli("verify").exit_code == 0


# ----- the tree over every account's state ------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_names = st.text(alphabet="abcdefghij:", min_size=1, max_size=4)
_digests = st.sampled_from(["0" * 31 + str(n) for n in range(10)])


@settings(max_examples=examples(200), deadline=None)
@given(
    start=st.dictionaries(_names, _digests, max_size=30),
    steps=st.lists(st.dictionaries(_names, _digests, max_size=4), max_size=8),
)
def test_a_tree_moved_on_step_by_step_has_the_root_of_one_built_from_the_end(start, steps) -> None:
    from coinpurse.core.chain import AccountTree

    tree = AccountTree.of(start)
    final = dict(start)
    for step in steps:
        tree.update(step)
        final.update(step)
        assert tree.root() == AccountTree.of(final).root()
    assert (tree.root() == AccountTree.of(start).root()) == (final == start)  # any change shows in the root


def test_a_bucket_whose_entries_do_not_give_its_digest_is_refused() -> None:
    from coinpurse.core.chain import BUCKETS, EMPTY_BUCKET, AccountTree, DamagedRecord, bucket_digest, bucket_of

    bucket = bucket_of("alice")
    digests = [EMPTY_BUCKET] * BUCKETS
    digests[bucket] = bucket_digest({"alice": "1" * 32})
    tree = AccountTree(digests, lambda wanted: {"alice": "2" * 32} if wanted == bucket else {})
    assert tree.recorded("bob") is None or bucket_of("bob") == bucket
    try:
        tree.recorded("alice")
    except DamagedRecord as error:
        assert f"bucket {bucket}" in str(error)
    else:
        raise AssertionError("a bucket that does not give its digest was read")
