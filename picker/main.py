"""Entry point run by PyScript: hands the loader (static/filepicker.js) a function to call."""

import asyncio
from typing import Any

import js
from pyodide.ffi import create_proxy

from picker.web.session import handle

# The picks under way, held here: asyncio keeps only weak references to running tasks.
RUNNING: set[asyncio.Task[None]] = set()


async def run(request: Any) -> None:
    # A pick whose loading frame the user closed before this task started has had its 101.
    if getattr(request, "cancelled", False):
        return
    try:
        await handle(request)
    finally:
        js.window.filepicker._dropFrame(request)  # the frame of a call refused before any dialog


def on_request(request: Any) -> None:
    task = asyncio.ensure_future(run(request))
    RUNNING.add(task)
    task.add_done_callback(RUNNING.discard)


js.window.filepicker._ready(create_proxy(on_request))
