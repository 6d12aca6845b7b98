"""Floor of `balance`: one read of the stored accounts, no history.

    python benchmarks/floors/balance_floor.py LEDGER [ACCOUNT]

SQLite: one SELECT of the accounts table (of one row, with ACCOUNT). JSON: the
file read up to its history and that head parsed (accounts included).
Standard library only.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stored import connect, json_head


def main() -> None:
    ledger = Path(sys.argv[1])
    account = sys.argv[2] if len(sys.argv) > 2 else None
    if ledger.suffix == ".sqlite":
        connection = connect(ledger)
        if account is None:
            rows = connection.execute("SELECT * FROM accounts").fetchall()
        else:
            rows = connection.execute("SELECT * FROM accounts WHERE name = ?", (account,)).fetchall()
        connection.close()
    else:
        accounts = json_head(ledger)["accounts"]
        assert isinstance(accounts, dict)
        rows = list(accounts.items()) if account is None else [accounts[account]]
    print(len(rows))


if __name__ == "__main__":
    main()
