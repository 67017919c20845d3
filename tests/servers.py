"""Real servers on loopback for the tests and benchmarks: the store as its own process, a host page
server on another origin that embeds the picker the way a customer's site does, and moto (S3)."""

from __future__ import annotations

import contextlib
import http.server
import os
import runpy
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx

from store.demo import moto_server

ROOT = Path(__file__).resolve().parent.parent
BROWSER = runpy.run_path(str(ROOT / "playwright.config.py"))["LAUNCH"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def start_store(config_path: Path, port: int, log_path: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`python -m store serve` on 127.0.0.1:port, once it answers. Its output goes to `log_path`
    (appended): a pipe nobody reads fills up and then blocks the store."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "store", "serve", "--config", str(config_path), "--port", str(port)],
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
                raise RuntimeError(f"the store did not start:\n{log_path.read_text(errors='replace')}")
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


TUS_JS_PATH = "vendor/tus-js-client/"
TUS_JS_DIST = ROOT / "node_modules" / "tus-js-client" / "dist"


class HostPages(http.server.ThreadingHTTPServer):
    """Serves tests/pages/*.html, and `inline` pages by name (/<name>), with {{STORE}} replaced by
    the store's URL; and tus-js-client's dist/ files at /vendor/tus-js-client/."""

    daemon_threads = True

    def __init__(self, store_url: str, inline: Mapping[str, str] | None = None) -> None:
        self.store_url = store_url
        self.inline = dict(inline or {})
        super().__init__(("127.0.0.1", free_port()), _HostPageHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _HostPageHandler(http.server.BaseHTTPRequestHandler):
    server: HostPages

    def do_GET(self) -> None:
        name = self.path.split("?")[0].lstrip("/") or "index.html"
        if name.startswith(TUS_JS_PATH):  # another tus client, as the page of a site using it would load it
            script = TUS_JS_DIST / name[len(TUS_JS_PATH):]
            if script.parent != TUS_JS_DIST or not script.is_file():
                self.send_error(404)
                return
            body, content_type = script.read_bytes(), "text/javascript; charset=utf-8"
        else:
            page = ROOT / "tests" / "pages" / name
            if name in self.server.inline:
                text = self.server.inline[name]
            elif page.is_file() and page.suffix == ".html":
                text = page.read_text()
            else:
                self.send_error(404)
                return
            body = text.replace("{{STORE}}", self.server.store_url).encode()
            content_type = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def run_host_pages(store_url: str, inline: Mapping[str, str] | None = None) -> Iterator[HostPages]:
    server = HostPages(store_url, inline)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Moto:
    """A moto server: S3 on loopback, with the credentials and region the tests' locations use."""

    endpoint: str
    buckets: tuple[str, ...]
    access_key_id: str = "testing"
    secret_access_key: str = "testing"
    region: str = "us-east-1"

    def client(self) -> Any:
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=self.region,
            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
        )

    def settings(self) -> dict[str, str]:
        """The settings of an s3 location on this server."""
        return {"endpoint_url": self.endpoint, "region": self.region, "access_key_id": self.access_key_id,
                "secret_access_key": self.secret_access_key}


@contextlib.contextmanager
def run_moto(buckets: tuple[str, ...] = ()) -> Iterator[Moto]:
    """`moto_server` on a free loopback port, with `buckets` made, stopped at the end."""
    port = free_port()
    with moto_server(port) as trouble:
        if trouble:
            raise RuntimeError(trouble)
        moto = Moto(f"http://127.0.0.1:{port}", buckets)
        for bucket in buckets:
            moto.client().create_bucket(Bucket=bucket)
        yield moto
