"""One call of pickAndStore / pick / pickMultiple, from the dialog opening to the callbacks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Callable

import js
from pyodide.ffi import JsProxy

from ..errors import BAD_PARAMETERS, CLOSED, FPError
from ..i18n import available_languages, choose_language, load_catalog
from ..options import PickCall, parse_call, split_call
from ..progress import FileProgress
from ..restrictions import PickedFile, accept_attribute, is_accepted
from ..sources.computer import ComputerSource
from ..upload import blob_from_reply, store_url
from .dialog import Dialog
from .xhr import XhrTransport

LOCALES = Path(__file__).resolve().parent.parent.parent / "locales"
DEFAULT_MIMETYPE = "application/octet-stream"
PARALLEL_FILES = 4


def to_js_value(value: Any) -> Any:
    if isinstance(value, FPError):
        return js.filepicker.FPError.new(value.code, value.message)
    return js.JSON.parse(json.dumps(value))


def invoke(callback: Callable[[Any], Any] | None, value: Any) -> None:
    """Call a page's callback; an exception in it is the page's, reported, never ours."""
    if callback is None:
        return
    try:
        callback(to_js_value(value))
    except Exception as exc:  # noqa: BLE001 - whatever the page's code raised
        js.console.error(f"filepicker: a callback raised: {exc}")


def from_js(value: Any) -> Any:
    """Options objects become dicts; functions stay callable proxies."""
    if isinstance(value, JsProxy) and js.Object.prototype.toString.call(value) == "[object Object]":
        return {key: from_js(js.Reflect.get(value, key)) for key in js.Object.keys(value)}
    if isinstance(value, JsProxy) and js.Array.isArray(value):
        return [from_js(item) for item in value]
    return value


class PickSession:
    def __init__(self, call: PickCall, api_key: str, base: str) -> None:
        self.call = call
        self.api_key = api_key
        self.base = base
        language = choose_language(call.picker.language, list(js.navigator.languages), available_languages(LOCALES))
        self.catalog = load_catalog(language, LOCALES)
        self.transport = XhrTransport()
        self.outcome: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.uploads: asyncio.Task[Any] | None = None
        self.reported = False
        source = ComputerSource(self.catalog, call.picker)
        self.dialog = Dialog(self.catalog, call.picker.multiple, [source], self.close)

    def finish(self, result: Any) -> None:
        if not self.outcome.done():
            self.outcome.set_result(result)

    def close(self) -> None:
        self.finish(FPError(CLOSED, "The user closed the dialog without picking a file"))

    async def run(self) -> None:
        self.dialog.open(self.picked)
        try:
            result = await self.outcome
        finally:
            if self.uploads is not None and not self.uploads.done():
                self.uploads.cancel()
            self.dialog.close()
        if self.reported:
            return
        if isinstance(result, FPError):
            invoke(self.call.on_error, result)
        else:
            invoke(self.call.on_success, result if self.call.picker.multiple else result[0])

    def rejection(self, files: list[Any]) -> str | None:
        t = self.catalog.t
        if not self.call.picker.multiple and len(files) > 1:
            return t("error.only_one", count=len(files))
        refused = [f.name for f in files if not is_accepted(self.call.picker, PickedFile(f.name, int(f.size), f.type))]
        if refused:
            return t("error.type", count=len(refused), names=", ".join(refused), accepted=accept_attribute(self.call.picker))
        return None

    def picked(self, files: list[Any]) -> None:
        if self.uploads is not None:
            return
        problem = self.rejection(files)
        if problem:
            self.dialog.show_error(problem)
            return
        self.dialog.clear_error()
        self.uploads = asyncio.ensure_future(self.upload_all(files))

    async def upload_all(self, files: list[Any]) -> None:
        slots = asyncio.Semaphore(PARALLEL_FILES)
        self.dialog.announce(self.catalog.t("status.uploading", count=len(files)))

        async def one(index: int, file: Any) -> dict:
            progress = FileProgress(str(file.name), str(file.type) or DEFAULT_MIMETYPE, int(file.size))
            self.dialog.add_file(index, progress)
            async with slots:
                return await self.upload(index, file, progress)

        try:
            blobs = await asyncio.gather(*(one(i, f) for i, f in enumerate(files)))
        except FPError as error:
            self.dialog.show_error(error.message)
            # The pick has failed and the page hears it now; the dialog stays open so that the
            # user can read why, and closing it afterwards reports nothing more.
            invoke(self.call.on_error, error)
            self.reported = True
            return
        self.dialog.announce(self.catalog.t("status.done", count=len(blobs)))
        self.finish(list(blobs))

    async def upload(self, index: int, file: Any, progress: FileProgress) -> dict:
        def sent(count: int) -> None:
            progress.sent(count)
            self.report(index, progress)

        url = store_url(self.base, self.api_key, self.call, progress.filename, progress.mimetype)
        try:
            status, body = await self.transport.send(url, file, sent)
            blob = blob_from_reply(status, body)
        except (FPError, ConnectionError) as exc:
            self.dialog.fail_file(index)
            message = exc.message if isinstance(exc, FPError) else str(exc)
            code = exc.code if isinstance(exc, FPError) else BAD_PARAMETERS
            raise FPError(code, self.catalog.t("error.upload", filename=progress.filename, message=message)) from exc
        progress.acknowledge(progress.size)
        self.report(index, progress)
        return blob

    def report(self, index: int, progress: FileProgress) -> None:
        self.dialog.update_file(index, progress)
        invoke(self.call.on_progress, progress.event())


async def handle(request: Any) -> None:
    method = str(request.method)
    args = [from_js(arg) for arg in request.args]
    try:
        call = parse_call(method, args)
    except FPError as error:
        js.console.error(f"filepicker: {error.message}")
        invoke(split_call(method, args).on_error, error)
        return
    for warning in call.warnings:
        js.console.warn(warning)
    await PickSession(call, str(request.key), str(js.filepicker.base)).run()
