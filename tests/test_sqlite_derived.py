"""What a SQLite ledger derives from its stored bodies can't fool coinpurse: ids, kinds, times, the postings index.

Each test edits the file with plain SQL, the way anyone with the file could,
then runs coinpurse as a real process.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from conftest import Cli
from ledger_tools import as_sqlite_schema_2 as _as_schema_2

# What someone who wants an editable id column on schema 3 has to do: rebuild the table.
PLAIN_COLUMNS = """CREATE TABLE transactions (
    seq INTEGER PRIMARY KEY, body TEXT NOT NULL, hash TEXT NOT NULL, id TEXT NOT NULL UNIQUE, kind TEXT, at TEXT
)"""


def _sql(ledger: Path, *statements: str) -> None:
    with closing(sqlite3.connect(ledger)) as db, db:
        for statement in statements:
            db.execute(statement)


def _schema(ledger: Path) -> str:
    with closing(sqlite3.connect(ledger)) as db:
        return str(db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0])


def _rebuild_transactions(ledger: Path, create: str, columns: str) -> None:
    _sql(
        ledger,
        "ALTER TABLE transactions RENAME TO original",
        create,
        f"INSERT INTO transactions ({columns}) SELECT {columns} FROM original",
        "DROP TABLE original",
    )


def _edit_id_column(ledger: Path, old: str, new: str) -> None:
    """Change a transaction's id column, rebuilding the table if SQLite refuses the plain UPDATE."""
    update = f"UPDATE transactions SET id = '{new}' WHERE id = '{old}'"
    try:
        _sql(ledger, update)
    except sqlite3.OperationalError:  # a generated column
        _rebuild_transactions(ledger, PLAIN_COLUMNS, "seq, body, hash, id, kind, at")
        _sql(ledger, update)


def _coinpurse(ledger: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), *args], capture_output=True, text=True, timeout=120
    )


def _charges(ledger: Path) -> int:
    with closing(sqlite3.connect(ledger)) as db:
        return int(db.execute("SELECT count(*) FROM transactions").fetchone()[0])


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Cli:
    cli = Cli(tmp_path / "l.sqlite")
    assert cli("buy", "alice", "700", "--id", "order-1").exit_code == 0
    return cli


# --- the id lookup that makes retries safe ------------------------------------------------


@pytest.mark.faults
def test_an_edited_id_column_never_makes_a_retry_charge_twice(sqlite_cli: Cli) -> None:
    ledger = sqlite_cli.ledger
    _edit_id_column(ledger, "order-1", "elsewhere")
    before = ledger.read_bytes()
    retry = _coinpurse(ledger, "buy", "alice", "700", "--id", "order-1", "--json")
    assert _charges(ledger) == 1
    assert retry.returncode == 3, retry.stdout
    assert "table 'transactions'" in json.loads(retry.stderr)["error"]["message"]
    assert ledger.read_bytes() == before


@pytest.mark.faults
def test_a_schema_2_ledger_with_an_edited_id_replays_the_retry_on_its_first_write(sqlite_cli: Cli) -> None:
    ledger = sqlite_cli.ledger
    _as_schema_2(ledger)
    _edit_id_column(ledger, "order-1", "elsewhere")
    retry = _coinpurse(ledger, "buy", "alice", "700", "--id", "order-1", "--json")
    assert retry.returncode == 0, retry.stderr
    assert json.loads(retry.stdout)["replayed"] is True
    assert _charges(ledger) == 1 and _schema(ledger) == "2"  # a replay writes nothing, so nothing moved yet
    bought = _coinpurse(ledger, "buy", "bob", "700", "--json")
    assert bought.returncode == 0, bought.stderr
    assert _schema(ledger) == "5" and _charges(ledger) == 2
    assert ledger.with_name("l.sqlite.v2.bak").exists()
    again = _coinpurse(ledger, "buy", "alice", "700", "--id", "order-1", "--json")
    assert json.loads(again.stdout)["replayed"] is True and _charges(ledger) == 2
    assert _coinpurse(ledger, "verify").returncode == 0


def test_a_schema_2_ledger_reads_verifies_and_moves_to_schema_5_on_its_first_write(sqlite_cli: Cli) -> None:
    ledger = sqlite_cli.ledger
    sqlite_cli("gift", "alice", "mia", "rose", "-n", "5")
    _as_schema_2(ledger)
    before = ledger.read_bytes()
    assert sqlite_cli.json("balance", "mia")["diamonds"] == 5
    assert [tx["kind"] for tx in sqlite_cli.json("history", "mia")["transactions"]] == ["gift"]
    assert sqlite_cli.json("verify")["ok"] is True
    assert sqlite_cli("gift", "alice", "mia", "lion").exit_code == 1  # refused: nothing moves, nothing is kept
    assert ledger.read_bytes() == before
    backup = ledger.with_name("l.sqlite.v2.bak")
    assert not backup.exists()
    assert sqlite_cli("gift", "alice", "mia", "rose").exit_code == 0
    assert _schema(ledger) == "5" and _schema(backup) == "2"
    readable = backup.with_name("backup.sqlite")
    readable.write_bytes(backup.read_bytes())
    assert Cli(readable).json("history")["transactions"] == sqlite_cli.json("history")["transactions"][:2]
    assert sqlite_cli.json("verify")["ok"] is True


def test_a_schema_2_ledger_whose_bodies_share_an_id_is_refused_on_its_first_write(sqlite_cli: Cli) -> None:
    ledger = sqlite_cli.ledger
    sqlite_cli("buy", "bob", "700")
    _as_schema_2(ledger)
    _sql(ledger, "UPDATE transactions SET body = replace(body, '\"tx-2\"', '\"order-1\"') WHERE seq = 2")
    before = ledger.read_bytes()
    result = sqlite_cli("buy", "carol", "700", "--json")
    assert result.exit_code == 3
    assert "schema 2 to 5" in json.loads(result.stderr)["error"]["message"]
    assert ledger.read_bytes() == before


# --- verify checks every derived row ---------------------------------------------------------

EDITS = {
    "kind column (schema 2)": (True, ["UPDATE transactions SET kind = 'redeem' WHERE seq = 2"], "column_mismatch"),
    "at column (schema 2)": (
        True,
        ["UPDATE transactions SET at = '2020-01-01T00:00:00Z' WHERE seq = 2"],
        "column_mismatch",
    ),
    "id column (schema 2)": (True, ["UPDATE transactions SET id = 'other' WHERE seq = 2"], "column_mismatch"),
    "postings row deleted": (False, ["DELETE FROM postings WHERE account = 'mia'"], "postings_index_missing"),
    "postings row added": (False, ["INSERT INTO postings VALUES ('bob', 1)"], "postings_index_extra"),
    "postings row for no transaction": (False, ["INSERT INTO postings VALUES ('alice', 99)"], "postings_index_extra"),
    "seq renumbered": (False, ["UPDATE transactions SET seq = 7 WHERE seq = 2"], "seq_gap"),
}


@pytest.mark.faults
@pytest.mark.parametrize("edit", list(EDITS))
def test_verify_names_a_derived_row_that_disagrees_with_the_bodies(sqlite_cli: Cli, edit: str) -> None:
    ledger = sqlite_cli.ledger
    sqlite_cli("buy", "bob", "700")
    sqlite_cli("gift", "alice", "mia", "rose", "-n", "5")
    old_layout, statements, code = EDITS[edit]
    if old_layout:
        _as_schema_2(ledger)
    _sql(ledger, *statements)
    result = _coinpurse(ledger, "verify", "--json")
    assert result.returncode == 3, result.stdout
    assert code in [problem["code"] for problem in json.loads(result.stdout)["problems"]]


LAYOUT_EDITS = {
    "a plain kind column": (["ALTER TABLE transactions RENAME TO original", PLAIN_COLUMNS,
                             "INSERT INTO transactions SELECT seq, body, hash, id, kind, at FROM original",
                             "DROP TABLE original", "UPDATE transactions SET kind = 'rates' WHERE seq = 1"],
                            "table 'transactions'"),
    "the id index dropped": (["DROP INDEX transactions_by_id"], "index 'transactions_by_id' is missing"),
    "a trigger added": (["CREATE TRIGGER hide AFTER INSERT ON transactions BEGIN DELETE FROM postings WHERE seq = new.seq; END"],
                        "trigger 'hide' is not one coinpurse makes"),
}  # fmt: skip


@pytest.mark.faults
@pytest.mark.parametrize("edit", list(LAYOUT_EDITS))
def test_a_changed_table_layout_is_refused_by_every_command(sqlite_cli: Cli, edit: str) -> None:
    ledger = sqlite_cli.ledger
    statements, says = LAYOUT_EDITS[edit]
    _sql(ledger, *statements)
    before = ledger.read_bytes()
    for command in (("verify",), ("history", "--kind", "buy"), ("buy", "alice", "70")):
        result = _coinpurse(ledger, *command, "--json")
        assert result.returncode == 3, (command, result.stdout)
        assert says in json.loads(result.stderr)["error"]["message"]
    assert ledger.read_bytes() == before


# --- an account put back to an older state the chain once recorded --------------------------


@pytest.mark.faults
def test_an_account_rolled_back_to_an_older_recorded_state_is_refused_by_the_next_write(tmp_path: Path) -> None:
    ledger = tmp_path / "l.sqlite"
    assert _coinpurse(ledger, "buy", "alice", "700").returncode == 0
    with closing(sqlite3.connect(ledger)) as db:
        row = db.execute("SELECT * FROM accounts WHERE name = 'alice'").fetchone()
    assert _coinpurse(ledger, "gift", "alice", "mia", "rose", "-n", "600").returncode == 0
    # Alice's row as it was after her buy (a state tx-1 recorded), and the index no longer listing tx-2 under her.
    _sql(
        ledger,
        "DELETE FROM accounts WHERE name = 'alice'",
        "INSERT INTO accounts VALUES ("
        + ", ".join(repr(value) if value is not None else "NULL" for value in row)
        + ")",
        "DELETE FROM postings WHERE account = 'alice' AND seq = 2",
    )
    before = ledger.read_bytes()
    result = _coinpurse(ledger, "gift", "alice", "mia", "rose", "-n", "600")  # her 700 coins, spent a second time
    assert result.returncode == 3, result.stdout
    assert ledger.read_bytes() == before


def _rolled_back_alice(tmp_path: Path) -> tuple[Path, tuple[object, ...], tuple[object, ...]]:
    """A ledger where alice bought 700 coins and then spent 600, with her account row and tree entry after the buy."""
    ledger = tmp_path / "l.sqlite"
    assert _coinpurse(ledger, "buy", "alice", "700").returncode == 0
    with closing(sqlite3.connect(ledger)) as db:
        row = db.execute("SELECT * FROM accounts WHERE name = 'alice'").fetchone()
        entry = db.execute("SELECT * FROM account_digests WHERE name = 'alice'").fetchone()
    assert _coinpurse(ledger, "gift", "alice", "mia", "rose", "-n", "600").returncode == 0
    return ledger, row, entry


def _values(row: tuple[object, ...]) -> str:
    return ", ".join(repr(value) if value is not None else "NULL" for value in row)


@pytest.mark.faults
@pytest.mark.parametrize("how", ["row and its digest", "row, digest and bucket digest"])
def test_an_account_rolled_back_with_its_digests_is_refused_by_the_next_write(tmp_path: Path, how: str) -> None:
    """Putting the tree's entries back too moves the problem up a level, to the root the chain records."""
    ledger, row, entry = _rolled_back_alice(tmp_path)
    bucket = entry[0]
    with closing(sqlite3.connect(ledger)) as db:
        newer_bucket = db.execute("SELECT digest FROM bucket_digests WHERE bucket = ?", (bucket,)).fetchone()[0]
    statements = [
        "DELETE FROM accounts WHERE name = 'alice'",
        f"INSERT INTO accounts VALUES ({_values(row)})",
        f"INSERT OR REPLACE INTO account_digests VALUES ({_values(entry)})",
    ]
    if how.endswith("bucket digest"):
        from coinpurse.core.chain import bucket_digest

        with closing(sqlite3.connect(ledger)) as db:
            held = dict(db.execute("SELECT name, digest FROM account_digests WHERE bucket = ?", (bucket,)).fetchall())
        held["alice"] = str(entry[2])
        assert bucket_digest(held) != newer_bucket
        statements.append(f"UPDATE bucket_digests SET digest = '{bucket_digest(held)}' WHERE bucket = {bucket}")
    _sql(ledger, *statements)
    before = ledger.read_bytes()
    result = _coinpurse(ledger, "gift", "alice", "mia", "rose", "-n", "600", "--json")
    assert result.returncode == 3, result.stdout
    message = json.loads(result.stderr)["error"]["message"]
    assert "changed outside coinpurse" in message and "coinpurse verify" in message
    assert ledger.read_bytes() == before
    verified = json.loads(_coinpurse(ledger, "verify", "--json").stdout)
    assert not verified["ok"] and any(problem["account"] == "alice" for problem in verified["problems"]), verified


TREE_EDITS = {
    "a digest changed": ("UPDATE account_digests SET digest = '" + "0" * 32 + "' WHERE name = 'alice'", "account_digest_mismatch"),
    "a digest removed": ("DELETE FROM account_digests WHERE name = 'alice'", "account_digest_mismatch"),
    "a digest moved to another bucket": ("UPDATE account_digests SET bucket = (bucket + 1) % 4096 WHERE name = 'alice'",
                                         "account_digest_mismatch"),
    "a bucket digest changed": ("UPDATE bucket_digests SET digest = '" + "f" * 32 + "' WHERE bucket = "
                                "(SELECT bucket FROM account_digests WHERE name = 'alice')", "bucket_digest_mismatch"),
}  # fmt: skip


@pytest.mark.faults
@pytest.mark.parametrize("edit", list(TREE_EDITS))
def test_an_edited_tree_of_account_digests_is_refused_by_writes_and_named_by_verify(sqlite_cli: Cli, edit: str) -> None:
    ledger = sqlite_cli.ledger
    statement, code = TREE_EDITS[edit]
    _sql(ledger, statement)
    before = ledger.read_bytes()
    # A write reads the buckets of the accounts it touches; the buckets' digests are checked against the root.
    writes = [("buy", "alice", "70"), ("gift", "alice", "mia", "rose")]
    if code == "bucket_digest_mismatch":
        writes.append(("buy", "zed", "70"))  # touches neither alice nor her bucket
    for write in writes:
        result = _coinpurse(ledger, *write, "--json")
        assert result.returncode == 3, (write, result.stdout)
        assert "changed outside coinpurse" in json.loads(result.stderr)["error"]["message"]
    assert ledger.read_bytes() == before
    verified = json.loads(_coinpurse(ledger, "verify", "--json").stdout)
    assert not verified["ok"] and code in {problem["code"] for problem in verified["problems"]}


@pytest.mark.faults
def test_an_account_hidden_inside_another_entry_of_its_bucket_is_refused(tmp_path: Path) -> None:
    """Each entry of a bucket must be one account's digest: a digest holding a second line can't hide an account."""
    from coinpurse.core.chain import bucket_of

    ledger = tmp_path / "l.sqlite"
    neighbour = next(f"aa{n}" for n in range(100_000) if bucket_of(f"aa{n}") == bucket_of("bob") and f"aa{n}" < "bob")
    for command in (("buy", neighbour, "70"), ("buy", "bob", "700"), ("gift", "bob", "carol", "rose", "-n", "5")):
        assert _coinpurse(ledger, *command).returncode == 0
    _sql(
        ledger,
        "UPDATE account_digests SET digest = digest || char(10) || '3:bob ' || "
        f"(SELECT digest FROM account_digests WHERE name = 'bob') WHERE name = '{neighbour}'",
        "DELETE FROM account_digests WHERE name = 'bob'",
        "DELETE FROM accounts WHERE name = 'bob'",
    )
    before = ledger.read_bytes()
    for write in (("buy", "bob", "70"), ("buy", neighbour, "70")):
        result = _coinpurse(ledger, *write)
        assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
        assert ledger.read_bytes() == before


@pytest.mark.faults
@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO account_digests VALUES ((SELECT bucket FROM account_digests WHERE name = 'alice'), x'626f62', 'x')",
        "UPDATE bucket_digests SET digest = '" + "z" * 32 + "'",
        "INSERT INTO accounts SELECT cast('zz' AS blob), coins, diamonds, cash, lots, payout_day, paid_that_day "
        "FROM accounts WHERE name = 'alice'",
    ],
    ids=["a blob name in the tree", "a digest that is not hex", "a blob account name"],
)
def test_odd_values_in_the_tree_or_the_accounts_give_one_line_not_a_traceback(sqlite_cli: Cli, statement: str) -> None:
    """verify names them; a write refuses what it reads (the planted account row is in no bucket a buy of alice reads)."""
    ledger = sqlite_cli.ledger
    _sql(ledger, statement)
    before = ledger.read_bytes()
    verified = _coinpurse(ledger, "verify")
    assert verified.returncode == 3 and "Traceback" not in verified.stderr, verified.stderr
    written = _coinpurse(ledger, "buy", "alice", "70")
    assert "Traceback" not in written.stderr, written.stderr
    if "cast('zz' AS blob)" not in statement:
        assert written.returncode == 3 and len(written.stderr.strip().splitlines()) == 1, written.stderr
        assert ledger.read_bytes() == before
