"""The PostgreSQL store itself: URLs and their secrets, the missing driver, an unreachable server, one
ledger per database (or schema), its layout and version, and writers on many processes at once.

The behaviour of every command on PostgreSQL is the rest of the suite's (the store parametrization in
conftest.py); these are what only a server has. Each runs against the throwaway server of conftest.py.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coinpurse.storage.urls import LedgerUrl
from conftest import FIXED_NOW, Cli

pytestmark = pytest.mark.postgres
WORKER = Path(__file__).with_name("pg_worker.py")


def run(ledger: object, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COINPURSE_NOW": FIXED_NOW, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), *args],
        capture_output=True, text=True, env=environment, timeout=120,
    )  # fmt: skip


# ----- URLs -------------------------------------------------------------------------------


def test_a_url_is_shown_without_its_password_and_keeps_its_schema() -> None:
    url = LedgerUrl("postgresql://bob:s3cret@db.example:5433/coins?schema=team&sslmode=require")
    assert str(url) == "postgresql://bob@db.example:5433/coins?schema=team&sslmode=require"
    assert "s3cret" not in repr(url) and "s3cret" not in os.fspath(url)
    assert (url.schema, url.database, url.name) == ("team", "coins", "coins.team")
    assert "schema" not in url.conninfo and "s3cret" in url.conninfo
    hidden = LedgerUrl("postgres://bob@db.example/coins?password=hunter2")
    assert "hunter2" not in str(hidden) and hidden.scrub("failed for hunter2") == "failed for ***"


@pytest.mark.parametrize("schema", ["Team", "a b", "x;drop", "1abc", ""])
def test_a_schema_that_is_not_a_plain_name_is_bad_input(schema: str) -> None:
    result = run(f"postgresql://bob@localhost/coins?schema={schema}", "balance")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "schema" in result.stderr and len(result.stderr.splitlines()) == 1


def test_without_the_driver_a_url_gets_one_line_naming_the_extra() -> None:
    code = (
        "import sys; sys.modules['psycopg'] = None; sys.argv = ['coinpurse', '--ledger', "
        "'postgresql://bob:s3cret@localhost/coins', 'balance']; from coinpurse.cli import main; main()"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "coinpurse: error: PostgreSQL ledgers need the psycopg driver: pip install 'coinpurse[postgres]'"
    ]


@pytest.mark.parametrize("args", [("balance",), ("buy", "alice", "700"), ("verify",), ("info",)])
def test_an_unreachable_server_is_exit_3_with_one_line_and_no_password(tmp_path: Path, args: tuple[str, ...]) -> None:
    from pg_server import free_port

    url = f"postgresql://bob:s3cret@127.0.0.1:{free_port()}/coins?connect_timeout=3"
    for extra in ((), ("--json",)):
        result = run(url, *args, *extra)
        assert result.returncode == 3, (result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and "s3cret" not in result.stderr + result.stdout
        if extra:
            assert json.loads(result.stderr)["error"]["code"] == "server_unreachable"
        else:
            assert len(result.stderr.splitlines()) == 1 and "can't reach the PostgreSQL server" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_password_is_not_shown(pg_server: object) -> None:
    server = pg_server
    server.psql_command("CREATE ROLE guarded LOGIN PASSWORD 'right-one'")  # type: ignore[attr-defined]
    # The test server trusts local connections, so the password is only carried, never checked: what matters
    # is that no message repeats it.
    url = server.url().replace(f"{server.user}@", "guarded:n0t-sh0wn@")  # type: ignore[attr-defined]
    result = run(url + "&schema=nope", "buy", "alice", "700", "--json")
    assert "n0t-sh0wn" not in result.stdout + result.stderr


# ----- one ledger per database -------------------------------------------------------------


def test_a_fresh_database_holds_its_ledger_in_public_and_says_its_version(pg_database: str) -> None:
    cli = Cli(LedgerUrl(pg_database))
    assert not cli.ledger.exists()
    assert cli.json("buy", "alice", "700")["id"] == "tx-1"
    info = cli.json("info")
    assert (info["format"], info["exists"], info["schema"], info["transactions"]) == ("postgresql", True, 5, 1)
    import psycopg

    with psycopg.connect(pg_database) as db:
        assert db.execute("SELECT value FROM public.meta WHERE key = 'schema'").fetchone() == ("5",)


def test_convert_refuses_a_database_that_already_holds_a_ledger(pg_database: str, tmp_path: Path) -> None:
    source = Cli(tmp_path / "source.json")
    assert source("demo").exit_code == 0
    assert source("convert", str(source.ledger), pg_database).exit_code == 0
    before = LedgerUrl(pg_database).read_bytes()
    again = source("convert", str(source.ledger), pg_database)
    assert again.exit_code == 1 and "already" in again.stderr
    assert LedgerUrl(pg_database).read_bytes() == before


def test_json_to_postgresql_to_json_is_byte_identical_and_through_every_format(pg_ledger: Path, tmp_path: Path) -> None:
    source = Cli(tmp_path / "a.json")
    assert source("demo").exit_code == 0
    source("refund", "tx-1", "--clawback")
    steps = [
        source.ledger,
        pg_ledger,
        tmp_path / "b.sqlite",
        LedgerUrl(str(pg_ledger).rsplit("=", 1)[0] + "=second"),
        tmp_path / "c.json",
    ]
    for before, after in itertools.pairwise(steps):
        done = source("convert", str(before), str(after))
        assert done.exit_code == 0, done.stderr
    assert (tmp_path / "c.json").read_bytes() == source.ledger.read_bytes()
    assert run(pg_ledger, "verify").returncode == 0


def test_a_trigger_added_outside_coinpurse_is_refused(pg_ledger: Path) -> None:
    cli = Cli(pg_ledger)
    assert cli("buy", "alice", "700").exit_code == 0
    import psycopg

    assert isinstance(pg_ledger, LedgerUrl)
    with psycopg.connect(pg_ledger.conninfo, autocommit=True) as db:
        db.execute(f"SET search_path = {pg_ledger.schema}")
        db.execute("CREATE FUNCTION nothing() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
        db.execute("CREATE TRIGGER sneaky BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION nothing()")
    result = run(pg_ledger, "buy", "bob", "700")
    assert result.returncode == 3 and "sneaky" in result.stderr and "changed outside coinpurse" in result.stderr


def test_a_newer_schema_is_refused(pg_ledger: Path) -> None:
    cli = Cli(pg_ledger)
    assert cli("buy", "alice", "700").exit_code == 0
    import psycopg

    assert isinstance(pg_ledger, LedgerUrl)
    with psycopg.connect(pg_ledger.conninfo, autocommit=True) as db:
        db.execute(f"UPDATE {pg_ledger.schema}.meta SET value = '99' WHERE key = 'schema'")
    result = run(pg_ledger, "balance")
    assert result.returncode == 3 and "99" in result.stderr


def test_the_server_clock_stamps_writes_unless_coinpurse_now_is_set(pg_ledger: Path) -> None:
    fixed = run(pg_ledger, "buy", "alice", "700", "--json")
    assert json.loads(fixed.stdout)["at"] == FIXED_NOW
    environment = {key: value for key, value in os.environ.items() if key != "COINPURSE_NOW"}
    served = subprocess.run(
        [sys.executable, "-m", "coinpurse", "--ledger", str(pg_ledger), "buy", "bob", "700", "--json"],
        capture_output=True, text=True, env=environment, timeout=120,
    )  # fmt: skip
    import psycopg

    assert isinstance(pg_ledger, LedgerUrl)
    with psycopg.connect(pg_ledger.conninfo) as db:
        now = db.execute("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')").fetchone()
    assert now is not None and json.loads(served.stdout)["at"].startswith(now[0])


# ----- many writers --------------------------------------------------------------------------

WRITERS = 16


def _funded(ledger: Path, tmp_path: Path, writers: int) -> None:
    ops = [{"kind": "buy", "account": f"viewer{w}", "coins": 2_500_000, "channel": "web"} for w in range(writers)]
    scenario = tmp_path / "fund.json"
    scenario.write_text(json.dumps({"ops": ops}))
    funded = run(ledger, "apply", str(scenario))
    assert funded.returncode == 0, funded.stderr


def _start(mode: str, ledger: Path, worker: int, count: int) -> subprocess.Popen[str]:
    environment = {**os.environ, "COINPURSE_NOW": FIXED_NOW, "NO_COLOR": "1"}
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, str(ledger), str(worker), str(count)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
    )  # fmt: skip


def _history_ids(ledger: Path) -> list[str]:
    result = run(ledger, "history", "--json")
    assert result.returncode == 0, result.stderr
    return [row["id"] for row in json.loads(result.stdout)["transactions"]]


@pytest.mark.parametrize("mode", ["library", "cli"])
def test_16_writers_on_their_own_connections_lose_nothing_and_verify(
    pg_ledger: Path, tmp_path: Path, mode: str
) -> None:
    gifts = 6
    _funded(pg_ledger, tmp_path, WRITERS)
    workers = [_start(mode, pg_ledger, w, gifts) for w in range(WRITERS)]
    acknowledged: list[str] = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err
        acknowledged += [line for line in out.splitlines() if line != "ready"]
    assert len(acknowledged) == WRITERS * gifts
    ids = _history_ids(pg_ledger)
    assert sorted(tx for tx in ids if tx.startswith("w")) == sorted(acknowledged)
    verified = run(pg_ledger, "verify", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    balance = json.loads(run(pg_ledger, "balance", "mia", "--json").stdout)
    assert balance["diamonds"] == WRITERS * gifts


def test_a_retried_id_replays_from_any_process(pg_ledger: Path, tmp_path: Path) -> None:
    _funded(pg_ledger, tmp_path, 4)
    racers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "coinpurse",
                "--ledger",
                str(pg_ledger),
                "gift",
                "viewer0",
                "mia",
                "Rose",
                "--id",
                "same",
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "COINPURSE_NOW": FIXED_NOW},
        )
        for n in range(4)
    ]
    results = [json.loads(racer.communicate(timeout=120)[0] or "{}") for racer in racers]
    assert all(racer.returncode == 0 for racer in racers)
    assert sorted(result["replayed"] for result in results) == [False, True, True, True]
    assert _history_ids(pg_ledger).count("same") == 1


def test_a_reader_never_waits_for_a_writer_holding_the_lock(pg_ledger: Path) -> None:
    cli = Cli(pg_ledger)
    assert cli("buy", "alice", "700").exit_code == 0
    import psycopg

    from coinpurse.storage.postgres import lock_key

    assert isinstance(pg_ledger, LedgerUrl)
    with psycopg.connect(pg_ledger.conninfo) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (lock_key(pg_ledger),))
        started = time.monotonic()
        assert run(pg_ledger, "balance", "alice").returncode == 0
        assert json.loads(run(pg_ledger, "info", "--json").stdout)["locked"] is True
        blocked = run(pg_ledger, "buy", "bob", "700", env={"COINPURSE_LOCK_TIMEOUT": "1"})
        assert blocked.returncode == 3 and "busy" in blocked.stderr, blocked.stderr
        assert time.monotonic() - started < 60
    assert json.loads(run(pg_ledger, "info", "--json").stdout)["locked"] is False


# ----- faults ----------------------------------------------------------------------------------


@pytest.mark.faults
def test_kill_9_and_an_immediate_server_restart_lose_nothing_acknowledged(
    pg_server: object, pg_ledger: Path, tmp_path: Path
) -> None:
    """Writers killed with SIGKILL mid-write and started again, and the server stopped with an immediate
    shutdown (no checkpoint, backends killed) mid-run: every acknowledged gift is there once, verify passes,
    and a client that can't reach the server meanwhile exits 3 with one line and writes nothing."""
    import random
    import signal

    server = pg_server
    writers, gifts = 6, 25
    _funded(pg_ledger, tmp_path, writers)
    chance = random.Random(14)
    acknowledged: set[str] = set()
    running = {w: _start("retrying", pg_ledger, w, gifts) for w in range(writers)}
    kills = 0

    def collect(worker: subprocess.Popen[str]) -> None:
        out, _ = worker.communicate(timeout=300)
        acknowledged.update(line for line in out.splitlines() if line != "ready")

    deadline = time.monotonic() + 240
    restarted = False
    while running and time.monotonic() < deadline:
        time.sleep(chance.uniform(0.2, 0.6))
        if not restarted and kills >= 3:
            server.stop("immediate")  # type: ignore[attr-defined]
            down = run(pg_ledger, "buy", "alice", "700", "--id", "while-down")
            assert down.returncode == 3, (down.stdout, down.stderr)
            assert "Traceback" not in down.stderr and len(down.stderr.splitlines()) == 1
            assert "PostgreSQL server" in down.stderr
            server.start()  # type: ignore[attr-defined]
            restarted = True
        for w, worker in list(running.items()):
            if worker.poll() is not None:
                collect(worker)
                assert worker.returncode == 0, worker.stderr.read() if worker.stderr else ""
                del running[w]
        if running and kills < 6:
            w = chance.choice(sorted(running))
            running[w].send_signal(signal.SIGKILL)
            collect(running[w])
            kills += 1
            running[w] = _start("retrying", pg_ledger, w, gifts)  # again from its first id: done ones replay
    for worker in running.values():
        collect(worker)
        assert worker.returncode == 0
    assert restarted and kills >= 3
    ids = _history_ids(pg_ledger)
    every = {f"w{w}-{n}" for w in range(writers) for n in range(1, gifts + 1)}
    assert acknowledged <= set(ids)
    assert sorted(tx for tx in ids if tx.startswith("w")) == sorted(every)  # each once, all finished
    assert "while-down" not in ids
    verified = run(pg_ledger, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_write_the_server_rolled_back_is_tried_again(pg_ledger: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A serialization failure or deadlock (only another program's locks can cause one) rolls the whole write
    back; the operation is run again from the start, and once only."""
    import psycopg

    import coinpurse.ledger as module
    from coinpurse import Ledger

    real = module._recorded
    calls = []

    def failing_once(book, request, moment):  # type: ignore[no-untyped-def]
        calls.append(moment)
        if len(calls) == 1:
            assert isinstance(book.db.raw, psycopg.Connection)  # inside the write's database transaction
            raise module.LedgerUnusable("rolled back", code="serialization_failure")
        return real(book, request, moment)

    monkeypatch.setattr(module, "_recorded", failing_once)
    result = Ledger(pg_ledger).buy("alice", 700, id="again")
    assert len(calls) == 2 and result.replayed is False
    assert [tx.id for tx in Ledger(pg_ledger).history().transactions] == ["again"]


# ----- the index of redeems ----------------------------------------------------------------------


REDEEMED = (  # mia holds 20,001 diamonds ($100.005) and redeems 20,000 (the minimum payout is $100.00)
    ("buy", "bob", "17500"),
    ("buy", "bob", "3500", "--channel", "web"),
    ("gift", "bob", "mia", "interstellar", "-n", "2"),
    ("gift", "bob", "mia", "rose"),
    ("redeem", "mia", "20000"),
)


def _indexes(ledger: Path) -> set[str]:
    import psycopg

    assert isinstance(ledger, LedgerUrl)
    with psycopg.connect(ledger.conninfo) as db:
        rows = db.execute("SELECT indexname FROM pg_indexes WHERE schemaname = %s", (ledger.schema,)).fetchall()
    return {name for (name,) in rows}


def test_the_newest_redeems_are_read_through_their_index_not_the_history(pg_ledger: Path) -> None:
    import psycopg

    cli = Cli(pg_ledger)
    for args in REDEEMED:
        assert cli(*args).exit_code == 0, args
    assert [tx["kind"] for tx in cli.json("history", "--kind", "redeem", "--limit", "20")["transactions"]] == ["redeem"]
    from coinpurse.storage.postgres import _translated

    query = _translated("SELECT t.seq, t.body, t.hash FROM transactions t WHERE t.kind = ? ORDER BY t.seq DESC LIMIT ?")
    assert isinstance(pg_ledger, LedgerUrl)
    with psycopg.connect(pg_ledger.conninfo, autocommit=True) as db:
        db.execute(f"SET search_path = {pg_ledger.schema}")
        db.execute("SET enable_seqscan = off")  # a table of three rows would be scanned whatever its indexes
        plan = " ".join(row[0] for row in db.execute(f"EXPLAIN {query}", ("redeem", 20)).fetchall())
    assert "transactions_of_redeems" in plan, plan


def test_a_schema_5_ledger_made_before_the_index_of_redeems_reads_and_its_first_write_adds_it(pg_ledger: Path) -> None:
    import psycopg

    cli = Cli(pg_ledger)
    for args in REDEEMED:
        assert cli(*args).exit_code == 0, args
    assert isinstance(pg_ledger, LedgerUrl)
    with psycopg.connect(pg_ledger.conninfo, autocommit=True) as db:
        db.execute(f"DROP INDEX {pg_ledger.schema}.transactions_of_redeems")  # as the first PostgreSQL ledgers were
    before = run(pg_ledger, "history", "--kind", "redeem", "--json")
    assert before.returncode == 0, before.stderr
    assert [tx["kind"] for tx in json.loads(before.stdout)["transactions"]] == ["redeem"]
    assert run(pg_ledger, "gift", "bob", "mia", "interstellar", "-n", "99").returncode == 1  # refused: too few coins
    assert "transactions_of_redeems" not in _indexes(pg_ledger)  # a write that commits nothing adds nothing
    assert run(pg_ledger, "buy", "bob", "700").returncode == 0
    assert "transactions_of_redeems" in _indexes(pg_ledger)
    info = json.loads(run(pg_ledger, "info", "--json").stdout)
    assert (info["schema"], info["transactions"]) == (5, 6)
    verified = run(pg_ledger, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
