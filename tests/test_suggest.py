"""One matcher for "did you mean": gifts, accounts, commands and rate keys."""

from __future__ import annotations

import pytest

from cli_checks import expect_error, expect_usage_error
from coinpurse.core.rates import default_rates
from coinpurse.core.suggest import edit_distance, one_edit_apart, suggestions
from conftest import Cli

GIFTS = [gift.name for gift in default_rates().gifts]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("lino", ["Lion"]),  # two letters swapped
        ("roes", ["Rose"]),
        ("rse", ["Rose"]),  # a letter missing
        ("rosse", ["Rose"]),  # a letter extra
        ("rase", ["Rose"]),  # a letter changed
        ("icecream", ["Ice Cream Cone"]),  # spaces ignored, a start of the name
        ("ICECREAMCONE", ["Ice Cream Cone"]),
        ("hart", ["Heart Me", "Finger Heart", "Hand Hearts"]),  # one edit from a word
        ("intersteller", ["Interstellar"]),
        ("fireworx", ["Fireworks"]),  # two edits, in a long word
        ("xyzzy", []),
        ("r", []),
    ],
)
def test_gift_suggestions(typed: str, meant: list[str]) -> None:
    assert suggestions(typed, GIFTS) == meant


def test_one_edit() -> None:
    assert one_edit_apart("mia", "mai") and one_edit_apart("mia", "mi") and one_edit_apart("mia", "miaa")
    assert one_edit_apart("mia", "mxa") and not one_edit_apart("mia", "mia") and not one_edit_apart("mia", "aim")
    assert edit_distance("kitten", "sitting", 5) == 3 and edit_distance("abcd", "acbd", 3) == 1


@pytest.fixture
def funded(cli: Cli) -> Cli:
    return cli.made_by(("buy", "alice", "700"), ("gift", "alice", "mia", "rose"))


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("lino", "(did you mean Lion?)"),
        ("icecream", '(did you mean "Ice Cream Cone"?)'),
        ("hart", '"Heart Me", "Finger Heart" or "Hand Hearts"'),
    ],
)
def test_an_unknown_gift_is_answered_with_the_gifts_it_may_mean(funded: Cli, typed: str, says: str) -> None:
    expect_error(funded, "gift", "alice", "mia", typed, exit_code=2, code="unknown_gift", says=says)


def test_an_unknown_account_is_answered_too(funded: Cli) -> None:
    expect_error(funded, "balance", "alcie", exit_code=2, code="unknown_account", says="(did you mean alice?)")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("blance",), "No such command 'blance'; did you mean balance?"),
        (("gif",), "No such command 'gif'; did you mean gift?"),
        (("rates", "st"), "No such command 'st'; did you mean set?"),
        (("rates", "exprot", "x.toml"), "did you mean export?"),
    ],
)
def test_an_unknown_command_is_answered_with_the_commands_it_may_mean(
    funded: Cli, args: tuple[str, ...], says: str
) -> None:
    expect_usage_error(funded, *args, says=says)
