"""The store as its own process on loopback, as the tests and benchmarks run it: `python -m store
serve` with the test apps' configuration, started on a free port once it answers; and one that can be
killed with SIGKILL and started again on the same port and data dir."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from store.policy import make_policy, signed

from . import ROOT, free_port

TEST_CONFIG = """
[store]
data_dir = "{data_dir}"
default_location = "local"

[apps.demo]
key = "demo"
secret = "demo-secret"
allowed_origins = ["*"]

[apps.limited]
key = "limited"
secret = "limited-secret"
allowed_origins = ["*"]
max_size = 1000
mimetypes = ["image/*", "application/pdf"]

[apps.site]
key = "site"
secret = "site-secret"
allowed_origins = ["https://www.example.com"]

[apps.secure]
key = "secure"
secret = "secure-secret"
allowed_origins = ["*"]
require_security = true

[locations.local]
backend = "local"
root = "files"
containers = ["files", "other-files"]
"""

# The environment that makes TEST_CONFIG's local location public.
PUBLIC_LOCAL = {"PICKSTORE__locations__local__public": "true"}


def secure_policy(**rules: Any) -> dict[str, str]:
    """The policy and signature fields of a policy with `rules` (expiring in 10 minutes unless
    `expiry` says otherwise), signed with the secret of TEST_CONFIG's "secure" app."""
    rules.setdefault("expiry", time.time() + 600)
    return signed(make_policy(**rules), "secure-secret")


@dataclass
class Store:
    url: str
    data_dir: Path
    config_path: Path
    process: subprocess.Popen

    def stored_files(self) -> list[Path]:
        """Every file the store has committed to a local location."""
        return [p for p in self.data_dir.rglob("*") if p.is_file() and ".incoming" not in p.parts
                and not p.name.startswith("index.sqlite3")]


def start_store(config_path: Path, port: int, log_path: Path, env: dict[str, str] | None = None,
                args: tuple[str, ...] = ()) -> subprocess.Popen:
    """`python -m store serve` on 127.0.0.1:port (with `args`, such as `--workers 3`), once it
    answers. Its output goes to `log_path` (appended): a pipe nobody reads fills up and then blocks
    the store."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "store", "serve", "--config", str(config_path), "--port", str(port), *args],
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/static/filepicker.js", timeout=1)
            return process
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the store did not start:\n{log_path.read_text(errors='replace')}") from None
            time.sleep(0.05)


@contextlib.contextmanager
def run_store(tmp: Path, config_text: str = TEST_CONFIG, env: dict[str, str] | None = None) -> Iterator[Store]:
    data_dir = tmp / "data"
    config_path = tmp / "store.toml"
    config_path.write_text(config_text.format(data_dir=data_dir))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_store(config_path, port, tmp / "store.log", env)
    try:
        yield Store(url, data_dir, config_path, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


class StoreProcess:
    """The store as its own process on a port of its own that stays its own across restarts."""

    def __init__(self, tmp: Path, config_text: str = TEST_CONFIG, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.data_dir = tmp / "data"
        self.config_path = tmp / "store.toml"
        self.config_path.write_text(config_text.format(data_dir=self.data_dir))
        self.env = env
        self.args = args
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log = tmp / "store.log"

    def start(self) -> None:
        self.process = start_store(self.config_path, self.port, self.log, self.env, self.args)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, as when the machine or the OOM killer stops it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def files_root(self, container: str = "files") -> Path:
        return self.data_dir / "files" / container

    def incoming(self) -> list[Path]:
        folder = self.data_dir / "files" / ".incoming" / "uploads"
        return sorted(folder.iterdir()) if folder.is_dir() else []

    def index_rows(self, sql: str, *params: object) -> list[tuple]:
        """Read the store's index as it is on disk (read-only)."""
        with contextlib.closing(sqlite3.connect(f"file:{self.data_dir / 'index.sqlite3'}?mode=ro", uri=True)) as db:
            return db.execute(sql, params).fetchall()


@contextlib.contextmanager
def store_process(tmp: Path, config_text: str = TEST_CONFIG, env: dict[str, str] | None = None,
                  args: tuple[str, ...] = ()) -> Iterator[StoreProcess]:
    store = StoreProcess(tmp, config_text, env, args)
    store.start()
    try:
        yield store
    finally:
        store.stop()
