"""What a client asks of a new file, as it sent it: the tus Upload-Metadata keys (picker.wire), or
the same options as POST /api/store's query parameters, read one way into a StoreRequest."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from picker import wire

# POST /api/store names two options otherwise (the reference's REST names), and takes the location
# in its path rather than its query.
QUERY_NAMES = {wire.APIKEY: "key", wire.FILETYPE: "mimetype"}
_QUERY_KEYS = [key for key in wire.KEYS if key != wire.LOCATION]


@dataclass(frozen=True)
class StoreRequest:
    """The options of one new file, unchecked (store.destination checks them)."""

    api_key: str | None = None
    location: str | None = None
    container: str | None = None
    filename: str | None = None
    path: str | None = None
    mimetype: str | None = None
    multiple: bool = False
    policy: str | None = None
    signature: str | None = None
    region: str | None = None
    access: str | None = None
    origin: str | None = None  # the page's Origin header, when a browser sent the request


def from_metadata(metadata: Mapping[str, str], origin: str | None = None) -> StoreRequest:
    """The options an upload's metadata carries; keys the store does not know are left to the client."""
    return StoreRequest(
        api_key=metadata.get(wire.APIKEY),
        location=metadata.get(wire.LOCATION),
        container=metadata.get(wire.CONTAINER),
        filename=metadata.get(wire.FILENAME),
        path=metadata.get(wire.PATH),
        mimetype=metadata.get(wire.FILETYPE),
        multiple=wire.is_set(metadata.get(wire.MULTIPLE)),
        policy=metadata.get(wire.POLICY),
        signature=metadata.get(wire.SIGNATURE),
        region=metadata.get(wire.REGION),
        access=metadata.get(wire.ACCESS),
        origin=origin,
    )


def from_query(params: Mapping[str, str], location: str | None, origin: str | None = None) -> StoreRequest:
    """The options of POST /api/store[/{location}]."""
    metadata = {key: params[QUERY_NAMES.get(key, key)] for key in _QUERY_KEYS if QUERY_NAMES.get(key, key) in params}
    if location is not None:
        metadata[wire.LOCATION] = location
    return from_metadata(metadata, origin)
