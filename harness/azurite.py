"""Azurite, Microsoft's Azure Blob Storage emulator (from npm), as a real server on loopback for the
tests: started on a free port with its data in a temporary folder, stopped at the end."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from azure.storage.blob import BlobServiceClient

from . import ROOT, free_port

AZURITE = ROOT / "node_modules" / ".bin" / "azurite-blob"
# Azurite's one well-known development account.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@dataclass
class Azurite:
    endpoint: str
    process: subprocess.Popen

    @property
    def connection_string(self) -> str:
        return (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                f"BlobEndpoint={self.endpoint};")

    def service(self) -> BlobServiceClient:
        return BlobServiceClient.from_connection_string(self.connection_string)

    def create_container(self, name: str, public: bool = False) -> None:
        """`public`: anyone may read its blobs by URL (Azure's "blob" access), as a public location's are."""
        self.service().create_container(name, public_access="blob" if public else None)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextlib.contextmanager
def run_azurite(tmp: Path) -> Iterator[Azurite]:
    port = free_port()
    log = tmp / "azurite.log"  # a file, not a pipe that nobody reads and that could fill up
    # --skipApiVersionCheck: the SDK speaks a newer API version than Azurite knows.
    # --disableTelemetry: Azurite would otherwise try to reach the internet.
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(tmp),
             "--skipApiVersionCheck", "--disableTelemetry", "--silent"],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    azurite = Azurite(f"http://127.0.0.1:{port}/{ACCOUNT}", process)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{azurite.endpoint}?comp=list", timeout=1)  # any answer will do: it is up
            break
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                azurite.stop()
                raise RuntimeError(f"Azurite did not start:\n{log.read_text()}") from None
            time.sleep(0.1)
    try:
        yield azurite
    finally:
        azurite.stop()
