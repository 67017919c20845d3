"""GET and HEAD /api/file/{handle}: a stored file's bytes, with ETag and Range support."""

from __future__ import annotations

import re
import time
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from .errors import StoreError, not_found
from .index import FileRecord
from .policy import check as check_policy
from .state import store_state

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The one byte range a Range header asks for, as (first, last) inclusive; None for the whole
    file (no header, or a form we do not serve partially, such as several ranges)."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            raise StoreError(416, f"range {header!r} asks for no bytes of the file's {size}")
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise StoreError(416, f"range {header!r} is outside the file's {size} bytes")
    return start, end


# Types a browser would run as a page from the store's origin, which also serves the picker.
_ACTIVE = re.compile(r"^(text/html|application/xhtml\+xml|image/svg\+xml|text/xml|application/xml)\b", re.I)


def _headers(record: FileRecord) -> dict[str, str]:
    disposition = "attachment" if _ACTIVE.match(record.mimetype) else "inline"
    return {
        "Content-Type": record.mimetype,
        "ETag": f'"{record.sha256}"',
        "Accept-Ranges": "bytes",
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(record.filename)}",
        "Content-Security-Policy": "sandbox; default-src 'none'",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=0, must-revalidate",
    }


async def serve_file(request: Request) -> Response:
    state = store_state(request)
    record = state.index.get(request.path_params["handle"])
    if record is None:
        raise not_found(f"no file with handle {request.path_params['handle']!r}")
    app = state.config.apps.get(record.app_key)
    if app is not None:  # a policy, when the app requires one or the request has one, must allow the read
        params = request.query_params
        check_policy(app, params.get("policy"), params.get("signature"), call="read", now=time.time(),
                     handle=record.handle, path=record.key, container=record.container)
    headers = _headers(record)
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers={"ETag": headers["ETag"]})
    try:
        span = parse_range(request.headers.get("range"), record.size)
    except StoreError as exc:
        if exc.code == 416:
            headers["Content-Range"] = f"bytes */{record.size}"
            return Response(exc.message, status_code=416, headers=headers, media_type="text/plain")
        raise
    status = 200
    first, last = 0, record.size - 1
    if span is not None:
        first, last = span
        status = 206
        headers["Content-Range"] = f"bytes {first}-{last}/{record.size}"
    headers["Content-Length"] = str(last - first + 1)
    if request.method == "HEAD" or record.size == 0:
        return Response(status_code=status, headers=headers)
    backend = state.backends[record.location]
    return StreamingResponse(backend.read(record.container, record.key, first, last), status_code=status, headers=headers)
