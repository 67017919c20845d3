"""What more than one benchmark uses: what the memory runs read of a page and of the browser's
processes, how a report names the machine and the code it measured, and how a report is published.

- The page, over CDP: its JS heap (`Performance.getMetrics` JSHeapUsedSize, on a session where
  `Performance.enable` was sent) and its ArrayBuffer backing stores, which live outside that heap
  (`Runtime.getHeapUsage` backingStorageSize); Pyodide's WebAssembly memory, on a host page whose
  PyScript hook kept the interpreter object in `window.__pyodide` (harness/pages/uploads-picker-memory.html).
- The processes, from /proc: VmRSS and VmHWM (the peak) of the page's renderer and of the browser
  process, found by CDP `SystemInfo.getProcessInfo`.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, CDPSession, Page

from bench.doc import DOC, write_section
from harness import ROOT

# Pyodide's WebAssembly memory, in bytes (it grows, never shrinks).
WASM_BYTES_JS = "() => window.__pyodide._module.HEAPU8.length"


def vm_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in bytes."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) * 1024
    return values


def metrics_session(context: BrowserContext, page: Page) -> CDPSession:
    """A CDP session on `page` that page_memory can read."""
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    return cdp


def page_memory(cdp: CDPSession, page: Page, wasm: bool = True) -> dict[str, int]:
    """The page's JS heap ("js"), ArrayBuffer backing stores ("buffers") and, with `wasm`, Pyodide's
    WebAssembly memory ("wasm"; 0 without), in bytes."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    # ArrayBuffer backing stores live outside the JS heap: the chunks the picker reads to hash them are there.
    buffers = cdp.send("Runtime.getHeapUsage")["backingStorageSize"]
    return {"js": int(metrics["JSHeapUsedSize"]), "buffers": int(buffers),
            "wasm": int(page.evaluate(WASM_BYTES_JS)) if wasm else 0}


# Half a second of work on the page's main thread: its renderer is the one whose CPU time grows.
BUSY_JS = "() => { const end = performance.now() + 500; while (performance.now() < end) {} }"


def process_ids(browser: Browser, page: Page | None = None) -> dict[str, int]:
    """The pids of the browser process ("browser") and of the page's renderer ("renderer"). With
    `page`, the renderer that works while the page runs BUSY_JS; without, of the browser's renderers,
    the one that has worked most (on the picker's page: Pyodide's boot). A browser has more renderers
    than pages (the context's first blank page, a spare one), so a page that has done little needs `page`."""
    cdp = browser.new_browser_cdp_session()

    def cpu_times() -> dict[int, float]:
        processes = cdp.send("SystemInfo.getProcessInfo")["processInfo"]
        return {p["id"]: p["cpuTime"] for p in processes if p["type"] == "renderer"}

    earlier = cpu_times() if page is not None else {}
    if page is not None:
        page.evaluate(BUSY_JS)
    later = cpu_times()
    renderer = max(later, key=lambda pid: later[pid] - earlier.get(pid, 0.0))
    processes = cdp.send("SystemInfo.getProcessInfo")["processInfo"]
    main = next((p["id"] for p in processes if p["type"] == "browser"), None)
    cdp.detach()
    return {"renderer": renderer, "browser": main if main is not None else renderer}


def machine() -> dict[str, object]:
    """The machine, as the reports state it: its CPU's model name, its RAM in GiB and how many cores this process may use."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    return {"cpu": cpu, "mem_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3,
            "nproc": len(os.sched_getaffinity(0))}


def code_state() -> str:
    """The commit measured, and which of the product's folders differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True).stdout.rstrip()

    commit = git("rev-parse", "--short", "HEAD").strip() or "unknown"
    changed = sorted({line[3:] for line in git("status", "--porcelain", "--", "picker", "static", "store").splitlines()})
    return f"commit {commit}" + (f", with uncommitted changes in {', '.join(f'`{c}`' for c in changed)}" if changed else "")


def publish(section: str, started: float, unwritten: str | None = None) -> None:
    """Prints the report's `section` and the run's time (from `started`, a time.monotonic()), and
    writes the section to docs/benchmarks.md, unless `unwritten` says why not."""
    print()
    print(section)
    print(f"total {time.monotonic() - started:.0f} s")
    if unwritten:
        print(f"{unwritten}: docs/benchmarks.md left as it was")
    else:
        write_section(section)
        print(f"written to {DOC.relative_to(ROOT)}")
