"""tus 1.0 upload engine without I/O: it says which request to make next; the caller makes it and reports back."""

from __future__ import annotations

import base64
import hashlib
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import urljoin

from .fperror import BAD_PARAMETERS, FPError
from .progress import FileProgress

TUS_VERSION = "1.0.0"
DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024
OFFSET_STREAM = "application/offset+octet-stream"
BAD_GATEWAY = 502  # the store answered, but not as tus says it must
GONE = (404, 410)  # the store no longer knows the upload, or it has expired
CONFLICT_OR_LOCKED = (409, 423)  # both pass once the store and the engine agree on the offset again
CHECKSUM_MISMATCH = 460
METHOD_NOT_ALLOWED = 405


# What the engine asks the caller to do.


@dataclass(frozen=True, eq=False)
class Request:
    """Make this HTTP request. `file_slice` is the [start, end) of the file to send as the body
    (File.slice in the browser): the bytes never pass through the engine. Content-Length is left to
    the transport, which knows it from the body (XMLHttpRequest refuses to have it set)."""

    method: str
    url: str
    headers: dict[str, str]
    file_slice: tuple[int, int] | None = None


@dataclass(frozen=True, eq=False)
class ComputeChecksum:
    """Hash the file's bytes [start, end) with `algorithm` (a tus name: "sha256", "sha1", "md5")
    and report the digest with Checksum."""

    algorithm: str
    file_slice: tuple[int, int]


@dataclass(frozen=True)
class Wait:
    """Sleep this long before asking for the next action."""

    seconds: float


@dataclass(frozen=True)
class Paused:
    """Nothing to do until resume()."""


@dataclass(frozen=True)
class Done:
    blob: dict[str, Any]


@dataclass(frozen=True)
class Failed:
    error: FPError


@dataclass(frozen=True)
class Cancelled:
    pass


Action = Request | ComputeChecksum | Wait | Paused | Done | Failed | Cancelled


# What the caller reports back, with receive(action, event).


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: str = ""


@dataclass(frozen=True)
class NetworkError:
    """No answer: the connection failed, timed out, or the caller aborted the request."""

    message: str


@dataclass(frozen=True)
class Sent:
    """Bytes of the request's body that have left so far (XMLHttpRequest's upload progress)."""

    count: int


@dataclass(frozen=True)
class Checksum:
    digest: bytes


Event = Response | NetworkError | Sent | Checksum


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 5  # consecutive failures without progress before giving up
    base: float = 1.0
    cap: float = 30.0
    jitter: Callable[[], float] = random.random  # a number in [0, 1); tests pass a fixed one

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number `attempt` (1, 2, ...)."""
        ceiling = min(self.cap, self.base * 2.0 ** (attempt - 1))
        # Half fixed so that a retry never comes at once, half random so that the browsers a store
        # outage cut off together do not all come back together.
        return ceiling * (1 + self.jitter()) / 2


class _Step(Enum):
    CREATE = "POST"
    HEAD = "HEAD"
    PATCH = "PATCH"
    FETCH = "GET"  # every byte is stored; the Blob is still to come
    TERMINATE = "DELETE"


def encode_metadata(metadata: Mapping[str, str | None]) -> str:
    """tus Upload-Metadata: comma-separated "key base64(value)" pairs; None values are left out."""
    pairs = []
    for key, value in metadata.items():
        if value is None:
            continue
        if not key or " " in key or "," in key:
            raise ValueError(f"Upload-Metadata key {key!r} must be non-empty, without spaces or commas")
        pairs.append(f"{key} {base64.b64encode(value.encode()).decode()}" if value else key)
    return ",".join(pairs)


def fingerprint(name: str, size: int, last_modified: int, mimetype: str, endpoint: str) -> str:
    """The key under which a page remembers a file's upload URL across reloads."""
    fields = json.dumps([name, size, last_modified, mimetype, endpoint])
    return "pickstore:" + hashlib.sha256(fields.encode()).hexdigest()


def refusal(response: Response) -> FPError:
    """The store's refusal as an FPError: the HTTP status (the store's error mapping makes it the
    code) and the message of its JSON {code, message} body, or a short plain-text body."""
    try:
        reply: Any = json.loads(response.body) if response.body else None
    except ValueError:
        reply = None
    if isinstance(reply, dict) and "message" in reply:
        return FPError(response.status, str(reply["message"]))
    text = response.body.strip()
    # Other tus servers answer in plain text; an HTML error page from a proxy says nothing useful.
    detail = f": {text}" if text and len(text) <= 200 and "<" not in text else ""
    return FPError(response.status, f"the store answered {response.status}{detail}")


def _blob(response: Response) -> dict[str, Any] | None:
    try:
        reply: Any = json.loads(response.body) if response.body else None
    except ValueError:
        return None
    return reply if isinstance(reply, dict) and "url" in reply else None


class Upload:
    """One file's upload. Ask next_action(), do it, report with receive(action, event); repeat until
    Done, Failed, Cancelled or Paused."""

    def __init__(
        self,
        endpoint: str,
        filename: str,
        mimetype: str,
        size: int,
        *,
        metadata: Mapping[str, str | None] | None = None,
        upload_url: str | None = None,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        upload_with_creation: bool = False,
        checksum_algorithm: str | None = None,
        retry: RetryPolicy | None = None,
        terminate_on_cancel: bool = True,
    ) -> None:
        if chunk_size <= 0:
            raise ValueError("chunk_size must be positive")
        self.endpoint = endpoint
        self.size = size
        self.metadata: dict[str, str | None] = {"filename": filename, "filetype": mimetype, **(metadata or {})}
        self.upload_url = upload_url  # remember it (see fingerprint) to resume after a reload
        self.blob_url: str | None = None  # where the store's Blob-Location says the Blob is
        self.chunk_size = chunk_size
        self.upload_with_creation = upload_with_creation
        self.checksum_algorithm = checksum_algorithm
        self.retry = retry or RetryPolicy()
        self.terminate_on_cancel = terminate_on_cancel
        self.progress = FileProgress(filename, mimetype, size)
        self.offset = 0  # bytes the store holds, as far as the engine knows
        self._step = _Step.HEAD if upload_url else _Step.CREATE
        self._in_flight: Request | None = None
        self._wait: float | None = None
        self._retries = 0
        self._paused = False
        self._checksum: tuple[tuple[int, int], bytes] | None = None
        self._finished: Done | Failed | Cancelled | None = None

    # The caller's side.

    def next_action(self) -> Action:
        if self._finished is not None:
            return self._finished
        if self._in_flight is not None:
            raise RuntimeError(f"{self._in_flight.method} {self._in_flight.url} is still waiting for its outcome")
        if self._paused:
            return Paused()
        if self._wait is not None:
            wait, self._wait = Wait(self._wait), None
            return wait
        if self._sends_chunk() and self.checksum_algorithm and not self._has_checksum():
            return ComputeChecksum(self.checksum_algorithm, self._chunk())
        self._in_flight = self._request()
        return self._in_flight

    def receive(self, action: Request | ComputeChecksum, event: Event) -> None:
        """Report what became of `action`, the very object next_action() returned."""
        if isinstance(action, ComputeChecksum):
            if isinstance(event, Checksum):
                self._checksum = (action.file_slice, event.digest)
            return
        if action is not self._in_flight:
            return  # a request that pause, resume or cancel abandoned: its outcome no longer counts
        if isinstance(event, Sent):
            if action.file_slice is not None:
                # Counted from where this body starts, so that a retry from a lower offset than
                # was once acknowledged does not add its bytes on top of that.
                self.progress.sent(action.file_slice[0] + event.count - self.progress.acknowledged)
            return
        if isinstance(event, Checksum):
            return  # it answers a ComputeChecksum, never a request
        self._in_flight = None
        if self._step is _Step.TERMINATE:
            self._finished = Cancelled()  # termination is a courtesy to the store: any outcome ends it
        elif isinstance(event, NetworkError):
            # The reference has no code for a lost connection; picker/web/session.py reports it as 400 too.
            self._retry(FPError(BAD_PARAMETERS, f"no answer from the store: {event.message}"))
        elif 200 <= event.status < 300:
            self._succeeded(event)
        else:
            self._refused(event)

    def pause(self) -> None:
        """Issue no request after the one in flight, which the caller may abort."""
        if self._finished is None:
            self._paused = True

    def resume(self) -> None:
        if self._finished is not None or not self._paused:
            return
        self._paused = False
        self._in_flight = None
        self._wait = None
        self._retries = 0
        # What the store holds may have changed while paused: ask it before sending more.
        self._step = _Step.HEAD if self.upload_url else _Step.CREATE

    def cancel(self) -> None:
        """Stop; with terminate_on_cancel, first ask the store to delete what it holds."""
        if self._finished is not None:
            return
        self._in_flight = None
        self._wait = None
        self._paused = False
        if self.terminate_on_cancel and self.upload_url:
            self._step = _Step.TERMINATE
        else:
            self._finished = Cancelled()

    # The protocol.

    def _chunk(self) -> tuple[int, int]:
        return (self.offset, min(self.offset + self.chunk_size, self.size))

    def _sends_chunk(self) -> bool:
        """Whether the next request carries the chunk at the offset: a PATCH, or a creation with upload."""
        return self._step is _Step.PATCH or (self._step is _Step.CREATE and self.upload_with_creation and self.size > 0)

    def _checksum_header(self, headers: dict[str, str]) -> None:
        if self._checksum is not None and self._has_checksum():
            headers["Upload-Checksum"] = f"{self.checksum_algorithm} {base64.b64encode(self._checksum[1]).decode()}"

    def _has_checksum(self) -> bool:
        return self._checksum is not None and self._checksum[0] == self._chunk()

    def _request(self) -> Request:
        headers = {"Tus-Resumable": TUS_VERSION}
        if self._step is _Step.CREATE:
            headers["Upload-Length"] = str(self.size)
            encoded = encode_metadata(self.metadata)
            if encoded:
                headers["Upload-Metadata"] = encoded
            if self._sends_chunk():
                headers["Content-Type"] = OFFSET_STREAM
                self._checksum_header(headers)
                return Request("POST", self.endpoint, headers, self._chunk())
            return Request("POST", self.endpoint, headers)
        assert self.upload_url is not None  # every other step follows a creation or a remembered URL
        if self._step is _Step.PATCH:
            headers["Upload-Offset"] = str(self.offset)
            headers["Content-Type"] = OFFSET_STREAM
            self._checksum_header(headers)
            return Request("PATCH", self.upload_url, headers, self._chunk())
        if self._step is _Step.FETCH and self.blob_url:
            return Request("GET", self.blob_url, headers)
        return Request(self._step.value, self.upload_url, headers)

    def _succeeded(self, response: Response) -> None:
        headers = {name.lower(): value for name, value in response.headers.items()}
        if headers.get("blob-location"):
            # A pickstore: the Blob of the whole upload is there, should no answer carry it.
            self.blob_url = urljoin(self.upload_url or self.endpoint, headers["blob-location"])
        if self._step is _Step.CREATE:
            location = headers.get("location")
            if not location:
                self._finished = Failed(FPError(BAD_GATEWAY, "the store created the upload but sent no Location"))
                return
            self.upload_url = urljoin(self.endpoint, location)
            # Upload-Offset comes only when creation-with-upload stored some bytes.
            self._stored(headers.get("upload-offset", "0"), response)
        elif self._step is _Step.HEAD:
            if headers.get("upload-length", str(self.size)) != str(self.size):
                self._start_over()  # the remembered URL belongs to another file
            else:
                self._stored(headers.get("upload-offset"), None)
        elif self._step is _Step.PATCH:
            self._stored(headers.get("upload-offset"), response)
        elif self._step is _Step.FETCH:
            blob = _blob(response)
            missing = FPError(BAD_GATEWAY, "the store sent no Blob for the finished upload")
            self._finished = Done(blob) if blob else Failed(missing)

    def _stored(self, value: str | None, response: Response | None) -> None:
        """The store says it holds `value` bytes: acknowledge them and choose what comes next."""
        if value is None or not value.isdigit() or int(value) > self.size:
            self._finished = Failed(FPError(BAD_GATEWAY, f"the store answered with an invalid Upload-Offset {value!r}"))
            return
        offset = int(value)
        if self._step is _Step.PATCH and offset <= self.offset:
            # A PATCH that stored nothing, repeated as it is, would store nothing forever.
            self._retry(FPError(BAD_GATEWAY, "the store accepted a chunk but stored none of it"))
            return
        if offset > self.offset:
            self._retries = 0  # the limit is on consecutive failures without progress
        self.offset = offset
        self.progress.acknowledge(offset)
        if offset < self.size:
            self._step = _Step.PATCH
            return
        blob = _blob(response) if response is not None else None
        if blob is not None:
            self._finished = Done(blob)
        elif self.blob_url:
            self._step = _Step.FETCH
        else:
            # A tus server that says nowhere that it has a Blob to give (a GET on an upload is no tus
            # request; tusd answers it with the whole file): the Blob says what tus does.
            self._finished = Done(self._tus_blob())

    def _refused(self, response: Response) -> None:
        if self._step is _Step.HEAD and response.status in GONE:
            self._start_over()
        elif self._sends_chunk() and response.status == CHECKSUM_MISMATCH:
            # The chunk was damaged on the way and the store kept none of it (nor, on a creation,
            # the upload): send it again now.
            self._retry(refusal(response), at_once=True)
        elif response.status >= 500 or response.status in CONFLICT_OR_LOCKED:
            self._retry(refusal(response))
        else:
            self._finished = Failed(refusal(response))

    def _tus_blob(self) -> dict[str, Any]:
        return {
            "url": self.upload_url,
            "filename": self.metadata.get("filename"),
            "mimetype": self.metadata.get("filetype"),
            "size": self.size,
        }

    def _retry(self, error: FPError, at_once: bool = False) -> None:
        """Schedule the failed step again (after a backoff unless `at_once`), or fail with `error`
        once retries run out."""
        if self._paused:
            return  # resume() starts again from a HEAD; nothing to schedule now
        self._retries += 1
        if self._retries > self.retry.max_retries:
            self._finished = Failed(error)
            return
        if at_once:
            return
        self._wait = self.retry.delay(self._retries)
        if self._step is _Step.PATCH:
            # A failed PATCH may have stored part of its chunk: ask where to continue from.
            self._step = _Step.HEAD

    def _start_over(self) -> None:
        self.upload_url = None
        self.offset = 0
        self._step = _Step.CREATE
