"""The picker's own files and its browser runtime (Pyodide, PyScript), served by the store so that
nothing is loaded from a CDN.

The runtime is served at URLs carrying its version (/vendor/pyodide/314.0.7/...), cached for a
year as immutable, from the compressed copies made at set-up (store/precompress.py) when the
browser accepts them. An unversioned runtime URL redirects to the current version (uncached); an
old version's URL is 404, never stale bytes. Our own files (the loader, /picker.zip, the config,
the demo page) change with the project, so they revalidate: an ETag, 304 when unchanged, and
compressed when the browser accepts it."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import mimetypes
import tomllib
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urljoin

import anyio
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from picker.i18n import SCRIPT_REGIONS, available_languages, bcp47, direction, double_braced, full_pack

from .blob import base_url
from .precompress import RUNTIME, fresh_copy, runtime_version
from .state import store_state

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# The loader asks for PyScript at this path; the store hands it the current version's URL.
CORE_PATH = "vendor/pyscript/core.js"
# ...and finds the frame's stylesheet and words here (loader_script).
FRAME_PLACEHOLDER = "var frameText = null;"
FRAME_KEYS = {"title_one": "dialog.title.one", "title_many": "dialog.title.many", "close": "dialog.close",
              "loading": "dialog.loading"}
FRAME_CSS = "\n.loading { margin: auto; padding: 16px; color: var(--muted); }\n"
TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
         ".json": "application/json", ".toml": "application/toml", ".zip": "application/zip",
         ".css": "text/css", ".map": "application/json", ".html": "text/html"}


def media_type(name: str) -> str:
    suffix = Path(name).suffix
    return TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def accepted_encodings(request: Request) -> set[str]:
    """The content codings of the request's Accept-Encoding with a q above 0 (`*` included)."""
    accepted = set()
    for item in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding and q > 0:
            accepted.add(coding.strip().lower())
    return accepted


def gzip_accepted(request: Request) -> bool:
    accepted = accepted_encodings(request)
    return "gzip" in accepted or "*" in accepted


def etag_matches(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if not wanted:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in wanted.split(",")]
    return "*" in tags or etag in tags


def common_headers(cache_control: str, etag: str) -> dict[str, str]:
    # Timing-Allow-Origin: pages on other origins may read these files' sizes in Resource Timing.
    return {"Cache-Control": cache_control, "ETag": etag, "Vary": "Accept-Encoding", "Timing-Allow-Origin": "*"}


def runtime_endpoint(name: str) -> Callable[[Request], Awaitable[Response]]:
    folder = RUNTIME[name].resolve()
    version = runtime_version(name)

    async def endpoint(request: Request) -> Response:
        wanted = request.path_params["path"]
        first, _, rest = wanted.partition("/")
        if first != version:
            if (folder / wanted).is_file() and ".." not in wanted.split("/"):
                # An unversioned URL: the current version's, never cached itself.
                return RedirectResponse(f"/vendor/{name}/{version}/{wanted}", status_code=302,
                                        headers={"Cache-Control": "no-store"})
            return Response("Not Found", status_code=404, media_type="text/plain")
        original = (folder / rest).resolve()
        if not rest or not original.is_relative_to(folder) or not original.is_file():
            return Response("Not Found", status_code=404, media_type="text/plain")
        stat = original.stat()
        served, encoding = original, None
        if gzip_accepted(request):
            copy = fresh_copy(name, original.relative_to(folder).as_posix(), "gzip")
            if copy is not None:
                served, encoding = copy, "gzip"
        etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}{"-" + encoding if encoding else ""}"'
        headers = common_headers(IMMUTABLE, etag)
        if etag_matches(request, etag):
            return Response(status_code=304, headers=headers)
        if encoding:
            headers["Content-Encoding"] = encoding
        response = FileResponse(served, media_type=media_type(original.name), headers=headers)
        # FileResponse's own ETag is its file's; ours names the representation.
        response.headers["ETag"] = etag
        return response

    return endpoint


# Our files compressed once per version of their bytes: {(name, etag): gzipped}.
_packed: dict[tuple[str, str], bytes] = {}


def own_response(request: Request, name: str, body: bytes, media: str) -> Response:
    """One of our own files: revalidated by its ETag, gzipped when accepted."""
    digest = f'"{hashlib.sha256(body).hexdigest()[:32]}'
    encoding = "gzip" if gzip_accepted(request) else None
    etag = digest + ('-gzip"' if encoding else '"')
    headers = common_headers(REVALIDATE, etag)
    if etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    if encoding:
        packed = _packed.get((name, etag))
        if packed is None:
            if len(_packed) > 64:  # edited files leave old versions behind
                _packed.clear()
            packed = _packed[(name, etag)] = gzip.compress(body, compresslevel=6, mtime=0)
        body = packed
        headers["Content-Encoding"] = encoding
    return Response(body, media_type=media, headers=headers)


def pyscript_config(request: Request) -> bytes:
    """pyscript.toml with its interpreter URL made absolute and versioned: PyScript resolves `files`
    against the config's URL but the interpreter against the embedding page, which is on another
    origin; Pyodide finds its other files (indexURL, lockFileURL) in the interpreter's folder."""
    text = (ROOT / "pyscript.toml").read_text()
    relative = tomllib.loads(text)["interpreter"]
    prefix = "./vendor/pyodide/"
    versioned = relative.replace(prefix, f"{prefix}{runtime_version('pyodide')}/", 1)
    absolute = urljoin(f"{base_url(store_state(request), request)}/pyscript.toml", versioned)
    return text.replace(f'interpreter = "{relative}"', f'interpreter = "{absolute}"', 1).encode()


def picker_archive() -> bytes:
    """The picker's Python, its stylesheet and its locales in one zip, which PyScript unpacks into
    the browser's file system: one request instead of one per module. Stored, not deflated: the
    whole archive is compressed on the wire, which packs better than file by file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for folder, patterns in (("picker", ("*.py", "*.css")), ("locales", ("*.json",))):
            for pattern in patterns:
                for path in sorted((ROOT / folder).rglob(pattern)):
                    info = zipfile.ZipInfo(path.relative_to(ROOT).as_posix(), date_time=(1980, 1, 1, 0, 0, 0))
                    archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def frame_text() -> dict[str, object]:
    """What the loader needs to draw the dialog's frame before the picker is ready: the dialog's
    stylesheet and, per language of locales/, the frame's words."""
    strings = {}
    for language in available_languages(LOCALES):
        messages = full_pack(language, LOCALES)
        words = {name: messages[key] for name, key in FRAME_KEYS.items()}
        strings[language] = {"lang": bcp47(language), "dir": direction(language), **words}
    css = (ROOT / "picker" / "dialog.css").read_text() + FRAME_CSS
    return {"css": css, "strings": strings, "scriptRegions": SCRIPT_REGIONS}


def loader_script() -> bytes:
    """static/filepicker.js, asking for the current version's PyScript, with the frame's words."""
    text = (ROOT / "static" / "filepicker.js").read_text()
    versioned = CORE_PATH.replace("pyscript/", f"pyscript/{runtime_version('pyscript')}/", 1)
    text = text.replace(f'"{CORE_PATH}"', f'"{versioned}"')
    filled = json.dumps(frame_text(), ensure_ascii=True).replace("</", "<\\/")
    return text.replace(FRAME_PLACEHOLDER, f"var frameText = {filled};", 1).encode()


async def locale_endpoint(request: Request) -> Response:
    """A language pack with every key (a regional pack filled from its base language, then
    English) and its placeholders written {{variable}}: the base from which a site writes its
    customText."""
    language = request.path_params["language"]
    if language not in available_languages(LOCALES):
        return Response("Not Found", status_code=404, media_type="text/plain")
    make = lambda: json.dumps(double_braced(full_pack(language, LOCALES)), ensure_ascii=False, indent=2).encode()  # noqa: E731
    return await own_file(f"{language}.json", make)(request)


def own_file(name: str, make: Callable[[], bytes]) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        # Read from disk (and zipped) in a thread: a slow disk must not stall the event loop.
        body = await anyio.to_thread.run_sync(make)
        return await anyio.to_thread.run_sync(own_response, request, name, body, media_type(name))

    return endpoint


async def config_endpoint(request: Request) -> Response:
    body = await anyio.to_thread.run_sync(pyscript_config, request)
    return own_response(request, "pyscript.toml", body, "application/toml")


async def static_endpoint(request: Request) -> Response:
    folder = (ROOT / "static").resolve()
    path = (folder / request.path_params["path"]).resolve()
    if not path.is_relative_to(folder) or not path.is_file():
        return Response("Not Found", status_code=404, media_type="text/plain")
    make = loader_script if path == folder / "filepicker.js" else path.read_bytes
    body = await anyio.to_thread.run_sync(make)
    return await anyio.to_thread.run_sync(own_response, request, path.name, body, media_type(path.name))


def asset_routes() -> list[BaseRoute]:
    missing = [str(path) for path in RUNTIME.values() if not path.is_dir()]
    if missing:
        raise RuntimeError(f"the browser runtime is not installed ({', '.join(missing)}): run `make demo` or `npm ci`")
    index = ROOT / "index.html"
    return [
        Route("/", own_file("index.html", index.read_bytes), methods=["GET", "HEAD"]),
        Route("/pyscript.toml", config_endpoint, methods=["GET", "HEAD"]),
        Route("/picker.zip", own_file("picker.zip", picker_archive), methods=["GET", "HEAD"]),
        Route("/static/{path:path}", static_endpoint, methods=["GET", "HEAD"]),
        Route("/locales/{language}.json", locale_endpoint, methods=["GET", "HEAD"]),
        *(Route(f"/vendor/{name}/{{path:path}}", runtime_endpoint(name), methods=["GET", "HEAD"]) for name in RUNTIME),
    ]
