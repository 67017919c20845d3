"""VIDEO: a recording from the camera and microphone. A live preview, start and stop, the time left
counting down, a stop by itself at videoLen (or before maxSize), then the recording played back
with "retake" and "use". MediaRecorder hands the bytes over in one-second Blobs that stay in the
browser: the recording never enters Python's memory. AUDIO (audio.py) is the same without the
picture and with a level meter."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import js
from pyodide.ffi import JsException, create_proxy, to_js

from ..capture import (
    VIDEO_TYPES,
    Kind,
    Stop,
    base_type,
    extension_for,
    file_name,
    mirrored,
    recording_constraints,
    recording_type,
    stop_for,
    time_left,
)
from ..i18n import Catalog
from ..options import PickerOptions
from ..web.dom import el, js_object
from . import Chosen, Picked, Refuse
from .webcam import CapturePanel, MediaUnavailable, local_moment, new_file

TIMESLICE_MS = 1000  # how often the recorder hands over what it has recorded
TICK_SECONDS = 0.25  # how often the countdown and the limits are looked at


def source(catalog: Catalog, options: PickerOptions) -> VideoSource:
    return VideoSource(catalog, options)


class RecorderSource(CapturePanel):
    """A recording source: subclasses say what they record and what they show while recording."""

    kind: Kind
    types: tuple[str, ...]

    def limit(self) -> int:
        raise NotImplementedError

    def constraints(self) -> dict[str, Any]:
        raise NotImplementedError

    def live_view(self, stream: Any) -> list[Any]:
        """What the user sees of the stream before and while recording."""
        raise NotImplementedError

    def playback(self, url: str) -> Any:
        raise NotImplementedError

    def stop_live_view(self) -> None:
        """Ends what live_view set going."""

    def render(self, panel: Any, picked: Picked, refuse: Refuse) -> None:
        self.disposed = False
        self.picked = picked
        self.recorder: Any = None
        self.data_proxy: Any = None
        self.area = el("div", {"class": "capture", "data-capture": self.kind})
        panel.append(self.area)
        self.preview()

    def preview(self) -> None:
        had_focus = self.area.contains(self.area.getRootNode().activeElement)
        self.stop_live_view()
        self.show()
        self.toggle = self.button(self.t("capture.start"), self.press_toggle, "record",
                                  **{"aria-disabled": "true", "data-autofocus": True})
        self.timer = el("p", {"class": "timer", "role": "timer", "aria-label": self.t("capture.time_left")},
                        time_left(0, self.limit()))
        self.state = el("p", {"class": "hint", "aria-live": "polite"}, self.starting())
        self.live = el("div", {"class": "live"})
        self.area.append(self.live, self.timer, self.state, self.toggle)
        if had_focus:
            self.toggle.focus()
        self.start(self.open_devices)

    async def open_devices(self) -> None:
        try:
            if not hasattr(js, "MediaRecorder"):
                raise MediaUnavailable("unsupported")
            chosen = recording_type(self.types, lambda t: bool(js.MediaRecorder.isTypeSupported(t)))
            if chosen is None:
                raise MediaUnavailable("unsupported")
            stream = await self.acquire(self.constraints(), self.state)
        except MediaUnavailable as unavailable:
            self.show_error(unavailable.problem, self.preview)
            return
        self.chosen = chosen
        self.live.replaceChildren(*self.live_view(stream))
        for video in self.live.querySelectorAll("video"):
            await video.play()
        self.state.textContent = self.t("capture.ready", button=self.t("capture.start"))
        self.toggle.removeAttribute("aria-disabled")

    def press_toggle(self, event: Any) -> None:
        if self.toggle.hasAttribute("aria-disabled"):
            return
        if self.recorder is None:
            self.begin()
        else:
            self.finish()

    def begin(self) -> None:
        self.chunks: list[Any] = []
        self.recorded = 0
        self.largest = 0
        self.stopped: Stop | None = None
        self.recorder = js.MediaRecorder.new(self.stream, js_object({"mimeType": self.chosen}))
        self.data_proxy = create_proxy(self.took_chunk)
        self.recorder.addEventListener("dataavailable", self.data_proxy)
        self.recorder.start(TIMESLICE_MS)
        self.started_at = float(js.performance.now())
        self.toggle.textContent = self.t("capture.stop")
        self.toggle.classList.add("recording")
        self.state.textContent = self.t("capture.recording")
        self.start(self.count_down)

    def took_chunk(self, event: Any) -> None:
        size = int(event.data.size)
        if size:
            self.chunks.append(event.data)  # a Blob: its bytes stay in the browser
            self.recorded += size
            self.largest = max(self.largest, size)

    def elapsed(self) -> float:
        return (float(js.performance.now()) - self.started_at) / 1000

    async def count_down(self) -> None:
        while self.recorder is not None:
            elapsed = self.elapsed()
            self.timer.textContent = time_left(elapsed, self.limit())
            stop = stop_for(elapsed, self.limit(), self.recorded, self.largest, self.options.max_size)
            if stop is not None:
                self.stopped = stop
                self.finish()
                return
            await asyncio.sleep(TICK_SECONDS)

    def finish(self) -> None:
        """Stops the recording; the recorder hands its last Blob over, then `stopped` is shown."""
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        self.toggle.setAttribute("aria-disabled", "true")
        ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_stop(event: Any) -> None:
            if not ended.done():
                ended.set_result(None)

        stop_proxy = create_proxy(on_stop)
        recorder.addEventListener("stop", stop_proxy)
        recorder.stop()
        self.release()
        self.stop_live_view()

        async def recorded() -> None:
            try:
                await ended
            finally:
                recorder.removeEventListener("stop", stop_proxy)
                recorder.removeEventListener("dataavailable", self.data_proxy)
                stop_proxy.destroy()
                self.data_proxy.destroy()
                self.data_proxy = None
            self.show_recording(str(recorder.mimeType or self.chosen))

        self.start(recorded)

    def show_recording(self, mimetype: str) -> None:
        kind = base_type(mimetype)
        blob = js.Blob.new(to_js(self.chunks), js_object({"type": kind}))
        self.chunks = []
        name = file_name(self.kind, local_moment(), extension_for(kind), self.names)
        recording = new_file(blob, name, kind)
        self.show()
        notes = []
        if self.stopped is not None and self.stopped.reason == "length":
            notes.append(el("p", {"class": "hint", "role": "status"}, self.t("capture.stopped.length", time=time_left(0, self.limit()))))
        elif self.stopped is not None and self.options.max_size is not None:
            limit = self.size(self.options.max_size)
            notes.append(el("p", {"class": "hint", "role": "status"}, self.t("capture.stopped.size", limit=limit)))
        retake = self.button(self.t("capture.retake"), lambda e: self.preview(), "retake")
        use = self.button(self.t("capture.use"), lambda e: self.use(recording, name), "use")
        self.area.append(self.playback(self.object_url(recording)), *notes, el("div", {"class": "actions"}, retake, use))
        use.focus()

    def use(self, recording: Any, name: str) -> None:
        self.names.append(name)
        self.picked([Chosen(recording)])

    def dispose(self) -> None:
        recorder, self.recorder = getattr(self, "recorder", None), None
        if recorder is not None:
            with contextlib.suppress(JsException):  # already stopped
                recorder.stop()  # a recording the user left is dropped
        if getattr(self, "data_proxy", None) is not None and recorder is not None:
            recorder.removeEventListener("dataavailable", self.data_proxy)
            self.data_proxy.destroy()
            self.data_proxy = None
        self.chunks = []
        self.stop_live_view()
        super().dispose()


class VideoSource(RecorderSource):
    kind = "video"
    device = "camera"
    types = VIDEO_TYPES

    def limit(self) -> int:
        return self.options.webcam.video_len

    def constraints(self) -> dict[str, Any]:
        return {"video": recording_constraints(self.options.webcam.video_res), "audio": True}

    def live_view(self, stream: Any) -> list[Any]:
        video = el("video", {"class": "preview", "autoplay": True, "muted": True, "playsinline": True,
                             "aria-label": self.t("webcam.preview")})
        video.muted = True
        settings = stream.getVideoTracks()[0].getSettings()
        facing = str(settings.facingMode) if hasattr(settings, "facingMode") else None
        video.classList.toggle("mirrored", mirrored(facing))
        video.srcObject = stream
        return [video]

    def stop_live_view(self) -> None:
        if self.area is not None:
            for video in self.area.querySelectorAll("video.preview"):
                video.srcObject = None

    def playback(self, url: str) -> Any:
        return el("video", {"class": "playback", "controls": True, "src": url, "aria-label": self.t("capture.playback")})
