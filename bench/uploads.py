"""Upload benchmark: the picker's uploads in a real Chromium against a real store process.

Three measures, from host pages on another loopback origin than the store, in one browser:

1. Throughput: one 1 GiB file of random bytes, N runs of each variant, interleaved run by run:
   - picker:        filepicker.pickAndStore({}, ...) and the dialog's file chooser (Playwright),
                    timed in the page from the file input's `change` event to onSuccess;
   - tus-js-client: the same file from the page's own <input type=file>, one tus.Upload with the
                    picker's chunk size (8 MiB), timed from `change` to its onSuccess;
   - curl (tus):    the ceiling: a tus creation POST, then the whole file in one `curl -T` PATCH,
                    the same store route and code as the browsers' chunks, without their
                    per-chunk round trips and checksums; timed around both curl processes;
   - curl (POST /api/store), for information: the whole file in one plain request;
   - sink-curl, sink-browser, sink-browser-2, for information: the same file to bench/sink.py, a
                    server that reads the bytes and discards them, so that only the client's own
                    cost is measured: `curl -T` in one PATCH (timed around the process), and
                    Chromium's XMLHttpRequest PATCHing 64 MiB File.slice() bodies one after
                    another, as one stream or as two at once (each half the file), timed in the page
                    from the first request's start to the last one's load.
   In every run to the store, the Blob's sha256 is compared with the file's; the stored bytes are
   read back and hashed once per variant.
2. Memory: one 4 GiB sparse file through the picker; before and twice a second during the upload:
   the page's JS heap (CDP Performance.getMetrics JSHeapUsedSize), its ArrayBuffer backing stores
   (CDP Runtime.getHeapUsage backingStorageSize: outside the JS heap, where the chunks read to be
   hashed live), Pyodide's WebAssembly memory (`pyodide._module.HEAPU8.length`, the interpreter
   object that PyScript's public `hooks.main.onReady` hands to a hook the host page registers:
   nothing is added to the picker), the renderer process's VmRSS (judged too: buffer accounting
   can hide memory), and the store process's VmRSS (its VmHWM for the peak). The store is a fresh
   process for this run. (CDP Runtime.queryObjects, which would find every WebAssembly.Memory
   without a hook, never answers on the picker's page.)
3. Many files: 1,000 files of 10 KiB picked at once, through the picker vs tus-js-client uploading
   the same files 4 at a time (the picker's PARALLEL_FILES); files per second.

Results are printed and written to the "## Uploads" section of docs/benchmarks.md. Run with
`make bench` (or `.venv/bin/python -m bench.uploads`); `--quick` runs smaller sizes as a smoke test
and writes nothing.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime
import hashlib
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from bench.shared import code_state, machine, metrics_session, page_memory, process_ids, publish, vm_status
from harness import ROOT, free_port
from harness.browser import launch
from harness.host_pages import HostPages, run_host_pages
from harness.store_process import Store, run_store
from picker.engine import DEFAULT_CHUNK_SIZE
from picker.upload import STREAMED_CHUNK_SIZE, UploadOptions

MiB = 1024 * 1024
GiB = 1024 * MiB
BOOT_TIMEOUT_MS = 120_000
THROUGHPUT_VS_CURL = 0.85
THROUGHPUT_VS_TUS_JS = 1.0
MEMORY_LIMIT = 64 * MiB
MIN_FREE_DISK = 10 * GiB
# How many files the picker uploads at once by default.
PARALLEL_FILES = UploadOptions().parallel_files


@dataclass(frozen=True)
class Sizes:
    runs: int
    big: int  # the throughput file
    memory: int  # the memory run's sparse file
    many: int  # how many small files
    small: int  # each small file's size


FULL = Sizes(runs=3, big=1 * GiB, memory=4 * GiB, many=1000, small=10 * 1024)
QUICK = Sizes(runs=2, big=64 * MiB, memory=256 * MiB, many=100, small=10 * 1024)

# Host pages (harness/pages/uploads-*.html and loader.html); {{STORE}} becomes the store's URL. Each
# records the moment the files were picked (`bench.picked`), its outcome (`bench.result`, with
# `performance.now()` at that moment) and how many progress callbacks it got; nothing else runs in them.
PICKER_PAGE = "uploads-picker.html"
PICKER_MEMORY_PAGE = "uploads-picker-memory.html"  # with the Pyodide object kept, to read its memory
TUS_PAGE = "uploads-tus.html"
SINK_PAGE = "uploads-sink.html"
LOADER_PAGE = "loader.html"  # the picker's loader alone: its helpers in `filepicker._io`

# Functions the bench runs in those pages (see each file).
PROBES = Path(__file__).resolve().parent / "probes"
MARK_PICKED_JS = (PROBES / "mark-picked.js").read_text()
TUS_TIMINGS_JS = (PROBES / "tus-timings.js").read_text()
DIGEST_JS = (PROBES / "digest-chunks.js").read_text()


# --- the files -----------------------------------------------------------------------------------


def random_file(path: Path, size: int) -> str:
    """Write `size` random bytes; returns their sha256."""
    digest = hashlib.sha256()
    with path.open("wb") as f:
        left = size
        while left:
            block = os.urandom(min(64 * MiB, left))
            digest.update(block)
            f.write(block)
            left -= len(block)
    return digest.hexdigest()


def sparse_file(path: Path, size: int) -> str:
    """A file of `size` zero bytes that takes no disk space (truncate); returns their sha256."""
    with path.open("wb") as f:
        f.truncate(size)
    digest = hashlib.sha256()
    zeros = bytes(64 * MiB)
    left = size
    while left:
        digest.update(zeros[: min(len(zeros), left)])
        left -= min(len(zeros), left)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(8 * MiB):
            digest.update(block)
    return digest.hexdigest()


def stored_path(store: Store, blob: dict) -> Path:
    matches = [p for p in store.stored_files() if p.name == Path(blob["key"]).name and p.parent.name == blob["container"]]
    if len(matches) != 1:
        raise RuntimeError(f"the stored file of {blob['key']} is not in {store.data_dir}: {matches}")
    return matches[0]


def forget_stored(store: Store) -> None:
    """Remove the stored files (not the index): the 1 GiB runs would otherwise fill the disk."""
    for path in store.stored_files():
        path.unlink()


# --- one upload, each way ------------------------------------------------------------------------


LOADS: list[float] = []  # the 1-minute load average before each timed run


@dataclass
class Run:
    seconds: float
    blobs: list[dict]
    progress_calls: int = 0
    picked: float = 0.0  # performance.now() at the pick, ms
    rows: dict | None = None  # when the picker's dialog listed the files: {first, last, count}
    requests: list[dict] | None = None  # Resource Timing of the tus requests
    cpu: tuple[float, float] | None = None  # CPU seconds during the run: the whole machine's, the store's


class CpuMeter:
    """CPU seconds spent from its making to stop(): by the whole machine, and by the store (the
    process whose pid STORE_PID holds, when set)."""

    def __init__(self) -> None:
        self.began = (busy_seconds(), cpu_seconds(STORE_PID) if STORE_PID else 0.0)

    def stop(self) -> tuple[float, float]:
        return busy_seconds() - self.began[0], (cpu_seconds(STORE_PID) if STORE_PID else 0.0) - self.began[1]


STORE_PID: int | None = None


def busy_seconds() -> float:
    """CPU seconds the machine has spent busy (all cores, not idle or waiting for I/O), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_for_result(page: Page, timeout_s: float, during: Callable[[], None] | None = None,
                     every: float = 1.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        if during is not None:
            during()
        result = page.evaluate("window.bench.result")
        if result is not None:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"no outcome after {timeout_s:.0f} s; progress calls: {page.evaluate('window.bench.progress')}")
        time.sleep(every)
    if result["kind"] != "success":
        raise RuntimeError(f"the upload failed: {result.get('text')} {result.get('value')}")
    return result


def _finish(page: Page, result: dict, count: int) -> Run:
    picked = page.evaluate("window.bench.picked")
    blobs = result["value"] if isinstance(result["value"], list) else [result["value"]]
    if len(blobs) != count:
        raise RuntimeError(f"{len(blobs)} Blobs for {count} files")
    return Run((result["t"] - picked) / 1000, blobs, page.evaluate("window.bench.progress"), picked,
               page.evaluate("window.bench.rows || null"), page.evaluate(TUS_TIMINGS_JS))


def _measured(page: Page, errors: list[str], what: str, count: int, pick: Callable[[], None], timeout_s: float,
              during: Callable[[], None] | None = None, every: float = 0.05) -> Run:
    """Pick, wait for the outcome; the Run, with the CPU time spent from the pick to the outcome."""
    meter = CpuMeter()
    pick()
    result = _wait_for_result(page, timeout_s, during, every=every)
    cpu = meter.stop()
    run = _finish(page, result, count)
    run.cpu = cpu
    if errors:
        raise RuntimeError(f"errors in the {what} page: {errors}")
    return run


def open_page(context: BrowserContext, pages: HostPages, errors: list[str], name: str) -> Page:
    """A new page in `context` on the host page `name`; its uncaught errors are added to `errors`."""
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{pages.url}/{name}")
    return page


def open_picker(context: BrowserContext, pages: HostPages, errors: list[str], name: str = PICKER_PAGE) -> Page:
    page = open_page(context, pages, errors, name)
    page.wait_for_function("window.__ready !== undefined", timeout=BOOT_TIMEOUT_MS)
    return page


def pick_in_picker(page: Page, paths: list[Path], options: dict, upload_options: dict | None = None) -> None:
    page.evaluate("([options, upload]) => { window.pickerOptions = options; window.uploadOptions = upload; }",
                  [options, upload_options])
    page.click("#open")
    choose = page.locator("[data-pickstore] .choose")
    choose.wait_for(state="visible")
    page.evaluate(MARK_PICKED_JS)
    with page.expect_file_chooser() as chooser:
        choose.click()
    chooser.value.set_files([str(p) for p in paths])


def run_picker(browser: Browser, pages: HostPages, paths: list[Path], options: dict, timeout_s: float,
               sampler: Callable[[BrowserContext, Page], Callable[[], None]] | None = None,
               upload_options: dict | None = None) -> Run:
    context = browser.new_context()
    errors: list[str] = []
    try:
        page = open_picker(context, pages, errors, PICKER_MEMORY_PAGE if sampler else PICKER_PAGE)
        during = sampler(context, page) if sampler else None
        return _measured(page, errors, "picker", len(paths), lambda: pick_in_picker(page, paths, options, upload_options),
                         timeout_s, during, every=0.5 if sampler else 0.05)
    finally:
        context.close()


def run_tus_js(browser: Browser, pages: HostPages, store: Store, paths: list[Path], timeout_s: float,
               chunk_size: int = DEFAULT_CHUNK_SIZE, parts: int = 1) -> Run:
    context = browser.new_context()
    errors: list[str] = []
    try:
        page = open_page(context, pages, errors, TUS_PAGE)
        page.wait_for_function("window.__ready !== undefined && window.tus !== undefined")
        page.evaluate("options => { window.tusOptions = options; }",
                      {"endpoint": f"{store.url}/api/upload", "chunkSize": chunk_size, "parallel": PARALLEL_FILES,
                       "parts": parts})
        return _measured(page, errors, "tus-js-client", len(paths),
                         lambda: page.set_input_files("#files", [str(p) for p in paths]), timeout_s)
    finally:
        context.close()


def _curl(*args: str) -> str:
    done = subprocess.run(["curl", "-sS", "--fail-with-body", *args], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"curl {' '.join(args)} failed ({done.returncode}): {done.stderr} {done.stdout}")
    return done.stdout


def run_curl_tus(store: Store, path: Path) -> Run:
    """A tus creation POST, then the whole file in one PATCH: `curl -T`. `Expect:` is emptied so
    that curl sends at once instead of waiting for a 100 Continue (as browsers do)."""
    metadata = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in
                        {"apikey": "demo", "filename": path.name, "filetype": "application/octet-stream"}.items())
    meter = CpuMeter()
    start = time.perf_counter()
    created = _curl("-i", "-X", "POST", f"{store.url}/api/upload", "-H", "Tus-Resumable: 1.0.0",
                    "-H", f"Upload-Length: {path.stat().st_size}", "-H", f"Upload-Metadata: {metadata}")
    location = next(line.split(":", 1)[1].strip() for line in created.splitlines() if line.lower().startswith("location:"))
    body = _curl("-X", "PATCH", "-T", str(path), location, "-H", "Tus-Resumable: 1.0.0", "-H", "Upload-Offset: 0",
                 "-H", "Content-Type: application/offset+octet-stream", "-H", "Expect:")
    seconds = time.perf_counter() - start
    return Run(seconds, [json.loads(body)], cpu=meter.stop())


def run_curl_store(store: Store, path: Path) -> Run:
    """The whole file in one POST /api/store."""
    meter = CpuMeter()
    start = time.perf_counter()
    body = _curl("-X", "POST", "-T", str(path), f"{store.url}/api/store?key=demo&filename={path.name}", "-H", "Expect:",
                 "-H", "Content-Type: application/octet-stream")
    return Run(time.perf_counter() - start, [json.loads(body)], cpu=meter.stop())


# The variants that send the file to bench/sink.py: no Blob, nothing stored.
SINK_VARIANTS = ("sink-curl", "sink-browser", "sink-browser-2")


@contextlib.contextmanager
def run_sink() -> Iterator[str]:
    """bench/sink.py on a free loopback port, once it accepts connections; yields the URL to send to.
    Killed at the end."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.sink", str(port)], cwd=ROOT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the sink did not start (exit code {process.poll()})") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/sink"
    finally:
        process.kill()
        process.wait()


def run_curl_sink(url: str, path: Path) -> Run:
    """The whole file in one PATCH to the sink: `curl -T`, `Expect:` emptied as for run_curl_tus."""
    meter = CpuMeter()
    start = time.perf_counter()
    _curl("-X", "PATCH", "-T", str(path), url, "-H", "Expect:")
    return Run(time.perf_counter() - start, [], cpu=meter.stop())


def run_sink_browser(browser: Browser, pages: HostPages, url: str, path: Path, timeout_s: float,
                     streams: int = 1) -> Run:
    """The file to the sink from harness/pages/uploads-sink.html, with XMLHttpRequest in STREAMED_CHUNK_SIZE slices, as
    `streams` streams at once; timed in the page from the first request's start to the last one's load."""
    context = browser.new_context()
    errors: list[str] = []
    try:
        page = open_page(context, pages, errors, SINK_PAGE)
        page.set_input_files("#files", [str(path)])
        return _measured(page, errors, "sink", 0,
                         lambda: page.evaluate("([url, streams, size]) => { window.sendToSink(url, streams, size); }",
                                               [url, streams, STREAMED_CHUNK_SIZE]), timeout_s)
    finally:
        context.close()


# --- memory --------------------------------------------------------------------------------------


class MemorySampler:
    """Samples the page's JS heap and WebAssembly memory over CDP and the store's RSS from /proc."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.samples: list[dict] = []
        self.t0 = time.monotonic()

    def attach(self, context: BrowserContext, page: Page) -> Callable[[], None]:
        cdp = metrics_session(context, page)
        page.wait_for_function("window.__pyodide !== undefined")
        browser = context.browser
        assert browser is not None  # a context of a launched browser
        renderer = process_ids(browser)["renderer"]

        def sample() -> None:
            memory = page_memory(cdp, page)
            store = vm_status(self.store.process.pid)
            picked = page.evaluate("window.bench.picked")
            self.samples.append({
                "t": time.monotonic() - self.t0, "picked": picked is not None, **memory,
                "renderer": vm_status(renderer)["VmRSS"], "store": store["VmRSS"], "store_peak": store["VmHWM"],
            })

        # Before: a few samples with the picker booted and idle.
        for _ in range(3):
            sample()
            time.sleep(0.5)
        return sample


def memory_summary(samples: list[dict]) -> dict[str, float]:
    before = [s for s in samples if not s["picked"]]
    during = [s for s in samples if s["picked"]]
    base = lambda key: statistics.median(s[key] for s in before)  # noqa: E731
    page = lambda s: s["js"] + s["wasm"]  # noqa: E731  (the target's measure)
    page_all = lambda s: s["js"] + s["buffers"] + s["wasm"]  # noqa: E731
    return {
        "js_before": base("js"), "js_peak": max(s["js"] for s in during),
        "buffers_before": base("buffers"), "buffers_peak": max(s["buffers"] for s in during),
        "wasm_before": base("wasm"), "wasm_peak": max(s["wasm"] for s in during),
        "renderer_before": base("renderer"), "renderer_peak": max(s["renderer"] for s in during),
        "page_before": statistics.median(page(s) for s in before), "page_peak": max(page(s) for s in during),
        "page_all_before": statistics.median(page_all(s) for s in before),
        "page_all_peak": max(page_all(s) for s in during),
        "store_before": base("store"), "store_peak_sampled": max(s["store"] for s in during),
        "store_hwm": max(s["store_peak"] for s in samples), "samples": len(during),
    }


# --- chunk timings -------------------------------------------------------------------------------


def chunk_profile(run: Run) -> dict[str, float] | None:
    """Per-request time and the client's idle time between one request's end and the next one's start, for
    the requests to one upload URL (the PATCHes of the 1 GiB file)."""
    chunks = sorted((r for r in run.requests or [] if r["name"] != "/api/upload"), key=lambda c: c["start"])
    if len(chunks) < 2:
        return None
    durations = [c["end"] - c["start"] for c in chunks]
    gaps = [b["start"] - a["end"] for a, b in itertools.pairwise(chunks)]
    return {"requests": len(chunks), "request_ms": statistics.median(durations), "gap_ms": statistics.median(gaps),
            "gaps_s": sum(gaps) / 1000, "requests_s": sum(durations) / 1000}


def first_request_s(run: Run) -> float:
    """Seconds from the pick to the first tus request: what the client does before it uploads anything."""
    return (min(r["start"] for r in run.requests) - run.picked) / 1000 if run.requests else float("nan")


def listed(run: Run) -> str:
    if not run.rows:
        return ""
    return (f" (file rows listed from {(run.rows['first'] - run.picked) / 1000:.2f} s to "
            f"{(run.rows['last'] - run.picked) / 1000:.2f} s)")


# --- report --------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "**pass**" if ok else "**FAIL**"


def mb_s(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def stats(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def report(sizes: Sizes, env: dict[str, Any], throughput: dict[str, list[Run]], memory: dict[str, dict] | None,
           memory_note: str, many: dict[str, list[Run]]) -> str:
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    big = sizes.big
    small, large = DEFAULT_CHUNK_SIZE // MiB, STREAMED_CHUNK_SIZE // MiB
    names = {"picker": f"picker, http default ({small} MiB chunks, sha256 each)",
             "picker-tls": f"picker, https default ({large} MiB chunks, no checksums)",
             "tus-js": f"tus-js-client, {small} MiB chunks", "tus-js-large": f"tus-js-client, {large} MiB chunks",
             "tus-js-parts": f"tus-js-client, 2 parallel parts joined by concatenation, {large} MiB chunks",
             "curl-tus": "curl, tus (POST + one PATCH)", "curl-store": "curl, POST /api/store",
             "sink-curl": "curl → a server that discards the bytes",
             "sink-browser": f"Chromium XMLHttpRequest → the same server, one stream ({large} MiB slices)",
             "sink-browser-2": f"Chromium XMLHttpRequest → the same server, two streams at once (each half the "
                               f"file, {large} MiB slices)"}
    med = {k: statistics.median(r.seconds for r in runs) for k, runs in throughput.items()}
    lines = [
        "## Uploads",
        "",
        "Uploads through the picker in headless Chromium against a real store process (local disk, in a",
        "temporary folder), from host pages on another loopback origin, one browser; a fresh browser",
        "context per browser run. The compared variants alternate run by run (the order rotates), and",
        "the figures are medians. The browser, the store and curl share the machine's cores.",
        "",
        f"Machine: nproc {len(os.sched_getaffinity(0))}, {env['cpu']}, {env['mem_gib']:.0f} GiB RAM; load average "
        f"{env['load_start']:.1f} at start, {env['load_end']:.1f} at the end; headless Chromium {env['chromium']}, "
        f"{env['curl']}; {date}. 1-minute load average before the timed runs: median "
        f"{statistics.median(LOADS):.1f} (from {min(LOADS):.1f} to {max(LOADS):.1f}). Code: {env['code']}.",
        "",
        f"### Throughput: one {big / GiB:g} GiB file, N = {sizes.runs}",
        "",
        "Random bytes, in the OS file cache. *picker*: `pickAndStore({}, {})`, the file chosen in the",
        "dialog's file chooser, timed in the page from the file input's `change` to `onSuccess`. Its",
        "defaults depend on the store's scheme (docs/protocol.md): over plain http, as here, each chunk",
        f"carries an sha256 `Upload-Checksum` and chunks are {small} MiB (each is read into memory to be hashed);",
        f"over https, where TLS already checks every byte, there are no checksums and chunks are {large} MiB. The",
        "*https default* row is the picker on this same http store with `setUploadOptions({checksum: false})`,",
        "which gives it what an https store gets. *tus-js-client* 4.3.1 (no checksums: it has none): the",
        "page's own file input, one `tus.Upload`, timed from `change` to `onSuccess`, at each of the picker's",
        "chunk sizes, and once with `parallelUploads: 2` (two partial uploads joined by a final one).",
        "*curl, tus*: the ceiling, the same store route and code as the browsers' chunks: a creation",
        "`POST /api/upload`, then `curl -T file -X PATCH` of the whole file in one request (`Expect:`",
        "emptied, as browsers send none), timed around both curl processes. *curl, POST /api/store*: the",
        "whole file in one plain request, for information. The next three rows, also for information, send",
        "the same file to a server that reads the bytes and discards them (bench/sink.py), to show what",
        "sending costs the client itself: curl in one `PATCH`, and Chromium's `XMLHttpRequest` PATCHing",
        f"{large} MiB `File.slice()` bodies one after another, as one stream or as two at once (each half the",
        "file), timed in the page from the first request's start to the last one's `load`. *CPU*: CPU seconds",
        "spent from the pick to the result by the whole machine (/proc/stat) and by the store process (idle",
        "in the rows to the discarding server); the rest is mostly the browser's (or curl's).",
        "",
        "| variant | median | min | max | MB/s (median) | CPU, machine | CPU, store |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key in ("curl-tus", "curl-store", *SINK_VARIANTS, "tus-js", "picker", "tus-js-large", "picker-tls",
                "tus-js-parts"):
        middle, lo, hi = stats([r.seconds for r in throughput[key]])
        busy = statistics.median(r.cpu[0] for r in throughput[key] if r.cpu)
        store_cpu = statistics.median(r.cpu[1] for r in throughput[key] if r.cpu)
        lines.append(f"| {names[key]} | {middle:.2f} s | {lo:.2f} s | {hi:.2f} s | {mb_s(big, middle):.0f} | {busy:.1f} s | "
                     f"{store_cpu:.1f} s |")
    lines.append("")
    for picker, tus_js in (("picker-tls", "tus-js-large"), ("picker", "tus-js")):
        vs_curl, vs_tus = med["curl-tus"] / med[picker], med[tus_js] / med[picker]
        lines += [
            f"- {names[picker]} / curl (tus), throughput: **{vs_curl:.2f}** (target ≥ {THROUGHPUT_VS_CURL}): "
            f"{verdict(vs_curl >= THROUGHPUT_VS_CURL)}",
            f"- {names[picker]} / {names[tus_js]}, throughput: **{vs_tus:.2f}** (target ≥ {THROUGHPUT_VS_TUS_JS}): "
            f"{verdict(vs_tus >= THROUGHPUT_VS_TUS_JS)}",
        ]
    lines += [
        f"- for information: {names['sink-browser']} / curl (tus), throughput: "
        f"**{med['curl-tus'] / med['sink-browser']:.2f}**; {names['sink-browser-2']} / curl (tus): "
        f"**{med['curl-tus'] / med['sink-browser-2']:.2f}**. What Chromium's own sending costs, with no "
        f"server work behind it, against curl through the store (curl to the same discarding server: "
        f"**{med['sink-browser'] / med['sink-curl']:.1f}x** faster than Chromium's one stream). A "
        "browser client's ratio to curl is bounded by about these figures, whatever its own code does.",
    ]
    parts = med["tus-js-large"] / med["tus-js-parts"]
    lines += [
        f"- two parallel parts / one upload (tus-js-client, {large} MiB chunks), throughput: {parts:.2f}: "
        + ("faster" if parts > 1 else "not faster here, so the picker sends one file's chunks one after another"),
        f"- sha256: the Blob's equals the file's in every run to the store; the stored file read back and hashed "
        f"once per variant: {'equal' if env['sha_ok'] else 'DIFFERENT'}.",
    ]
    profiles = {k: [p for p in (chunk_profile(r) for r in throughput[k]) if p]
                for k in ("tus-js", "picker", "tus-js-large", "picker-tls")}
    if all(profiles.values()):
        lines += ["", "Where the browsers' time goes (Resource Timing of the requests to the upload URL, medians of the runs):",
                  "", "| variant | requests | per request | idle between requests | total idle | total in requests |",
                  "|---|---:|---:|---:|---:|---:|"]
        for key in profiles:
            p = {f: statistics.median(x[f] for x in profiles[key]) for f in profiles[key][0]}
            lines.append(f"| {names[key]} | {p['requests']:.0f} | {p['request_ms']:.0f} ms | {p['gap_ms']:.1f} ms | "
                         f"{p['gaps_s']:.2f} s | {p['requests_s']:.2f} s |")
        if env.get("digest_ms") is not None:
            lines += ["", "In the same browser, the picker's own hashing, `filepicker._io.digest(File.slice(...), "
                          "\"SHA-256\", holder)` (static/filepicker.js: a read into the buffer it reuses from chunk "
                          f"to chunk, then `crypto.subtle.digest`), of one {small} MiB chunk takes "
                          f"{env['digest_ms']:.0f} ms (median of 8). With checksums the picker does that for every "
                          "chunk, and the store hashes every chunk twice (the file's sha256 and the chunk's checksum) "
                          "where it hashes it once for tus-js-client and curl: on a machine whose cores the browser "
                          "and the store share, that CPU time is upload time."]
    lines += ["", f"### Memory: one {sizes.memory / GiB:g} GiB file through the picker", ""]
    if memory is None:
        lines += [memory_note, ""]
    else:
        labels = {"picker": names["picker"], "picker-tls": names["picker-tls"]}
        lines += [
            "A sparse file (zeros; `truncate`), uploaded once at each of the picker's defaults: "
            + "; ".join(f"{labels[k]}: {m['seconds']:.1f} s ({mb_s(sizes.memory, m['seconds']):.0f} MB/s)"
                        for k, m in memory.items()) + ".",
            "Sampled before the pick (median of 3) and twice a second during the upload: the page's JS heap (CDP",
            "`Performance.getMetrics` `JSHeapUsedSize`), its ArrayBuffer backing stores, which live outside that",
            "heap (CDP `Runtime.getHeapUsage` `backingStorageSize`: the chunks read to be hashed are there),",
            "Pyodide's WebAssembly memory (`pyodide._module.HEAPU8.length`, on the interpreter object that",
            "PyScript hands to a `hooks.main.onReady` hook which the bench's host page registers before",
            "`setKey()`: a read-only hook in the page, none in the picker), the `VmRSS` of the page's renderer",
            "process (of CDP `SystemInfo.getProcessInfo`'s renderers, the one that has used the most CPU: Pyodide's",
            "boot), and the store's `VmRSS`; the store's peak is its `VmHWM` (a fresh store process for each run,",
            "so the peak is that upload's).",
            memory_note,
            "",
            "| measure | " + " | ".join(f"{labels[k]}: before → peak (growth)" for k in memory) + " |",
            "|---|" + "---:|" * len(memory),
        ]
        rows = [("page JS heap", "js_before", "js_peak"), ("page ArrayBuffers", "buffers_before", "buffers_peak"),
                ("page WebAssembly memory", "wasm_before", "wasm_peak"),
                ("**page: JS heap + wasm** (same samples)", "page_before", "page_peak"),
                ("**page: JS heap + ArrayBuffers + wasm** (same samples)", "page_all_before", "page_all_peak"),
                ("**renderer process RSS**", "renderer_before", "renderer_peak"),
                ("**store RSS** (peak: VmHWM)", "store_before", "store_hwm")]
        for title, before, peak in rows:
            lines.append(f"| {title} | " + " | ".join(
                f"{m[before] / MiB:.1f} → {m[peak] / MiB:.1f} MiB ({(m[peak] - m[before]) / MiB:+.1f})"
                for m in memory.values()) + " |")
        lines.append("")
        for key, m in memory.items():
            page_growth = m["page_peak"] - m["page_before"]
            page_all_growth = m["page_all_peak"] - m["page_all_before"]
            renderer_growth = m["renderer_peak"] - m["renderer_before"]
            store_growth = m["store_hwm"] - m["store_before"]
            lines += [
                f"- {labels[key]}: page growth, JS heap + wasm (the target's measure): **{page_growth / MiB:.1f} MiB** "
                f"(target < {MEMORY_LIMIT // MiB} MiB): {verdict(page_growth < MEMORY_LIMIT)}; with the ArrayBuffers "
                f"counted: **{page_all_growth / MiB:.1f} MiB**: {verdict(page_all_growth < MEMORY_LIMIT)}; renderer "
                f"process RSS growth: **{renderer_growth / MiB:.1f} MiB**: {verdict(renderer_growth < MEMORY_LIMIT)}; "
                f"store RSS "
                f"growth: **{store_growth / MiB:.1f} MiB**: {verdict(store_growth < MEMORY_LIMIT)}; the Blob's sha256 "
                f"equals the file's: {'yes' if m['sha_ok'] else 'NO'}.",
            ]
        lines += [
            "",
            "The ArrayBuffers are the chunks read to be hashed (http default only): the picker reads each one",
            "into a single buffer per upload, reused from chunk to chunk (a BYOB reader of `Blob.stream()`,",
            "`filepicker._io.digest` in static/filepicker.js), so that the page holds one chunk at a time. Without",
            "checksums the chunks go from the file to the network without being read into the page. The",
            "renderer process's RSS is judged as well because buffer accounting can hide memory: when the picker",
            "read each chunk with `Blob.arrayBuffer()` and gave it back with `ArrayBuffer.transfer(0)`, the",
            "ArrayBuffer measure above grew by 5 MiB while the renderer process grew by about 1 GiB during a",
            "4 GiB upload (`transfer(0)` keeps the memory but reports 0 bytes, so V8 is never pressed to",
            "collect it).",
            "",
        ]
    fps = {k: statistics.median(sizes.many / r.seconds for r in runs) for k, runs in many.items()}
    lines += [
        f"### Many files: {sizes.many:,} files of {sizes.small // 1024} KiB at once, N = {sizes.runs}",
        "",
        f"Random bytes, named `*.bin`. *picker*: `pickAndStore({{multiple: true}}, {{}})`, all {sizes.many:,} chosen in one",
        f"file chooser, {PARALLEL_FILES} files at a time; *tus-js-client*: the same files from the page's own input,",
        f"one `tus.Upload` each, {PARALLEL_FILES} at a time. Timed from `change` to the last `onSuccess`.",
        "",
        "| variant | median | min | max | files/s (median) | first request after the pick | tus requests |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key in ("tus-js", "picker"):
        middle, lo, hi = stats([r.seconds for r in many[key]])
        first = statistics.median(first_request_s(r) for r in many[key])
        count = statistics.median(len(r.requests or []) for r in many[key])
        lines.append(f"| {names[key]} | {middle:.2f} s | {lo:.2f} s | {hi:.2f} s | {fps[key]:.0f} | {first:.2f} s | {count:.0f} |")
    lines += [
        "",
        f"- picker / tus-js-client, files per second: **{fps['picker'] / fps['tus-js']:.2f}** (for information; "
        "every Blob's sha256 checked).",
        "",
    ]
    profile = env.get("profile")
    if profile:
        lines += [
            f"Where the picker's time goes: one more picker run ({profile['seconds']:.1f} s from pick to `onSuccess`, not "
            "counted above) with a Chrome trace of the page's main thread: busy",
            f"{profile['busy']:.1f} s, of which layout {profile['layout']:.1f} s, style {profile['style']:.1f} s and "
            f"JavaScript called by the browser {profile['script']:.1f} s (the picker's Python runs",
            "inside it, in WebAssembly). *first request after the pick*: the picker first reads each generic-typed",
            "file's first bytes (to find its real type), 16 files at a time, and lists the files. A file of at most 1 MiB "
            "goes in its creation request (one request per file; tus-js-client makes two).",
            "",
        ]
    lines += [
        "Reproduce with `make bench` (runs `.venv/bin/python -m bench.uploads` after `bench.boot`; it rewrites",
        f"this section; this run took {env['minutes']:.0f} min); `.venv/bin/python -m bench.uploads --quick` is a smoke run",
        "with small sizes that writes nothing. The files are generated in a temporary folder and removed.",
        "",
    ]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------------


def digest_ms(browser: Browser, pages: HostPages, path: Path) -> float:
    """ms to read and hash one chunk in the page with the picker's own code: the loader's
    `filepicker._io.digest(file.slice(a, b), "SHA-256", holder)` (static/filepicker.js), which reads the
    chunk into the holder's buffer and hashes it with crypto.subtle.digest; one holder for the 8 chunks,
    so that they reuse one buffer as in an upload. The median of 8 consecutive chunks."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{pages.url}/{LOADER_PAGE}")
        page.set_input_files("#file", [str(path)])
        return page.evaluate(DIGEST_JS, DEFAULT_CHUNK_SIZE)
    finally:
        context.close()


def throughput_runs(browser: Browser, pages: HostPages, store: Store, sink: str, path: Path, sha: str, runs: int,
                    timeout_s: float) -> tuple[dict[str, list[Run]], bool]:
    variants: dict[str, Callable[[], Run]] = {
        "curl-tus": lambda: run_curl_tus(store, path),
        "curl-store": lambda: run_curl_store(store, path),
        "sink-curl": lambda: run_curl_sink(sink, path),
        "sink-browser": lambda: run_sink_browser(browser, pages, sink, path, timeout_s),
        "sink-browser-2": lambda: run_sink_browser(browser, pages, sink, path, timeout_s, streams=2),
        "tus-js": lambda: run_tus_js(browser, pages, store, [path], timeout_s),
        "picker": lambda: run_picker(browser, pages, [path], {}, timeout_s),
        "tus-js-large": lambda: run_tus_js(browser, pages, store, [path], timeout_s, chunk_size=STREAMED_CHUNK_SIZE),
        "picker-tls": lambda: run_picker(browser, pages, [path], {}, timeout_s, upload_options={"checksum": False}),
        "tus-js-parts": lambda: run_tus_js(browser, pages, store, [path], timeout_s, chunk_size=STREAMED_CHUNK_SIZE,
                                           parts=2),
    }
    results: dict[str, list[Run]] = {k: [] for k in variants}
    checked: set[str] = set()
    order = list(variants)
    sha_ok = True
    for i in range(runs):
        # Rotate the order, so that drift (background load, the disk's write-back) hits each variant.
        for key in order[i % len(order):] + order[: i % len(order)]:
            LOADS.append(os.getloadavg()[0])
            run = variants[key]()
            if key not in SINK_VARIANTS:
                blob = run.blobs[0]
                if blob["sha256"] != sha or blob["size"] != path.stat().st_size:
                    raise RuntimeError(f"{key}: the Blob's sha256/size is wrong: {blob}")
                if key not in checked:
                    sha_ok &= file_sha256(stored_path(store, blob)) == sha
                    checked.add(key)
                forget_stored(store)
            results[key].append(run)
            profile = chunk_profile(run)
            extra = f", {profile['requests']} requests, idle between them {profile['gaps_s']:.2f} s" if profile else ""
            print(f"throughput run {i + 1}/{runs} {key:14}: {run.seconds:6.2f} s "
                  f"({mb_s(path.stat().st_size, run.seconds):.0f} MB/s){extra}", flush=True)
    return results, sha_ok


def many_runs(browser: Browser, pages: HostPages, store: Store, paths: list[Path], shas: dict[str, str], runs: int,
              timeout_s: float) -> dict[str, list[Run]]:
    variants: dict[str, Callable[[], Run]] = {
        "tus-js": lambda: run_tus_js(browser, pages, store, paths, timeout_s),
        "picker": lambda: run_picker(browser, pages, paths, {"multiple": True}, timeout_s),
    }
    results: dict[str, list[Run]] = {k: [] for k in variants}
    order = list(variants)
    for i in range(runs):
        for key in order if i % 2 == 0 else order[::-1]:
            LOADS.append(os.getloadavg()[0])
            run = variants[key]()
            wrong = [b["filename"] for b in run.blobs if shas.get(b["filename"]) != b["sha256"]]
            if wrong or len({b["filename"] for b in run.blobs}) != len(paths):
                raise RuntimeError(f"{key}: wrong or missing Blobs for {wrong[:5]}")
            results[key].append(run)
            print(f"many files run {i + 1}/{runs} {key:7}: {run.seconds:6.2f} s ({len(paths) / run.seconds:.0f} files/s), "
                  f"first request {first_request_s(run):.2f} s after the pick{listed(run)}, {len(run.requests or [])} requests",
                  flush=True)
    return results


def _union_seconds(intervals: list[tuple[float, float]]) -> float:
    """Total time covered by (start, end) intervals in µs, nested or overlapping ones counted once; in s."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total / 1e6


def main_thread_profile(browser: Browser, pages: HostPages, paths: list[Path], timeout_s: float) -> dict[str, float]:
    """One more picker run of the many files (untimed), with a Chrome trace: where the page's main thread
    spent its time. Seconds of: any task (busy), layout, style, and JavaScript called by the browser
    (the picker's Python runs inside those calls, in WebAssembly)."""
    context = browser.new_context()
    errors: list[str] = []
    try:
        page = open_picker(context, pages, errors)
        with tempfile.TemporaryDirectory() as folder:
            trace = Path(folder) / "trace.json"
            categories = ["toplevel", "devtools.timeline", "disabled-by-default-devtools.timeline", "v8", "blink"]
            browser.start_tracing(page=page, path=str(trace), categories=categories)
            pick_in_picker(page, paths, {"multiple": True})
            run = _finish(page, _wait_for_result(page, timeout_s, every=0.2), len(paths))
            browser.stop_tracing()
            events = json.loads(trace.read_text())["traceEvents"]
    finally:
        context.close()
    threads = {(e["pid"], e["tid"]) for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"
               and e["args"].get("name") == "CrRendererMain"}
    spans: dict[tuple, dict[str, list[tuple[float, float]]]] = {t: {} for t in threads}
    for e in events:
        thread = (e.get("pid"), e.get("tid"))
        if thread in spans and e.get("ph") == "X" and "dur" in e:
            spans[thread].setdefault(e["name"], []).append((e["ts"], e["ts"] + e["dur"]))
    main = max(spans.values(), key=lambda names: _union_seconds(names.get("RunTask", [])))
    union = lambda *names: _union_seconds([i for n in names for i in main.get(n, [])])  # noqa: E731
    return {"seconds": run.seconds, "busy": union("RunTask"), "layout": union("Layout"),
            "style": union("UpdateLayoutTree"), "script": union("v8.callFunction", "FunctionCall")}


def memory_runs(browser: Browser, tmp: Path, size: int, timeout_s: float) -> tuple[dict[str, dict] | None, str]:
    """One memory run at each of the picker's defaults (see report()); None when the disk is too full."""
    results: dict[str, dict] = {}
    note = ""
    for key, upload_options in (("picker", None), ("picker-tls", {"checksum": False})):
        summary, note = memory_run(browser, tmp / key, size, timeout_s, upload_options)
        if summary is None:
            return None, note
        results[key] = summary
    return results, note


def memory_run(browser: Browser, tmp: Path, size: int, timeout_s: float,
               upload_options: dict | None) -> tuple[dict | None, str]:
    tmp.mkdir()
    free = shutil.disk_usage(tmp).free
    df = subprocess.run(["df", "-h", str(tmp)], capture_output=True, text=True).stdout.strip().splitlines()[-1]
    print(f"df -h {tmp}: {df}", flush=True)
    note = f"Free disk in the temporary folder before the run: {free / GiB:.0f} GiB (`df -h`: `{' '.join(df.split())}`)."
    if free < MIN_FREE_DISK:
        message = f"Skipped: {free / GiB:.1f} GiB free in {tmp}, under the {MIN_FREE_DISK // GiB} GiB this run needs."
        print(message, flush=True)
        return None, message
    folder = tmp / "memory"
    folder.mkdir()
    path = folder / "sparse-4g.bin"
    sha = sparse_file(path, size)
    # A fresh store process, so that its VmHWM is this upload's peak.
    with run_store(folder) as store, run_host_pages(store.url) as pages:
        global STORE_PID
        STORE_PID = store.process.pid
        sampler = MemorySampler(store)
        run = run_picker(browser, pages, [path], {}, timeout_s, sampler=sampler.attach, upload_options=upload_options)
        sampler_samples = sampler.samples
        summary = memory_summary(sampler_samples)
        summary.update(seconds=run.seconds, sha_ok=run.blobs[0]["sha256"] == sha)
        forget_stored(store)
    path.unlink()
    for s in sampler_samples:
        print(f"  t {s['t']:6.1f} s {'during' if s['picked'] else 'before'}: js {s['js'] / MiB:7.1f} MiB, "
              f"buffers {s['buffers'] / MiB:7.1f} MiB, wasm {s['wasm'] / MiB:7.1f} MiB, "
              f"renderer RSS {s['renderer'] / MiB:7.1f} MiB, store RSS {s['store'] / MiB:6.1f} MiB (peak {s['store_peak'] / MiB:6.1f})")
    print(f"memory run: {run.seconds:.1f} s, page +{(summary['page_peak'] - summary['page_before']) / MiB:.1f} MiB "
          f"(+{(summary['page_all_peak'] - summary['page_all_before']) / MiB:.1f} MiB with ArrayBuffers), "
          f"renderer +{(summary['renderer_peak'] - summary['renderer_before']) / MiB:.1f} MiB, "
          f"store +{(summary['store_hwm'] - summary['store_before']) / MiB:.1f} MiB", flush=True)
    return summary, note


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.uploads", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, N = 2; prints, writes nothing")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    started = time.monotonic()
    env: dict[str, Any] = {"load_start": os.getloadavg()[0]}
    env.update(machine())
    env["curl"] = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split()[:2]
    env["curl"] = " ".join(env["curl"])
    env["code"] = code_state()
    timeout_s = max(120.0, sizes.memory / (5 * MiB))  # far above any plausible duration
    with tempfile.TemporaryDirectory(prefix="bench-uploads-") as name:
        tmp = Path(name)
        files = tmp / "files"
        files.mkdir()
        big = files / "random-1g.bin"
        big_sha = random_file(big, sizes.big)
        small_dir = files / "many"
        small_dir.mkdir()
        small_paths = [small_dir / f"file-{i:04d}.bin" for i in range(sizes.many)]
        small_shas = {p.name: random_file(p, sizes.small) for p in small_paths}
        print(f"files ready in {time.monotonic() - started:.0f} s", flush=True)
        with sync_playwright() as playwright:
            browser = launch(playwright.chromium)
            try:
                env["chromium"] = browser.version
                with run_store(tmp) as store, run_host_pages(store.url) as pages, run_sink() as sink:
                    global STORE_PID
                    STORE_PID = store.process.pid
                    # One untimed small upload each way first, so that no timed run pays for first use.
                    run_picker(browser, pages, small_paths[:1], {}, timeout_s)
                    run_tus_js(browser, pages, store, small_paths[:1], timeout_s)
                    run_curl_tus(store, small_paths[0])
                    run_curl_sink(sink, small_paths[0])
                    run_sink_browser(browser, pages, sink, small_paths[0], timeout_s)
                    throughput, env["sha_ok"] = throughput_runs(browser, pages, store, sink, big, big_sha, sizes.runs,
                                                                timeout_s)
                    env["digest_ms"] = digest_ms(browser, pages, big)
                    many = many_runs(browser, pages, store, small_paths, small_shas, sizes.runs, timeout_s)
                    env["profile"] = main_thread_profile(browser, pages, small_paths, timeout_s)
                    print("main thread of the picker's page, many files: " +
                          ", ".join(f"{k} {v:.1f} s" for k, v in env["profile"].items()), flush=True)
                big.unlink()
                memory, memory_note = memory_runs(browser, tmp, sizes.memory, timeout_s)
            finally:
                browser.close()
    env["load_end"] = os.getloadavg()[0]
    env["minutes"] = (time.monotonic() - started) / 60
    publish(report(sizes, env, throughput, memory, memory_note, many), started, "--quick" if args.quick else None)


if __name__ == "__main__":
    main()
