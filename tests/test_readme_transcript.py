"""The README's shell sessions are real output: each marked block is run and compared, so it can't drift.

A ```console block right after the marker line below is run as one bash
session in an empty folder (a fixed clock comes from the block's own
``export COINPURSE_NOW=...``), with the output piped at 100 columns, and
must equal the README's text. ``COINPURSE_REGENERATE_README=1`` rewrites
the blocks from the real output instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
MARKER = "<!-- transcript: real output, checked by tests/test_readme_transcript.py -->"
BLOCK = re.compile(re.escape(MARKER) + r"\n```console\n(.*?)```\n", re.DOTALL)
WIDTH = "100"


def commands_of(block: str) -> list[str]:
    return [line[2:] for line in block.splitlines() if line.startswith("$ ")]


def session(commands: list[str], folder: Path) -> str:
    """The block as bash shows it: each command after ``$ ``, then what it printed (stdout and stderr)."""
    bin_folder = folder / ".bin"
    bin_folder.mkdir()
    shim = bin_folder / "coinpurse"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m coinpurse "$@"\n')
    shim.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COINPURSE_") and k not in ("LINES",)}
    env.update(
        PATH=f"{bin_folder}{os.pathsep}{env.get('PATH', '')}", HOME=str(folder / "home"), COLUMNS=WIDTH, NO_COLOR="1"
    )
    env.pop("XDG_DATA_HOME", None)
    marks = [f"@@transcript-{i}@@" for i in range(len(commands))]
    script = "exec 2>&1\n" + "".join(
        f"echo '{mark}'\n{command}\n" for mark, command in zip(marks, commands, strict=True)
    )
    done = subprocess.run(["bash", "-c", script], cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    output = done.stdout
    shown = []
    for i, (mark, command) in enumerate(zip(marks, commands, strict=True)):
        start = output.index(mark + "\n") + len(mark) + 1
        end = output.index(marks[i + 1] + "\n") if i + 1 < len(marks) else len(output)
        shown.append(f"$ {command}\n{output[start:end]}")
    return "".join(shown)


def test_the_readme_has_a_transcript() -> None:
    assert len(BLOCK.findall(README.read_text())) >= 1


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("bash") is None or shutil.which("jq") is None, reason="the transcript uses bash and jq"
)
def test_the_readme_transcripts_are_what_coinpurse_prints(tmp_path: Path) -> None:
    text = README.read_text()
    blocks = BLOCK.findall(text)
    regenerate = os.environ.get("COINPURSE_REGENERATE_README") == "1"
    for number, block in enumerate(blocks):
        folder = tmp_path / f"block-{number}"
        folder.mkdir()
        real = session(commands_of(block), folder)
        if regenerate:
            text = text.replace(f"{MARKER}\n```console\n{block}```\n", f"{MARKER}\n```console\n{real}```\n", 1)
        else:
            assert real == block, (
                f"README transcript {number + 1} is out of date: run COINPURSE_REGENERATE_README=1 pytest {__file__}"
            )
    if regenerate:
        README.write_text(text)
