"""Where a picked file goes: the store's tus endpoint and the metadata that travels with it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import wire
from .engine import DEFAULT_CHUNK_SIZE, RetryPolicy
from .fperror import BAD_PARAMETERS, FPError
from .options import PickCall, _integer

UPLOAD_PATH = "/api/upload"


def upload_endpoint(base: str) -> str:
    return base.rstrip("/") + UPLOAD_PATH


def upload_metadata(api_key: str, call: PickCall) -> dict[str, str | None]:
    """The tus Upload-Metadata the store reads besides filename and filetype: the app's key, the
    policy, and the store options. Unset values are left out."""
    store, picker = call.store, call.picker
    metadata = {
        wire.APIKEY: api_key,
        wire.POLICY: picker.policy,
        wire.SIGNATURE: picker.signature,
        wire.LOCATION: store.location,
        wire.PATH: store.path,
        wire.CONTAINER: store.container,
        wire.REGION: store.region,
        wire.ACCESS: store.access,
        wire.MULTIPLE: wire.flag(picker.multiple),
    }
    return {name: value for name, value in metadata.items() if value is not None}


# How the picker's resumable uploads behave, as a page sets it with filepicker.setUploadOptions():
# the chunk size (a proxy in front of the store may cap request bodies, as nginx's
# client_max_body_size does), the retry policy, how many files upload at once and the chunks'
# checksum algorithm. Not per pick: one page, one store.
UPLOAD_OPTION_KEYS = ("chunkSize", "retries", "retryDelay", "maxRetryDelay", "parallelFiles", "checksum", "stallTimeout")
PARALLEL_FILES = 4
MAX_PARALLEL_FILES = 32
CHECKSUMS = ("sha256", "sha1")  # what crypto.subtle computes and every tus store with checksums verifies
NO_CHECKSUM = "none"
# Chunks with a checksum are read into memory to be hashed, and one cut off in the middle is sent
# again whole: they are kept small. Chunks without one stream from the file, and the store keeps
# whatever part of one arrived: large ones mean fewer requests.
CHECKSUMMED_CHUNK_SIZE = DEFAULT_CHUNK_SIZE
STREAMED_CHUNK_SIZE = 64 * 1024 * 1024
# Seconds a request may go without its body moving (or, without a body, without an answer) before
# it is aborted and retried: a connection can go dead without closing, and then nothing else ends it.
STALL_TIMEOUT = 30.0


@dataclass(frozen=True)
class UploadOptions:
    chunk_size: int | None = None  # None: as fits the checksum
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    parallel_files: int = PARALLEL_FILES
    checksum: str | None = None  # None: as fits the store's scheme; NO_CHECKSUM: none
    stall_timeout: float = STALL_TIMEOUT  # seconds; 0: none
    warnings: tuple[str, ...] = ()

    def plan(self, endpoint: str) -> tuple[int, str | None]:
        """The chunk size and checksum algorithm (None: no checksum) of uploads to `endpoint`. Unless
        the page chose: a store reached over https gets no checksums, since TLS already checks every
        byte on the way (hashing each chunk on both sides would cost CPU time and a phone's battery
        for nothing); one reached over plain http, where nothing else does, gets sha256."""
        checksum = self.checksum
        if checksum is None:
            checksum = NO_CHECKSUM if endpoint.lower().startswith("https:") else "sha256"
        algorithm = None if checksum == NO_CHECKSUM else checksum
        default = CHECKSUMMED_CHUNK_SIZE if algorithm else STREAMED_CHUNK_SIZE
        return self.chunk_size or default, algorithm


def _milliseconds(raw: Mapping[str, Any], name: str, default_seconds: float) -> float:
    value = raw.get(name)
    if value is None:
        return default_seconds
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 3_600_000:
        raise FPError(BAD_PARAMETERS, f"upload option {name!r} must be a number of milliseconds from 0 to 3600000, got {value!r}")
    return value / 1000


def _checksum(raw: Mapping[str, Any]) -> str | None:
    """The chunks' checksum algorithm as the page chose it: None when it did not, NO_CHECKSUM for false."""
    value = raw.get("checksum")
    if value is None:
        return None
    if value is False:
        return NO_CHECKSUM
    if not isinstance(value, str) or value.lower() not in CHECKSUMS:
        expected = ", ".join(map(repr, CHECKSUMS))
        raise FPError(BAD_PARAMETERS, f"upload option 'checksum' must be one of {expected} or false, got {value!r}")
    return value.lower()


def parse_upload_options(raw: Any) -> UploadOptions:
    """filepicker.setUploadOptions({chunkSize: bytes, retries: n, retryDelay: ms, maxRetryDelay: ms,
    parallelFiles: n, checksum: "sha256" | "sha1" | false, stallTimeout: ms}): retries is how many consecutive
    failures without progress are retried before onError; the delay before retry n is
    retryDelay * 2^(n-1), at most maxRetryDelay, of which half is random; parallelFiles is how many
    files upload at once; a request whose body does not move for stallTimeout ms is a failure (0: never)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, Mapping):
        raise FPError(BAD_PARAMETERS, f"filepicker.setUploadOptions() takes an object such as {{chunkSize: 1048576}}, got {raw!r}")
    defaults = RetryPolicy()
    chunk_size = _integer(raw, "chunkSize", 1)
    retries = _integer(raw, "retries", 0, 100)
    parallel_files = _integer(raw, "parallelFiles", 1, MAX_PARALLEL_FILES)
    base = _milliseconds(raw, "retryDelay", defaults.base)
    cap = _milliseconds(raw, "maxRetryDelay", max(defaults.cap, base))
    if cap < base:
        raise FPError(BAD_PARAMETERS, f"upload option 'maxRetryDelay' ({cap * 1000:g}) is below 'retryDelay' ({base * 1000:g})")
    warnings = tuple(
        f"filepicker: unknown upload option {name!r} ignored; known: {', '.join(UPLOAD_OPTION_KEYS)}"
        for name in raw if name not in UPLOAD_OPTION_KEYS
    )
    return UploadOptions(
        chunk_size=chunk_size,
        retry=RetryPolicy(max_retries=defaults.max_retries if retries is None else retries, base=base, cap=cap),
        parallel_files=parallel_files or PARALLEL_FILES,
        checksum=_checksum(raw),
        stall_timeout=_milliseconds(raw, "stallTimeout", STALL_TIMEOUT),
        warnings=warnings,
    )
