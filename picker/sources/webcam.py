"""WEBCAM: a photo from the user's camera. A live preview (mirrored for a camera facing the user),
a button to take the photo, then the photo with "retake" and "use". The camera is released when
the photo is taken, when the user leaves the panel and when the dialog closes. The media helpers
here (starting a stream, stopping it, saying what went wrong) serve the recorders too."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import js
from pyodide.ffi import JsException, create_once_callable, to_js

from ..capture import (
    DEVICE_KINDS,
    Problem,
    crop,
    device_key,
    extension_for,
    file_name,
    media_error,
    mirrored,
    photo_size,
    video_constraints,
    with_devices,
)
from ..i18n import Catalog
from ..options import PickerOptions
from ..web.dom import Listeners, el, js_object
from . import Chosen, Picked, Refuse

JPEG = "image/jpeg"
JPEG_QUALITY = 0.92


def source(catalog: Catalog, options: PickerOptions) -> WebcamSource:
    return WebcamSource(catalog, options)


class MediaUnavailable(Exception):
    """The browser cannot give a stream, for `problem` (picker.capture.Problem)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem)
        self.problem = problem


def stop_stream(stream: Any) -> None:
    """Stops every track of `stream`: the browser's camera or microphone indicator goes off."""
    if stream is not None:
        for track in stream.getTracks():
            track.stop()


async def open_stream(constraints: dict[str, Any]) -> Any:
    """A MediaStream for `constraints`, or MediaUnavailable saying why not."""
    devices = getattr(js.navigator, "mediaDevices", None)
    if not js.isSecureContext or devices is None or not hasattr(devices, "getUserMedia"):
        raise MediaUnavailable("insecure")
    try:
        return await devices.getUserMedia(js_object(constraints))
    except JsException as exc:
        name = str(getattr(exc, "name", "") or str(exc).split(":")[0])
        raise MediaUnavailable(media_error(name)) from None


CHOSEN_NOW: dict[str, str] = {}  # the devices chosen in this page, where localStorage is refused


def remembered(kind: str) -> str | None:
    """The device of `kind` the user chose last on this site, if any."""
    try:
        stored = js.localStorage.getItem(device_key(kind))
    except JsException:
        stored = None
    return str(stored) if stored else CHOSEN_NOW.get(kind)


async def present(chosen: dict[str, str | None]) -> dict[str, str | None]:
    """Of the devices `chosen`, those still there: one asked for exactly that has gone since would
    fail the request (OverconstrainedError, which Pyodide cannot even raise), so the default is
    used in its place."""
    if not any(chosen.values()):
        return chosen
    devices = getattr(js.navigator, "mediaDevices", None)
    if devices is None:
        return {}
    there = {str(d.deviceId) for d in await devices.enumerateDevices()}
    return {kind: device for kind, device in chosen.items() if device in there}


def local_moment() -> tuple[int, int, int, int, int, int]:
    now = js.Date.new()
    return (int(now.getFullYear()), int(now.getMonth()) + 1, int(now.getDate()), int(now.getHours()),
            int(now.getMinutes()), int(now.getSeconds()))


def new_file(blob: Any, name: str, mimetype: str) -> Any:
    return js.File.new(to_js([blob]), name, js_object({"type": mimetype, "lastModified": js.Date.now()}))


class CapturePanel:
    """What the three capture sources share: one area in the panel whose content is replaced as
    the user goes from preview to result, the stream held, the task starting it, the object URLs
    to revoke, and an error line with a retry button."""

    device: str  # "camera" or "microphone"

    def __init__(self, catalog: Catalog, options: PickerOptions) -> None:
        self.t = catalog.t
        self.size = catalog.size
        self.options = options
        self.listeners = Listeners()  # those of the view shown, cleared when another replaces it
        self.stream: Any = None
        self.task: asyncio.Task[None] | None = None
        self.urls: list[str] = []
        self.names: list[str] = []  # the files this source made in this pick
        self.area: Any = None
        self.disposed = False

    def preview(self) -> None:
        """Shows the live view, with the stream (re)started."""
        raise NotImplementedError

    def show(self, *children: Any) -> None:
        self.listeners.clear()
        self.area.replaceChildren(*children)

    def button(self, label: str, handler: Callable[[Any], Any], kind: str = "", **attributes: Any) -> Any:
        """A button of the next view (its listener goes when that view is replaced)."""
        node = el("button", {"type": "button", "class": f"choose {kind}".strip(), **attributes}, label)
        self.listeners.on(node, "click", handler)
        return node

    def starting(self) -> str:
        device = self.device
        return self.t(f"capture.starting.{device}")

    def show_error(self, problem: Problem, retry: Callable[[], None]) -> None:
        device = self.device
        text = self.t(f"capture.error.{problem}.{device}")
        message = el("p", {"class": "capture-error", "role": "alert"}, text)
        again = self.button(self.t("capture.retry"), lambda e: retry(), "retry")
        self.show()
        self.area.append(message, again)
        again.focus()

    def object_url(self, blob: Any) -> str:
        url = str(js.URL.createObjectURL(blob))
        self.urls.append(url)
        return url

    def release(self) -> None:
        """Stops the stream, if one is held."""
        stop_stream(self.stream)
        self.stream = None

    def start(self, work: Callable[[], Any]) -> None:
        """Runs `work` in place of the task under way (which is cancelled, unless it is the one
        starting `work`: it then ends by itself)."""
        if self.task is not None and not self.task.done() and self.task is not asyncio.current_task():
            self.task.cancel()
        self.task = asyncio.ensure_future(work())

    async def acquire(self, constraints: dict[str, Any], before: Any) -> Any:
        """A stream for `constraints` from the devices the user chose on this site before, held by
        this panel; one that arrives after the user left is stopped at once, so that a panel that
        is gone never holds the camera. With several devices of a kind, a choice of them is put
        in front of `before`."""
        kinds = [kind for kind in DEVICE_KINDS if constraints.get(kind)]
        stream = await open_stream(with_devices(constraints, await present({kind: remembered(kind) for kind in kinds})))
        if self.disposed:
            stop_stream(stream)
            raise asyncio.CancelledError
        self.release()
        self.stream = stream
        await self.offer_devices(stream, kinds, before)
        return stream

    async def offer_devices(self, stream: Any, kinds: list[str], before: Any) -> None:
        devices = list(await js.navigator.mediaDevices.enumerateDevices())
        for kind in kinds:
            found = [d for d in devices if str(d.kind) == DEVICE_KINDS[kind] and str(d.deviceId)]
            if len(found) < 2:
                continue
            tracks = stream.getVideoTracks() if kind == "video" else stream.getAudioTracks()
            current = str(tracks[0].getSettings().deviceId) if len(tracks) else ""
            field_id = f"fp-device-{kind}"
            choice = el("select", {"id": field_id, "class": "device", "data-device": kind})
            for device in found:
                option = el("option", {"value": str(device.deviceId)}, str(device.label) or str(device.deviceId)[:8])
                option.selected = str(device.deviceId) == current
                choice.append(option)
            label = el("label", {"for": field_id}, self.t(f"capture.choose.{kind}"))
            before.before(el("div", {"class": "devices"}, label, choice))
            self.listeners.on(choice, "change", self.chose_device(kind, choice))

    def chose_device(self, kind: str, choice: Any) -> Callable[[Any], None]:
        def chose(event: Any) -> None:
            with contextlib.suppress(JsException):  # storage refused (private mode): chosen for now only
                js.localStorage.setItem(device_key(kind), str(choice.value))
            CHOSEN_NOW[kind] = str(choice.value)
            self.preview()

        return chose

    def dispose(self) -> None:
        self.disposed = True
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.task = None
        self.release()
        self.listeners.clear()
        for url in self.urls:
            js.URL.revokeObjectURL(url)
        self.urls.clear()


async def canvas_blob(canvas: Any, mimetype: str, quality: float) -> Any:
    done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def made(blob: Any) -> None:
        if not done.done():
            done.set_result(blob)

    canvas.toBlob(create_once_callable(made), mimetype, quality)
    return await done


class WebcamSource(CapturePanel):
    device = "camera"

    def render(self, panel: Any, picked: Picked, refuse: Refuse) -> None:
        self.disposed = False
        self.picked = picked
        self.area = el("div", {"class": "capture", "data-capture": "webcam"})
        panel.append(self.area)
        self.preview()

    def preview(self) -> None:
        """The live picture and the button taking the photo (not yet pressable while the camera
        starts: it is there from the start so that the dialog's first focus lands on it)."""
        self.video = el("video", {"class": "preview", "autoplay": True, "muted": True, "playsinline": True,
                                  "aria-label": self.t("webcam.preview")})
        self.video.muted = True
        had_focus = self.area.contains(self.area.getRootNode().activeElement)
        self.show()
        self.take = self.button(self.t("webcam.take"), self.press_take, "take", **{"aria-disabled": "true", "data-autofocus": True})
        self.state = el("p", {"class": "hint", "aria-live": "polite"}, self.starting())
        self.area.append(self.video, self.state, self.take)
        if had_focus:
            self.take.focus()
        self.start(self.open_camera)

    async def open_camera(self) -> None:
        try:
            stream = await self.acquire({"video": video_constraints(self.options.webcam.dim), "audio": False}, self.state)
        except MediaUnavailable as unavailable:
            self.show_error(unavailable.problem, self.preview)
            return
        settings = stream.getVideoTracks()[0].getSettings()
        facing = str(settings.facingMode) if hasattr(settings, "facingMode") else None
        self.video.classList.toggle("mirrored", mirrored(facing))
        self.video.srcObject = stream
        await self.video.play()
        self.state.textContent = self.t("webcam.ready", button=self.t("webcam.take"))
        self.take.removeAttribute("aria-disabled")

    def press_take(self, event: Any) -> None:
        if self.stream is not None and not self.take.hasAttribute("aria-disabled"):
            self.take.setAttribute("aria-disabled", "true")  # one photo per press
            self.start(self.shoot)

    async def shoot(self) -> None:
        given = (int(self.video.videoWidth), int(self.video.videoHeight))
        width, height = photo_size(self.options.webcam.dim, given)
        x, y, w, h = crop(given, (width, height))
        canvas = el("canvas", {"width": width, "height": height})
        canvas.getContext("2d").drawImage(self.video, x, y, w, h, 0, 0, width, height)  # as the camera sees: not mirrored
        self.release()
        self.video.srcObject = None
        blob = await canvas_blob(canvas, JPEG, JPEG_QUALITY)
        name = file_name("webcam", local_moment(), extension_for(JPEG), self.names)
        photo = new_file(blob, name, JPEG)
        # Pixel sizes as digits, not grouped numbers ("1920", not "1,920").
        alt = self.t("webcam.photo", width=str(width), height=str(height))
        image = el("img", {"class": "photo", "src": self.object_url(photo), "alt": alt, "width": width, "height": height})
        self.show()
        retake = self.button(self.t("webcam.retake"), lambda e: self.preview(), "retake")
        use = self.button(self.t("webcam.use"), lambda e: self.use(photo, name), "use")
        self.area.append(image, el("div", {"class": "actions"}, retake, use))
        use.focus()

    def use(self, photo: Any, name: str) -> None:
        self.names.append(name)
        self.picked([Chosen(photo)])
