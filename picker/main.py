"""Entry point run by PyScript: hands the loader (static/filepicker.js) a function to call."""

import asyncio
from typing import Any

import js
from pyodide.ffi import create_proxy

from picker.web.session import handle

# The picks under way, held here: asyncio keeps only weak references to running tasks.
RUNNING: set[asyncio.Task[None]] = set()


def on_request(request: Any) -> None:
    task = asyncio.ensure_future(handle(request))
    RUNNING.add(task)
    task.add_done_callback(RUNNING.discard)


js.window.filepicker._ready(create_proxy(on_request))
