"""`make demo`: a moto server on loopback, standing in for S3 behind the demo's "s3" location, then
the store; the moto server stops with the store. Without moto the store still starts, and uploads to
"s3" fail with a message saying S3 cannot be reached."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from .__main__ import main as store_main

MOTO_PORT = 5000  # MOTO_PORT overrides it
START_SECONDS = 20.0


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def moto_server(port: int) -> Iterator[str | None]:
    """Run `moto_server` on 127.0.0.1:`port` while the block runs. Yields None once it answers, or
    why it does not (moto missing, the port taken, too slow)."""
    if _answers(port):
        yield f"port {port} is taken: S3 requests go to whatever answers there"
        return
    with tempfile.TemporaryFile("w+") as log:
        try:
            process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        except OSError as exc:
            yield f"moto_server did not start: {exc}"
            return
        try:
            deadline = time.monotonic() + START_SECONDS
            while not _answers(port) and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if process.poll() is not None:
                log.seek(0)
                yield f"moto_server stopped at once:\n{log.read()[-2000:]}"
            elif not _answers(port):
                yield f"moto_server did not answer on port {port} within {START_SECONDS:.0f} s"
            else:
                yield None
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def main(argv: list[str] | None = None) -> None:
    """`python -m store.demo [store serve options]`."""
    port = int(os.environ.get("MOTO_PORT", MOTO_PORT))
    # uvicorn raises the signal that stopped it again once it has: a SIGTERM must then unwind through
    # the `finally` that stops moto rather than end the process where it stands.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    os.environ["PICKSTORE__LOCATIONS__S3__ENDPOINT_URL"] = f"http://127.0.0.1:{port}"
    with moto_server(port) as trouble:
        if trouble:
            print(f"pickstore demo: no S3 stand-in, uploads to location 's3' will fail: {trouble}", flush=True)
        else:
            print(f"pickstore demo: moto (S3) on http://127.0.0.1:{port}/ for location 's3'", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            store_main(["serve", "--config", "store/demo.toml", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
