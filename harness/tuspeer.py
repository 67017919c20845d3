"""A tus server nobody here wrote: tuspyserver (PyPI), a FastAPI router, served by uvicorn on loopback
in a process of its own, with CORS letting a host page upload to it from the browser.

    python -m harness.tuspeer --port PORT --files DIR --origin http://127.0.0.1:HOSTPORT
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from . import ROOT, free_port

if TYPE_CHECKING:
    from fastapi import FastAPI

PREFIX = "files"


def create_app(files_dir: str, origins: list[str]) -> FastAPI:
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware
    from tuspyserver import create_tus_router

    app = FastAPI()
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[
            "Location", "Upload-Offset", "Upload-Length", "Upload-Expires", "Upload-Metadata",
            "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size",
        ],
    )
    app.include_router(create_tus_router(prefix=PREFIX, files_dir=files_dir))
    return app


@dataclass
class TusPeer:
    url: str
    files_dir: Path
    process: subprocess.Popen

    @property
    def endpoint(self) -> str:
        return f"{self.url}/{PREFIX}/"

    def stored(self, upload_url: str) -> Path:
        """Where tuspyserver keeps the bytes of the upload at `upload_url`."""
        return self.files_dir / upload_url.rstrip("/").rsplit("/", 1)[1]


@contextlib.contextmanager
def run_tus_peer(tmp: Path, origin: str) -> Iterator[TusPeer]:
    files_dir = tmp / "tuspyserver"
    files_dir.mkdir(parents=True, exist_ok=True)
    log = tmp / "tuspyserver.log"
    port = free_port()
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "harness.tuspeer", "--port", str(port), "--files", str(files_dir), "--origin", origin],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.options(f"{url}/{PREFIX}/", headers={"Tus-Resumable": "1.0.0"}, timeout=1)
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"tuspyserver did not start:\n{log.read_text()}") from None
            time.sleep(0.05)
    try:
        yield TusPeer(url, files_dir, process)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--files", required=True)
    parser.add_argument("--origin", action="append", default=[])
    args = parser.parse_args()
    uvicorn.run(create_app(args.files, args.origin), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
