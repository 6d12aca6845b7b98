"""The shapes of stored text, one definition each: handles, account names, ids, times, hashes, currencies."""

from __future__ import annotations

import re
from typing import TypeGuard

HANDLE = re.compile(r"[a-z0-9_.]{2,24}")  # a user's account
ACCOUNT_NAME = re.compile(
    rf"{HANDLE.pattern}|platform:[a-z0-9-]{{1,40}}|platform:payouts-pending:{HANDLE.pattern}|sponsor:{HANDLE.pattern}"
)  # a user's, the platform's (a creator's pending payouts: platform:payouts-pending:HANDLE) or a sponsor's
ID_FORMAT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")  # a transaction id
TIME_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")  # UTC, to the second
HASH_FORMAT = re.compile(r"[0-9a-f]{64}")  # a sha256 hex digest: chain hashes, the history checksum
DIGEST_FORMAT = re.compile(r"[0-9a-f]{32}")  # a state digest (core.chain)


def is_currency_code(value: object) -> TypeGuard[str]:
    """A ledger's currency: 3 to 8 capital letters, such as USD."""
    return isinstance(value, str) and 3 <= len(value) <= 8 and value.isalpha() and value.isupper()
