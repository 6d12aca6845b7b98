"""`coinpurse apply`: scenario files, all or nothing, in one load and one save."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coinpurse import Ledger, api
from coinpurse.errors import CoinpurseError
from conftest import examples

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize("example", ["scenario.toml", "scenario.json"])
def test_the_examples_apply_and_a_rerun_changes_no_byte(cli, example) -> None:
    first = cli.json("apply", str(EXAMPLES / example))
    assert (first["count"], first["recorded"], first["written"]) == (6, 6, True)
    assert [op["kind"] for op in first["ops"]] == ["buy", "buy", "gift", "gift", "rates", "redeem"]
    assert first["ops"][5]["result"]["cash"] == "50.00"  # the minimum the op before lowered
    before = cli.ledger.read_bytes()

    again = cli.json("apply", str(EXAMPLES / example))
    assert (again["recorded"], again["replayed"], again["written"]) == (0, 6, False)
    assert {op["status"] for op in again["ops"]} == {"replayed"}
    assert cli.ledger.read_bytes() == before


def test_both_examples_hold_the_same_ops() -> None:
    import tomllib

    toml = tomllib.loads((EXAMPLES / "scenario.toml").read_text())
    assert toml == json.loads((EXAMPLES / "scenario.json").read_text())


def test_human_summary_and_no_progress_bar_off_a_terminal(cli) -> None:
    result = cli("apply", str(EXAMPLES / "scenario.toml"))
    assert result.exit_code == 0
    assert "Applied 6 ops" in result.stdout and "6 recorded" in result.stdout
    assert result.stderr == ""


def test_a_refused_op_applies_nothing_and_names_op_and_line(cli, tmp_path) -> None:
    cli("buy", "zoe", "70")
    before = cli.ledger.read_bytes()
    scenario = write(
        tmp_path / "s.toml",
        '[[ops]]\nkind = "buy"\naccount = "alice"\ncoins = 700\n\n'
        '[[ops]]\nkind = "gift"\nsender = "alice"\nrecipient = "mia"\ngift = "Lion"\n',
    )
    result = cli("apply", str(scenario))
    assert result.exit_code == 1
    assert result.stderr == (
        f"coinpurse: error: {scenario}:6: op 2 (gift): nothing was applied: alice has 700 coins; Lion costs 29999\n"
    )
    assert result.stdout == ""
    assert cli.ledger.read_bytes() == before


def test_a_refusal_leaves_a_new_ledger_uncreated(cli, tmp_path) -> None:
    scenario = write(tmp_path / "s.json", '{"ops": [\n  {"kind": "redeem", "account": "mia", "all": true}\n]}\n')
    result = cli("apply", str(scenario), "--json")
    assert result.exit_code == 1
    error = json.loads(result.stderr)["error"]
    assert error["code"] == "insufficient_diamonds"
    assert error["message"].startswith(f"{scenario}:2: op 1 (redeem): ")
    assert not cli.ledger.exists()


@pytest.mark.parametrize(
    ("op", "code", "says"),
    [
        ('{"kind": "sell", "account": "a1"}', "invalid_op", "unknown kind 'sell'"),
        ('{"kind": "buy", "account": "alice", "coins": 70, "colour": "red"}', "invalid_op", "unknown field 'colour'"),
        ('{"kind": "buy", "account": "alice"}', "invalid_op", "missing field 'coins'"),
        ('{"kind": "gift", "sender": "alice", "recipient": "mia", "gift": "Rosebud"}', "unknown_gift", "unknown gift"),
        ('{"kind": "buy", "account": "Al ice", "coins": 70}', "invalid_name", "invalid account name"),
        ('{"kind": "rates", "set": {"gift.Rose.coins": 0}}', "invalid_rates", "must be a positive whole number"),
    ],
)
def test_bad_input_in_any_op_is_exit_2_and_nothing_is_written(json_cli, tmp_path, op, code, says) -> None:
    json_cli("buy", "alice", "700")
    before = json_cli.ledger.read_bytes()
    scenario = write(
        tmp_path / "s.json", '{"ops": [\n  {"kind": "buy", "account": "bob", "coins": 70},\n  ' + op + "\n]}\n"
    )
    result = json_cli("apply", str(scenario), "--json")
    assert result.exit_code == 2, result.stderr
    error = json.loads(result.stderr)["error"]
    assert error["code"] == code
    assert error["message"].startswith(f"{scenario}:3: op 2 ")
    assert says in error["message"]
    assert json_cli.ledger.read_bytes() == before


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[[ops]]\nkind = "buy"\naccount = "alice"\ncoins = 7.5\n', "float"),
        ('[[ops]]\nkind = "buy"\naccount = \n', "not valid TOML"),
        ('kind = "buy"\n', "not a scenario"),
        ('ops = "buy"\n', "'ops' must be a list"),
    ],
)
def test_a_file_that_is_no_scenario_is_exit_2(json_cli, tmp_path, text, says) -> None:
    result = json_cli("apply", str(write(tmp_path / "s.toml", text)))
    assert result.exit_code == 2
    assert says in result.stderr
    assert not json_cli.ledger.exists()


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("s.toml", '[[ops]]\nkind = "buy"\naccount = "alice"\ncoins = 7.5\n'),
        ("s.json", '{"ops": [\n  {"kind": "buy",\n   "account": "alice",\n   "coins": 7.5}\n]}\n'),
    ],
)
def test_a_float_in_a_scenario_names_its_line(json_cli, tmp_path, name, text) -> None:
    scenario = write(tmp_path / name, text)
    result = json_cli("apply", str(scenario))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"coinpurse: error: {scenario}:4: 7.5 is a float")


def test_missing_file_and_unknown_suffix_are_exit_2(json_cli, tmp_path) -> None:
    assert json_cli("apply", str(tmp_path / "nope.toml")).exit_code == 2
    assert "no such scenario file" in json_cli("apply", str(tmp_path / "nope.toml")).stderr
    assert json_cli("apply", str(write(tmp_path / "s.yaml", "ops: []"))).exit_code == 2


def test_dry_run_checks_and_reports_but_writes_nothing(cli) -> None:
    cli("buy", "zoe", "70")
    before = cli.ledger.read_bytes()
    report = cli.json("apply", str(EXAMPLES / "scenario.toml"), "--dry-run")
    assert (report["dry_run"], report["written"], report["recorded"]) == (True, False, 6)
    assert cli.ledger.read_bytes() == before
    human = cli("apply", str(EXAMPLES / "scenario.toml"), "--dry-run")
    assert "Dry run: nothing was written." in human.stdout


def test_dry_run_still_reports_the_failing_op(json_cli, tmp_path) -> None:
    scenario = write(
        tmp_path / "s.json", '{"ops": [{"kind": "gift", "sender": "a1", "recipient": "b1", "gift": "Rose"}]}'
    )
    result = json_cli("apply", str(scenario), "--dry-run")
    assert result.exit_code == 1
    assert "op 1 (gift)" in result.stderr


def test_an_id_reused_for_another_request_refuses_the_whole_file(json_cli, tmp_path) -> None:
    json_cli("buy", "alice", "700", "--id", "seed-1")
    before = json_cli.ledger.read_bytes()
    scenario = write(
        tmp_path / "s.json",
        '{"ops": [{"kind": "buy", "account": "bob", "coins": 70},\n {"kind": "buy", "account": "alice", "coins": 70, "id": "seed-1"}]}',
    )
    result = json_cli("apply", str(scenario))
    assert result.exit_code == 1
    assert f"{scenario}:2: op 2 (buy)" in result.stderr and "already used" in result.stderr
    assert json_cli.ledger.read_bytes() == before


def test_ops_without_ids_apply_again_on_a_rerun(json_cli, tmp_path) -> None:
    scenario = write(tmp_path / "s.json", '{"ops": [{"kind": "buy", "account": "alice", "coins": 70}]}')
    json_cli("apply", str(scenario))
    json_cli("apply", str(scenario))
    assert json_cli.json("balance", "alice")["coins"] == 140


def test_inline_toml_ops_have_no_line_but_still_name_the_op(json_cli, tmp_path) -> None:
    scenario = write(tmp_path / "s.toml", 'ops = [{kind = "buy", account = "alice", coins = 70}, {kind = "nap"}]\n')
    result = json_cli("apply", str(scenario))
    assert result.exit_code == 2
    assert f"{scenario}: op 2 (op): unknown kind 'nap'" in result.stderr


# The whole file applies, or none of it: compared with the same ops run one by one.

_op = st.one_of(
    st.builds(
        lambda a, c: {"kind": "buy", "account": a, "coins": c},
        st.sampled_from(["ann", "ben"]),
        st.sampled_from([70, 350, 5, 40]),
    ),
    st.builds(
        lambda s, r, g, n: {"kind": "gift", "sender": s, "recipient": r, "gift": g, "count": n},
        st.sampled_from(["ann", "ben"]),
        st.sampled_from(["ben", "cat"]),
        st.sampled_from(["Rose", "Doughnut", "Hand Hearts"]),
        st.integers(1, 4),
    ),
    st.builds(lambda a: {"kind": "redeem", "account": a, "all": True}, st.sampled_from(["ben", "cat"])),
)


def _one_by_one(ledger: Path, op: dict) -> None:
    fields = {k: v for k, v in op.items() if k != "kind"}
    if op["kind"] == "buy":
        api.buy(ledger, **fields)
    elif op["kind"] == "gift":
        api.gift(ledger, fields["sender"], fields["recipient"], fields["gift"], fields["count"])
    else:
        api.redeem(ledger, fields["account"], all=True)


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(_op, min_size=1, max_size=8))
def test_a_scenario_is_all_or_nothing(tmp_path_factory, ops) -> None:
    folder = tmp_path_factory.mktemp("scenario")
    scenario = folder / "s.json"
    scenario.write_text(json.dumps({"ops": ops}))
    together, one_by_one = folder / "together.json", folder / "apart.json"
    api.buy(together, "ann", 70)
    api.buy(one_by_one, "ann", 70)
    before = together.read_bytes()

    failed_at = None
    for index, op in enumerate(ops, start=1):
        try:
            _one_by_one(one_by_one, op)
        except CoinpurseError:
            failed_at = index
            break
    try:
        Ledger(together).apply(scenario)
    except CoinpurseError as error:
        assert failed_at is not None
        assert f"op {failed_at} " in error.message
        assert together.read_bytes() == before
    else:
        assert failed_at is None
        assert api.balances(together).to_dict() == api.balances(one_by_one).to_dict()


def test_the_progress_bar_draws_only_once_a_run_has_gone_on_for_a_second() -> None:
    from coinpurse.cli.render_summaries import ProgressBar

    now = [100]
    bar = ProgressBar("applying", delay=2, clock=lambda: now[0])
    now[0] = 101
    bar(500, 4000)
    assert bar.progress is None  # a second in, of two: nothing drawn
    now[0] = 102
    bar(2000, 4000)
    bar(4000, 4000)
    assert bar.progress is not None
    assert bar.progress.tasks[0].completed == 4000
    bar.close()
