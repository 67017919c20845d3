"""What the tests and the benchmarks share: real servers on loopback (the store, moto, Azurite, a tus
peer, a fault proxy), the host pages that embed the picker, the browser, and the steps a user takes
in it. Nothing here is a test; tests and benchmarks import it, never each other."""

from __future__ import annotations

import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
