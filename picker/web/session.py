"""One call of pickAndStore / pick / pickMultiple, from the dialog opening to the callbacks."""

from __future__ import annotations

import asyncio
import gc
import importlib
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import js
from pyodide.ffi import JsException, JsProxy

from ..fperror import CLOSED, FAILED, FPError, Unreadable
from ..i18n import Catalog
from ..options import PickCall, parse_call, split_call
from ..progress import FileProgress
from ..restrictions import PickedFile, rejection
from ..sniff import GENERIC, HEAD_BYTES, real_type
from ..sources import AVAILABLE, Chosen, Service, Source
from ..upload import UploadOptions, parse_upload_options, upload_endpoint, upload_metadata
from .bitmaps import prepared
from .custom import dialog_catalog, stylesheet_url
from .dialog import Dialog
from .thumbnails import Thumbnails
from .tus_client import Remembered, upload_file

LOCALES = Path(__file__).resolve().parent.parent.parent / "locales"
# How many files' first bytes are read at once to find their types.
PARALLEL_READS = 16
MOBILE_WIDTH = 768
T = TypeVar("T")
OPEN: set[PickSession] = set()  # the picks under way
FAILED_ROW = -1.0  # in PickSession.reported_percent: the file's upload failed


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
    except Exception as exc:
        js.console.error(f"filepicker: a callback raised: {exc}")


async def picked_file(file: Any, sniff: bool = True) -> PickedFile:
    """Name, size and type of a browser File; when the browser gives no type or a generic one (and
    `sniff`), the type its first bytes announce (only those few bytes are read)."""
    declared = str(file.type)
    head = b""
    if declared in GENERIC and sniff:
        try:
            head = bytes((await file.slice(0, HEAD_BYTES).arrayBuffer()).to_py())
        except JsException:
            raise Unreadable(str(file.name)) from None
    return PickedFile(str(file.name), int(file.size), real_type(declared, head))


async def bounded(limit: int, work: Sequence[Awaitable[T]]) -> list[T]:
    """The results of `work` in order, at most `limit` of them running at a time."""
    slots = asyncio.Semaphore(limit)

    async def one(item: Awaitable[T]) -> T:
        async with slots:
            return await item

    return list(await asyncio.gather(*(one(item) for item in work)))


def is_mobile() -> bool:
    """A touch screen as narrow as a phone's: there the dialog opens in a window of its own."""
    # screen.width, since a page without a viewport meta tag lays out 980 px wide even on a phone
    return bool(js.matchMedia("(pointer: coarse)").matches) and int(js.screen.width) < MOBILE_WIDTH


def from_js(value: Any) -> Any:
    """Options objects become dicts; functions stay callable proxies."""
    if isinstance(value, JsProxy) and js.Object.prototype.toString.call(value) == "[object Object]":
        return {key: from_js(js.Reflect.get(value, key)) for key in js.Object.keys(value)}
    if isinstance(value, JsProxy) and js.Array.isArray(value):
        return [from_js(item) for item in value]
    return value


class PickSession:
    def __init__(self, call: PickCall, api_key: str, base: str, catalog: Catalog,
                 upload_options: UploadOptions | None = None, stylesheet: str | None = None) -> None:
        self.call = call
        self.upload_options = upload_options or UploadOptions()
        self.api_key = api_key
        self.base = base
        self.catalog = catalog
        self.remembered = Remembered()
        self.outcome: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.uploads: asyncio.Task[Any] | None = None
        self.reported = False
        self.relative_paths: list[str] = []
        self.reported_percent: dict[int, float] = {}  # the last progress told of each file
        self.thumbnails: Thumbnails | None = None
        services = [AVAILABLE[name] for name in call.picker.services]
        self.dialog = Dialog(self.catalog, call.picker.multiple, services, call.picker.open_to, self.source,
                             self.close, call.picker.container, stylesheet, lambda error: tell(call, error))

    def source(self, service: Service) -> Source:
        """The source of `service`, its module imported only now: a source the user never selects
        costs the page nothing."""
        module = importlib.import_module(service.module)
        made: Source = module.source(self.catalog, self.call.picker)
        return made

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
            if self.thumbnails is not None:
                self.thumbnails.stop()
                self.thumbnails = None
            self.dialog.close()
            # The dialog, its sources and this session refer to each other: freed now, not when
            # Python's cycle collector happens to run (which an idle page may never see), so that
            # a recording's Blob and the dialog's nodes go with the pick.
            self.dialog.sources.clear()
            gc.collect()
        if self.reported:
            return
        if isinstance(result, FPError):
            invoke(self.call.on_error, result)
        else:
            invoke(self.call.on_success, result if self.call.picker.multiple else result[0])

    def picked(self, chosen: Sequence[Chosen]) -> None:
        if self.uploads is None:
            self.uploads = asyncio.ensure_future(self.accept(chosen))
            self.uploads.add_done_callback(self.ended)

    def ended(self, uploads: asyncio.Task[Any]) -> None:
        """A fault in the picker's own code ends the pick with onError (500) instead of leaving
        it waiting for ever."""
        if uploads.cancelled() or uploads.exception() is None:
            return
        fault = uploads.exception()
        js.console.error(f"filepicker: the upload stopped on a fault: {fault!r}")
        self.fail(FPError(FAILED, self.catalog.t("error.fault", message=repr(fault))))

    def fail(self, error: FPError) -> None:
        """The pick has failed and the page hears it now; the dialog stays open so that the user
        can read why, and closing it afterwards reports nothing more."""
        self.dialog.show_error(error.message)
        if not self.reported:
            invoke(self.call.on_error, error)
            self.reported = True
        if not self.dialog.is_open:
            self.finish(error)

    async def accept(self, chosen: Sequence[Chosen]) -> None:
        files = [c.file for c in chosen]
        self.relative_paths = [c.relative_path for c in chosen]
        # Only a mimetype restriction needs every real type before the selection is accepted; else
        # each file's is found just before it uploads, and the first upload starts at once.
        sniff_now = bool(self.call.picker.mimetypes)
        problem: str | None
        try:
            described = await bounded(PARALLEL_READS, [picked_file(f, sniff_now) for f in files])
        except Unreadable as unreadable:
            described, problem = [], self.catalog.t("error.unreadable", filename=unreadable.filename)
        else:
            problem = rejection(self.call.picker, described, self.catalog.t, self.catalog.size, self.catalog.listing)
        if problem:
            self.dialog.show_error(problem)
            self.uploads = None  # the user may pick again; nothing was sent
            return
        self.dialog.clear_error()
        progress = [FileProgress(d.name, d.mimetype, d.size) for d in described]
        self.dialog.list_files(progress)
        self.thumbnails = Thumbnails(self.dialog.rows, files, [d.mimetype for d in described])
        if not self.call.picker.background_upload:
            await self.dialog.confirmed(len(files))
        if self.call.picker.hide:
            self.dialog.close()
        await self.upload_all(files, progress)

    async def upload_all(self, files: list[Any], progress: list[FileProgress]) -> None:
        self.dialog.announce(self.catalog.t("status.uploading", count=len(files)))
        uploads = [self.upload(i, files[i], progress[i]) for i in range(len(files))]
        try:
            blobs = await bounded(self.upload_options.parallel_files, uploads)
        except FPError as error:
            self.fail(error)
            return
        self.dialog.announce(self.catalog.t("status.done", count=len(blobs)))
        self.finish(list(blobs))

    async def upload(self, index: int, file: Any, progress: FileProgress) -> dict:
        endpoint = upload_endpoint(self.base)
        chunk_size, checksum = self.upload_options.plan(endpoint)
        try:
            if progress.mimetype in GENERIC:
                progress.mimetype = (await picked_file(file)).mimetype
            edited = await prepared(file, progress.mimetype, self.call.picker.images)
            if edited.skipped is not None:
                note = self.catalog.t("image.too_large" if edited.skipped == "too large" else "image.unedited",
                                      filename=progress.filename)
                js.console.warn(f"filepicker: {note} ({edited.skipped})")
                self.dialog.show_error(note)
            file, progress.mimetype = edited.file, str(edited.file.type) or progress.mimetype
            blob = await upload_file(
                file,
                endpoint,
                progress.mimetype,
                upload_metadata(self.api_key, self.call),
                lambda current: self.report(index, current),
                self.remembered,
                chunk_size=chunk_size,
                retry=self.upload_options.retry,
                checksum=checksum,
                stall_timeout=self.upload_options.stall_timeout,
            )
        except FPError as error:
            self.reported_percent[index] = FAILED_ROW
            self.dialog.fail_file(index)
            if isinstance(error, Unreadable):
                message = self.catalog.t("error.unreadable", filename=progress.filename)
            else:
                message = self.catalog.t("error.upload", filename=progress.filename, message=error.message)
            raise FPError(error.code, message) from error
        if self.relative_paths[index]:
            blob["originalPath"] = self.relative_paths[index]
        return blob

    def report(self, index: int, progress: FileProgress) -> None:
        percent = progress.percent
        if self.reported_percent.get(index) in (percent, FAILED_ROW):
            return  # nothing new to show or tell, or a late report of a failed upload
        self.reported_percent[index] = percent
        self.dialog.update_file(index, progress)
        invoke(self.call.on_progress, progress.event())


def tell(call: PickCall, problem: FPError) -> None:
    """A problem of the page's options that does not stop the pick: the console and onError hear
    it, and the dialog goes on."""
    js.console.error(f"filepicker: {problem.message}")
    invoke(call.on_error, problem)


async def handle(request: Any) -> None:
    method = str(request.method)
    args = [from_js(arg) for arg in request.args]
    try:
        call = parse_call(method, args, mobile=is_mobile())
        # Absent when a page still runs an older cached loader.
        upload_options = parse_upload_options(from_js(getattr(request, "upload", None) or {}))
    except FPError as error:
        js.console.error(f"filepicker: {error.message}")
        invoke(split_call(method, args).on_error, error)
        return
    for warning in call.warnings + upload_options.warnings:
        js.console.warn(warning)
    # A customText or customCss that cannot be used is told at once, and the dialog opens anyway.
    catalog, text_problem = await dialog_catalog(call.picker, LOCALES)
    stylesheet, style_problem = stylesheet_url(call.picker)
    for problem in (text_problem, style_problem):
        if problem is not None:
            tell(call, problem)
    # A new pick replaces a dialog still open: one that shows why its pick failed, or one the user
    # left (whose pick then ends as closed, 101). Uploads whose dialog is hidden go on.
    for previous in list(OPEN):
        if previous.dialog.is_open:
            previous.close()
            previous.dialog.close()  # now, so that it hands focus back before the new one takes it
    try:
        session = PickSession(call, str(request.key), str(js.filepicker.base), catalog, upload_options, stylesheet)
    except FPError as error:
        js.console.error(f"filepicker: {error.message}")
        invoke(call.on_error, error)
        return
    OPEN.add(session)
    try:
        await session.run()
    finally:
        OPEN.discard(session)
