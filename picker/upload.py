"""Where and how a picked file goes to the store: the request to make, and what the answer means."""

from __future__ import annotations

import json
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from .errors import FPError
from .options import PickCall

NETWORK_ERROR = 0


class Transport(Protocol):
    """Sends one browser File to a URL; reports bytes sent; returns (status, response text).
    Raises ConnectionError when no answer arrives."""

    async def send(self, url: str, file: Any, on_sent: Any) -> tuple[int, str]: ...


def store_url(base: str, api_key: str, call: PickCall, filename: str, mimetype: str) -> str:
    store = call.store
    params = {
        "key": api_key,
        "filename": filename,
        "mimetype": mimetype,
        "path": store.path,
        "container": store.container,
        "region": store.region,
        "access": store.access,
        "multiple": "true" if call.picker.multiple else None,
        "policy": call.picker.policy,
        "signature": call.picker.signature,
    }
    location = f"/{quote(store.location, safe='')}" if store.location else ""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{base.rstrip('/')}/api/store{location}?{query}"


def blob_from_reply(status: int, body: str) -> dict:
    """The Blob from a successful answer; an FPError carrying the store's code and message
    otherwise."""
    try:
        reply: Any = json.loads(body) if body else None
    except ValueError:
        reply = None
    if 200 <= status < 300 and isinstance(reply, dict) and "url" in reply:
        return reply
    if isinstance(reply, dict) and "message" in reply:
        try:
            code = int(reply.get("code", status))
        except (TypeError, ValueError):  # e.g. a proxy's {"code": "BadGateway", ...}
            code = status or 400
        raise FPError(code, str(reply["message"]))
    # A success status without a Blob is not a success: report it as a bad gateway would be.
    raise FPError(502 if 200 <= status < 300 else status or 400, f"the store answered {status} without a usable reply")
