"""How tests and benchmarks start Chromium (with the settings of playwright.config.py) and keep a page
on loopback: every request that would leave 127.0.0.1 is aborted and noted, and uncaught page errors
are collected, so that the caller can fail on either. A browser started with an evidence folder
keeps its log and the minidumps of its crashed processes there, and a page whose renderer crashes
adds to its errors a report naming the page, the dump and the log."""

from __future__ import annotations

import os
import runpy
import struct
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, BrowserType, Page, Route

from . import ROOT

LAUNCH: dict[str, Any] = runpy.run_path(str(ROOT / "playwright.config.py"))["LAUNCH"]


CRASHED: set[Page] = set()
"""The pages made by new_page whose renderer has crashed."""

EVIDENCE: dict[Browser, Path] = {}
"""The evidence folder of each browser started with one."""


def evidence_settings(folder: Path) -> dict[str, Any]:
    """Launch settings that keep Chromium's log in `folder`/chromium.log and its crash dumps in
    `folder`/dumps (crashpad puts them in dumps/pending). Debian's Chromium ignores
    --crash-dumps-dir and writes to ~/.config/chromium/Crash Reports, shared by every run;
    BREAKPAD_DUMP_LOCATION is what moves its crashpad database."""
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "args": ["--enable-logging", f"--log-file={folder / 'chromium.log'}", "--v=0"],
        "env": {**os.environ, "BREAKPAD_DUMP_LOCATION": str(folder / "dumps")},
    }


def launch(browser_type: BrowserType, *args: str, evidence: Path | None = None) -> Browser:
    """Chromium as playwright.config.py starts it, with `args` added to its command line; with
    `evidence`, keeping its log and crash dumps in that folder."""
    kept = evidence_settings(evidence) if evidence else {"args": []}
    browser = browser_type.launch(**{**LAUNCH, **kept, "args": [*LAUNCH.get("args", []), *args, *kept["args"]]})
    if evidence:
        EVIDENCE[browser] = evidence
    return browser


SIGNALS = {4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV"}


def minidump_summary(path: Path) -> str:
    """What a minidump says of its crash: the signal, the faulting address, and the module and
    offset of the instruction (the exception stream, its thread's AMD64 context, the module list)."""
    data = path.read_bytes()
    if data[:4] != b"MDMP":
        return "not a minidump"
    count, directory = struct.unpack_from("<II", data, 8)
    streams: dict[int, tuple[int, int]] = {}
    for n in range(count):
        kind, size, rva = struct.unpack_from("<III", data, directory + 12 * n)
        streams.setdefault(kind, (size, rva))
    if 6 not in streams:
        return "no exception stream"
    at = streams[6][1]
    signal, code, _, address = struct.unpack_from("<IIQQ", data, at + 8)
    said = f"{SIGNALS.get(signal, f'signal {signal}')} (code {code}) at address {address:#x}"
    context_size, context_at = struct.unpack_from("<II", data, at + 8 + 152)
    if context_size < 0x100 or 4 not in streams:
        return said
    (ip,) = struct.unpack_from("<Q", data, context_at + 0xF8)
    modules_at = streams[4][1]
    for n in range(struct.unpack_from("<I", data, modules_at)[0]):
        base, size, _, _, name_at = struct.unpack_from("<QIIII", data, modules_at + 4 + 108 * n)
        if base <= ip < base + size:
            length = struct.unpack_from("<I", data, name_at)[0]
            name = data[name_at + 4:name_at + 4 + length].decode("utf-16-le", "replace")
            return f"{said}, instruction {ip:#x} = {name}+{ip - base:#x}"
    return f"{said}, instruction {ip:#x} in no listed module"


def crash_dumps(folder: Path) -> list[Path]:
    """The minidumps crashpad has written under an evidence folder, oldest first."""
    return sorted((folder / "dumps").glob("*/*.dmp"), key=lambda dump: dump.stat().st_mtime)


def written_dumps(folder: Path, seconds: float = 10.0) -> list[Path]:
    """crash_dumps once crashpad has finished writing them: it writes a report in `dumps/new/` and
    moves it to `dumps/pending/` when whole, which may be after the browser has seen the renderer die."""
    deadline = time.monotonic() + seconds
    while any((folder / "dumps" / "new").glob("*.dmp")) and time.monotonic() < deadline:
        time.sleep(0.05)
    return crash_dumps(folder)


def crash_report(url: str, evidence: Path | None) -> str:
    """The message a test fails with when the renderer of the page at `url` crashed."""
    said = f"the renderer of the page at {url} crashed (Playwright: 'Target crashed')"
    if evidence is None:
        return f"{said}; the browser was started without an evidence folder, so no dump or log was kept"
    dumps = written_dumps(evidence)
    latest = f"newest minidump {dumps[-1]}: {minidump_summary(dumps[-1])}" if dumps else "no minidump written"
    return f"{said}; {latest}; {len(dumps)} dump(s) in {evidence / 'dumps'}; Chromium's log: {evidence / 'chromium.log'}"


def keep_on_loopback(context: BrowserContext, outside: list[str]) -> None:
    """Lets the pages of `context` reach 127.0.0.1 only: any other request is aborted and its URL
    added to `outside`."""

    def guard(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)


def new_page(context: BrowserContext, errors: list[str]) -> Page:
    """A page of `context` whose uncaught errors, and the report of its renderer's crash, are added
    to `errors`. It intercepts file choosers from the start, which avoids a race on the first one."""
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))

    def gone(dead: Page) -> None:
        CRASHED.add(dead)
        errors.append(crash_report(dead.url, EVIDENCE.get(context.browser) if context.browser else None))

    page.on("crash", gone)
    page.on("filechooser", lambda chooser: None)
    return page


def crashed(page: Page) -> bool:
    """Whether the renderer of `page`, made by new_page, has crashed."""
    return page in CRASHED
