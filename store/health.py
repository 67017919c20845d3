"""GET /healthz: the process is up and answers. GET /readyz: it can do its work: the index answers a
trivial query and every storage location a cheap call, each within READY_SECONDS; else 503 with
what failed, so that a load balancer sends uploads elsewhere."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from starlette.requests import Request
from starlette.responses import JSONResponse

from .errors import StoreError
from .state import store_state

READY_SECONDS = 2.0  # each check's time limit: a load balancer's probe must not hang
NO_HANDLE = "-"  # a handle no file has: looking it up asks the index a trivial query
NO_CACHE = {"Cache-Control": "no-store"}


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers=NO_CACHE)


async def _check(call: Awaitable[object]) -> str | None:
    """None when `call` finished within READY_SECONDS, else why not."""
    try:
        async with asyncio.timeout(READY_SECONDS):
            await call
    except TimeoutError:
        return f"no answer within {READY_SECONDS:g} s"
    except StoreError as exc:
        return exc.message
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip().removesuffix(":")
    return None


async def readyz(request: Request) -> JSONResponse:
    state = store_state(request)
    checks = {"index": state.index.get_file(NO_HANDLE)}
    checks.update({f"location {name}": backend.reachable() for name, backend in state.backends.items()})
    results = await asyncio.gather(*(_check(call) for call in checks.values()))
    failed = {name: reason for name, reason in zip(checks, results, strict=True) if reason is not None}
    if failed:
        return JSONResponse({"status": "unready", "failed": failed}, status_code=503, headers=NO_CACHE)
    return JSONResponse({"status": "ready", "checked": list(checks)}, headers=NO_CACHE)
