"""Import benchmark: a 1 GiB file imported by URL (POST /api/import) from an HTTP origin on
loopback into a real store process (local disk, a temporary folder), against curl downloading the
same URL to /dev/null in the same run, runs interleaved; and the store process's RSS sampled ten
times a second during each import (growth over its RSS before the first one; target < 64 MiB).
Every import's Blob sha256 is compared with the origin's bytes.

Run with `.venv/bin/python -m bench.url_imports` (`--quick`: 64 MiB, one run, nothing written);
results are printed and written to the "## Imports" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

from harness.http_origin import body_sha256, run_origin
from harness.store_process import TEST_CONFIG, run_store

from .doc import write_section

GIB = 1024**3
MIB = 1024**2
CONFIG = TEST_CONFIG + '\n[remote]\nallow = ["127.0.0.1/32"]\n'


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.stopping = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.1)

    def stop(self) -> int:
        self.stopping.set()
        self.thread.join()
        return self.peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size, runs = (64 * MIB, 1) if args.quick else (GIB, args.runs)
    expected = body_sha256(size, 7)
    imports: list[float] = []
    curls: list[float] = []
    peaks: list[int] = []
    cpu: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, run_origin() as origin, run_store(Path(tmp), CONFIG) as store:
        url = f"{origin.url}/file/big.bin?size={size}&seed=7"
        base = rss(store.process.pid)
        with httpx.Client(base_url=store.url, timeout=600) as client:
            for _ in range(runs):
                started = time.perf_counter()
                subprocess.run(["curl", "-sS", "--fail", "-o", "/dev/null", url], check=True)
                curls.append(time.perf_counter() - started)
                sampler = RssSampler(store.process.pid)
                started, used = time.perf_counter(), cpu_seconds(store.process.pid)
                response = client.post("/api/import", json={"key": "demo", "url": url})
                imports.append(time.perf_counter() - started)
                cpu.append(cpu_seconds(store.process.pid) - used)
                peaks.append(sampler.stop())
                response.raise_for_status()
                blob = response.json()
                if blob["sha256"] != expected or blob["size"] != size:
                    raise RuntimeError(f"the imported file differs: {blob}")
                (store.data_dir / "files" / blob["container"] / blob["key"]).unlink()
    mib_s = [size / MIB / t for t in imports]
    curl_mib_s = [size / MIB / t for t in curls]
    growth = (max(peaks) - base) / MIB
    lines = [
        "## Imports",
        "",
        f"A {size // MIB} MiB file imported by URL (`POST /api/import`) from the test HTTP origin",
        "(`harness/http_origin.py`, Python's http.server) on loopback into a store process (local disk),",
        "against curl downloading the same URL to /dev/null, interleaved run by run; the store's",
        "VmRSS sampled every 0.1 s during each import. Every Blob's sha256 was checked.",
        "",
        f"Machine: nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.1f} at the end; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; N = {runs} runs.",
        "",
        "| measure | median | min | max |",
        "|---|---:|---:|---:|",
        f"| store import | {statistics.median(mib_s):.0f} MiB/s | {min(mib_s):.0f} MiB/s | {max(mib_s):.0f} MiB/s |",
        f"| curl download | {statistics.median(curl_mib_s):.0f} MiB/s | {min(curl_mib_s):.0f} MiB/s | {max(curl_mib_s):.0f} MiB/s |",
        "",
        f"- the store's CPU time per GiB imported (user + system), median: {statistics.median(cpu) * GIB / size:.1f} s",
        f"- import / curl throughput, medians: {statistics.median(mib_s) / statistics.median(curl_mib_s):.2f}",
        f"- store RSS before: {base / MIB:.0f} MiB; growth at the peak: **{growth:.1f} MiB** (target < 64 MiB): "
        f"**{'pass' if growth < 64 else 'FAIL'}**",
        "",
        "Reproduce with `.venv/bin/python -m bench.url_imports`.",
    ]
    print("\n".join(lines))
    if not args.quick:
        write_section("\n".join(lines))


if __name__ == "__main__":
    main()
