"""A JSON ledger in coinpurse's layout, read in pieces: its head, its history's lines, its ending.

The writer (storage.files) puts the history last, one transaction per line after a
``"transactions": [`` line, each line opening with its id and recording its state
after everything but its hash. So a read that needs no history (balance, rates)
stops at that line, and a write keeps the history's lines as bytes, checked by
the checksum in the head. Each function here answers None where the bytes are not
in that layout; the caller then parses the whole file. tests/test_speedups.py
checks that each piece agrees with a full parse. Measurements: docs/performance.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO, Any

HISTORY_OPENER = b'\n  "transactions": [\n'
HISTORY_CLOSER = b"\n  ]\n}\n"
EMPTY_HISTORY = b'  "transactions": []\n}\n'
LINE_SEPARATOR = ",\n"
ENDINGS = (HISTORY_CLOSER, b"\n" + EMPTY_HISTORY)  # how a file the writer wrote ends
TAIL_SIZE = 32  # enough bytes from the end to tell an ending
HEAD_LIMIT = 64 * 1024 * 1024  # a head larger than this is read the ordinary way
_HISTORY_LINES = ('  "transactions": [\n', '  "transactions": []\n')  # the head's last line, read line by line
_ID_OPENER = '    {"id": "'
_STATE_KEY = '"state": {"rates": "'
ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")  # such a file is read in full


def ends_as_written(tail: bytes) -> bool:
    """Whether the last bytes of a file end the way the writer ends one (a truncated file does not)."""
    return tail.endswith(ENDINGS)


def history_span(data: bytes) -> tuple[int, int] | None:
    """Where the history's lines are in the bytes of a whole file: [start, end)."""
    if not data.endswith(HISTORY_CLOSER):
        return None
    start = data.find(HISTORY_OPENER)  # the head's last line: no line of the history holds a newline
    if start < 0:
        return None
    return start + len(HISTORY_OPENER), len(data) - len(HISTORY_CLOSER)


def head_of(data: bytes, span: tuple[int, int]) -> bytes:
    """The file with its history left out: a JSON document of everything but the transactions."""
    return data[: span[0] - len(HISTORY_OPENER) + 1] + EMPTY_HISTORY


def history_digest(data: bytes, span: tuple[int, int]) -> Any:
    """The sha256 of the history's bytes, as the head's ``history_sha256`` records it (more can be added)."""
    import hashlib  # writes only: a read of the head never hashes

    return hashlib.sha256(memoryview(data)[span[0] : span[1]])


_ACCOUNTS_OPENER = b'\n  "accounts": {\n'
_ACCOUNTS_CLOSER = b"\n  },\n"


def account_lines(head: bytes) -> dict[str, str] | None:
    """Each account's line in the head as the writer lays it out (``    "name": {...}``), by name; None if not so laid out."""
    start = head.find(_ACCOUNTS_OPENER)
    if start < 0:
        return None
    start += len(_ACCOUNTS_OPENER)
    end = head.find(_ACCOUNTS_CLOSER, start)
    if end < 0:
        return None
    found: dict[str, str] = {}
    for line in head[start:end].decode("utf-8").split(",\n"):
        close = line.find('": ', 5)
        if not line.startswith('    "') or close < 0 or "\n" in line:
            return None
        found[line[5:close]] = line
    return found


def head_without_accounts(head: bytes) -> tuple[bytes, dict[str, str]] | None:
    """The head with its accounts table left empty, and each account's JSON value by name, for a read
    that parses only the accounts it asks for; None if not so laid out, or a name is spelled with an escape."""
    lines = account_lines(head)
    if not lines:
        return None
    opened = head.find(_ACCOUNTS_OPENER) + len(_ACCOUNTS_OPENER)
    closed = head.find(_ACCOUNTS_CLOSER, opened)
    values = {}
    for name, line in lines.items():
        if "\\" in name:
            return None
        values[name] = line[len(name) + 8 :]  # after '    "name": '
    return head[:opened] + head[closed + 1 :], values


# A history kept as the bytes read, for a write: its lines are what lies between the
# separators ``},\n    {"id": "``, where the writer ends one transaction and opens the next
# with its id. So they are counted, and an id found, by one search of the bytes in C.

SEPARATOR = b"},\n" + _ID_OPENER.encode()
_SEPARATORS = re.compile(re.escape(SEPARATOR))
_SEPARATED_IDS = re.compile(re.escape(SEPARATOR) + rb'([^"]*)"')
_PLAIN_ID = re.compile(r"[ !#-\[\]-~]+")  # printable ASCII but for " and \, written as it is
_ID_KEY = b'"id"'  # the key, however spaced; or a value "id" (then the full read, to be sure)
_TAIL_WALK = 1024  # lines walked back from the end before every line's start is found in one pass


def line_count(data: bytes, span: tuple[int, int]) -> int | None:
    """How many lines the history in ``span`` holds; None if it does not open and close as written,
    or a line does not open with its id."""
    start, end = span
    if not (data.startswith(_ID_OPENER.encode(), start) and data[end - 1 : end] == b"}"):
        return None
    separators = data.count(SEPARATOR, start, end)
    if data.count(b"\n", start, end) != separators:
        return None  # a line that does not open with its id: the separators would join it to the one before
    return separators + 1


def ids_as_written(data: bytes, span: tuple[int, int], count: int) -> bool:
    """Whether each of the ``count`` lines' id is the one it opens with, as a byte search finds it: no other
    ``"id"`` in the lines (a key given twice is the parse's last), and no escape (which could spell an id)."""
    start, end = span
    return data.count(_ID_KEY, start, end) == count and not holds_escape(data, start, end)


def holds_escape(data: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether ``\\u`` stands anywhere in ``data[start:end]``, found by its backslash.

    The same answer as ``data.find(b"\\u", start, end) >= 0``, about 14 times faster on a ledger's
    history: a search for the rare backslash runs at memchr speed, while one for the pair keeps
    stopping at the common ``u``.
    """
    at = data.find(b"\\", start, end)
    while at >= 0:
        if data[at + 1 : at + 2] == b"u" and (end is None or at + 1 < end):
            return True
        at = data.find(b"\\", at + 1, end)
    return False


def plain_id(tx_id: str) -> bool:
    """Whether an id stands in a line as its own characters (a byte search can find it)."""
    return _PLAIN_ID.fullmatch(tx_id) is not None


class LineStarts:
    """Where each of the ``count`` lines of a history's bytes begins and ends, found when asked for."""

    def __init__(self, data: bytes, span: tuple[int, int], count: int) -> None:
        self._data, self._span, self._count = data, span, count
        self._tail: list[int] = []  # separators from the newest back: where each line but the first is opened
        self._every: list[int] | None = None  # each line's start, once found in one pass

    def _start(self, index: int) -> int:
        if index == 0:
            return self._span[0]
        if self._every is not None:
            return self._every[index]
        back = self._count - 1 - index
        if back >= _TAIL_WALK:
            every = [self._span[0]] + [match.start() + 3 for match in _SEPARATORS.finditer(self._data, *self._span)]
            if len(every) != self._count:
                raise ValueError("the history's lines changed while read")
            self._every = every
            return every[index]
        tail = self._tail
        while len(tail) <= back:
            before = tail[-1] + len(SEPARATOR) - 1 if tail else self._span[1]
            found = self._data.rfind(SEPARATOR, self._span[0], before)
            if found < 0:
                raise ValueError("fewer lines than counted")
            tail.append(found)
        return tail[back] + 3

    def bounds(self, index: int) -> tuple[int, int]:
        """[start, end) of the line at ``index`` (from 0), without its separator."""
        if not 0 <= index < self._count:
            raise IndexError(index)
        end = self._span[1] if index == self._count - 1 else self._start(index + 1) - 2
        return self._start(index), end

    def find_id(self, tx_id: str) -> int | None:
        """The index of the first line opening with the id ``tx_id`` (a plain id), or None."""
        start, end = self._span
        wanted = tx_id.encode() + b'", '
        if self._data.startswith(_ID_OPENER.encode() + wanted, start):
            return 0
        found = self._data.find(SEPARATOR + wanted, start, end)
        return None if found < 0 else self._data.count(SEPARATOR, start, found) + 1

    def ids(self) -> Iterator[tuple[str, int]]:
        """Each line's id, as it stands in the line, with the line's index."""
        start, end = self._span
        opener = _ID_OPENER.encode()
        first = self._data.find(b'"', start + len(opener), end)
        yield self._data[start + len(opener) : first].decode("utf-8", "replace"), 0
        for index, match in enumerate(_SEPARATED_IDS.finditer(self._data, start, end), start=1):
            yield match.group(1).decode("utf-8", "replace"), index


def history_lines(data: bytes, span: tuple[int, int]) -> list[str] | None:
    """The history's lines, one transaction each; None if one does not open with its id."""
    lines = str(memoryview(data)[span[0] : span[1]], "utf-8").split(LINE_SEPARATOR)
    if not all(line.startswith(_ID_OPENER) and line[-1:] == "}" for line in lines):
        return None
    return lines


def line_id(line: str) -> str:
    """The id of a line of the history, as it stands in the line (ids hold no escapes)."""
    return line[len(_ID_OPENER) : line.find('"', len(_ID_OPENER))]


def state_offset(line: str) -> int | None:
    """Where the value of a line's recorded state begins, or None for a line from before states."""
    at = line.rfind(_STATE_KEY)
    return None if at < 0 else at + len('"state": ')


def may_record(data: bytes, span: tuple[int, int], name: str) -> bool:
    """False if no line of the history can record ``name``'s state: one search in C, no parse."""
    return data.find(f'"{name}": "'.encode(), *span) >= 0


def records_state_of(line: str, offset: int, name: str) -> bool:
    """False if the state from ``offset`` surely does not hold ``name``; True: parse it to be sure."""
    return line.find(f'"{name}": "', offset) >= 0


def read_head(file: IO[bytes], size: int) -> tuple[bytes, tuple[int, int]] | None:
    """The head of an open file of ``size`` bytes, read line by line up to its history, as a whole document,
    and where the history's lines are in the file: [start, end), empty for a history written as ``[]``."""
    if size < 64:
        return None
    file.seek(size - TAIL_SIZE)
    tail = file.read()
    if not ends_as_written(tail):
        return None
    file.seek(0)
    head: list[bytes] = []
    read = 0
    while True:
        raw = file.readline(HEAD_LIMIT - read + 1)  # bounded: a file of one huge line is never read whole
        read += len(raw)
        if not raw or read > HEAD_LIMIT:
            return None
        line = raw.decode("utf-8")
        if line in _HISTORY_LINES:
            if line == _HISTORY_LINES[1]:
                span = (read, read)
                if size != read + len(EMPTY_HISTORY) - len(line):
                    return None  # more after an empty history
            else:
                span = (read, size - len(HISTORY_CLOSER))
                if not tail.endswith(HISTORY_CLOSER) or span[1] <= span[0]:
                    return None
            return b"".join(head) + EMPTY_HISTORY, span
        head.append(raw)


# Reading a history's lines from its end, without reading (or splitting) the rest. Each line of the
# writer's layout is one transaction: ``    {"id": "ID", "kind": "KIND", ...}`` followed by ``,`` but
# for the newest. JSON text holds no raw newline, so the newlines are exactly the lines' ends. A
# needle narrows the lines read to those holding its bytes: the quoted name of an account (a name
# coinpurse writes never needs an escape), or a kind where the writer puts it. A line in another
# layout raises OtherLayout; so does a needle's search over text with a ``\u`` escape, which could
# spell the name another way. The caller then reads the whole file.

_LINE_BYTES = _ID_OPENER.encode()
_KIND_KEY = b'", "kind": "'
FIRST_BLOCK = 64 * 1024
LAST_BLOCK = 4 * 1024 * 1024


class OtherLayout(Exception):
    """The bytes are not a history as coinpurse writes it."""


def kind_needle(kind: str) -> bytes:
    """The bytes a line of a transaction of ``kind`` holds where the writer puts its kind."""
    return _KIND_KEY + kind.encode() + b'", '


def name_needle(name: str) -> bytes:
    """The bytes any line naming ``name`` holds: the name as a JSON string."""
    return b'"' + name.encode() + b'"'


def line_kind(line: bytes) -> bytes:
    """The kind of a line in the writer's layout, as it stands in the line."""
    at = line.find(b'"', len(_LINE_BYTES))
    if at < 0 or not line.startswith(_KIND_KEY, at):
        raise OtherLayout
    start = at + len(_KIND_KEY)
    end = line.find(b'"', start)
    if end < 0 or b"\\" in line[start:end]:
        raise OtherLayout
    return line[start:end]


def newest_lines(
    read: Callable[[int, int], bytes],
    span: tuple[int, int],
    needle: bytes | None = None,
    *,
    first_block: int = FIRST_BLOCK,
    last_block: int = LAST_BLOCK,
) -> Iterator[bytes]:
    """The history's lines in ``span`` of a file, newest first (holding ``needle``, if given), without their ``,``.

    ``read(offset, size)`` reads the file; blocks are read from the end, each twice the one before,
    and each ends where the oldest line of the block after it begins (so a line is never joined).
    """
    start, pos = span
    size = first_block
    newest = True
    while pos > start:
        low = max(start, pos - size)
        size = min(size * 2, last_block)
        chunk = read(low, pos - low)
        if len(chunk) != pos - low:
            raise OtherLayout  # the file is shorter than it said
        first = 0
        if low > start:
            first = chunk.find(b"\n") + 1
            if first == 0:
                size = max(size, 2 * (pos - low))
                continue  # a line longer than the block: read again from further back
        if needle is not None and holds_escape(chunk, first):
            raise OtherLayout
        end = len(chunk)
        while True:
            if needle is not None:
                hit = chunk.rfind(needle, first, end)
                if hit < 0:
                    break
                end = chunk.find(b"\n", hit)
                if end < 0:
                    end = len(chunk)
                newest = newest and end == len(chunk)
            begin = max(first, chunk.rfind(b"\n", first, end) + 1)
            line = chunk[begin:end]
            if newest:
                newest = False
            elif line[-1:] == b",":
                line = line[:-1]
            else:
                raise OtherLayout
            if not (line.startswith(_LINE_BYTES) and line[-1:] == b"}"):
                raise OtherLayout
            yield line
            if begin == first:
                break
            end = begin - 1
        newest = False
        pos = low + first - 1  # the next block ends with the line before, and its comma


# Times never go back along the history, so the line where a moment falls is found by halving the
# history's bytes: each step reads the one line starting at or after a byte offset and its time
# (written right after the id and kind). About 27 small reads for a 100 MB history, none parsed.

_AT_KEY = b'"at"'
_AT_OPENING = b'", "at": "'
_STAMP_SIZE = 20  # 2026-03-01T12:00:00Z
_LINE_READ = 8 * 1024


def _line_from(read: Callable[[int, int], bytes], span: tuple[int, int], start: int) -> tuple[bytes, int]:
    """The line that starts at ``start`` (without its comma) and where the next one starts (``span``'s end
    after the last)."""
    end = span[1]
    size = _LINE_READ
    while True:
        chunk = read(start, min(size, end - start))
        if len(chunk) != min(size, end - start):
            raise OtherLayout  # the file is shorter than it said
        cut = chunk.find(b"\n")
        if cut >= 0:
            line = chunk[:cut]
            if line[-1:] != b",":
                raise OtherLayout
            return line[:-1], start + cut + 1
        if start + len(chunk) >= end:
            return chunk, end
        size *= 4


def _start_at_or_after(read: Callable[[int, int], bytes], span: tuple[int, int], offset: int) -> int:
    """Where the first line starting at or after ``offset`` starts (``span``'s end if none does)."""
    if offset <= span[0]:
        return span[0]
    position = offset - 1  # a line starts right after a newline
    while position < span[1]:
        chunk = read(position, min(_LINE_READ, span[1] - position))
        if not chunk:
            raise OtherLayout
        cut = chunk.find(b"\n")
        if cut >= 0:
            return position + cut + 1
        position += len(chunk)
    return span[1]


def line_time(line: bytes) -> str:
    """A line's stored time, read from its opening where that is its only ``"at"`` and it holds no escape."""
    if not line.startswith(_LINE_BYTES) or line.count(_AT_KEY) != 1 or b"\\" in line:
        raise OtherLayout
    at = line.find(b'"', len(_LINE_BYTES))  # the end of the id
    at = line.find(_AT_OPENING, at + 1)
    if at < 0 or at > 200:  # right after the id and the kind
        raise OtherLayout
    stamp = line[at + len(_AT_OPENING) : at + len(_AT_OPENING) + _STAMP_SIZE + 1]
    if len(stamp) != _STAMP_SIZE + 1 or stamp[-1:] != b'"':
        raise OtherLayout
    return stamp[:-1].decode("ascii")


def time_boundary(read: Callable[[int, int], bytes], span: tuple[int, int], moment: str, inclusive: bool) -> int:
    """Where the first line of the history stamped after ``moment`` starts (at or after it, without
    ``inclusive``): every line before that offset is stamped at or before it (before it). ``span``'s end
    when every line is. ``OtherLayout`` where a line read is not as the writer writes one."""
    low, high = span  # the boundary is a line start in [low, high]; low is a line start
    while low < high:
        start = _start_at_or_after(read, span, (low + high) // 2)
        if start >= high:  # no line starts in the upper half: look at the one at low
            start = low
        line, after = _line_from(read, span, start)
        stamped = line_time(line)
        if stamped > moment or (not inclusive and stamped == moment):
            high = start
        else:
            low = after
    return low


def lines_between(read: Callable[[int, int], bytes], span: tuple[int, int], start: int, end: int) -> list[bytes]:
    """The history's lines from the one starting at ``start`` to the one ending before ``end`` (a line
    start, or ``span``'s end), oldest first, without their commas."""
    if start >= end:
        return []
    chunk = read(start, end - start)
    if len(chunk) != end - start:
        raise OtherLayout
    lines = chunk.split(b"\n")
    if end < span[1]:
        if lines[-1] != b"":
            raise OtherLayout
        lines.pop()
    found = []
    for index, line in enumerate(lines):
        if index < len(lines) - 1 or end < span[1]:
            if line[-1:] != b",":
                raise OtherLayout
            line = line[:-1]
        if not (line.startswith(_LINE_BYTES) and line[-1:] == b"}"):
            raise OtherLayout
        found.append(line)
    return found


def lines_before(span: tuple[int, int], boundary: int) -> tuple[int, int]:
    """The span of the lines before ``boundary`` (a line start), for ``newest_lines``: it ends with the
    last of them, its comma left out."""
    return (span[0], boundary - 2 if boundary < span[1] else span[1]) if boundary > span[0] else (span[0], span[0])
