"""Rates as a commented, editable TOML file that ``rates import`` and ``init --rates`` read back."""

from __future__ import annotations

import json

from coinpurse.core.money import decimal_str
from coinpurse.core.rates import Rates


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def rates_to_toml(rates: Rates, source: str = "") -> str:
    payout = rates.payout
    lines = [
        "# coinpurse rates" + (f", exported from {source}" if source else ""),
        "#",
        "# Edit and load with `coinpurse rates import FILE`, or start a ledger with",
        "# `coinpurse init --rates FILE`. Every change is recorded in the history;",
        "# transactions made earlier keep the rates they were made at.",
        '# Cash and ratios are strings ("9.99") so they stay exact; counts are whole numbers.',
        "",
        "[conversion]",
        "# Diamonds a creator receives per coin of gift value (rounded down per gift).",
        f"diamonds_per_coin = {_string(decimal_str(rates.diamonds_per_coin))}",
        "",
        "[payout]",
        "# Cash paid for one diamond when a creator redeems.",
        f"cash_per_diamond = {_string(decimal_str(payout.cash_per_diamond))}",
        "# Smallest payout, in cash (2 decimal places).",
        f"minimum = {_string(decimal_str(payout.minimum))}",
        "# Most one account can be paid per UTC day, in cash (2 decimal places).",
        f"daily_maximum = {_string(decimal_str(payout.daily_maximum))}",
        "# Fee the platform keeps from each payout, in percent (from 0 to under 100).",
        f"fee_percent = {_string(decimal_str(payout.fee_percent))}",
        "# Days a held payout (redeem --hold) waits for review before it expires untouched (1 to 3650).",
        f"review_days = {rates.review_days}"
        if rates.review_days is not None
        else f"# review_days = {rates.review_days_in_force}  (the platform's figure; uncomment to set another)",
    ]
    for channel in rates.channels:
        lines += [
            "",
            f"[channels.{channel.name}]",
            "# Where viewers buy coins. Price per coin for amounts that are not a package:",
            f"coin_price = {_string(decimal_str(channel.coin_price))}",
            "# Smallest and largest custom amount, in coins.",
            f"custom_min = {channel.custom_min}",
            f"custom_max = {channel.custom_max}",
            "# Share of each price an app store keeps before the platform is paid, in percent (0 to under 100).",
            f"store_fee_percent = {_string(decimal_str(channel.store_fee_percent))}"
            if channel.store_fee_percent is not None
            else '# store_fee_percent = "0"  (not set: buys record no store fee; uncomment to set one)',
        ]
        for number, package in enumerate(channel.packages):
            lines += [""]
            if number == 0:
                lines += [
                    f"# {channel.name} packages: COINS for PRICE in cash (2 decimal places); add or delete whole entries."
                ]
            lines += [
                f"[[channels.{channel.name}.packages]]",
                f"coins = {package.coins}",
                f"price = {_string(decimal_str(package.price))}",
            ]
    lines += ["", "# The gift catalog: each gift's NAME (unique, any case) and its price in COINS."]
    for gift in rates.gifts:
        lines += ["", "[[gifts]]", f"name = {_string(gift.name)}", f"coins = {gift.coins}"]
        if gift.sponsor is not None:  # a sponsor's budget pays the creator this bonus for each one sent
            lines += [f"sponsor = {_string(gift.sponsor)}", f"bonus_diamonds = {gift.bonus_diamonds}"]
    return "\n".join(lines) + "\n"
