"""Servers the store fetches from in the import tests and benchmark, on loopback: an HTTP origin
with files of known bytes, redirect chains, bodies without Content-Length, slow and endless bodies;
and a bare listening socket that records every connection made to it (and answers none)."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from . import free_port

PATTERN = bytes(range(256)) * 256  # 64 KiB


def body(size: int, seed: int = 0) -> bytes:
    """`size` bytes of a pattern no sniffer takes for a known type."""
    pattern = PATTERN[seed % 256:] + PATTERN[:seed % 256]
    whole, rest = divmod(size, len(pattern))
    return pattern * whole + pattern[:rest]


def pieces(size: int, seed: int = 0) -> Iterator[bytes]:
    """body(size, seed) in pieces of at most 64 KiB, never whole in memory."""
    pattern = PATTERN[seed % 256:] + PATTERN[:seed % 256]
    while size > 0:
        yield pattern[:size]
        size -= len(pattern)


def body_sha256(size: int, seed: int = 0) -> str:
    digest = hashlib.sha256()
    for piece in pieces(size, seed):
        digest.update(piece)
    return digest.hexdigest()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _OriginServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with self.server.lock:
            self.server.requests.append((self.path, dict(self.headers)))
        kind, _, rest = parts.path.strip("/").partition("/")
        size = int(query.get("size", "1000"))
        seed = int(query.get("seed", "0"))
        try:
            if kind == "file":  # /file/<name>?size=&type=&cd=&raw=png|html
                raw = self.server.raw.get(query.get("raw", ""))
                self._head(200, size if raw is None else len(raw), query)
                if raw is None:
                    for piece in pieces(size, seed):
                        self.wfile.write(piece)
                else:
                    self.wfile.write(raw)
            elif kind == "chunked":  # Transfer-Encoding: chunked, no Content-Length
                self._head(200, None, query, chunked=True)
                for piece in pieces(size, seed):
                    self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            elif kind == "close":  # neither length nor chunks: the body ends when the connection does
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                for piece in pieces(size, seed):
                    self.wfile.write(piece)
                self.close_connection = True
            elif kind == "short":  # a Content-Length of `size`, half the bytes, then the connection closed
                self._head(200, size, query)
                self.wfile.write(body(size // 2, seed))
                self.close_connection = True
            elif kind == "slow":  # a first part, then silence for `pause` seconds, then the rest
                self._head(200, size, query)
                data = body(size, seed)
                self.wfile.write(data[: size // 2])
                self.wfile.flush()
                time.sleep(float(query.get("pause", "3")))
                self.wfile.write(data[size // 2:])
            elif kind == "trickle":  # one byte every `every` seconds, for ever
                self._head(200, None, query, chunked=True)
                while not self.server.closing.is_set():
                    self.wfile.write(b"1\r\nx\r\n")
                    self.wfile.flush()
                    time.sleep(float(query.get("every", "0.2")))
            elif kind == "huge":  # a Content-Length of `size` and the bytes for as long as they are read
                self._head(200, size, query)
                self._endless()
            elif kind == "endless":  # no Content-Length, bytes for as long as they are read
                self._head(200, None, query, chunked=True)
                piece = f"{len(PATTERN):x}\r\n".encode() + PATTERN + b"\r\n"
                while not self.server.closing.is_set():
                    self.wfile.write(piece)
            elif kind == "redirect":  # /redirect/<n>/<then>: n more hops, then /<then>
                count, _, then = rest.partition("/")
                target = f"/redirect/{int(count) - 1}/{then}" if int(count) > 1 else f"/{then}"
                self._redirect(target + (f"?{parts.query}" if parts.query else ""))
            elif kind == "goto":  # a redirect to any URL
                self._redirect(query["url"])
            elif kind == "status":
                self.send_response(int(rest))
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self.send_error(404)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _head(self, status: int, length: int | None, query: dict[str, str], chunked: bool = False) -> None:
        self.send_response(status)
        if "type" in query:
            self.send_header("Content-Type", query["type"])
        if "cd" in query:
            self.send_header("Content-Disposition", query["cd"])
        if length is not None:
            self.send_header("Content-Length", str(length))
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _endless(self) -> None:
        while not self.server.closing.is_set():
            self.wfile.write(PATTERN)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _OriginServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], tls: ssl.SSLContext | None = None) -> None:
        super().__init__(address, _Handler)
        self.lock = threading.Lock()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.server_names: list[str | None] = []  # the TLS server name (SNI) of each handshake
        self.closing = threading.Event()
        self.raw: dict[str, bytes] = {}
        if tls is not None:
            tls.sni_callback = self._named
            self.socket = tls.wrap_socket(self.socket, server_side=True)

    def _named(self, sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, context: ssl.SSLContext) -> None:
        with self.lock:
            self.server_names.append(name)


class Origin:
    def __init__(self, server: _OriginServer, scheme: str = "http") -> None:
        self.server = server
        self.port = server.server_address[1]
        self.url = f"{scheme}://127.0.0.1:{self.port}"

    def server_names(self) -> list[str | None]:
        with self.server.lock:
            return list(self.server.server_names)

    def requests(self) -> list[tuple[str, dict[str, str]]]:
        with self.server.lock:
            return list(self.server.requests)

    def serve_raw(self, name: str, data: bytes) -> None:
        """`/file/...?raw=name` serves `data`."""
        self.server.raw[name] = data


def self_signed(folder: Path, name: str = "localhost") -> tuple[Path, Path]:
    """A certificate for `name` (its own authority) and its key, made by openssl in `folder`."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        check=True, capture_output=True,
    )
    return cert, key


@contextlib.contextmanager
def run_origin(certificate: tuple[Path, Path] | None = None) -> Iterator[Origin]:
    """The origin on 127.0.0.1, over https with `certificate` (cert, key) when given."""
    tls = None
    if certificate is not None:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(*certificate)
    server = _OriginServer(("127.0.0.1", free_port()), tls)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Origin(server, "https" if tls else "http")
    finally:
        server.closing.set()
        server.shutdown()
        server.server_close()


class Recorder:
    """A socket listening on `host` that counts the connections made to it and closes each."""

    def __init__(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.connections: list[object] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, peer = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(peer)
            conn.close()

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.sock.close()


@contextlib.contextmanager
def recording(hosts: tuple[str, ...] = ("127.0.0.1", "::1")) -> Iterator[tuple[int, list[Recorder]]]:
    """Recorders on one free port of each of `hosts`: (port, recorders)."""
    port = free_port()
    recorders = [Recorder(host, port) for host in hosts]
    try:
        yield port, recorders
    finally:
        for recorder in recorders:
            recorder.close()
