"""Recording benchmark: the memory of a long 1280x720 recording and its upload, picker against a plain page.

A recording through the picker's VIDEO source, then uploaded, side by side with a plain page that
records and uploads the same way without the picker.

Both run at the same time, each in a Chromium process of its own (so that each renderer's RSS is its
own), with Chromium's fake camera playing a 1280x720 Y4M (harness/fake_devices.camera_file) and its fake
microphone, against one store process on loopback:

- picker:   harness/pages/uploads-picker-memory.html, `pickAndStore({services: ["VIDEO"], webcam:
            {videoRes: "1280x720", videoLen: S}})`; the bench presses the start button, the recording
            stops by itself at S seconds, the bench presses "use" and waits for onSuccess. The Blob's
            size is the recording's size.
- baseline: harness/pages/recording-baseline.html: getUserMedia with the picker's constraints, a muted
            preview, MediaRecorder started with the mime type and timeslice the picker's recorder was
            started with (read in the picker's page), the chunks kept as Blobs, stopped after S
            seconds, and the one Blob of the recording sent with one fetch POST /api/store.

Sampled every 5 s and at each change of phase (recording, uploading, done): each page's JS heap and
ArrayBuffer backing stores (CDP), Pyodide's WebAssembly memory (picker), the renderer's and the browser
process's VmRSS and the renderer's VmHWM (/proc). What the store keeps is read back with ffprobe
(duration and resolution): a recording that is not 1280x720 or much shorter than asked is a failed run.

Results are printed and written to the "## Recording memory" section of docs/benchmarks.md. Run with
`make bench` (or `.venv/bin/python -m bench.recording`: 10 minutes); `--minutes M` records M minutes;
`--quick` records 30 seconds as a smoke run and writes nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, CDPSession, Page, Playwright, sync_playwright

from bench.shared import code_state, machine, metrics_session, page_memory, process_ids, publish, vm_status
from bench.uploads import BOOT_TIMEOUT_MS, PICKER_MEMORY_PAGE, file_sha256, open_page, open_picker, stored_path
from harness.browser import launch
from harness.fake_devices import RECORD_STREAMS, camera_file, device_flags
from harness.host_pages import HostPages, run_host_pages
from harness.picking import DIALOG
from harness.store_process import Store, run_store
from picker.capture import base_type, extension_for, recording_constraints
from picker.engine import DEFAULT_CHUNK_SIZE

MiB = 1024 * 1024
WIDTH, HEIGHT = 1280, 720
VIDEO_RES = f"{WIDTH}x{HEIGHT}"
FULL_MINUTES = 10.0
QUICK_SECONDS = 30
SAMPLE_EVERY = 5.0  # s between samples
POLL_EVERY = 0.25  # s between looks at each page's state
SETTLED = 3  # samples before the recording and after the upload, 1 s apart; their median is taken
PAGE_LIMIT = 16 * MiB  # the target: the picker's page, JS heap + wasm, grows by less
SHORTEST = 0.9  # of the length asked: a stored recording shorter than this is a failed run
STOP_GRACE_S = 60.0  # after the length asked, for the recorder to stop and hand its last Blob over
UPLOAD_TIMEOUT_S = 600.0
FFPROBE = "/usr/bin/ffprobe"  # Debian's ffmpeg
BASELINE_PAGE = "recording-baseline.html"
RECORDING = ("recording", "uploading")  # the phases whose samples give the peaks

# In both pages, from their start: the options each MediaRecorder is started with, and the bytes it
# hands over (a listener of the bench beside the page's own), in window.__recording.
WATCH_RECORDERS = """(() => {
  if (typeof MediaRecorder === "undefined") return;
  const start = MediaRecorder.prototype.start;
  window.__recording = {recorders: [], recorded: 0, chunks: 0};
  MediaRecorder.prototype.start = function (timeslice) {
    window.__recording.recorders.push({mimeType: this.mimeType, timeslice: timeslice === undefined ? null : timeslice});
    this.addEventListener("dataavailable", (event) => {
      window.__recording.recorded += event.data.size;
      window.__recording.chunks++;
    });
    return start.apply(this, arguments);
  };
})();"""

CAMERA_SETTINGS_JS = """() => {
  const track = (window.capturedStreams || []).flatMap(s => s.getVideoTracks()).find(t => t.readyState === "live");
  if (!track) return null;
  const s = track.getSettings();
  return {width: s.width, height: s.height, frameRate: s.frameRate};
}"""


# --- one page, recording -------------------------------------------------------------------------


@dataclass
class RecordingSide:
    """One of the two pages, in its own browser: what it did when, and its samples."""

    name: str
    browser: Browser
    context: BrowserContext
    page: Page
    wasm: bool  # whether it runs Pyodide (the picker)
    errors: list[str]
    cdp: CDPSession | None = None
    pids: dict[str, int] = field(default_factory=dict)
    hwm_reset: bool = False
    samples: list[dict] = field(default_factory=list)
    phase: str = "before"
    marks: dict[str, float] = field(default_factory=dict)  # time.monotonic() at which each phase began
    camera: dict | None = None
    result: dict | None = None

    def watch(self) -> None:
        """Starts reading the page's memory and its processes; the renderer's VmHWM is reset, so that
        from now on it is the peak of what follows (`echo 5 > /proc/PID/clear_refs`)."""
        self.cdp = metrics_session(self.context, self.page)
        self.pids = process_ids(self.browser, self.page)
        try:
            Path(f"/proc/{self.pids['renderer']}/clear_refs").write_text("5")
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False

    def collect_garbage(self) -> None:
        assert self.cdp is not None
        self.cdp.send("HeapProfiler.collectGarbage")

    def sample(self, t0: float) -> None:
        assert self.cdp is not None
        renderer = vm_status(self.pids["renderer"])
        self.samples.append({
            "t": time.monotonic() - t0, "phase": self.phase, **page_memory(self.cdp, self.page, self.wasm),
            "renderer": renderer["VmRSS"], "renderer_hwm": renderer["VmHWM"],
            "browser": vm_status(self.pids["browser"])["VmRSS"],
            "recorded": int(self.page.evaluate("window.__recording.recorded")), "edge": False,
        })

    def enter(self, phase: str) -> None:
        self.phase = phase
        self.marks[phase] = time.monotonic()

    def outcome(self) -> dict | None:
        result = self.page.evaluate("window.bench.result")
        if result is not None and result["kind"] != "success":
            raise RuntimeError(f"{self.name}: the upload failed: {result.get('text')}")
        if self.errors:
            raise RuntimeError(f"errors in the {self.name} page: {self.errors}")
        return result


def open_side(playwright: Playwright, camera: Path, pages: HostPages, name: str, wasm: bool) -> RecordingSide:
    """A browser of its own with the fake camera and microphone allowed, on the side's page."""
    browser = launch(playwright.chromium, *device_flags(camera))
    context = browser.new_context(permissions=["camera", "microphone"])
    context.add_init_script(RECORD_STREAMS)
    context.add_init_script(WATCH_RECORDERS)
    errors: list[str] = []
    if wasm:
        page = open_picker(context, pages, errors, PICKER_MEMORY_PAGE)
        page.wait_for_function("window.__pyodide !== undefined", timeout=BOOT_TIMEOUT_MS)
    else:
        page = open_page(context, pages, errors, BASELINE_PAGE)
    return RecordingSide(name, browser, context, page, wasm, errors)


def ready_picker(side: RecordingSide, seconds: int) -> None:
    """The picker's VIDEO panel, its camera live and its start button pressable."""
    side.page.evaluate("options => { window.pickerOptions = options; }",
                       {"services": ["VIDEO"], "webcam": {"videoRes": VIDEO_RES, "videoLen": seconds}})
    side.page.click("#open")
    side.page.locator(f"{DIALOG} .record:not([aria-disabled])").wait_for(timeout=60_000)
    side.camera = side.page.evaluate(CAMERA_SETTINGS_JS)


def ready_baseline(side: RecordingSide) -> None:
    """The baseline's camera and microphone open with the picker's constraints, its preview playing."""
    side.page.evaluate("constraints => openCamera(constraints)",
                       {"video": recording_constraints(VIDEO_RES), "audio": True})
    side.camera = side.page.evaluate(CAMERA_SETTINGS_JS)


def settled_samples(sides: list[RecordingSide], t0: float) -> None:
    """SETTLED samples of each side, 1 s apart, after a garbage collection: what the page holds."""
    for side in sides:
        side.collect_garbage()
    for i in range(SETTLED):
        if i:
            time.sleep(1.0)
        for side in sides:
            side.sample(t0)


def record_both(picker: RecordingSide, baseline: RecordingSide, seconds: int) -> float:
    """Records and uploads on both pages at once; returns the t0 of the samples' times (the picker's start)."""
    sides = [picker, baseline]
    time.sleep(3.0)  # both previews playing for a moment before the first samples
    for side in sides:
        side.watch()
    t0 = time.monotonic()
    settled_samples(sides, t0)
    picker.page.locator(f"{DIALOG} .record").click()
    picker.enter("recording")
    started = picker.page.wait_for_function(
        "window.__recording.recorders.length ? window.__recording.recorders[0] : null", timeout=10_000).json_value()
    filename = "baseline-recording" + extension_for(base_type(started["mimeType"]))
    baseline.page.evaluate("([mimeType, timeslice, seconds, name]) => record(mimeType, timeslice, seconds, name)",
                           [started["mimeType"], started["timeslice"], seconds, filename])
    baseline.enter("recording")
    stop_by = time.monotonic() + seconds + STOP_GRACE_S
    next_sample = t0 + SAMPLE_EVERY
    while any(side.phase != "done" for side in sides):
        changed = [side for side in sides if ended(side)]
        now = time.monotonic()
        if changed or now >= next_sample:
            for side in sides:
                side.sample(t0)
                show(side.name, side.samples[-1])
            for side in changed:  # the sample that ended a phase is counted in it
                side.samples[-1]["edge"] = True
                side.enter(NEXT[side.phase])
                if side.wasm and side.phase == "uploading":
                    side.page.locator(f"{DIALOG} .use").click()
            if now >= next_sample:
                next_sample += SAMPLE_EVERY * (1 + int((now - next_sample) // SAMPLE_EVERY))
        for side in sides:
            if side.phase == "recording" and now > stop_by:
                raise TimeoutError(f"{side.name}: still recording {STOP_GRACE_S:.0f} s after the {seconds} s asked")
            if side.phase == "uploading" and now > side.marks["uploading"] + UPLOAD_TIMEOUT_S:
                raise TimeoutError(f"{side.name}: no answer to the upload after {UPLOAD_TIMEOUT_S:.0f} s")
        time.sleep(POLL_EVERY)
    time.sleep(2.0)
    for side in sides:
        side.enter("after")
    settled_samples(sides, t0)
    for side in sides:
        show(side.name, side.samples[-1])
    return t0


NEXT = {"recording": "uploading", "uploading": "done"}


def ended(side: RecordingSide) -> bool:
    """Whether the side's phase has just ended: the recording stopped (the picker shows its "use"
    button, pressed once this is sampled), or the store answered."""
    if side.phase == "recording":
        if side.wasm:
            return bool(side.page.locator(f"{DIALOG} .use").count())
        return bool(side.page.evaluate("window.bench.state === 'uploading'"))
    if side.phase == "uploading":
        side.result = side.outcome()
        return side.result is not None
    return False


def show(name: str, s: dict) -> None:
    print(f"  {name:8} t {s['t']:6.1f} s {s['phase']:9}: recorded {s['recorded'] / MiB:7.2f} MiB, js {s['js'] / MiB:6.1f}, "
          f"buffers {s['buffers'] / MiB:6.1f}, wasm {s['wasm'] / MiB:6.1f}, renderer RSS {s['renderer'] / MiB:7.1f} "
          f"(peak {s['renderer_hwm'] / MiB:7.1f}), browser RSS {s['browser'] / MiB:7.1f} MiB", flush=True)


# --- what was stored -----------------------------------------------------------------------------


def probed(path: Path) -> dict[str, Any]:
    """What ffprobe reads in a stored recording: container, streams, and length as the time of its
    last packet (MediaRecorder writes WebM without a duration)."""
    def ffprobe(*args: str) -> str:
        return subprocess.run([FFPROBE, "-v", "error", *args, str(path)], check=True, capture_output=True,
                              text=True, timeout=600).stdout

    found = json.loads(ffprobe("-show_entries", "format=format_name:stream=codec_type,codec_name,width,height",
                               "-of", "json"))
    times = []
    for line in ffprobe("-show_entries", "packet=pts_time", "-of", "csv=p=0").split():
        with contextlib.suppress(ValueError):
            times.append(float(line.strip(",")))
    video: dict[str, Any] = next((s for s in found["streams"] if s["codec_type"] == "video"), {})
    return {"format": found["format"]["format_name"], "length": max(times, default=0.0),
            "codecs": ", ".join(f"{s['codec_type']} {s['codec_name']}" for s in found["streams"]),
            "width": video.get("width"), "height": video.get("height")}


def stored_recording(store: Store, side: RecordingSide, seconds: int) -> dict[str, Any]:
    assert side.result is not None
    blob = side.result["value"]
    path = stored_path(store, blob)
    found = probed(path)
    found.update(size=blob["size"], mimetype=blob.get("mimetype"), filename=blob.get("filename"),
                 stored_size=path.stat().st_size, sha_ok=file_sha256(path) == blob.get("sha256"))
    found["valid"] = ((found["width"], found["height"]) == (WIDTH, HEIGHT) and found["length"] >= SHORTEST * seconds
                      and found["stored_size"] == found["size"] and found["sha_ok"])
    return found


# --- the figures ---------------------------------------------------------------------------------


MEASURES: dict[str, Callable[[dict], int]] = {
    "js": lambda s: s["js"],
    "buffers": lambda s: s["buffers"],
    "wasm": lambda s: s["wasm"],
    "page": lambda s: s["js"] + s["wasm"],  # the target's measure, from the same samples
    "renderer": lambda s: s["renderer"],
    "browser": lambda s: s["browser"],
}


def summary(side: RecordingSide) -> dict[str, Any]:
    """Per measure: before (median), peak (of the recording's and the upload's samples), after (median);
    the renderer's VmHWM over the recording and the upload; how fast the renderer grew while recording."""
    before = [s for s in side.samples if s["phase"] == "before"]
    during = [s for s in side.samples if s["phase"] in RECORDING]
    after = [s for s in side.samples if s["phase"] == "after"]
    out: dict[str, Any] = {
        key: {"before": statistics.median(f(s) for s in before), "peak": max(f(s) for s in during),
              "after": statistics.median(f(s) for s in after)}
        for key, f in MEASURES.items()
    }
    out["renderer_hwm"] = max(s["renderer_hwm"] for s in during)
    recording = [s for s in side.samples if s["phase"] == "recording" and not s["edge"]]  # while the recorder ran
    if len({s["t"] for s in recording}) >= 3:
        minutes = [s["t"] / 60 for s in recording]
        out["renderer_slope"] = statistics.linear_regression(minutes, [s["renderer"] / MiB for s in recording]).slope
        out["page_slope"] = statistics.linear_regression(minutes, [MEASURES["page"](s) / MiB for s in recording]).slope
    out["samples"] = len(during)
    marks = side.marks
    out["recorded_s"] = marks["uploading"] - marks["recording"]
    out["upload_s"] = marks["done"] - marks["uploading"]
    return out


def growth(m: dict[str, Any], key: str, when: str = "peak") -> float:
    return float(m[key][when] - m[key]["before"])


def ratio(picker: float, baseline: float) -> str:
    """picker / baseline, when the baseline's figure is large enough for a ratio to mean anything."""
    if baseline < 1 * MiB:
        return "n/a (baseline under +1 MiB)"
    return f"{picker / baseline:.2f}"


def peak_cell(m: dict[str, Any], key: str) -> str:
    return f"{mib(m[key]['before'])} → {mib(m[key]['peak'])} ({mib(growth(m, key), sign=True)})"


def mib(value: float, sign: bool = False) -> str:
    return f"{value / MiB:+.1f} MiB" if sign else f"{value / MiB:.1f} MiB"


def report(seconds: int, env: dict[str, Any], figures: dict[str, dict], stored: dict[str, dict]) -> str:
    p, b = figures["picker"], figures["baseline"]
    ps, bs = stored["picker"], stored["baseline"]
    page_growth = growth(p, "page")
    passed = page_growth < PAGE_LIMIT
    valid = ps["valid"] and bs["valid"]
    length = f"{seconds // 60} min" + (f" {seconds % 60} s" if seconds % 60 else "") if seconds >= 60 else f"{seconds} s"
    lines = [
        "## Recording memory",
        "",
        f"A {length} {VIDEO_RES} recording from Chromium's fake camera and microphone, then uploaded, through the",
        "picker and through a plain page, at the same time, each in a headless Chromium process of its own (so that",
        "each renderer's RSS is its own), against one store process (local disk, plain http on loopback). The camera",
        f"plays a {VIDEO_RES} Y4M made by `harness/fake_devices.camera_file` (a still picture, red left half, blue",
        "right half, 20 fps); the microphone is Chromium's beep.",
        "",
        "- *picker*: `pickAndStore({services: [\"VIDEO\"], webcam: {videoRes: \"1280x720\", videoLen: "
        f"{seconds}}}}})` on",
        "  `harness/pages/uploads-picker-memory.html`; the bench presses the start button, the recording stops by",
        "  itself at `videoLen`, the bench presses \"use\" and waits for `onSuccess` (the picker's tus upload: on plain",
        f"  http, {DEFAULT_CHUNK_SIZE // MiB} MiB chunks with an sha256 each).",
        "- *baseline*: `harness/pages/recording-baseline.html`, no picker and no Pyodide: `getUserMedia` with the",
        "  picker's constraints, a muted preview, a `MediaRecorder` started with the mime type and timeslice the",
        "  picker's recorder was started with (read in the picker's page as it started), the chunks kept as the",
        "  Blobs they are handed, stopped after the same time, and the recording's one Blob sent with one",
        "  `fetch` `POST /api/store?key=demo&filename=...`.",
        "",
        f"Both recorders were started with `mimeType` `{env['recorder']['mimeType']}` and a timeslice of "
        f"{env['recorder']['timeslice']} ms. Sampled every {SAMPLE_EVERY:.0f} s and at each end of a phase: the page's",
        "JS heap (CDP `Performance.getMetrics` `JSHeapUsedSize`), its ArrayBuffer backing stores (CDP",
        "`Runtime.getHeapUsage` `backingStorageSize`, outside that heap), Pyodide's WebAssembly memory (picker:",
        "`pyodide._module.HEAPU8.length`, from the host page's PyScript `hooks.main.onReady` hook), the `VmRSS` of",
        "the page's renderer process and of the browser process (where Chromium keeps Blobs' bytes), from /proc.",
        f"*before*: the median of {SETTLED} samples 1 s apart, with the camera live and the start button ready, after",
        "a garbage collection (CDP `HeapProfiler.collectGarbage`); *peak*: the largest sample from the start of the",
        f"recording to the store's answer ({p['samples']} samples of the picker); *after*: the median of {SETTLED}",
        "samples once the upload is done, after a garbage collection (what the page still holds). The renderer's",
        "peak is also read from its `VmHWM`, which catches what the samples fall between: reset just before the",
        "first sample (`echo 5 > /proc/PID/clear_refs`"
        + ("" if env["hwm_reset"] else "; the reset failed here, so it may include the page's load") + "), and the",
        "largest value read is taken, since Chromium's own memory metrics reset it now and then too.",
        "Growth = peak − before; the ratio is picker / baseline.",
        "",
        f"Machine: nproc {env['nproc']}, {env['cpu']}, {env['mem_gib']:.0f} GiB RAM; load average {env['load_start']:.1f} "
        f"at start, {env['load_end']:.1f} at the end (the two browsers, the store and the bench share the cores); "
        f"headless Chromium {env['chromium']}; {env['ffprobe']}; {env['date']}. Code: {env['code']}.",
        "",
        "| measure | picker: before → peak (growth) | picker: after − before | baseline: before → peak (growth) | "
        "baseline: after − before | picker / baseline (growth) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| recording (the Blob's size) | {mib(ps['size'])} | | {mib(bs['size'])} | | {ps['size'] / bs['size']:.2f} |",
    ]
    titles = {"js": "page JS heap", "buffers": "page ArrayBuffers", "wasm": "page WebAssembly memory",
              "page": "**page: JS heap + wasm** (same samples)", "renderer": "**renderer VmRSS**",
              "browser": "browser process VmRSS (for information)"}
    for key, title in titles.items():
        if key == "wasm":  # the baseline runs no Pyodide
            lines.append(f"| {title} | {peak_cell(p, key)} | {mib(growth(p, key, 'after'), sign=True)} | — | — | — |")
            continue
        lines.append(f"| {title} | {peak_cell(p, key)} | {mib(growth(p, key, 'after'), sign=True)} | {peak_cell(b, key)} | "
                     f"{mib(growth(b, key, 'after'), sign=True)} | {ratio(growth(p, key), growth(b, key))} |")
    p_hwm = p["renderer_hwm"] - p["renderer"]["before"]
    b_hwm = b["renderer_hwm"] - b["renderer"]["before"]
    lines += [
        f"| **renderer peak** (`VmHWM`) | {mib(p['renderer_hwm'])} ({mib(p_hwm, sign=True)}) | | "
        f"{mib(b['renderer_hwm'])} ({mib(b_hwm, sign=True)}) | | {ratio(p_hwm, b_hwm)} |",
        "",
        "What the store kept, read back with ffprobe (length: the time of the last packet):",
        "",
        "| page | file | type | container | streams | resolution | length | size | recorded for | upload |",
        "|---|---|---|---|---|---|---:|---:|---:|---:|",
    ]
    for side, s, m in (("picker", ps, p), ("baseline", bs, b)):
        lines.append(f"| {side} | `{s['filename']}` | {s['mimetype']} | {s['format']} | {s['codecs']} | "
                     f"{s['width']}x{s['height']} | {s['length']:.1f} s | {s['size']:,} bytes | {m['recorded_s']:.1f} s | "
                     f"{m['upload_s']:.1f} s |")
    lines += [
        "",
        f"- The run: {'valid' if valid else '**FAILED**'}. Both stored recordings are expected at {VIDEO_RES} and at "
        f"least {SHORTEST:.0%} of the {seconds} s asked, with the stored file's size and sha256 those of the Blob: picker "
        f"{ps['width']}x{ps['height']}, {ps['length']:.1f} s ({'as expected' if ps['valid'] else 'NOT as expected'}); "
        f"baseline {bs['width']}x{bs['height']}, {bs['length']:.1f} s ({'as expected' if bs['valid'] else 'NOT as expected'}).",
        f"- The target, the picker's page (JS heap + wasm) grows by less than {PAGE_LIMIT // MiB} MiB during a "
        f"recording and its upload: it grew by **{mib(page_growth)}**: **{'PASS' if passed else 'FAIL'}**"
        + ("" if valid else " (of a failed run: it proves nothing)") + f". With the ArrayBuffers counted too: "
        f"{mib(growth(p, 'page') + growth(p, 'buffers'))} (the baseline's JS heap and ArrayBuffers: "
        f"{mib(growth(b, 'js') + growth(b, 'buffers'))}).",
        f"- Renderer RSS growth next to the recording's size: picker **{mib(growth(p, 'renderer'))}** (peak `VmHWM` "
        f"{mib(p_hwm, sign=True)}), baseline **{mib(growth(b, 'renderer'))}** (peak {mib(b_hwm, sign=True)}), for a "
        f"recording of **{mib(ps['size'])}** (baseline {mib(bs['size'])}); picker / baseline: "
        f"{ratio(growth(p, 'renderer'), growth(b, 'renderer'))}.",
    ]
    if "renderer_slope" in p and "renderer_slope" in b:
        lines.append(
            f"- While recording (a straight line fitted to the samples): the renderer grew by "
            f"{p['renderer_slope']:+.2f} MiB a minute with the picker and {b['renderer_slope']:+.2f} with the baseline, "
            f"the picker's JS heap + wasm by {p['page_slope']:+.2f} MiB a minute, while the recording grew by "
            f"{ps['size'] / MiB / (seconds / 60):.2f} MiB a minute.")
    if ps["size"] < PAGE_LIMIT:
        lines.append(
            f"- The still picture compresses well: the recording ({mib(ps['size'])}) is smaller than the "
            f"{PAGE_LIMIT // MiB} MiB target, so a copy of it in the page would not by itself fail the target; the "
            "growth a minute above, next to the recording's, is what shows whether its bytes enter the page.")
    lines += [
        "",
        f"Reproduce with `make bench` (runs `.venv/bin/python -m bench.recording`, {FULL_MINUTES:g} minutes of recording, "
        f"which rewrites this section; this run took {env['minutes']:.0f} min); `--minutes M` records M minutes, "
        "`--quick` 30 seconds and writes nothing.",
        "",
    ]
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.recording", description=__doc__.split("\n")[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, default=FULL_MINUTES,
                        help=f"how long to record (default {FULL_MINUTES:g})")
    length.add_argument("--quick", action="store_true", help=f"records {QUICK_SECONDS} s; prints, writes nothing")
    args = parser.parse_args()
    seconds = QUICK_SECONDS if args.quick else max(1, round(args.minutes * 60))
    started = time.monotonic()
    env: dict[str, Any] = {"load_start": os.getloadavg()[0], **machine(), "code": code_state()}
    env["ffprobe"] = " ".join(subprocess.run([FFPROBE, "-version"], capture_output=True, text=True).stdout.split()[:3])
    with tempfile.TemporaryDirectory(prefix="bench-recording-") as name:
        tmp = Path(name)
        camera = camera_file(tmp / "camera.y4m", WIDTH, HEIGHT)
        with run_store(tmp) as store, run_host_pages(store.url) as pages, sync_playwright() as playwright, \
                contextlib.ExitStack() as browsers:
            picker = open_side(playwright, camera, pages, "picker", wasm=True)
            browsers.callback(picker.browser.close)
            baseline = open_side(playwright, camera, pages, "baseline", wasm=False)
            browsers.callback(baseline.browser.close)
            env["chromium"] = picker.browser.version
            ready_picker(picker, seconds)
            ready_baseline(baseline)
            print(f"ready in {time.monotonic() - started:.0f} s; cameras: picker {picker.camera}, baseline {baseline.camera}",
                  flush=True)
            record_both(picker, baseline, seconds)
            sides = {"picker": picker, "baseline": baseline}
            recorders = {name: side.page.evaluate("window.__recording.recorders") for name, side in sides.items()}
            if recorders["picker"] != recorders["baseline"] or len(recorders["picker"]) != 1:
                raise RuntimeError(f"the two pages' recorders differ: {recorders}")
            env["recorder"] = recorders["picker"][0]
            env["hwm_reset"] = picker.hwm_reset and baseline.hwm_reset
            figures = {name: summary(side) for name, side in sides.items()}
            stored = {name: stored_recording(store, side, seconds) for name, side in sides.items()}
    env["load_end"] = os.getloadavg()[0]
    env["minutes"] = (time.monotonic() - started) / 60
    env["date"] = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    failed = not all(s["valid"] for s in stored.values())
    publish(report(seconds, env, figures, stored), started,
            "the run failed (a stored recording is not as expected)" if failed else "--quick" if args.quick else None)
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
