"""A throwaway PostgreSQL server for the tests, from PostgreSQL's own binaries.

``initdb`` into a temporary folder, ``pg_ctl start`` listening on a Unix socket in
that folder and on a free loopback port, ``pg_ctl stop`` at the end. PostgreSQL
refuses to run as root, so as root the server runs as the ``postgres`` system user,
in a folder that user can enter (pytest's own temporary folders are root's alone).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BIN_FOLDERS = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin")


def find_binaries() -> Path | None:
    """A folder holding initdb, pg_ctl and postgres: COINPURSE_PG_BIN, PATH, then Debian's own."""
    named = os.environ.get("COINPURSE_PG_BIN")
    candidates = [named] if named else []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(str(Path(on_path).parent))
    for pattern in BIN_FOLDERS:
        candidates.extend(sorted(glob.glob(pattern), reverse=True))
    for folder in candidates:
        if all(os.access(Path(folder) / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres")):
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """One running server: ``url(dbname)`` names a database on it through its Unix socket."""

    def __init__(self, binaries: Path) -> None:
        self.binaries = binaries
        self.as_root = os.geteuid() == 0
        # /tmp, not pytest's temp folders: the postgres user must be able to enter it.
        self.folder = Path(tempfile.mkdtemp(prefix="coinpurse-pg-", dir="/tmp"))
        self.data = self.folder / "data"
        self.socket_dir = self.folder
        self.port = free_port()
        self.user = "postgres" if self.as_root else os.environ.get("USER", "coinpurse")
        self.log = self.folder / "server.log"
        if self.as_root:
            import pwd

            entry = pwd.getpwnam("postgres")
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self.folder.chmod(0o755)

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.binaries / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def init(self, durable: bool = False) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", self.user, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"
        )
        conf = self.data / "postgresql.conf"
        with open(conf, "a") as settings:  # a test server: quick, small, local only
            settings.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = '{self.socket_dir}'\n"
                # fsync off (tests): the OS keeps what was written, which an immediate shutdown (the fault tests) can't
                # undo; commits stay synchronous, so an acknowledged one is in the WAL before it is acknowledged.
                + ("" if durable else "fsync = off\nfull_page_writes = off\n")
                + "max_connections = 100\n"
                "shared_buffers = 32MB\n"
            )

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self, mode: str = "immediate") -> None:
        self.stop(mode)
        self.start()

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@localhost:{self.port}/{dbname}?host={self.socket_dir}"

    def psql_command(self, sql: str, dbname: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(
            self.url(dbname).replace("postgresql://", "postgresql://", 1), autocommit=True
        ) as connection:
            connection.execute(sql)

    def create_database(self, name: str) -> str:
        self.psql_command(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.psql_command(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def teardown(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def start_server(durable: bool = False) -> Server | str:
    """A running server, or the reason there can be none here; ``durable`` keeps fsync on (for benchmarks)."""
    binaries = find_binaries()
    if binaries is None:
        return (
            "PostgreSQL's binaries (initdb, pg_ctl, postgres) are not installed; set COINPURSE_PG_BIN to their folder"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed: pip install -e '.[postgres]'"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres system user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root and runuser is missing, so PostgreSQL can't be started as the postgres user"
    server = Server(binaries)
    try:
        server.init(durable)
        server.start()
    except Exception as error:  # whatever stopped it, the folder goes
        output = getattr(error, "stderr", "") or ""
        log = server.log.read_text(errors="replace")[-400:] if server.log.exists() else ""
        server.teardown()
        return f"could not start a PostgreSQL server: {error} {output.strip()[-400:]} {log}".strip()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            server.psql_command("SELECT 1")
            break
        except Exception:
            time.sleep(0.2)
    return server
