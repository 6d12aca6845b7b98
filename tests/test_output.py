"""How --json output is laid out: indented for a person, one line for a pipe."""

from __future__ import annotations

import io
import json

import pytest

from coinpurse.cli.output import emit_json


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stream", "lines"), [(Terminal(), 4), (io.StringIO(), 1)])
def test_json_is_indented_on_a_terminal_and_one_line_in_a_pipe(monkeypatch, stream, lines) -> None:
    monkeypatch.setattr("sys.stdout", stream)
    emit_json({"account": "mia", "price": "0.99"})
    text = stream.getvalue()
    assert json.loads(text) == {"account": "mia", "price": "0.99"}
    assert len(text.splitlines()) == lines
