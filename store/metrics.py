"""The store's Prometheus metrics, served at GET /metrics: uploads started, finished and failed, the
bytes their bodies brought, upload leases given up to another request, and every request counted
and timed by its route's template (never its raw path, whose values would make labels without end).

With several worker processes (`pickstore serve --workers N`) each process writes its values to
files in the folder PROMETHEUS_MULTIPROC_DIR names, which must be set before this module is first
imported (`store.__main__` sets it), and /metrics adds up every process's files."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterable, AsyncIterator, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from starlette.requests import Request
from starlette.responses import Response

from .config import METRICS_DIR_ENV

# Kinds of upload: a tus upload (/api/upload), a whole file in one request (/api/store, overwrites),
# a file fetched from elsewhere (/api/import).
TUS, WHOLE, IMPORT = "tus", "whole", "import"
# Request durations, in seconds: from a HEAD's milliseconds to a large chunk on a slow line.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

UPLOADS_STARTED = Counter("pickstore_uploads_started", "Uploads begun (a tus upload created, a whole file's body begun)",
                          ["kind"])
UPLOADS_FINISHED = Counter("pickstore_uploads_finished", "Uploads stored whole at their key and recorded", ["kind"])
UPLOADS_FAILED = Counter(
    "pickstore_uploads_failed",
    "Uploads that ended without a file: refused or failed part way, or (tus) expired unfinished", ["kind"],
)
BYTES_RECEIVED = Counter("pickstore_upload_bytes_received", "Bytes of upload bodies received (fetched, for imports)",
                         ["kind"])
LEASE_TAKEOVERS = Counter(
    "pickstore_lease_takeovers",
    "Requests that gave up an upload's lease because another request for the upload asked for it",
)
REQUESTS = Counter("pickstore_requests", "Requests answered, by route template and status", ["method", "route", "status"])
DURATION = Histogram("pickstore_request_duration_seconds", "Time from a request's start to the end of its answer",
                     ["method", "route"], buckets=DURATION_BUCKETS)


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    DURATION.labels(method, route).observe(seconds)


async def metrics(request: Request) -> Response:
    """GET /metrics, in Prometheus's text format: this process's values, or every worker's."""
    if os.environ.get(METRICS_DIR_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest()
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})


@contextlib.contextmanager
def upload_outcome(kind: str) -> Iterator[None]:
    """Count an upload that runs as one request (a whole file, an import): begun, then finished
    when the block ends, failed when it raises (a client gone counts as failed too)."""
    UPLOADS_STARTED.labels(kind).inc()
    try:
        yield
    except BaseException:
        UPLOADS_FAILED.labels(kind).inc()
        raise
    UPLOADS_FINISHED.labels(kind).inc()


async def received(kind: str, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """`chunks`, their bytes counted as they come."""
    counter = BYTES_RECEIVED.labels(kind)
    async for chunk in chunks:
        counter.inc(len(chunk))
        yield chunk
