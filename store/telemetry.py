"""What the store says about each request: its id (from a sane X-Request-Id, else made) in the
answer's X-Request-Id header and in every log line written while it runs, one log line when it
ends (method, route template, status, duration), and the request metrics (store.metrics)."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import metrics
from .logs import new_request_id, request_id

REQUEST_ID_HEADER = "X-Request-Id"
UNMATCHED = "unmatched"  # the route label of a path no route serves: one label, whatever the path

log = logging.getLogger("pickstore.request")


def route_template(scope: Scope) -> str:
    """The path template of the route that served the request (`/api/upload/{upload_id}`)."""
    route = scope.get("route")
    if route is None:  # answered before the router (a CORS preflight): the route it would have gone to
        app = scope.get("app")
        route = next((r for r in getattr(app, "routes", ()) if r.matches(scope)[0] is not Match.NONE), None)
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class Telemetry:
    """ASGI middleware, outside every other: HTTP requests are given their id, logged and counted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        call = self._observed if scope["type"] == "http" else self.app
        await call(scope, receive, send)

    async def _observed(self, scope: Scope, receive: Receive, send: Send) -> None:
        sent = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"x-request-id"), None)
        current = new_request_id(sent)
        token = request_id.set(current)
        began = time.perf_counter()
        status = 500  # unless an answer starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = current
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - began
            route = route_template(scope)
            method = scope["method"]
            metrics.observe_request(method, route, status, seconds)
            log.info("%s %s %d %.3fs", method, route, status, seconds,
                     extra={"method": method, "route": route, "status": status, "duration": round(seconds, 6)})
            request_id.reset(token)
