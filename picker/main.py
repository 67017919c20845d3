"""Entry point run by PyScript: hands the loader (static/filepicker.js) a function to call."""

import asyncio

import js
from pyodide.ffi import create_proxy

from picker.web.session import handle


def on_request(request):
    asyncio.ensure_future(handle(request))


js.window.filepicker._ready(create_proxy(on_request))
