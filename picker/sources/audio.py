"""AUDIO: a recording from the microphone, as VIDEO records (video.py), with a level meter in
place of the picture so that the user sees the microphone hears them."""

from __future__ import annotations

import asyncio
from typing import Any

import js

from ..capture import AUDIO_TYPES, level
from ..i18n import Catalog
from ..options import PickerOptions
from ..web.dom import el
from .video import RecorderSource

METER_SECONDS = 0.1  # how often the level meter is redrawn
SAMPLES = 512


def source(catalog: Catalog, options: PickerOptions) -> AudioSource:
    return AudioSource(catalog, options)


class AudioSource(RecorderSource):
    kind = "audio"
    device = "microphone"
    types = AUDIO_TYPES
    listening: Any = None  # the AudioContext feeding the meter
    metering: asyncio.Task[None] | None = None

    def limit(self) -> int:
        return self.options.webcam.audio_len

    def constraints(self) -> dict[str, Any]:
        return {"audio": True, "video": False}

    def live_view(self, stream: Any) -> list[Any]:
        self.stop_live_view()
        self.listening = js.AudioContext.new()
        analyser = self.listening.createAnalyser()
        analyser.fftSize = SAMPLES
        self.listening.createMediaStreamSource(stream).connect(analyser)
        meter = el("meter", {"class": "level", "min": "0", "max": "1", "value": "0", "aria-label": self.t("audio.level")})
        self.metering = asyncio.ensure_future(self.measure(analyser, meter))
        return [meter]

    async def measure(self, analyser: Any, meter: Any) -> None:
        samples = js.Uint8Array.new(SAMPLES)
        while True:
            analyser.getByteTimeDomainData(samples)
            meter.value = level(bytes(samples.to_py()))
            await asyncio.sleep(METER_SECONDS)

    def stop_live_view(self) -> None:
        if self.metering is not None:
            self.metering.cancel()
            self.metering = None
        if self.listening is not None:
            self.listening.close()
            self.listening = None

    def playback(self, url: str) -> Any:
        return el("audio", {"class": "playback", "controls": True, "src": url, "aria-label": self.t("capture.playback")})
