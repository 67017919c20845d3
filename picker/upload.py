"""Where a picked file goes: the store's tus endpoint and the metadata that travels with it."""

from __future__ import annotations

from .options import PickCall

UPLOAD_PATH = "/api/upload"


def upload_endpoint(base: str) -> str:
    return base.rstrip("/") + UPLOAD_PATH


def upload_metadata(api_key: str, call: PickCall) -> dict[str, str | None]:
    """The tus Upload-Metadata the store reads besides filename and filetype: the app's key, the
    policy, and the store options. Unset values are left out."""
    store, picker = call.store, call.picker
    metadata = {
        "apikey": api_key,
        "policy": picker.policy,
        "signature": picker.signature,
        "location": store.location,
        "path": store.path,
        "container": store.container,
        "region": store.region,
        "access": store.access,
        "multiple": "true" if picker.multiple else None,
    }
    return {name: value for name, value in metadata.items() if value is not None}
