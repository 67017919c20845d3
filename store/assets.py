"""The picker's own files and its browser runtime (Pyodide, PyScript), served by the store so that
nothing is loaded from a CDN."""

from __future__ import annotations

import hashlib
import io
import tomllib
import zipfile
from pathlib import Path
from urllib.parse import urljoin

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from .blob import base_url
from .state import store_state

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = {
    "pyodide": ROOT / "node_modules" / "pyodide",
    "pyscript": ROOT / "node_modules" / "@pyscript" / "core" / "dist",
}


class CachedFiles(StaticFiles):
    """Static files with one Cache-Control policy for the whole folder."""

    def __init__(self, directory: Path, cache_control: str) -> None:
        super().__init__(directory=directory)
        self.cache_control = cache_control

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers["Cache-Control"] = self.cache_control
        return response


async def pyscript_config(request: Request) -> Response:
    """pyscript.toml with its interpreter URL made absolute: PyScript resolves `files` against the
    config's URL but the interpreter against the embedding page, which is on another origin."""
    text = (ROOT / "pyscript.toml").read_text()
    relative = tomllib.loads(text)["interpreter"]
    absolute = urljoin(f"{base_url(store_state(request), request)}/pyscript.toml", relative)
    text = text.replace(f'interpreter = "{relative}"', f'interpreter = "{absolute}"', 1)
    return PlainTextResponse(text, media_type="application/toml", headers={"Cache-Control": "no-cache"})


def picker_archive() -> bytes:
    """The picker's Python, its stylesheet and its locales in one zip, which PyScript unpacks into
    the browser's file system: one request instead of one per module."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for folder, patterns in (("picker", ("*.py", "*.css")), ("locales", ("*.json",))):
            for pattern in patterns:
                for path in sorted((ROOT / folder).rglob(pattern)):
                    archive.write(path, path.relative_to(ROOT).as_posix())
    return buffer.getvalue()


async def picker_zip(request: Request) -> Response:
    # Every module read from disk and compressed: not on the event loop, which a slow disk would stall.
    body = await anyio.to_thread.run_sync(picker_archive)
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"Cache-Control": "no-cache", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/zip", headers=headers)


def asset_routes() -> list[BaseRoute]:
    missing = [str(path) for path in RUNTIME.values() if not path.is_dir()]
    if missing:
        raise RuntimeError(f"the browser runtime is not installed ({', '.join(missing)}): run `make demo` or `npm ci`")
    # The runtime is pinned by package-lock.json, so it may be cached; our own files revalidate.
    runtime = "public, max-age=86400"
    own = "no-cache"

    def file(path: Path):
        async def endpoint(request):
            return FileResponse(path, headers={"Cache-Control": own})

        return endpoint

    return [
        Route("/", file(ROOT / "index.html"), methods=["GET", "HEAD"]),
        Route("/pyscript.toml", pyscript_config, methods=["GET", "HEAD"]),
        Route("/picker.zip", picker_zip, methods=["GET", "HEAD"]),
        Mount("/static", CachedFiles(ROOT / "static", own)),
        *(Mount(f"/vendor/{name}", CachedFiles(path, runtime)) for name, path in RUNTIME.items()),
    ]
