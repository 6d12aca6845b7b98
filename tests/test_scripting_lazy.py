"""The new commands keep rich out of the --json path (a real process, so sys.modules is clean)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "scenario.json"

SCRIPT = """
import sys
from coinpurse.cli import main

ledger = sys.argv[1]


def run(*args):
    sys.argv = ["coinpurse", "--ledger", ledger, *args]
    try:
        main()
    except SystemExit as done:
        assert done.code == 0, (args, done.code)

run("init", "--json")
run("apply", {example!r}, "--json")
run("rates", "set", "payout.minimum", "60.00", "--json")
run("export", "--format", "csv")
run("demo", "--force", "--json")
sys.stderr.write("rich loaded\\n" if "rich" in sys.modules else "rich not loaded\\n")
"""


def test_json_paths_never_import_rich(tmp_path: Path) -> None:
    script = SCRIPT.format(example=str(EXAMPLE))
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "ledger.json")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.endswith("rich not loaded\n")
