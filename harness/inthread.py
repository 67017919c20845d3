"""Async code run from synchronous tests in a thread of its own: once the browser tests have started
Playwright, the main thread counts as running an event loop, and anyio.run refuses to start another
there."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Awaitable, Callable
from typing import Any

import anyio


def run_async(function: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(anyio.run, function, *args).result()
