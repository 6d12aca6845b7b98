"""Regenerate the shell completion scripts in completions/ from the app itself.

Run after changing commands or options:  python scripts/make_completions.py
tests/test_docs.py fails while the committed files are out of date.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = {"bash": "coinpurse.bash", "zsh": "_coinpurse", "fish": "coinpurse.fish"}


def generate(shell: str) -> str:
    env = {**os.environ, "_COINPURSE_COMPLETE": f"source_{shell}"}
    script = subprocess.run(
        [sys.executable, "-m", "coinpurse"], env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    if shell == "zsh":
        # '#compdef' must be the first line, and the file must call its function,
        # or the first TAB in each shell does nothing.
        script += '\n_coinpurse_completion "$@"'
    return script + "\n"


def main() -> None:
    for shell, name in FILES.items():
        (ROOT / "completions" / name).write_text(generate(shell))
        print(f"wrote completions/{name}")


if __name__ == "__main__":
    main()
