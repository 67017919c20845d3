"""POST /api/import[/{location}]: a file the store fetches from a URL, stored as POST /api/store
stores an upload (same options, same checks, same writing path) and answered with the same Blob."""

from __future__ import annotations

import json
import mimetypes
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from . import metrics, store_request
from .blob import check_host
from .config import App, Config
from .content_type import SNIFF_BYTES, essence, normalised_mimetype, sniffed
from .destination import checked_mimetype, destination
from .errors import StoreError, bad_request
from .policy import Policy
from .policy import check as check_policy
from .remote import RemoteFile
from .remote.http import HttpRemote
from .state import store_state
from .whole_file import store_stream

MAX_JSON_BODY = 64 * 1024
GENERIC_TYPES = {"application/octet-stream", "binary/octet-stream", "application/unknown", "text/plain"}


async def _params(request: Request) -> dict[str, str]:
    """The query's parameters, and a JSON object's string fields over them."""
    params = dict(request.query_params)
    if "json" in request.headers.get("content-type", ""):
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_JSON_BODY:
                raise StoreError(413, f"the request's JSON is larger than {MAX_JSON_BODY} bytes")
        try:
            fields: Any = json.loads(body or b"{}")
        except ValueError:
            raise bad_request("the request's body is not JSON") from None
        if not isinstance(fields, dict):
            raise bad_request("the request's JSON must be an object such as {\"url\": \"https://...\"}")
        params.update({k: v for k, v in fields.items() if isinstance(v, str)})
    return params


def _size_limit(config: Config, app: App, policy: Policy | None) -> tuple[int, str]:
    limits = [(config.max_upload_size, "the store's max_upload_size")]
    if app.max_size is not None:
        limits.append((app.max_size, f"app {app.key!r}'s max_size"))
    if policy is not None and policy.max_size is not None:
        limits.append((policy.max_size, "the policy's maxSize"))
    return min(limits)


def too_large(size: int, limit: tuple[int, str]) -> StoreError:
    return StoreError(413, f"the remote file is {size} bytes or more, larger than {limit[1]} ({limit[0]} bytes)")


def _type(remote: RemoteFile, name: str, head: bytes) -> str:
    """The file's type: what the remote declares unless that is generic, else what its name and
    then its first bytes show; application/octet-stream when nothing does."""
    declared = None
    if remote.mimetype:
        try:
            declared = normalised_mimetype(remote.mimetype)
        except StoreError:
            declared = None
    if declared is not None and essence(declared) not in GENERIC_TYPES:
        return declared
    guessed = mimetypes.guess_type(name, strict=False)[0] if name else None
    return guessed or sniffed(head) or declared or "application/octet-stream"


async def _limited(head: bytes, rest: AsyncIterator[bytes], limit: tuple[int, str]) -> AsyncIterator[bytes]:
    """The bytes, cut off with StoreError 413 as soon as they pass `limit`."""
    size = len(head)
    if head:
        yield head
    async for chunk in rest:
        size += len(chunk)
        if size > limit[0]:
            raise too_large(size, limit)
        yield chunk


async def import_url(request: Request) -> JSONResponse:
    state = store_state(request)
    check_host(state, request)
    params = await _params(request)
    url = params.pop("url", "")
    if not url:
        raise bad_request("missing url: pass the http or https URL of the file to import as `url`")
    options = store_request.from_query(params, request.path_params.get("location"), request.headers.get("origin"))
    now = time.time()
    # The rules that do not depend on the file (app, origin, location, container, the type asked
    # for, the policy's signature, calls and expiry) before anything is fetched; all of them again
    # once the remote has named the file.
    app = state.config.app(options.api_key, options.origin)
    container = state.config.location(options.location).container(options.container)
    if options.mimetype:
        app.check_file(checked_mimetype(options.mimetype), None)
    policy = check_policy(app, options.policy, options.signature, call="store", now=now, container=container)
    if policy is not None and policy.call is not None:
        policy.check_call("pick")
    limit = _size_limit(state.config, app, policy)
    remote = HttpRemote(state.config.remote)
    async with remote.open(url) as found:
        if found.size is not None and found.size > limit[0]:
            raise too_large(found.size, limit)
        chunks = found.chunks
        head = b""
        async for chunk in chunks:
            head += chunk
            if len(head) >= SNIFF_BYTES:
                break
        if len(head) > limit[0]:
            raise too_large(len(head), limit)
        name = options.filename or found.name or "download"
        mimetype = options.mimetype or _type(found, name, head)
        named = replace(options, filename=name, mimetype=mimetype)
        target, policy = destination(state.config, named, size=found.size, now=now)
        return await store_stream(
            state, request, named, target, policy, _limited(head, chunks, limit), declared=found.size, now=now,
            kind=metrics.IMPORT,
        )
