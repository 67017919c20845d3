"""The store as an ASGI application: routes, CORS and error mapping in one place."""

from __future__ import annotations

import contextlib
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from . import config as config_module
from .assets import asset_routes
from .config import Config
from .errors import StoreError, store_error_response
from .files import serve_file
from .state import StoreState
from .uploads import store_upload


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
    app.state.store.index.close()


def create_app(config: Config | None = None) -> Starlette:
    config = config or config_module.load()
    state = StoreState.open(config)
    routes = [
        Route("/api/store", store_upload, methods=["POST"]),
        Route("/api/store/{location}", store_upload, methods=["POST"]),
        Route("/api/file/{handle}", serve_file, methods=["GET", "HEAD"]),
        *asset_routes(),
    ]
    middleware = [
        Middleware(
            CORSMiddleware,
            allow_origins=config.allowed_origins,
            allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["*"],
            expose_headers=["Content-Length", "Content-Range", "ETag", "Location"],
            max_age=600,
        )
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={StoreError: store_error_response},
        lifespan=lifespan,
    )
    app.state.store = state
    return app
