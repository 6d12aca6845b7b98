"""The demo economy: four viewers, two creators, both channels, a live stream and one payout.

Ops carry ids (``demo-N``), so running the demo again replays instead of adding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

STREAM = "friday-live"


def _ops() -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = [
        {"kind": "buy", "account": "alice", "coins": 700},
        {"kind": "buy", "account": "bob", "coins": 17500},
        {"kind": "buy", "account": "chen", "coins": 3500, "channel": "web"},
        {"kind": "buy", "account": "dara", "coins": 7000, "channel": "web"},
        {"kind": "buy", "account": "bob", "coins": 17500, "channel": "web"},
        {"kind": "buy", "account": "alice", "coins": 500, "channel": "web"},  # a custom amount
    ]
    burst = [  # the live stream: mia's Friday show
        ("alice", "Rose", 5),
        ("chen", "Finger Heart", 3),
        ("bob", "Galaxy", 1),
        ("dara", "Money Gun", 2),
        ("alice", "Perfume", 3),
        ("bob", "Whale Diving", 4),
        ("chen", "Doughnut", 10),
        ("dara", "Corgi", 5),
        ("bob", "Interstellar", 1),
        ("alice", "Rose", 12),
    ]
    for sender, gift, count in burst:
        ops.append(
            {"kind": "gift", "sender": sender, "recipient": "mia", "gift": gift, "count": count, "stream": STREAM}
        )
    ops += [
        {"kind": "gift", "sender": "bob", "recipient": "noah", "gift": "Sunglasses", "count": 10},
        {"kind": "gift", "sender": "dara", "recipient": "noah", "gift": "Hand Hearts", "count": 4},
        {"kind": "gift", "sender": "alice", "recipient": "noah", "gift": "Rosa", "count": 2},
        {"kind": "redeem", "account": "mia", "diamonds": 20000},
    ]
    for number, op in enumerate(ops, start=1):
        op["id"] = f"demo-{number}"
    return ops


DEMO_OPS: tuple[Mapping[str, Any], ...] = tuple(_ops())
