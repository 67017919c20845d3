"""Debian's PostgreSQL as the tests run it: a cluster of its own (initdb) in a temporary folder,
served by `postgres` on a free port of 127.0.0.1 only, as an unprivileged user (the `postgres` user
when the tests run as root, which PostgreSQL refuses to be), and removed when it stops. Each test
module takes a fresh database of it, which a test may empty."""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from . import free_port

SUPERUSER = "pickstore"


def binaries() -> Path:
    """The newest installed PostgreSQL's bin folder (the Makefile installs Debian's package)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parent.parent.name))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: `make test` installs Debian's postgresql package")
    return Path(found[-1]).parent


@dataclass
class Postgres:
    port: int
    folder: Path
    process: subprocess.Popen
    _names: Iterator[int] = field(default_factory=itertools.count)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self, stem: str = "db") -> str:
        """The URL of a new, empty database."""
        name = f"{''.join(c if c.isalnum() else '_' for c in stem.lower())[:40]}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def emptied(self, url: str) -> str:
        """The database at `url` with every table gone, as new (quicker than a new database)."""
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        return url


def _as_user() -> dict[str, int]:
    """Popen's user and group when the tests run as root: PostgreSQL's own unprivileged user."""
    if os.getuid() != 0:
        return {}
    entry = pwd.getpwnam("postgres")
    return {"user": entry.pw_uid, "group": entry.pw_gid}


@contextlib.contextmanager
def run_postgres() -> Iterator[Postgres]:
    bin_dir = binaries()
    who = _as_user()
    # Not under pytest's temporary folders: those are closed to other users.
    folder = Path(tempfile.mkdtemp(prefix="pickstore-pg-"))
    data = folder / "data"
    if who:
        os.chown(folder, who["user"], who["group"])
    log = folder / "postgres.log"
    try:
        subprocess.run(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "--encoding=UTF8",
             "--locale=C", "--no-sync"],
            check=True, capture_output=True, **who,  # type: ignore[call-overload]
        )
        port = free_port()
        with open(log, "ab") as out:
            process = subprocess.Popen(
                [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
                 "-c", f"unix_socket_directories={folder}", "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=200"],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **who,  # type: ignore[call-overload]
            )
        server = Postgres(port, folder, process)
        _wait_until_ready(server, log)
        try:
            yield server
        finally:
            # Immediate shutdown: connections cut and no last checkpoint, since the folder goes.
            process.send_signal(signal.SIGQUIT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_ready(server: Postgres, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with psycopg.connect(server.url(), connect_timeout=1):
                return
        except psycopg.OperationalError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                server.process.kill()
                raise RuntimeError(f"PostgreSQL did not start:\n{log.read_text(errors='replace')}") from None
            time.sleep(0.05)
