"""A whole file's bytes streamed into a backend's Writer: hashed, measured, checked as they come,
and committed only when every check has passed."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass

from .backends import Writer
from .crash import crash_point

SizeCheck = Callable[[int], None]  # raises StoreError when a size is refused


@dataclass(frozen=True)
class Written:
    size: int
    sha256: str  # hex


def _no_check(size: int) -> None:
    pass


async def write_file(
    writer: Writer, chunks: AsyncIterable[bytes], *, growing: SizeCheck = _no_check, whole: SizeCheck = _no_check,
    committing: Callable[[Written], Awaitable[None]] | None = None,
) -> Written:
    """Write `chunks` and commit them. `growing` sees the size so far before each chunk is written
    (a file too large is refused as soon as it is), `whole` the final size before the commit, and
    `committing` what is about to be committed, last. On any failure before the commit the writer
    is aborted: nothing appears at the key."""
    digest = hashlib.sha256()
    size = 0
    try:
        async for chunk in chunks:
            digest.update(chunk)
            size += len(chunk)
            growing(size)
            await writer.write(chunk)
        whole(size)
        written = Written(size, digest.hexdigest())
        if committing is not None:
            await committing(written)
        crash_point("file-written")
        await writer.commit()
    except BaseException:
        await writer.abort()
        raise
    crash_point("file-committed")
    return written
