"""A ledger named by a PostgreSQL URL (``postgresql://user@host:port/dbname``), told apart from a file path.

Everything that names a ledger holds a ``Path``; a server's ledger is a ``LedgerUrl``,
a ``Path`` whose text is the URL without its password, so a message, a log or a JSON
result that names the ledger never shows one. The full URL stays inside, for the driver.
Nothing here imports the driver: naming a ledger costs nothing.
"""

from __future__ import annotations

import re
from pathlib import PosixPath
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from coinpurse.errors import BadInput

SCHEMES = ("postgresql://", "postgres://")
DEFAULT_SCHEMA = "public"
_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SECRET_PARAMETERS = ("password",)


NOWHERE = PosixPath("/nonexistent/coinpurse-postgresql-ledger")


def is_url(text: object) -> bool:
    return isinstance(text, str) and text.lower().startswith(SCHEMES)


class LedgerUrl(PosixPath):
    """A PostgreSQL ledger: ``conninfo`` for the driver, ``schema`` it lives in, ``str()`` safe to show."""

    url: str
    conninfo: str
    schema: str
    shown: str
    password: str | None

    def __new__(cls, url: str) -> LedgerUrl:
        self = super().__new__(cls, "postgresql")
        self._parse(url)
        return self

    def __init__(self, url: str) -> None:  # Python 3.12 and later pass the arguments on to __init__
        try:
            super().__init__("postgresql")  # type: ignore[call-arg]
        except TypeError:
            pass

    def _parse(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            password = parts.password
            parts.port  # noqa: B018  (a bad port raises here)
        except ValueError as error:
            raise BadInput(f"the PostgreSQL URL is not valid: {error}", code="invalid_url") from None
        query = parse_qsl(parts.query, keep_blank_values=True)
        schema = DEFAULT_SCHEMA
        kept: list[tuple[str, str]] = []
        for key, value in query:
            if key == "schema":
                schema = value
            else:
                kept.append((key, value))
            if key in _SECRET_PARAMETERS:
                password = value
        if not _SCHEMA_NAME.fullmatch(schema):
            raise BadInput(
                f"schema {schema[:80]!r} in the PostgreSQL URL is not a plain lower-case name (letters, digits, _)",
                code="invalid_url",
            )
        self.url = url
        self.password = password
        self.schema = schema
        self.conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(kept), parts.fragment))
        netloc = parts.netloc.rpartition("@")
        host = netloc[2]
        user = netloc[0].partition(":")[0] if netloc[1] else ""
        shown_netloc = f"{user}@{host}" if user else host
        shown_query = urlencode([(key, value) for key, value in query if key not in _SECRET_PARAMETERS], safe="/")
        self.shown = urlunsplit(("postgresql", shown_netloc, parts.path, shown_query, ""))

    # A path made from this one (``with_name``, ``parent``) is a plain path in a folder that does not exist:
    # no file belongs to a server's ledger, and nothing can be written beside one by mistake.
    @classmethod
    def _from_parsed_parts(cls, drv: str, root: str, parts: list[str]) -> Any:  # Python 3.11
        return NOWHERE.joinpath(*parts)

    def with_segments(self, *segments: Any) -> Any:  # Python 3.12 and later
        return NOWHERE.joinpath(*(str(segment).lstrip("/") for segment in segments))

    @property
    def database(self) -> str:
        return unquote(urlsplit(self.url).path.lstrip("/")) or "postgres"

    def __str__(self) -> str:
        return self.shown

    def __fspath__(self) -> str:
        return self.shown

    def __repr__(self) -> str:
        return f"LedgerUrl({self.shown!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LedgerUrl) and (other.conninfo, other.schema) == (self.conninfo, self.schema)

    def __hash__(self) -> int:
        return hash((self.conninfo, self.schema))

    def __reduce__(self) -> Any:
        return (LedgerUrl, (self.url,))

    @property
    def name(self) -> str:  # what exports name their source by
        return self.database if self.schema == DEFAULT_SCHEMA else f"{self.database}.{self.schema}"

    @property
    def suffix(self) -> str:
        return ""

    def exists(self, *, follow_symlinks: bool = True) -> bool:
        """Whether the database holds a ledger (in the URL's schema); asks the server."""
        from coinpurse.storage.postgres import ledger_exists

        return ledger_exists(self)

    def is_file(self) -> bool:
        return self.exists()

    def read_bytes(self) -> bytes:
        """The ledger's stored rows, every table in key order, as bytes: what a file ledger's bytes are to it,
        so two moments of one ledger compare the same way (a refusal leaves them identical)."""
        from coinpurse.storage.postgres import dump

        return dump(self)

    def is_symlink(self) -> bool:
        return False

    def is_dir(self, *, follow_symlinks: bool = True) -> bool:
        return False

    def scrub(self, text: str) -> str:
        """A driver's message with the password taken out, should it ever show it."""
        if self.password:
            text = text.replace(self.password, "***").replace(quote(self.password, safe=""), "***")
        return text


def ledger_path(raw: str | Any) -> Any:
    """A ``Path`` for what names a ledger: a ``LedgerUrl`` for a PostgreSQL URL."""
    from pathlib import Path

    if isinstance(raw, LedgerUrl):
        return raw
    if is_url(raw):
        return LedgerUrl(raw)
    return Path(raw)
