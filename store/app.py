"""The store as an ASGI application: routes, CORS and error mapping in one place."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Route

from . import config as config_module
from .assets import asset_routes
from .config import Config
from .errors import StoreError, store_error_response
from .files import file_metadata, overwrite_file, remove_file, serve_file, serve_public_file
from .guards import BodyRate, OutOfResources
from .health import healthz, readyz
from .imports import import_url
from .metrics import metrics
from .pg_index import PostgresIndex
from .repair import repair, repair_held
from .resumable import sweeping
from .sqlite_index import SQLiteIndex
from .state import StoreState
from .telemetry import REQUEST_ID_HEADER, Telemetry
from .tus_routes import tus_routes
from .whole_file import store_upload

# What a page on another origin may read of the answers (tus's headers above all)...
EXPOSE_HEADERS = [
    "Content-Length", "Content-Range", "ETag", "Location",
    "Upload-Offset", "Upload-Length", "Upload-Expires", "Upload-Metadata", "Upload-Concat",
    "Tus-Resumable", "Tus-Version", "Tus-Extension", "Tus-Max-Size", "Tus-Checksum-Algorithm", "Blob-Location",
    REQUEST_ID_HEADER,
]


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    # What a stopped store process left half done is put right, and uploads that expired while no
    # store process ran go, before the first request comes; then expired uploads are swept in the
    # background, never in a request.
    if isinstance(app.state.store.index, PostgresIndex):
        await app.state.store.index.open()  # reached and migrated before any request
    held = await repair(app.state.store)
    async with sweeping(app.state.store):
        later = asyncio.create_task(repair_held(app.state.store, held))
        yield
        later.cancel()
        await asyncio.wait([later])
    await app.state.store.index.close()


def create_app(config: Config | None = None) -> Starlette:
    config = config or config_module.load()
    # The embedded index by default, or the database the `index` setting names; either keeps the
    # upload leases too.
    index = SQLiteIndex(config.data_dir / "index.sqlite3") if config.index == "sqlite" else PostgresIndex(config.index)
    state = StoreState.open(config, index, locks=index)
    routes = [
        Route("/api/store", store_upload, methods=["POST"]),
        Route("/api/store/{location}", store_upload, methods=["POST"]),
        Route("/api/import", import_url, methods=["POST"]),
        Route("/api/import/{location}", import_url, methods=["POST"]),
        Route("/api/file/{handle}", serve_file, methods=["GET", "HEAD"]),
        Route("/api/file/{handle}", remove_file, methods=["DELETE"]),
        Route("/api/file/{handle}", overwrite_file, methods=["POST"]),
        Route("/api/file/{handle}/metadata", file_metadata, methods=["GET"]),
        Route("/public/{location}/{container}/{key:path}", serve_public_file, methods=["GET", "HEAD"]),
        *tus_routes(),
        Route("/healthz", healthz, methods=["GET", "HEAD"]),
        Route("/readyz", readyz, methods=["GET", "HEAD"]),
        Route("/metrics", metrics, methods=["GET"]),
        *asset_routes(),
    ]
    middleware = [
        # Outermost: every answer, CORS preflights included, carries its request id, is logged and counted.
        Middleware(Telemetry),
        Middleware(
            CORSMiddleware,
            allow_origins=config.allowed_origins,
            allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"],
            # ...and any header it may send, Upload-* and Tus-Resumable included.
            allow_headers=["*"],
            expose_headers=EXPOSE_HEADERS,
            max_age=600,
        ),
        # Inside CORS, so that pages can read their answers: 503 when out of descriptors or disk
        # space, 408 for bodies slower than the config's minimum rate.
        Middleware(OutOfResources),
        Middleware(BodyRate, min_rate=config.limits.min_body_rate, window=config.limits.body_rate_window),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={StoreError: store_error_response},
        lifespan=lifespan,
    )
    app.state.store = state
    return app
