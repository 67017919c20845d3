"""A stored file as the store reports it: the Blob the picker hands to onSuccess, and the URLs in it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from .errors import bad_request
from .records import FileRecord
from .state import StoreState


def base_url(state: StoreState, request: Request) -> str:
    """Where clients reach this store: `[store] public_url` when set (behind a proxy), else the
    address the request came to, when its host is one of `[store] allowed_hosts` (StoreError 400
    otherwise: a Host header never puts another site in the URLs the store hands out)."""
    if state.config.public_url:
        return state.config.public_url.rstrip("/")
    check_host(state, request)
    return str(request.base_url).rstrip("/")


def check_host(state: StoreState, request: Request) -> None:
    """StoreError 400 unless public_url is set or the request's Host names an allowed host."""
    if state.config.public_url:
        return
    host = (request.url.hostname or "").lower()
    shown = host if ":" not in host or host.startswith("[") else f"[{host}]"
    if shown not in state.config.allowed_hosts and host not in state.config.allowed_hosts:
        raise bad_request(
            f"host {request.headers.get('host', '')!r} is not one of this store's hosts; "
            "set [store] public_url, or list the host in [store] allowed_hosts"
        )


def blob(state: StoreState, record: FileRecord, request: Request, writeable: bool = False) -> dict[str, Any]:
    """The Blob, in the reference's field names. `writeable`: the sender's policy allows `write` on
    the file."""
    return {
        "url": f"{base_url(state, request)}/api/file/{record.handle}",
        "filename": record.filename,
        "mimetype": record.mimetype,
        "size": record.size,
        "key": record.key,
        "container": record.container,
        "path": record.key,
        "isWriteable": writeable,
        "handle": record.handle,
        "sha256": record.sha256,
        "publicUrl": public_url(state, record, request),
    }


def public_url(state: StoreState, record: FileRecord, request: Request) -> str | None:
    """Where anyone reads a file stored with access 'public', straight from its storage (a path of
    the store's own for local disk); None for a private file."""
    if not record.public:
        return None
    url = state.backends[record.location].public_url(record.container, record.key, region=record.region)
    return f"{base_url(state, request)}{url}" if url.startswith("/") else url
