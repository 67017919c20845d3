"""Boot benchmark: how much the picker adds to the PyScript + Pyodide floor, in a real Chromium.

Measures, against a real store process, from a host page on another loopback origin:

- bare:    a page with only PyScript + Pyodide from the store, whose Python signals readiness
           (harness/pages/boot-bare.html); time = performance.now() (ms since navigation start)
           when that Python has run.
- picker:  a page with the filepicker.js script tag calling filepicker.setKey("demo")
           (harness/pages/boot-picker.html); time = performance.now() when `filepicker:ready` fires.
- open:    on the picker page once ready, ms from calling filepicker.pickAndStore() to the
           dialog's `.choose` button being in the DOM and visible.

Each run uses a fresh browser context (cold HTTP cache); the same page is then loaded again in that
context for the warm figures. Results are printed and written to the "## Boot" section of
docs/benchmarks.md. Run with `make bench` (or `.venv/bin/python -m bench.boot`); `--quick` runs
each kind twice as a smoke test and writes nothing.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from bench.doc import DOC, write_section
from harness import ROOT
from harness.browser import launch
from harness.host_pages import run_host_pages
from harness.store_process import run_store

N = 7
QUICK_N = 2
TIMEOUT_MS = 120_000
RATIO_TARGET = 1.15
OPEN_TARGET_MS = 100.0

# The host pages (harness/pages/), by kind; {{STORE}} becomes the store's URL. Both are as small as
# possible, so that the only difference between them is the picker.
PAGES = {"bare": "boot-bare.html", "picker": "boot-picker.html"}

# Runs in the picker page; see the file.
OPEN_JS = (Path(__file__).resolve().parent / "probes" / "open-dialog.js").read_text()


def load(page: Page, url: str) -> tuple[float, int]:
    """Navigate and wait for readiness; returns (ms since navigation start, requests made)."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(url)
    page.wait_for_function("window.__ready !== undefined", timeout=TIMEOUT_MS)
    return page.evaluate("window.__ready"), len(requests)


def run_once(browser: Browser, url: str, kind: str) -> dict[str, float]:
    """One cold load in a fresh context, then a warm load of the same page in that context."""
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        cold, requests = load(page, f"{url}/{PAGES[kind]}")
        result = {"cold": cold, "requests": requests}
        if kind == "picker":
            result["open"] = page.evaluate(OPEN_JS)
        warm_page = context.new_page()
        result["warm"], _ = load(warm_page, f"{url}/{PAGES[kind]}")
        if kind == "picker":
            result["open_warm"] = warm_page.evaluate(OPEN_JS)
        if errors:
            raise RuntimeError(f"errors in the {kind} page: {errors}")
        return result
    finally:
        context.close()


def stats(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def report(results: dict[str, list[dict[str, float]]], chromium: str, loadavg: float, runs: int) -> str:
    bare, picker = results["bare"], results["picker"]
    col = lambda runs, key: [r[key] for r in runs]  # noqa: E731
    cold_ratio = stats(col(picker, "cold"))[0] / stats(col(bare, "cold"))[0]
    warm_ratio = stats(col(picker, "warm"))[0] / stats(col(bare, "warm"))[0]
    min_ratio = min(col(picker, "cold")) / min(col(bare, "cold"))
    open_median = stats(col(picker, "open"))[0]
    verdict = lambda ok: "**pass**" if ok else "**FAIL**"  # noqa: E731
    date = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        "## Boot",
        "",
        "Time until the Python side is ready, in ms since navigation start (`performance.now()`), for a",
        "host page on another loopback origin than the store. *bare* is PyScript + Pyodide alone (its",
        "Python only records the time); *picker* is the `filepicker.js` script tag with",
        "`filepicker.setKey(\"demo\")`, timed at `filepicker:ready`. *open after preload* is the time",
        "from calling `filepicker.pickAndStore()` on a ready picker page to the dialog's `.choose`",
        "button being visible. *cold*: a fresh browser context per run; *warm*: the same page loaded",
        "again in that context. The two kinds of page alternate, run by run. Playwright's contexts keep",
        "their HTTP cache in memory, and in the warm loads the 9.6 MB `pyodide.asm.wasm` still came from",
        "the store: a returning visitor with a disk cache may be faster than *warm* here.",
        "",
        f"Machine: nproc {len(os.sched_getaffinity(0))}, load average {loadavg:.1f} at start, headless Chromium "
        f"{chromium}; {date}; N = {runs} runs of each.",
        "",
        "| measure | median | min | max |",
        "|---|---:|---:|---:|",
    ]
    rows = [
        ("bare, cold", col(bare, "cold")),
        ("picker, cold", col(picker, "cold")),
        ("bare, warm", col(bare, "warm")),
        ("picker, warm", col(picker, "warm")),
        ("open after preload (cold page)", col(picker, "open")),
        ("open after preload (warm page)", col(picker, "open_warm")),
    ]
    for name, values in rows:
        med, lo, hi = stats(values)
        lines.append(f"| {name} | {med:.0f} ms | {lo:.0f} ms | {hi:.0f} ms |")
    lines += [
        "",
        f"Requests per cold load: bare {stats(col(bare, 'requests'))[0]:.0f}, "
        f"picker {stats(col(picker, 'requests'))[0]:.0f}.",
        "",
        f"- picker / bare, cold: **{cold_ratio:.2f}** (target ≤ {RATIO_TARGET}): {verdict(cold_ratio <= RATIO_TARGET)}",
        f"- picker / bare, warm: {warm_ratio:.2f} (for information)",
        f"- picker / bare, fastest cold runs: {min_ratio:.2f} (for information: the run-to-run spread is of "
        "the same order as what the picker adds, and the fastest runs are the least disturbed)",
        f"- open after preload, median: **{open_median:.0f} ms** (target ≤ {OPEN_TARGET_MS:.0f} ms): "
        f"{verdict(open_median <= OPEN_TARGET_MS)}",
        "",
        "Reproduce with `make bench` (runs `.venv/bin/python -m bench.boot`, which rewrites this section).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.boot", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"N = {QUICK_N}; prints, writes nothing")
    args = parser.parse_args()
    runs = QUICK_N if args.quick else N
    # Other work on the machine skews every figure; the report states how busy it was.
    loadavg = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp, run_store(Path(tmp)) as store, run_host_pages(store.url) as pages, \
            sync_playwright() as playwright:
        browser = launch(playwright.chromium)
        try:
            # One untimed run of each first: the OS file cache and the store's process start warm,
            # so the first timed run is not penalised for being first.
            for kind in PAGES:
                run_once(browser, pages.url, kind)
            results: dict[str, list[dict[str, float]]] = {kind: [] for kind in PAGES}
            for i in range(runs):
                # Alternate which kind goes first, so that drift (thermal, background load) hits both.
                order = ["bare", "picker"] if i % 2 == 0 else ["picker", "bare"]
                for kind in order:
                    results[kind].append(run_once(browser, pages.url, kind))
                    print(f"run {i + 1}/{runs} {kind:6}: " + ", ".join(f"{k} {v:.0f}" for k, v in results[kind][-1].items()),
                          flush=True)
            chromium = browser.version
        finally:
            browser.close()
    section = report(results, chromium, loadavg, runs)
    print()
    print(section)
    if args.quick:
        print("--quick: docs/benchmarks.md left as it was")
    else:
        write_section(section)
        print(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
