"""The picker's own files and its browser runtime (Pyodide, PyScript), served by the store so that
nothing is loaded from a CDN."""

from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import urljoin

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

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
    absolute = urljoin(f"{store_state(request).base_url(request)}/pyscript.toml", relative)
    text = text.replace(f'interpreter = "{relative}"', f'interpreter = "{absolute}"', 1)
    return PlainTextResponse(text, media_type="application/toml", headers={"Cache-Control": "no-cache"})


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
        Mount("/static", CachedFiles(ROOT / "static", own)),
        Mount("/picker", CachedFiles(ROOT / "picker", own)),
        Mount("/locales", CachedFiles(ROOT / "locales", own)),
        *(Mount(f"/vendor/{name}", CachedFiles(path, runtime)) for name, path in RUNTIME.items()),
    ]
