"""Money and rates are written in plain digits everywhere, even for tiny rates (never 1E-7)."""

from __future__ import annotations

import json
import re

from ledger_tools import load

_EXPONENT = re.compile(r"\dE[+-]?\d")  # Decimal writes an upper-case E; hashes are lower-case hex


def test_tiny_rates_never_show_exponent_notation(cli) -> None:
    changed = cli("rates", "set", "payout.cash_per_diamond", "0.00000011", "payout.minimum", "0.00")
    assert changed.exit_code == 0, changed.stderr
    assert cli("buy", "alice", "100000", "--channel", "web").exit_code == 0
    gift = cli("gift", "alice", "bob", "Rose", "--json")
    assert json.loads(gift.stdout)["diamond_value"] == "0.00000011"
    assert cli("gift", "alice", "bob", "Rose", "-n", "99998").exit_code == 0
    redeemed = cli.json("redeem", "bob", "--all")
    assert redeemed["rounding"] == "0.0000001"
    outputs = [gift.stdout, cli("redeem", "bob", "--all", "--json").stderr]
    outputs += [cli(*args, "--json").stdout for args in (["rates"], ["balance", "bob"], ["balance"], ["history"])]
    outputs.append(cli("export", "--format", "json").stdout)
    outputs.append(cli("export", "--format", "csv").stdout)
    outputs.append(json.dumps(load(cli.ledger)))
    for text in outputs:
        assert not _EXPONENT.search(text), _EXPONENT.search(text)
